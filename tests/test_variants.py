"""Do the hidden checks tell right from wrong? Every known-wrong answer must lose points on its
exercise; every correct alternative must get full points on it."""
import pytest

from grader.classroom import fill_release, reference_answers
from grader.variants import variants_of
from tests.conftest import NOTEBOOKS

CASES = [(name, v) for name in NOTEBOOKS for v in variants_of(name)]


def _id(case):
    name, v = case
    return f"nb{name[:2]}-{v.exercise}-{v.kind}-{v.description[:40]}"


@pytest.fixture(scope="module")
def references():
    return {name: reference_answers(name) for name in NOTEBOOKS}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_reference_gets_full_marks(grade, name, references):
    result = grade(name, fill_release(name, references[name]))
    for row in result.rows:
        assert row.status == "passed" and row.score == row.max_score, f"{row.exercise}: {row.message}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_untouched_release_gets_zero(grade, name):
    result = grade(name, fill_release(name, {}))
    assert result.score == 0
    assert all(row.message for row in result.rows)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_variant(grade, case, references):
    name, variant = case
    answers = dict(references[name], **{variant.exercise: variant.source})
    row = next(r for r in grade(name, fill_release(name, answers)).rows if r.exercise == variant.exercise)
    if variant.kind == "wrong":
        assert row.score < row.max_score, f"wrong answer ({variant.description}) got full marks"
        assert row.message, "a lost point must come with a message"
    else:
        assert row.score == row.max_score and row.status == "passed", \
            f"correct answer ({variant.description}) lost points: {row.message}"
