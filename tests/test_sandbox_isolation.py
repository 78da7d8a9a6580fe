"""Nothing one submission does to the sandbox reaches the next one in the same lane.

One lane (``--jobs 1``) grades each attack in ``tests/hostile/sandbox_attacks.py`` followed
by an honest student, a student with known mistakes and (after the poisoning attacks) a
witness that refuses to answer in a dirty sandbox. Those three must get exactly the rows they
get when graded alone, and no attack may earn a point on the exercise it attacks.
"""
import pytest

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.demo import flawed_answers
from grader.notebooks import read_release
from grader.sandbox import privileged, whole_submission_limits
from tests.hostile.sandbox_attacks import ATTACKS, KILLERS, POISON, WITNESS

pytestmark = pytest.mark.slow
NB = "01_rnn_fundamentals"
GRADED_AFTER = {"honest": lambda: reference_answers(NB), "wrong": lambda: flawed_answers(NB, 0),
                "witness": lambda: dict(reference_answers(NB), rnn_cell=WITNESS)}


def _followers(attack: str) -> list[str]:
    return ["honest", "wrong", "witness"] if attack in POISON else ["honest", "wrong"]


def _grade(root, students: dict[str, dict]) -> dict:
    subs = root / "submissions"
    for name, answers in students.items():
        write_submission(subs, name, NB, fill_release(NB, answers))
    results = autograde(subs, root / "out", jobs=1, notebooks=[NB], progress=lambda *a: None)
    return {r.student_id: r for r in results}


def _rows(result):
    return [(r.exercise, r.score, r.status, r.message) for r in result.rows]


@pytest.fixture(scope="module")
def lane(tmp_path_factory):
    """(results of the attacked lane, results of the followers graded alone)."""
    students = {}
    for i, attack in enumerate(ATTACKS):  # names sort in this order: each attack, then its followers
        students[f"{i:02d}-0-{attack}"] = dict(reference_answers(NB), rnn_cell=ATTACKS[attack])
        for j, kind in enumerate(_followers(attack), 1):
            students[f"{i:02d}-{j}-{kind}"] = GRADED_AFTER[kind]()
    attacked = _grade(tmp_path_factory.mktemp("attacked"), students)
    alone = _grade(tmp_path_factory.mktemp("alone"), {k: make() for k, make in GRADED_AFTER.items()})
    return attacked, alone


def _attacker(results, attack):
    return next(r for k, r in results.items() if k.endswith(f"-0-{attack}"))


def _rnn_cell(result):
    return next(r for r in result.rows if r.exercise == "rnn_cell")


def test_alone_grades_are_what_each_student_earned(lane):
    _, alone = lane
    assert alone["honest"].score == alone["witness"].score == sum(e.points for e in read_release(NB).exercises)
    assert 0 < alone["wrong"].score < alone["honest"].score


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_students_after_an_attack_get_their_grades_alone(lane, attack):
    attacked, alone = lane
    i = list(ATTACKS).index(attack)
    for j, kind in enumerate(_followers(attack), 1):
        assert _rows(attacked[f"{i:02d}-{j}-{kind}"]) == _rows(alone[kind]), f"{kind} after {attack}"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_earns_nothing(lane, attack):
    attacked, _ = lane
    result = _attacker(attacked, attack)
    assert [r.exercise for r in result.rows] == [e.name for e in read_release(NB).exercises]
    if attack == "root-memory-across-processes" and not whole_submission_limits():
        pytest.skip("no cgroup on this host: memory is limited per process only")
    row = _rnn_cell(result)
    assert row.score == 0 and row.message, f"{attack} earned {row.score}: {row.message}"


@pytest.mark.parametrize("attack", sorted(KILLERS))
def test_killing_the_worker_is_charged_to_the_killer_in_plain_words(lane, attack):
    attacked, _ = lane
    row = _rnn_cell(_attacker(attacked, attack))
    assert "killed the grader's worker process" in row.message, row.message
    assert "longer than" not in row.message


def test_sandbox_user_is_never_root(sandbox):
    """Started by root or not, student code runs as an ordinary user of the host."""
    session = sandbox.session()
    try:
        reply, _ = session.request({"op": "exec", "cells": [{
            "key": "who", "source": "import os\nraise ValueError(os.getresuid())", "timeout": 10}]}, [], 10)
    finally:
        session.end()
    uids = eval(reply["cells"][0]["error"].split("ValueError: ")[1].split(" (line")[0])
    assert len(uids) == 3 and 0 not in uids
    if privileged():
        assert min(uids) > 65534, "as root, each lane runs as a host user of its own"
