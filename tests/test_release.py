"""Is the release current, complete, and free of solutions and hidden checks?"""
import json
import re

import pytest

from grader.notebooks import RELEASE, SOLUTIONS, nbgrader_meta, read_release, source_of
from grader.release import NOTE_ID, generate
from grader.hidden import hidden_module
from grader.variants import variants_of
from tests.conftest import NOTEBOOKS

# what must never reach a student: solution markers, the hidden-check call, paths to either
FORBIDDEN_TEXT = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                  "run_hidden_checks", "grader.notebook", "grader.hidden", "grader/hidden",
                  "solutions/", "gradebook"]


def test_there_are_notebooks():
    assert "01_rnn_fundamentals" in NOTEBOOKS


@pytest.mark.slow
def test_release_is_current(tmp_path):
    """Does regenerating notebooks/ from solutions/ change nothing?"""
    generate(NOTEBOOKS, tmp_path)
    for name in NOTEBOOKS:
        assert (tmp_path / f"{name}.ipynb").read_text() == (RELEASE / f"{name}.ipynb").read_text(), \
            f"notebooks/{name}.ipynb is stale: run `make release`"
    assert sorted(p.stem for p in RELEASE.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_leaks_nothing(name):
    """Does the student notebook hold no solution code, hidden check or path to them?"""
    release = json.loads((RELEASE / f"{name}.ipynb").read_text())
    text = "\n".join(source_of(c) for c in release["cells"])
    for needle in FORBIDDEN_TEXT:
        assert needle not in text, f"{name} release contains {needle!r}"
    solution = json.loads((SOLUTIONS / f"{name}.ipynb").read_text())
    for cell in solution["cells"]:
        if not nbgrader_meta(cell).get("solution"):
            continue
        body = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source_of(cell), re.S)
        assert body, f"answer cell {nbgrader_meta(cell)['grade_id']} has no solution markers"
        for line in body.group(1).splitlines():
            line = line.strip()
            if len(line) > 15 and not line.startswith("#"):
                assert line not in text, f"{name} release leaks solution line {line!r}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_says_where_its_source_is(name):
    first = json.loads((RELEASE / f"{name}.ipynb").read_text())["cells"][0]
    assert first["id"] == NOTE_ID and f"`{name}.ipynb`" in source_of(first)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solutions_are_committed_without_outputs(name):
    for cell in json.loads((SOLUTIONS / f"{name}.ipynb").read_text())["cells"]:
        assert not cell.get("outputs") and not cell.get("execution_count"), \
            f"{name} has outputs; strip them (nbstripout)"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercises_are_complete(name):
    """Does every exercise have visible checks, hidden checks worth its points, and variants?"""
    import importlib
    visible = importlib.import_module(f"rnncourse.checks.nb{name[:2]}")
    module = hidden_module(name)
    checks = [f.check_info for f in vars(module).values() if hasattr(f, "check_info")]
    variants = variants_of(name)
    for exercise in read_release(name).exercises:
        assert callable(getattr(visible, exercise.name, None)), f"no visible check for {exercise.name}"
        points = sum(c.points for c in checks if c.exercise == exercise.name)
        assert points == exercise.points, \
            f"{exercise.name}: test cell says {exercise.points} points, hidden checks add up to {points}"
        wrong = [v for v in variants if v.exercise == exercise.name and v.kind == "wrong"]
        right = [v for v in variants if v.exercise == exercise.name and v.kind == "correct"]
        assert len(wrong) >= 3 and len(right) >= 1, \
            f"{exercise.name}: {len(wrong)} wrong and {len(right)} correct variants (need 3 and 1)"
    answers = {nbgrader_meta(c)["grade_id"] for c in json.loads((SOLUTIONS / f"{name}.ipynb").read_text())["cells"]
               if nbgrader_meta(c).get("solution")}
    assert answers == {e.name for e in read_release(name).exercises}, "answer and test cells do not pair up"
