"""Each stage of grading one submission (grader.grade.STAGES), in memory: no sandbox, no lane.

The check and score stages run against a ``LocalStudent`` over a namespace filled with the
reference answers (or a variant), as the instructor's own notebook would be.
"""
import json
import resource

import pytest
import torch
from torch import nn

from grader import hidden
from grader.classroom import fill_release, reference_answers
from grader.grade import Grading, check, failure_messages, read, score
from grader.notebooks import read_release
from grader.runner import CheckResult, GraderFault, run_checks
from grader.student import LocalStudent

NB = "01_rnn_fundamentals"
WRONG_CELL = "def rnn_cell(x_t, h_prev, W_xh, W_hh, b):\n    return torch.zeros(x_t.shape[0], W_xh.shape[0])\n"


def namespace(answers: dict) -> dict:
    ns = {"torch": torch, "nn": nn}
    for source in answers.values():
        exec(source, ns)
    return ns


def grading(answers: dict, tmp_path, cells_ok=False) -> Grading:
    release = read_release(NB)
    path = tmp_path / f"{NB}.ipynb"
    path.write_text(json.dumps(fill_release(NB, answers)))
    g = Grading(None, release, path, "s")
    read(g)
    g.student = LocalStudent(namespace(answers))
    if cells_ok:  # the notebook's own run said every visible check passed
        g.cells = {e.test_id: {"status": "ok", "error": ""} for e in release.exercises}
    return g


def rows(g):
    return {r.exercise: r for r in g.result.rows}


def test_read_sanitizes_what_a_submission_can_hold(tmp_path):
    nb = fill_release(NB, reference_answers(NB))
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "x \ud800 y"})
    nb["cells"][1]["metadata"]["nbgrader"] = {"grade_id": 12, "locked": True}
    path = tmp_path / f"{NB}.ipynb"
    path.write_text(json.dumps(nb))  # ASCII: the surrogate is an escape in the file
    g = Grading(None, read_release(NB), path, "s")
    read(g)
    assert g.result is None and not g.program.missing
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    g = Grading(None, read_release(NB), deep, "s")
    read(g)
    assert {r.status for r in g.result.rows} == {"error"} and "nested" in g.result.rows[0].message


def test_check_and_score_reference_gets_everything(tmp_path):
    g = grading(reference_answers(NB), tmp_path, cells_ok=True)
    check(g)
    score(g)
    assert g.result.score == read_release(NB).max_score and not g.result.fault


def test_tampered_exercise_scores_zero_and_its_callers_are_judged_alone(tmp_path):
    g = grading(dict(reference_answers(NB), rnn_cell=WRONG_CELL), tmp_path, cells_ok=True)
    check(g)
    score(g)
    assert rows(g)["rnn_cell"].status == "tampered" and rows(g)["rnn_cell"].score == 0
    assert rows(g)["rnn_forward"].status == "passed" and rows(g)["rnn_forward"].score == 3


def test_shortcut_evidence_zeroes_only_the_exercise_that_reached_it(tmp_path):
    g = grading(reference_answers(NB), tmp_path)
    g.student.evidence = {"rnn_cell": {"aten::rnn_tanh_cell"}, "rnn_forward": {"aten::rnn_tanh_cell"}}
    check(g)
    score(g)
    assert rows(g)["rnn_cell"].score == 0 and "uses torch.rnn_tanh_cell" in rows(g)["rnn_cell"].message
    # rnn_forward reached it only through rnn_cell: checked again with the reference, it is clean
    assert rows(g)["rnn_forward"].score == 3


def test_escape_evidence_is_a_shortcut(tmp_path):
    g = grading(reference_answers(NB), tmp_path)
    g.student.evidence = {"rnn_forward": {"escape:profiler"}}
    check(g)
    score(g)
    assert rows(g)["rnn_forward"].score == 0 and "profiler" in rows(g)["rnn_forward"].message


def test_a_hidden_module_that_does_not_import_is_a_grader_fault(tmp_path, monkeypatch):
    (tmp_path / "broken_checks.py").write_text("import no_such_module_here\n")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.setattr(hidden, "module_name", lambda notebook: "broken_checks")
    with pytest.raises(GraderFault):
        run_checks(NB, LocalStudent({}))
    g = grading(reference_answers(NB), tmp_path)
    check(g)
    assert g.result.fault and {r.status for r in g.result.rows} == {"grader-fault"}
    assert "not your code" in g.result.rows[0].message


def test_later_failures_with_the_same_cause_say_so():
    failing = [CheckResult("e", "first", 1, "failed", "h_t is wrong: it is what you get when tanh is left out"),
               CheckResult("e", "second", 1, "failed", "out is wrong: it is what you get when tanh is left out"),
               CheckResult("e", "third", 1, "failed", "shape is off")]
    assert failure_messages(failing) == [
        "first: h_t is wrong: it is what you get when tanh is left out",
        "second: same cause as above", "third: shape is off"]


def test_registry_knows_every_exercise_and_its_points():
    for name in ("01_rnn_fundamentals", "04_lstm_gru"):
        for exercise in read_release(name).exercises:
            info = hidden.exercises()[exercise.name]
            assert info.notebook == name[:2] and info.points == exercise.points


def test_forbidden_apis_resolve_to_what_is_reached():
    assert hidden.evidence_of("torch._VF.rnn_tanh_cell") == {"aten::rnn_tanh_cell"}
    assert hidden.evidence_of("torch.nn.LSTM") == {"new:torch.nn.modules.rnn.LSTM", "aten::lstm"}
    assert "aten::embedding" in hidden.evidence_of("torch.nn.functional.embedding")
    assert hidden.evidence_of("tokenizers") == {"import:tokenizers"}
    watch = hidden.watch_list(["torch.nn.utils.rnn.pad_sequence", "aten::gru"])
    assert watch["ops"] == ["aten::gru", "aten::pad_sequence"] and watch["calls"] == ["torch.nn.utils.rnn.pad_sequence"]


def test_bincount_reference_is_not_fed_a_huge_id():
    """A sampled id of 150,000,000 is refused before the trusted side sizes anything by it."""
    def sample(logits, generator, temperature=1.0, top_k=None):
        ids = torch.zeros(logits.shape[0], dtype=torch.long)
        ids[0] = 150_000_000
        return ids
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = run_checks("03_char_language_models", LocalStudent({"sample": sample}), exercises=["sample"])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert results and not any(r.passed for r in results) and grown_mb < 300


class RecordingGradebook:
    """Stands in for nbgrader's gradebook (whose start-up runs alembic in a subprocess)."""
    recorded: list = []

    def __init__(self, db_url, releases):
        RecordingGradebook.recorded = []

    def record(self, result):
        self.recorded.append(result.student_id)

    def close(self):
        pass


def _class_of_one(tmp_path, monkeypatch):
    from grader import autograde as ag
    from grader.classroom import write_submission
    monkeypatch.setattr(ag, "GradebookWriter", RecordingGradebook)
    subs = tmp_path / "subs"
    write_submission(subs, "s1", NB, fill_release(NB, reference_answers(NB)))
    return subs


def test_grader_faults_are_reported_not_saved_and_graded_again(tmp_path, monkeypatch, capsys):
    from grader import autograde as ag
    from grader.grade import FAULT_MESSAGE
    graded = []

    def faulty(lane, job, release):
        graded.append(job["student_id"])
        return ag.failed_result(job, release, "grader-fault", FAULT_MESSAGE, fault="the lane crashed")
    monkeypatch.setattr(ag.Lane, "grade", faulty)
    subs, out = _class_of_one(tmp_path, monkeypatch), tmp_path / "out"
    [result] = ag.autograde(subs, out, jobs=1, notebooks=[NB], progress=lambda *a: None)
    assert result.fault and "GRADER FAULT s1/" in capsys.readouterr().err
    assert not (out / "results").exists() and not (out / "feedback").exists()
    assert RecordingGradebook.recorded == []
    assert {line.split(",")[5] for line in (out / "grades.csv").read_text().splitlines()[1:]} == {"grader-fault"}
    ag.autograde(subs, out, jobs=1, notebooks=[NB], progress=lambda *a: None)
    assert graded == ["s1", "s1"]


def test_a_save_that_fails_becomes_that_submissions_rows(tmp_path, monkeypatch):
    from grader import autograde as ag
    from grader.grade import every_row_failed
    real_render = ag.render

    def render(result, nb):
        if nb is not None:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real_render(result, nb)
    monkeypatch.setattr(ag, "render", render)
    monkeypatch.setattr(ag.Lane, "grade", lambda lane, job, release: every_row_failed(
        release, job["student_id"], "x", "failed", "a wrong answer"))
    subs, out = _class_of_one(tmp_path, monkeypatch), tmp_path / "out"
    [result] = ag.autograde(subs, out, jobs=1, notebooks=[NB], progress=lambda *a: None)
    assert {r.status for r in result.rows} == {"error"} and "could not save" in result.rows[0].message
    assert (out / "results" / "s1" / f"{NB}.json").exists() and not result.fault
    assert RecordingGradebook.recorded == ["s1"]  # only the rows saying why
