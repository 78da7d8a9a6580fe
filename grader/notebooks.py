"""Read release and submitted notebooks; decide what of a submission runs in the worker.

The release notebook is the truth for every cell a student may not change: locked cells
(setup, visible checks) are always run as released, whatever the submission holds, and
locked cells a student deleted are put back. Answer cells are taken from the submission.
Demo cells are skipped. Cells the student added run where the student put them.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.hidden import exercises as registry

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
MAX_NOTEBOOK_BYTES = 20 << 20
# Per-cell limits in the grader (COURSE_FAST=1 keeps every graded cell to seconds).
ANSWER_TIMEOUT = 20.0
TEST_TIMEOUT = 10.0  # visible checks are small
OTHER_TIMEOUT = 20.0


class BadNotebook(Exception):
    """The submission cannot be read as a notebook; the message says why, for the student."""


@dataclass
class Exercise:
    name: str
    points: float
    test_id: str


@dataclass
class Release:
    name: str
    cells: list[dict]
    exercises: list[Exercise]

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)

    def exercise_of(self, grade_id: str) -> str | None:
        """The exercise an answer or test cell belongs to."""
        for e in self.exercises:
            if grade_id in (e.name, e.test_id):
                return e.name
        return None


@dataclass
class Program:
    """What the worker runs for one submission, and what was noticed building it."""
    cells: list[dict]
    answers: dict[str, str]
    missing: set[str] = field(default_factory=set)
    notes: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def nbgrader_meta(cell: dict) -> dict:
    """A cell's nbgrader metadata; a ``grade_id`` that is not a string is no grade_id."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(meta, dict):
        return {}
    if "grade_id" in meta and not isinstance(meta["grade_id"], str):
        meta = {k: v for k, v in meta.items() if k != "grade_id"}
    return meta


def tags(cell: dict) -> list:
    meta = cell.get("metadata")
    found = meta.get("tags", []) if isinstance(meta, dict) else []
    return found if isinstance(found, list) else []


def source_of(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def notebook_names() -> list[str]:
    return sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


def not_submitted(notebook: str) -> str:
    """The message of every row of a notebook the student did not hand in."""
    return f"no {notebook}.ipynb was submitted"


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced: any string from a submission (a markdown
    cell, an exception message, a file name) can then be written as UTF-8 anywhere."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def sanitize(value):
    """A copy of parsed JSON with every string cleaned (iterative: depth costs no stack)."""
    root = [value]
    stack = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = clean_text(item)
        elif isinstance(item, list):
            item = container[key] = list(item)
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            item = container[key] = {clean_text(k): v for k, v in item.items()}
            stack.extend((item, k) for k in item)
    return root[0]


def read_submission(path: Path) -> dict:
    """A submitted notebook, parsed (see ``read_json_notebook``) and with every string clean."""
    return sanitize(read_json_notebook(path))


def read_json_notebook(path: Path) -> dict:
    """Parse a notebook file defensively: any failure is a ``BadNotebook`` with a plain message."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise BadNotebook(f"the notebook file could not be opened ({e.strerror})") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise BadNotebook(f"the notebook is {size >> 20} MB, over the {MAX_NOTEBOOK_BYTES >> 20} MB "
                          "limit: clear large outputs and save again")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise BadNotebook("the notebook file is not UTF-8 text: is it really a .ipynb?") from None
    except ValueError as e:
        raise BadNotebook(f"the notebook file is not valid JSON ({clean_text(str(e))}); it may have "
                          "been damaged or edited by hand: restore it from a checkpoint or "
                          "re-download") from None
    except RecursionError:
        raise BadNotebook("the notebook file is JSON nested far deeper than any notebook: it may "
                          "have been damaged; restore it from a checkpoint or re-download") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise BadNotebook("the file is JSON but not a Jupyter notebook (no list of cells)")
    return nb


def read_release(name: str, release_dir: Path = RELEASE) -> Release:
    """The release notebook and its exercises: each answer cell with hidden checks, paired
    with the graded cell after it; points from the hidden checks (``grader.hidden``)."""
    nb = read_json_notebook(release_dir / f"{name}.ipynb")
    known = registry()
    exercises, answer = [], None
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id") in known:
            answer = meta["grade_id"]
        elif meta.get("grade") and answer is not None:
            exercises.append(Exercise(answer, known[answer].points, meta["grade_id"]))
            answer = None
    return Release(name, nb["cells"], exercises)


def _kind(cell: dict) -> str:
    meta = nbgrader_meta(cell)
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    if meta.get("locked"):
        return "locked"
    if "demo" in tags(cell):
        return "demo"
    return "other"


def build_program(release: Release, submission: dict) -> Program:
    """Merge a submission into the release's structure (see the module docstring)."""
    by_grade_id, by_cell_id = {}, {}
    for index, cell in enumerate(release.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid:
            by_grade_id[gid] = index
        if isinstance(cell.get("id"), str):
            by_cell_id[cell["id"]] = index
    exercises = {e.name for e in release.exercises}
    program = Program(cells=[], answers={})
    emitted: set[int] = set()

    def emit_release(index: int):
        cell = release.cells[index]
        kind = _kind(cell)
        emitted.add(index)
        if kind in ("test", "locked"):
            gid = nbgrader_meta(cell)["grade_id"]
            program.cells.append({"key": gid, "label": gid, "kind": kind, "source": source_of(cell),
                                  "timeout": TEST_TIMEOUT if kind == "test" else OTHER_TIMEOUT})
        elif kind == "other":
            program.cells.append({"key": f"r{index}", "label": "code", "kind": kind,
                                  "source": source_of(cell), "timeout": OTHER_TIMEOUT})

    def catch_up(upto: int):
        for index in range(upto):
            if index not in emitted and release.cells[index].get("cell_type") == "code" \
                    and _kind(release.cells[index]) != "answer":
                if _kind(release.cells[index]) in ("test", "locked"):
                    gid = nbgrader_meta(release.cells[index])["grade_id"]
                    _note(release, program, gid, "this locked cell was missing from your notebook and was put back")
                emit_release(index)

    added = 0
    for cell in submission["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        index = by_grade_id.get(gid) if isinstance(gid, str) else None
        if index is None and isinstance(cell.get("id"), str) and cell["id"] in by_cell_id:
            index = by_cell_id[cell["id"]]
        if index is not None and index in emitted:
            if gid in exercises:
                _note(release, program, gid, "your notebook has this answer cell twice; the first one was graded")
            continue
        if index is None:
            if "demo" not in tags(cell):
                added += 1
                program.cells.append({"key": f"a{added}", "label": "added", "kind": "added",
                                      "source": source_of(cell), "timeout": OTHER_TIMEOUT})
            continue
        catch_up(index)
        release_cell = release.cells[index]
        kind = _kind(release_cell)
        if kind == "answer":
            emitted.add(index)
            name = nbgrader_meta(release_cell)["grade_id"]
            program.answers[name] = source_of(cell)
            program.cells.append({"key": name, "label": name, "kind": "answer",
                                  "source": source_of(cell), "timeout": ANSWER_TIMEOUT})
        else:
            if kind in ("test", "locked") and source_of(cell) != source_of(release_cell):
                _note(release, program, nbgrader_meta(release_cell)["grade_id"],
                      "you edited a locked cell; the released version was used")
            emit_release(index)
    catch_up(len(release.cells))
    for exercise in exercises:
        if exercise not in program.answers:
            program.missing.add(exercise)
    return program


def _note(release: Release, program: Program, grade_id: str, text: str):
    """A note about a test or answer cell goes to its exercise; any other to the notebook."""
    exercise = release.exercise_of(grade_id)
    if exercise is not None:
        program.notes.setdefault(exercise, []).append(text)
    else:
        program.general.append(text)
