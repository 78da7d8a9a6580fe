"""Are the committed corpora the ones data/build.py makes, and do they look like what the notebooks expect?

No network and no rebuild: the files are checked against data/SHA256SUMS (written by
``data/build.py --record``) and against a few properties the notebooks rely on.
"""
import hashlib
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDED = dict(reversed(line.split("  ")) for line in (DATA / "SHA256SUMS").read_text().splitlines())


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_file_matches_recorded_sha256(name):
    digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    assert digest == RECORDED[name], f"data/{name} differs from SHA256SUMS: rebuild with `make data`"


def test_readme_lists_every_sha256():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    missing = [name for name, digest in RECORDED.items() if digest not in readme]
    assert not missing, f"data/README.md does not give the sha256 of {missing}"


def test_shakespeare_is_about_a_megabyte_split_90_10():
    train = (DATA / "shakespeare/train.txt").read_text(encoding="ascii")
    valid = (DATA / "shakespeare/valid.txt").read_text(encoding="ascii")
    total = len(train) + len(valid)
    assert 0.8e6 < total < 1.2e6
    assert 0.08 < len(valid) / total < 0.12
    assert set(valid) <= set(train), "a validation character the training text never shows"
    assert "gutenberg" not in (train + valid).lower(), "licence boilerplate left in the corpus"
    assert valid[:200] not in train, "validation text overlaps training text"


def test_names_are_about_30000_distinct_lowercase_words():
    names = (DATA / "names.txt").read_text(encoding="ascii").split("\n")
    assert names[-1] == "", "names.txt should end with a newline"
    names = names[:-1]
    assert 25_000 < len(names) < 35_000
    assert len(set(names)) == len(names), "a name appears twice"
    assert all(name.isalpha() and name.islower() for name in names)


def test_korean_is_hangul_split_90_10_without_pdf_debris():
    train = (DATA / "korean/train.txt").read_text(encoding="utf-8")
    valid = (DATA / "korean/valid.txt").read_text(encoding="utf-8")
    assert 0.08 < len(valid) / (len(train) + len(valid)) < 0.12
    hangul = sum("가" <= ch <= "힣" for ch in train)
    assert hangul > 0.5 * len(train.replace(" ", "").replace("\n", "")), "mostly Hangul syllables"
    assert "\x0c" not in train + valid and "- 1 -" not in train + valid, "PDF page marks left in"
    assert valid[:200] not in train, "validation text overlaps training text"
