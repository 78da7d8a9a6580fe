"""Grade one submitted notebook: one row per exercise, whatever the submission does.

Steps, in this order because each needs the one before:
1. read the notebook (a damaged file still gets every row, status ``error``);
2. merge it into the release's structure (locked cells restored, demo cells dropped);
3. run it in a fresh sandboxed child, with tripwires on the exercise's forbidden APIs;
4. run the hidden checks against it on the trusted side;
5. re-run the visible checks on the trusted side wherever the notebook's own run said they
   passed: a disagreement means the notebook changed how checks behave (``tampered``);
6. score: the points of passed checks, zero for an exercise that used a forbidden API.
"""
import contextlib
import hashlib
import importlib
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.notebooks import BadNotebook, Release, build_program, mentions, read_json_notebook
from grader.runner import CheckResult, forbidden_apis, run_checks
from grader.sandbox import RemoteStudent
from grader.student import Handle, StudentError, StudentTimeout, WorkerLost
from grader_worker.wire import WireError

STATUSES = ("passed", "failed", "error", "timeout", "missing", "tampered")
MAX_MESSAGES = 4


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

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "SubmissionResult":
        return cls(data["student_id"], data["notebook"], data["sha256"],
                   [Row(**r) for r in data["rows"]], [CheckResult(**c) for c in data["checks"]],
                   data.get("notes", []))

    @property
    def score(self) -> float:
        return sum(r.score for r in self.rows)


def file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _all_rows(release: Release, student_id: str, status: str, message: str) -> list[Row]:
    return [Row(student_id, release.name, e.name, 0.0, e.points, status, message)
            for e in release.exercises]


def grade_submission(sandbox, release: Release, path: Path, student_id: str) -> SubmissionResult:
    digest = file_sha256(path)
    if not path.exists():
        return SubmissionResult(student_id, release.name, digest, _all_rows(
            release, student_id, "missing", f"no {release.name}.ipynb was submitted"))
    try:
        program = build_program(release, read_json_notebook(path))
    except BadNotebook as e:
        return SubmissionResult(student_id, release.name, digest,
                                _all_rows(release, student_id, "error", str(e)))

    forbidden = forbidden_apis(release.name)
    apis = sorted({api for group in forbidden.values() for api in group})
    try:
        student = RemoteStudent(sandbox, program.cells, apis)
    except StudentTimeout:
        return SubmissionResult(student_id, release.name, digest, _all_rows(
            release, student_id, "timeout", "running your notebook took too long (a cell that "
            "never ends?); no check could run"), notes=program.general)
    except WorkerLost as e:
        return SubmissionResult(student_id, release.name, digest, _all_rows(
            release, student_id, "error", f"{e}; no check could run"), notes=program.general)
    try:
        cells = _cell_statuses(student.exec_result)
        present = [e.name for e in release.exercises if e.name not in program.missing]
        checks = run_checks(release.name, student, exercises=present)
        hits = _safe(student.forbidden_hits, {})
        tampered = _tampered(release, student, cells, present)
    finally:
        student.close()

    rows = []
    for exercise in release.exercises:
        rows.append(_exercise_row(student_id, release, exercise, program, cells,
                                  [c for c in checks if c.exercise == exercise.name],
                                  forbidden.get(exercise.name, []), hits, tampered))
    notes = list(program.general)
    added = {c["key"] for c in program.cells if c["kind"] == "added"}
    notes += [f"a cell you added raised {c['error']}" for k, c in cells.items()
              if k in added and c["status"] != "ok"]
    return SubmissionResult(student_id, release.name, digest, rows, checks, notes)


def _safe(fn, default):
    try:
        return fn()
    except (StudentError, StudentTimeout, WorkerLost):
        return default


def _cell_statuses(exec_result) -> dict:
    cells = {}
    for cell in (exec_result or {}).get("cells", []):
        if isinstance(cell, dict) and isinstance(cell.get("key"), str):
            cells[cell["key"]] = {"status": str(cell.get("status")), "error": str(cell.get("error", ""))[:600]}
    return cells


def _tampered(release: Release, student, cells: dict, present: list[str]) -> dict[str, str]:
    """Exercises whose visible checks passed in the notebook's run but fail on the trusted side."""
    visible = importlib.import_module(f"rnncourse.checks.nb{release.name[:2]}")
    found = {}
    for exercise in release.exercises:
        name = exercise.name
        if name not in present or cells.get(exercise.test_id, {}).get("status") != "ok":
            continue
        check = getattr(visible, name, None)
        if check is None:
            continue
        student.seed(0)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(Handle(student, {"name": name}, name))
        except (AssertionError, StudentError) as e:
            found[name] = str(e)[:300]
        except (StudentTimeout, WorkerLost, WireError):
            pass  # could not compare, which is not evidence of tampering
    return found


def _exercise_row(student_id, release, exercise, program, cells, checks, forbidden, hits,
                  tampered) -> Row:
    name = exercise.name
    row = Row(student_id, release.name, name, 0.0, exercise.points, "failed", "")
    messages = list(program.notes.get(name, []))
    if name in program.missing:
        row.status = "missing"
        messages.insert(0, f"the answer cell for `{name}` is missing from your notebook (deleted, "
                           "or its cell metadata was changed); restore it from the release")
        row.message = "; ".join(messages)
        return row

    answer = cells.get(name, {})
    used = [api for api in forbidden
            if mentions(program.answers.get(name, ""), api) or api in hits.get(name, [])]
    row.score = sum(c.points for c in checks if c.passed)
    failing = [c for c in checks if not c.passed]
    if answer.get("status") not in (None, "ok"):
        messages.append(f"your `{name}` cell did not run: {answer['error']}"
                        + _not_implemented_hint(answer["error"]))
    elif failing and len({c.message for c in failing}) == 1 and len(failing) > 1:
        # one cause behind every failure (e.g. the function raises): say it once
        messages.append(f"{len(failing)} checks failed the same way: {failing[0].message}"
                        + _not_implemented_hint(failing[0].message))
    elif failing:
        shown = [f"{c.name}: {c.message}" for c in failing[:MAX_MESSAGES]]
        if len(failing) > MAX_MESSAGES:
            shown.append(f"and {len(failing) - MAX_MESSAGES} more checks failed")
        messages += shown
    if used:
        row.score = 0.0
        messages.insert(0, f"`{name}` uses {', '.join(used)}, which this exercise asks you to "
                           "write yourself; no points until it does not")

    statuses = {c.status for c in failing}
    if not checks:
        row.status = "error"
        messages.append("no check could run")
    elif used:
        row.status = "failed"
    elif not failing:
        row.status = "passed"
    elif "timeout" in statuses or answer.get("status") == "timeout":
        row.status = "timeout"
    elif "error" in statuses or answer.get("status") == "error":
        row.status = "error"
    else:
        row.status = "failed"
    if name in tampered:
        row.status = "tampered"
        messages.insert(0, "flagged for the instructor: this notebook's own checks passed when it "
                           "ran, but the same checks fail on this code when the grader runs them "
                           f"({tampered[name]})")
    row.message = "; ".join(messages)
    return row



def _not_implemented_hint(message: str) -> str:
    if "NotImplementedError" in message:
        return ": replace `raise NotImplementedError()` with your solution"
    return ""
