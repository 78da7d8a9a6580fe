"""nbgrader's formgrader on the grades ``python -m grader autograde`` wrote, through nbgrader's API.

What an instructor does in formgrader, each step read through the API formgrader itself calls
(the browser test, tests/test_browser.py, clicks through the same pages): see every student
with their name and score, the assignment, every submission with its timestamp and score,
the manual-grading list with the forger flagged, give manual points, and run nbgrader's own
feedback and export.
"""
import csv
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGrader, NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from grader.demo import NAMES
from tests.small_class import NB, small_class

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course() -> Path:
    return small_class() / "out"


@pytest.fixture
def api(course, monkeypatch):
    """nbgrader's API configured as formgrader configures itself: from nbgrader_config.py in its folder."""
    monkeypatch.chdir(course)
    app = NbGrader()
    app.load_config_file()
    return NbGraderAPI(coursedir=CourseDirectory(config=app.config), config=app.config)


def _totals(course: Path) -> dict[str, float]:
    totals: dict[str, float] = {}
    for row in csv.DictReader(open(course / "grades.csv", encoding="utf-8")):
        totals[row["student_id"]] = totals.get(row["student_id"], 0.0) + float(row["score"])
    return totals


def test_every_student_is_listed_with_name_and_score(api, course):
    students = {s["id"]: s for s in api.get_students()}
    assert set(students) == set(_totals(course)) == set(NAMES)
    for sid, s in students.items():
        assert (s["first_name"], s["last_name"]) == NAMES[sid]
        assert s["score"] == pytest.approx(_totals(course)[sid]) and s["max_score"] == 15


def test_the_assignment_and_every_submission_are_listed_with_timestamp_and_score(api, course):
    [assignment] = api.get_assignments()
    assert assignment["name"] == NB and assignment["num_submissions"] == len(NAMES)
    submissions = api.get_submissions(NB)
    assert {s["student"] for s in submissions} == set(NAMES)
    for s in submissions:
        stamp = (course / "submitted" / s["student"] / NB / "timestamp.txt").read_text()
        assert s["autograded"] and s["timestamp"] and s["timestamp"].replace("T", " ") == stamp
        assert s["score"] == pytest.approx(_totals(course)[s["student"]])


def test_manual_grading_lists_every_notebook_and_flags_the_forger(api, course):
    listed = api.get_notebook_submissions(NB, NB)
    assert {s["student"] for s in listed} == set(NAMES)
    assert {s["student"] for s in listed if s["flagged"]} == {"forger"}
    for s in listed:  # the page formgrader opens for each submission is there
        assert (course / "autograded" / s["student"] / NB / f"{NB}.ipynb").exists()


def test_manual_points_count_in_the_score(api, course):
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gb:
        grade = gb.find_grade("test_rnn_cell", NB, NB, "flawed-1")
        auto = grade.auto_score
        grade.manual_score = grade.max_score
        gb.db.commit()
    try:
        assert api.get_student("flawed-1")["score"] == pytest.approx(_totals(course)["flawed-1"] - auto + 4)
    finally:
        with Gradebook(url) as gb:
            gb.find_grade("test_rnn_cell", NB, NB, "flawed-1").manual_score = None
            gb.db.commit()


def test_nbgrader_feedback_and_export_work(api, course):
    result = api.generate_feedback(NB, "flawed-1")
    assert result["success"], result.get("log")
    page = (course / "feedback" / "flawed-1" / NB / f"{NB}.html").read_text()
    assert "✘ " in page and " pt)" in page, "nbgrader's feedback shows the grader's check lines"
    ours = (course / "grades.csv").read_text()
    nbgrader = Path(sys.executable).with_name("nbgrader")
    done = subprocess.run([str(nbgrader), "export"], cwd=course, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = {r["student_id"]: float(r["raw_score"])
                for r in csv.DictReader(open(course / "nbgrader-export.csv", encoding="utf-8"))}
    assert exported == pytest.approx(_totals(course))
    assert (course / "grades.csv").read_text() == ours, "nbgrader export must not replace grades.csv"
