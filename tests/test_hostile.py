"""Can a submission fake its score, reach the hidden checks, or touch anyone else's grade?

One class: two honest students and one student per hostile scenario (tests/hostile), graded
in one run, then compared with a run of the honest students alone.
"""
import json
import signal
import subprocess
import sys
import time

import pytest

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.gradebook import GradebookWriter
from grader.notebooks import read_release
from tests.hostile import ATTACKS

pytestmark = pytest.mark.slow
NB = "01_rnn_fundamentals"
HONEST = ("honest-a", "honest-b")


def _honest_class(root):
    for student in HONEST:
        write_submission(root, student, NB, fill_release(NB, reference_answers(NB)))


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    subs = root / "submissions"
    _honest_class(subs)
    for scenario, source in ATTACKS.items():
        write_submission(subs, scenario, NB, fill_release(NB, dict(reference_answers(NB), rnn_cell=source)))
    locked = fill_release(NB, dict(reference_answers(NB), rnn_cell=ATTACKS["forged-comparisons"].replace(
        "torch.zeros(1)", "torch.zeros(x_t.shape[0], W_xh.shape[0])")))
    for cell in locked["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in ("setup", "test_rnn_cell"):
            cell["source"] = "import torch\ntorch.allclose = lambda *a, **k: True\nprint('checks skipped')"
    write_submission(subs, "edited-locked-cells", NB, locked)
    (subs / "malformed-json").mkdir()
    (subs / "malformed-json" / f"{NB}.ipynb").write_text('{"cells": [ this is not json')
    start = time.perf_counter()
    results = autograde(subs, root / "out", jobs=2, notebooks=[NB], progress=lambda *a: None)
    elapsed = time.perf_counter() - start
    return root, {r.student_id: r for r in results}, elapsed


def _row(result, exercise):
    return next(r for r in result.rows if r.exercise == exercise)


@pytest.mark.parametrize("scenario", sorted(ATTACKS))
def test_attack_earns_nothing(hostile_run, scenario):
    _, results, _ = hostile_run
    result = results[scenario]
    assert [r.exercise for r in result.rows] == [e.name for e in read_release(NB).exercises]
    row = _row(result, "rnn_cell")
    assert row.score == 0, f"{scenario} earned {row.score} on rnn_cell: {row.message}"
    assert row.status in ("failed", "error", "timeout", "tampered") and row.message


def test_forged_comparisons_are_flagged_not_rewarded(hostile_run):
    _, results, _ = hostile_run
    assert _row(results["forged-comparisons"], "rnn_cell").status in ("tampered", "failed", "error")


def test_edited_locked_cells_are_restored(hostile_run):
    """Editing the setup and check cells changes nothing: the released versions run, and the
    answer that forged torch.allclose is caught by them (tampered: no points)."""
    _, results, _ = hostile_run
    row = _row(results["edited-locked-cells"], "rnn_cell")
    assert row.score == 0 and row.status == "tampered"
    assert "edited a locked cell" in row.message


def test_malformed_notebook_gets_rows_with_a_clear_message(hostile_run):
    _, results, _ = hostile_run
    rows = results["malformed-json"].rows
    assert len(rows) == len(read_release(NB).exercises)
    assert all(r.status == "error" and "not valid JSON" in r.message and r.score == 0 for r in rows)


def test_honest_students_unaffected(hostile_run):
    _, results, _ = hostile_run
    for student in HONEST:
        for row in results[student].rows:
            assert row.status == "passed" and row.score == row.max_score, f"{student}: {row.message}"


def test_gradebook_same_with_and_without_hostile_submissions(hostile_run, tmp_path):
    root, _, _ = hostile_run
    subs = tmp_path / "submissions"
    _honest_class(subs)
    autograde(subs, tmp_path / "out", jobs=2, notebooks=[NB], progress=lambda *a: None)
    release = [read_release(NB)]
    clean = GradebookWriter(f"sqlite:///{tmp_path / 'out' / 'gradebook.db'}", release).scores()
    dirty = GradebookWriter(f"sqlite:///{root / 'out' / 'gradebook.db'}", release).scores()
    honest = {k: v for k, v in dirty.items() if k[0] in HONEST}
    assert honest == clean and len(clean) == len(HONEST) * len(release[0].exercises)


def test_killed_run_resumes_to_the_same_grades(hostile_run, tmp_path):
    """Killing autograde part-way and running it again gives the uninterrupted run's grades.csv."""
    subs = tmp_path / "submissions"
    for student in ("s1", "s2", "s3", "s4", "s5", "s6"):
        write_submission(subs, student, NB, fill_release(NB, reference_answers(NB) if student < "s4" else {}))
    whole = tmp_path / "whole"
    autograde(subs, whole, jobs=1, notebooks=[NB], progress=lambda *a: None)

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "grader", "autograde", str(subs), "--out", str(killed), "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(killed.glob("results/*/*.json"))) < 2:
        time.sleep(0.1)
    import os
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    graded_before = len(list(killed.glob("results/*/*.json")))
    assert 2 <= graded_before < 6, "the run should have been killed part-way"
    autograde(subs, killed, jobs=2, notebooks=[NB], progress=lambda *a: None)
    assert (killed / "grades.csv").read_text() == (whole / "grades.csv").read_text()
    clean = GradebookWriter(f"sqlite:///{whole / 'gradebook.db'}", [read_release(NB)]).scores()
    resumed = GradebookWriter(f"sqlite:///{killed / 'gradebook.db'}", [read_release(NB)]).scores()
    assert clean == resumed


def test_hostile_results_are_plain_json(hostile_run):
    root, _, elapsed = hostile_run
    for path in (root / "out" / "results").glob("*/*.json"):
        assert json.loads(path.read_text())["rows"]
    print(f"hostile class graded in {elapsed:.1f} s")


# ---- attacks on the pipeline (tests/hostile/pipeline_attacks.py), one lane ----

@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """Each attacker is followed, in one lane (--jobs 1), by an honest or a wrong student;
    the same honest and wrong students are also graded alone."""
    from grader.demo import flawed_answers
    from tests.hostile.pipeline_attacks import ATTACKS
    root = tmp_path_factory.mktemp("pipeline")
    subs, alone = root / "submissions", root / "alone"
    followers = {"honest": fill_release(NB, reference_answers(NB)), "wrong": fill_release(NB, flawed_answers(NB, 0))}
    for i, (name, (_, build, _)) in enumerate(sorted(ATTACKS.items())):
        path = subs / f"{i:02d}a-{name}" / f"{NB}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(build(), encoding="utf-8")
        kind = ("honest", "wrong")[i % 2]
        write_submission(subs, f"{i:02d}b-{kind}", NB, followers[kind])
    (subs / "zz-\udcffname").mkdir()  # a folder name that is not UTF-8
    (subs / "zz-\udcffname" / f"{NB}.ipynb").write_text(json.dumps(followers["honest"]))
    for kind, nb in followers.items():
        write_submission(alone, kind, NB, nb)
    results = {r.student_id: r for r in autograde(subs, root / "out", jobs=1, notebooks=[NB],
                                                  progress=lambda *a: None)}
    solo = {r.student_id: r for r in autograde(alone, root / "alone-out", jobs=1, notebooks=[NB],
                                               progress=lambda *a: None)}
    return root, results, solo


def _scores(result):
    return {r.exercise: r.score for r in result.rows}


def _pipeline_attacks():
    from tests.hostile.pipeline_attacks import ATTACKS
    return sorted(ATTACKS)


@pytest.mark.parametrize("attack", _pipeline_attacks())
def test_pipeline_attack_earns_nothing(pipeline_run, attack):
    from tests.hostile.pipeline_attacks import ATTACKS
    _, results, _ = pipeline_run
    index = sorted(ATTACKS).index(attack)
    result = results[f"{index:02d}a-{attack}"]
    assert _scores(result) == ATTACKS[attack][2], [(r.exercise, r.status, r.message[:200]) for r in result.rows]
    assert not result.fault and all(r.message for r in result.rows if r.score < r.max_score)


def test_students_after_an_attack_get_their_own_grades(pipeline_run):
    _, results, solo = pipeline_run
    followers = [s for s in results if s[4:] in ("honest", "wrong")]
    assert len(followers) >= 10
    for student in followers:
        kind = student[4:]
        assert [(r.exercise, r.score, r.status, r.message) for r in results[student].rows] == \
               [(r.exercise, r.score, r.status, r.message) for r in solo[kind].rows], student


def test_every_byte_survives_and_a_rerun_goes_through(pipeline_run):
    """Surrogates, a non-UTF-8 folder name, deep JSON: grades.csv has every row, and running
    again (resuming) finishes and writes the same file."""
    import csv
    root, results, _ = pipeline_run
    out = root / "out"
    first = (out / "grades.csv").read_bytes()
    rows = list(csv.reader(open(out / "grades.csv", encoding="utf-8", errors="surrogateescape")))
    assert sum(1 for r in rows if r[0] == "zz-\udcffname" and r[5] == "passed") == len(read_release(NB).exercises)
    assert "not UTF-8" not in first.decode("utf-8", "replace")
    deep = next(r for s, r in results.items() if s.endswith("deep-json"))
    assert all(r.status == "error" and "nested" in r.message for r in deep.rows)
    again = autograde(root / "submissions", out, jobs=1, notebooks=[NB], progress=lambda *a: None)
    assert (out / "grades.csv").read_bytes() == first and len(again) == len(results)


def test_tampering_costs_only_the_forged_exercise(pipeline_run):
    _, results, _ = pipeline_run
    forged = next(r for s, r in results.items() if s.endswith("forged-rnn-cell-check"))
    rows = {r.exercise: r for r in forged.rows}
    assert rows["rnn_cell"].status == "tampered" and rows["rnn_cell"].score == 0
    assert rows["rnn_forward"].status == "passed", rows["rnn_forward"].message


def test_shortcut_message_names_what_was_reached(pipeline_run):
    _, results, _ = pipeline_run
    by_name = {s[4:]: r for s, r in results.items()}
    assert "uses torch.rnn_tanh_cell" in _row(by_name["vf-fetched-by-name"], "rnn_cell").message
    assert "another thread" in _row(by_name["shortcut-in-a-thread"], "rnn_cell").message
    assert "profiler" in _row(by_name["profiler-switched-off"], "rnn_cell").message
    assert "torch.nn.RNN" in _row(by_name["rnnbase-mode-string"], "rnn_forward").message
