"""Build submissions from what ships: the release filled in with reference or variant answers.

Used by the demo (a small class) and by the tests (variants, hostile submissions). A
submission starts from the student release, as a student's would, so its locked cells are
exactly the released ones.
"""
import json
from pathlib import Path

from grader.notebooks import RELEASE, SOLUTIONS, nbgrader_meta, source_of

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def reference_answers(name: str) -> dict[str, str]:
    """The solution notebook's answer cells, markers removed, keyed by exercise."""
    nb = json.loads((SOLUTIONS / f"{name}.ipynb").read_text())
    answers = {}
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            lines = [l for l in source_of(cell).splitlines() if l.strip() not in MARKERS]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def fill_release(name: str, answers: dict[str, str], release_dir: Path = RELEASE) -> dict:
    """The release notebook with the given answer cells replaced (others left as released)."""
    nb = json.loads((release_dir / f"{name}.ipynb").read_text())
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell["source"] = answers[gid]
    return nb


def write_submission(root: Path, student: str, name: str, nb: dict) -> Path:
    path = root / student / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False))
    return path
