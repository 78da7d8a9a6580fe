"""Does a class run give every student a row for every exercise, whatever they submitted?"""
import csv
import json

import pytest

from grader.__main__ import main as cli
from grader.autograde import COLUMNS, autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.notebooks import nbgrader_meta, read_release
from grader.report import report

pytestmark = pytest.mark.slow
NB = "01_rnn_fundamentals"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    write_submission(subs, "reference", NB, fill_release(NB, reference_answers(NB)))
    write_submission(subs, "untouched", NB, fill_release(NB, {}))
    deleted = fill_release(NB, reference_answers(NB))
    deleted["cells"] = [c for c in deleted["cells"] if nbgrader_meta(c).get("grade_id") != "rnn_forward"]
    write_submission(subs, "deleted-cell", NB, deleted)
    (subs / "no-notebook").mkdir(parents=True)
    (subs / "no-notebook" / "notes.txt").write_text("forgot to upload")
    results = autograde(subs, root / "out", jobs=2, notebooks=[NB], progress=lambda *a: None)
    return root, {r.student_id: r for r in results}


def test_grades_csv_has_a_row_per_student_and_exercise(graded):
    root, _ = graded
    rows = list(csv.DictReader(open(root / "out" / "grades.csv")))
    assert list(rows[0]) == COLUMNS
    exercises = [e.name for e in read_release(NB).exercises]
    for student in ("reference", "untouched", "deleted-cell", "no-notebook"):
        assert [r["exercise"] for r in rows if r["student_id"] == student] == exercises
    assert {r["status"] for r in rows} <= {"passed", "failed", "error", "timeout", "missing", "tampered"}


def test_reference_full_release_zero(graded):
    _, results = graded
    assert all(r.score == r.max_score and r.status == "passed" for r in results["reference"].rows)
    assert results["untouched"].score == 0
    assert all("NotImplementedError" in r.message for r in results["untouched"].rows)


def test_missing_notebook_and_deleted_cell(graded):
    _, results = graded
    assert all(r.status == "missing" and "no 01_rnn_fundamentals.ipynb" in r.message
               for r in results["no-notebook"].rows)
    rows = {r.exercise: r for r in results["deleted-cell"].rows}
    assert rows["rnn_forward"].status == "missing" and "missing from your notebook" in rows["rnn_forward"].message
    assert all(r.score == r.max_score for name, r in rows.items() if name != "rnn_forward")


def test_feedback_shows_results_not_hidden_code(graded):
    root, _ = graded
    page = (root / "out" / "feedback" / "untouched" / f"{NB}.html").read_text()
    assert "rnn_cell" in page and "NotImplementedError" in page
    hidden_source = open("grader/hidden/nb01.py").read()
    for line in hidden_source.splitlines():
        if len(line.strip()) > 30 and not line.strip().startswith(('"""', "#")) and '"""' not in line:
            assert line.strip() not in page, f"feedback shows hidden check code: {line.strip()}"


def test_report_lists_pass_rates_and_common_mistakes(graded):
    root, _ = graded
    text = report(root / "out")
    assert "rnn_cell" in text and "%" in text and (root / "out" / "report.png").exists()


def test_results_are_resumable_records(graded):
    root, _ = graded
    saved = json.loads((root / "out" / "results" / "reference" / f"{NB}.json").read_text())
    assert saved["sha256"] != "missing" and len(saved["rows"]) == len(read_release(NB).exercises)


def test_check_command_exit_status(tmp_path, capsys):
    path = write_submission(tmp_path, "me", NB, fill_release(NB, reference_answers(NB)))
    assert cli(["check", str(path)]) == 0
    assert "total 15/15" in capsys.readouterr().out
    assert cli(["check", "notebooks/01_rnn_fundamentals.ipynb"]) == 1
