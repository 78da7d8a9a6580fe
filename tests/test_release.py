"""Is the release current, complete, and free of solutions and hidden checks?"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.hidden import checks as hidden_checks
from grader.notebooks import RELEASE, ROOT, SOLUTIONS, nbgrader_meta, read_release, source_of
from grader.release import GRADE_ID, MANIFEST, NOTE_ID, REPLACED, EditedNotebooks, release
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
    """Does regenerating notebooks/ from solutions/ change nothing, record included?"""
    release(tmp_path)
    for name in NOTEBOOKS + [MANIFEST[:-5]]:
        suffix = ".json" if name.startswith(".") else ".ipynb"
        assert (tmp_path / f"{name}{suffix}").read_text() == (RELEASE / f"{name}{suffix}").read_text(), \
            f"notebooks/{name}{suffix} is stale: run `make release`"
    assert sorted(p.stem for p in RELEASE.glob("*.ipynb")) == NOTEBOOKS


def _edit(path: Path) -> str:
    """What a student does: write an answer into the first answer cell and save."""
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if nbgrader_meta(c).get("solution"))
    cell["source"] = "# my answer, typed in JupyterLab\n" + source_of(cell)
    text = json.dumps(nb, indent=1)
    path.write_text(text)
    return text


def test_release_refuses_to_overwrite_an_edited_notebook(tmp_path):
    name = NOTEBOOKS[0]
    release(tmp_path, names=[name])
    target = tmp_path / f"{name}.ipynb"
    release(tmp_path, names=[name])  # an unchanged release notebook is simply rewritten
    mine = _edit(target)
    with pytest.raises(EditedNotebooks, match=re.escape(target.name)):
        release(tmp_path, names=[name])
    assert target.read_text() == mine
    release(tmp_path, names=[name], force=True)
    kept = list((tmp_path / REPLACED).glob(f"{name}.*.ipynb"))
    assert len(kept) == 1 and kept[0].read_text() == mine, "--force must keep a copy of the edited notebook"
    assert target.read_text() != mine


def test_release_adds_a_grade_yourself_cell_the_grader_skips():
    for name in NOTEBOOKS:
        cells = json.loads((RELEASE / f"{name}.ipynb").read_text())["cells"]
        assert cells[-1]["id"] == GRADE_ID and "grade_me()" in source_of(cells[-1])
        assert "demo" in cells[-1]["metadata"]["tags"], "the grader must not run the grade-yourself cell"


def _course_copy(dest: Path) -> Path:
    """The course's files (as git sees them, edits included) in a folder that is not a checkout."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    (dest / ".venv").symlink_to(Path(sys.prefix))
    return dest


@pytest.mark.slow
def test_a_students_edit_survives_make_demo_and_make_release(tmp_path):
    """A self-study learner saves an answer in notebooks/, then runs make demo and make release."""
    course = _course_copy(tmp_path / "course")
    name = NOTEBOOKS[0]
    mine = _edit(course / "notebooks" / f"{name}.ipynb")
    make = ["make", "-C", str(course), "-o", ".venv/.installed"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # no sandbox: the copy's .venv is a link to an environment installed from elsewhere, which
    # the sandbox does not mount; what this test is about is which files the demo writes
    demo = subprocess.run(make + ["demo", f"DEMO_ARGS=--notebook {name} --no-isolation"],
                          capture_output=True, text=True, env=env)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert (course / "build" / "demo" / "out" / "report.html").exists()
    assert (course / "notebooks" / f"{name}.ipynb").read_text() == mine, "make demo changed notebooks/"

    again = subprocess.run(make + ["release"], capture_output=True, text=True, env=env)
    assert again.returncode != 0, "make release overwrote an edited notebook without --force"
    assert f"{name}.ipynb" in again.stderr, f"the refusal must name the file: {again.stderr}"
    assert (course / "notebooks" / f"{name}.ipynb").read_text() == mine


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
    checks = [f.check_info for f in hidden_checks(name)]
    variants = variants_of(name)
    exercises = read_release(name).exercises
    intro = source_of(json.loads((SOLUTIONS / f"{name}.ipynb").read_text())["cells"][0])
    stated = re.search(r"\*\*Exercises:\*\* (\d+) \((\d+) points\)", intro)
    assert stated, "the introduction says how many exercises and points the notebook has"
    assert (int(stated[1]), int(stated[2])) == (len(exercises), sum(e.points for e in exercises)), \
        f"the introduction says {stated[0]}"
    for exercise in exercises:
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
