"""Grade one submitted notebook: one row per exercise, whatever the submission does.

Grading is the list of stages in ``STAGES``, each a function of one ``Grading`` that either
adds what it learned or finishes the submission with every row (a damaged file, a notebook
that cannot run). Saving (feedback page, gradebook, result file) is ``grader.autograde``'s.

1. ``read``: read and sanitize the notebook, merge it into the release's structure (locked
   cells restored, demo cells dropped);
2. ``execute``: run it in a fresh sandboxed child whose tracer watches the forbidden APIs;
3. ``check``: run the hidden checks on the trusted side, then re-run the visible checks
   wherever the notebook's own run said they passed: a disagreement means the notebook
   made its checks lie (``tampered``). Exercises that failed only because a tampered one
   broke them are checked again with a trusted reference standing in for it;
4. ``score``: the points of passed checks; zero for a tampered exercise and for one whose
   calls reached a forbidden API.

A failure of the grader itself (a hidden module that does not import, a check that raises
something other than an assertion about the student's result) is a *grader fault*: the
result carries ``fault``, its rows say so, and ``autograde`` neither saves nor shows it.
"""
import contextlib
import hashlib
import importlib
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader import hidden
from grader.notebooks import (BadNotebook, Program, Release, build_program, clean_text, not_submitted,
                              read_submission)
from grader.runner import CheckResult, GraderFault, run_checks
from grader.student import RemoteStudent, StudentError, StudentTimeout, WorkerLost
from grader_worker.wire import WireError

STATUSES = ("passed", "failed", "error", "timeout", "missing", "tampered", "grader-fault")
MAX_MESSAGES = 4
FAULT_MESSAGE = ("the grader itself failed on this exercise (not your code); your instructor "
                 "has been told and it will be graded again")


@dataclass
class Row:
    student_id: str
    notebook: str
    exercise: str
    score: float
    max_score: float
    status: str
    message: str


@dataclass
class SubmissionResult:
    student_id: str
    notebook: str
    sha256: str
    rows: list[Row]
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fault: str = ""  # a grader fault: for the instructor, never saved as the student's result

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "SubmissionResult":
        return cls(data["student_id"], data["notebook"], data["sha256"],
                   [Row(**r) for r in data["rows"]], [CheckResult(**c) for c in data["checks"]],
                   data.get("notes", []), data.get("fault", ""))

    @property
    def score(self) -> float:
        return sum(r.score for r in self.rows)


def file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def every_row_failed(release: Release, student_id: str, sha256: str, status: str, message: str,
                     notes=(), fault: str = "") -> SubmissionResult:
    """The result of a submission that could not be graded further: every row, one message."""
    return SubmissionResult(student_id, release.name, sha256, [
        Row(student_id, release.name, e.name, 0.0, e.points, status, message)
        for e in release.exercises], notes=list(notes), fault=fault)


@dataclass
class Grading:
    """One submission on its way through ``STAGES``."""
    sandbox: object
    release: Release
    path: Path
    student_id: str
    sha256: str = ""
    program: Program | None = None
    student: object = None
    cells: dict = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    tampered: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, set] = field(default_factory=dict)
    result: SubmissionResult | None = None

    @property
    def present(self) -> list[str]:
        return [e.name for e in self.release.exercises if e.name not in self.program.missing]

    def finish(self, status: str, message: str, fault: str = ""):
        notes = self.program.general if self.program else []
        self.result = every_row_failed(self.release, self.student_id, self.sha256, status, message,
                                       notes, fault)


def read(g: Grading):
    g.sha256 = file_sha256(g.path)
    if not g.path.exists():
        return g.finish("missing", not_submitted(g.release.name))
    try:
        g.program = build_program(g.release, read_submission(g.path))
    except BadNotebook as e:
        g.finish("error", str(e))


def execute(g: Grading):
    forbidden = hidden.forbidden(g.release.name)
    apis = sorted({api for group in forbidden.values() for api in group})
    try:
        g.student = RemoteStudent(g.sandbox, g.program.cells, hidden.watch_list(apis), forbidden)
    except StudentTimeout:
        return g.finish("timeout", "running your notebook took too long (a cell that never ends?); "
                                   "no check could run")
    except WorkerLost as e:
        return g.finish("error", f"{e}; no check could run")
    g.cells = _cell_statuses(g.student.exec_result)


def check(g: Grading):
    try:
        g.checks = run_checks(g.release.name, g.student, exercises=g.present)
        g.tampered = _tampered(g, g.present)
        g.evidence = _evidence(g)
        _judge_on_their_own(g)
    except GraderFault as e:
        return g.finish("grader-fault", FAULT_MESSAGE, fault=str(e))
    finally:
        g.student.close()


def score(g: Grading):
    rows = [_exercise_row(g, exercise) for exercise in g.release.exercises]
    notes = list(g.program.general)
    added = {c["key"] for c in g.program.cells if c["kind"] == "added"}
    notes += [f"a cell you added raised {c['error']}" for k, c in g.cells.items()
              if k in added and c["status"] != "ok"]
    faults = [f"{c.exercise}: {c.name}: {c.message}" for c in g.checks if c.status == "grader-fault"]
    g.result = SubmissionResult(g.student_id, g.release.name, g.sha256, rows, g.checks, notes,
                                "; ".join(faults))


STAGES = (read, execute, check, score)


def grade_submission(sandbox, release: Release, path: Path, student_id: str) -> SubmissionResult:
    g = Grading(sandbox, release, path, student_id)
    for stage in STAGES:
        stage(g)
        if g.result is not None:
            break
    return _clean(g.result)


def _clean(result: SubmissionResult) -> SubmissionResult:
    """Every text from the submission's side made writable (the student id stays a file name)."""
    for item in result.rows + result.checks:
        item.message = clean_text(item.message)
    for check_result in result.checks:
        check_result.name = clean_text(check_result.name)
    result.notes = [clean_text(n) for n in result.notes]
    result.fault = clean_text(result.fault)
    return result


def _cell_statuses(exec_result) -> dict:
    cells = {}
    for cell in (exec_result or {}).get("cells", []):
        if isinstance(cell, dict) and isinstance(cell.get("key"), str):
            cells[cell["key"]] = {"status": str(cell.get("status")), "error": str(cell.get("error", ""))[:600]}
    return cells


def _tampered(g: Grading, exercises: list[str]) -> dict[str, str]:
    """Exercises whose visible checks passed in the notebook's run but fail on the trusted side."""
    visible = importlib.import_module(f"rnncourse.checks.nb{g.release.name[:2]}")
    found = {}
    for exercise in g.release.exercises:
        name = exercise.name
        if name not in exercises or g.cells.get(exercise.test_id, {}).get("status") != "ok":
            continue
        check_fn = getattr(visible, name, None)
        if check_fn is None:
            continue
        try:
            g.student.seed(0)  # a worker the submission broke is its own doing, not a grader fault
            with contextlib.redirect_stdout(io.StringIO()):
                check_fn(g.student.function(name))
        except (AssertionError, StudentError) as e:
            found[name] = str(e)[:300]
        except (StudentTimeout, WorkerLost, WireError):
            pass  # could not compare, which is not evidence of tampering
        except Exception as e:  # the visible check broke on the trusted side: our fault
            raise GraderFault(f"the visible check of {name} raised {type(e).__name__}: {e}") from None
    return found


def _shortcuts(g: Grading, name: str) -> list[str]:
    """Why ``name`` scores zero for a shortcut (nothing if it took none)."""
    apis = hidden.forbidden(g.release.name).get(name, [])
    if not apis:
        return []
    used, hidden_work = hidden.shortcuts_used(apis, g.evidence.get(name, set()))
    reasons = [f"`{name}` uses {', '.join(used)}, which this exercise asks you to write yourself"] if used else []
    if hidden_work:
        reasons.append(f"`{name}` {' and '.join(hidden_work)}, which hides from the grader what "
                       "it computes and counts as a shortcut here")
    return reasons


def _judge_on_their_own(g: Grading):
    """Exercises lose nothing to another exercise that was forged or took a shortcut.

    Every exercise found tampered or using a shortcut that has a trusted reference is
    replaced by it, and the other exercises that failed, were flagged or reached a shortcut
    are checked again (their results and evidence from this second run replace the first).
    """
    present = g.present
    broken = {name for name in present if name in g.tampered or _shortcuts(g, name)}
    references = hidden.references(g.release.name)
    standing_in = {name: references[name] for name in sorted(broken) if name in references}
    if not standing_in:
        return
    failed = {c.exercise for c in g.checks if not c.passed}
    again = [name for name in present if name not in standing_in
             and (name in failed or name in broken)]
    if not again:
        return
    for name in again:
        g.student.evidence.pop(name, None)
    with contextlib.ExitStack() as stack:
        for name, reference in standing_in.items():
            stack.enter_context(g.student.stub(name, reference))
        checks = run_checks(g.release.name, g.student, exercises=again)
        still = _tampered(g, [name for name in again if name in g.tampered])
    g.checks = [c for c in g.checks if c.exercise not in again] + checks
    for name in again:
        g.tampered.pop(name, None)
    g.tampered.update(still)
    g.evidence = _evidence(g)


def _evidence(g: Grading) -> dict[str, set]:
    """What each exercise's calls reached, plus forbidden libraries its cells imported."""
    evidence = {name: set(found) for name, found in g.student.evidence.items()}
    added = {c["key"] for c in g.program.cells if c["kind"] == "added"}
    for key, modules in g.student.imports.items():
        owners = [e.name for e in g.release.exercises] if key in added else [key]
        for owner in owners:
            evidence.setdefault(owner, set()).update(f"import:{m}" for m in modules)
    return evidence


def cause(message: str) -> str:
    """What a failure message blames: the named mistake if any, else the whole message."""
    return message.partition("what you get when ")[2] or message


def failure_messages(failing: list[CheckResult]) -> list[str]:
    """One line per failing check; a later check failing for the same reason says so."""
    if len(failing) > 1 and len({c.message for c in failing}) == 1:
        # one cause behind every failure (e.g. the function raises): say it once
        return [f"{len(failing)} checks failed the same way: {failing[0].message}"
                + _not_implemented_hint(failing[0].message)]
    seen, shown = set(), []
    for c in failing[:MAX_MESSAGES]:
        key = cause(c.message)
        shown.append(f"{c.name}: same cause as above" if key in seen else f"{c.name}: {c.message}")
        seen.add(key)
    if len(failing) > MAX_MESSAGES:
        shown.append(f"and {len(failing) - MAX_MESSAGES} more checks failed")
    return shown


def _exercise_row(g: Grading, exercise) -> Row:
    name = exercise.name
    row = Row(g.student_id, g.release.name, name, 0.0, exercise.points, "failed", "")
    messages = list(g.program.notes.get(name, []))
    if name in g.program.missing:
        row.status = "missing"
        messages.insert(0, f"the answer cell for `{name}` is missing from your notebook (deleted, "
                           "or its cell metadata was changed); restore it from the release")
        row.message = "; ".join(messages)
        return row

    checks = [c for c in g.checks if c.exercise == name]
    answer = g.cells.get(name, {})
    used = _shortcuts(g, name)
    row.score = sum(c.points for c in checks if c.passed)
    failing = [c for c in checks if not c.passed]
    if answer.get("status") not in (None, "ok"):
        messages.append(f"your `{name}` cell did not run: {answer['error']}"
                        + _not_implemented_hint(answer["error"]))
    elif failing:
        messages += failure_messages(failing)

    statuses = {c.status for c in failing}
    if not checks:
        row.status = "error"
        messages.append("no check could run")
    elif "grader-fault" in statuses:
        row.status = "grader-fault"
        messages.insert(0, FAULT_MESSAGE)
    elif not failing:
        row.status = "passed"
    elif "timeout" in statuses or answer.get("status") == "timeout":
        row.status = "timeout"
    elif "error" in statuses or answer.get("status") == "error":
        row.status = "error"
    if used:
        row.score, row.status = 0.0, "failed"
        messages.insert(0, "; ".join(used) + "; no points until it does not")
    if name in g.tampered:
        row.score, row.status = 0.0, "tampered"
        messages.insert(0, "no points, flagged for the instructor: this notebook's own checks "
                           "passed when it ran, but the same checks fail on this code when the "
                           f"grader runs them ({g.tampered[name]})")
    row.message = "; ".join(messages)
    return row


def _not_implemented_hint(message: str) -> str:
    if "NotImplementedError" in message:
        return ": replace `raise NotImplementedError()` with your solution"
    return ""
