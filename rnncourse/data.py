"""Access to the corpora in ``data/`` (built by ``data/build.py``; never downloaded at run time)."""
import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("COURSE_DATA", Path(__file__).resolve().parents[1] / "data"))


def data_path(name: str) -> Path:
    """Path of a file under ``data/``, with a clear error when it is missing."""
    path = DATA_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: rebuild the course data with `make data`")
    return path


def read_text(name: str) -> str:
    """A whole UTF-8 text file from ``data/``, e.g. ``read_text("shakespeare/train.txt")``."""
    return data_path(name).read_text(encoding="utf-8")


def read_lines(name: str) -> list[str]:
    """Non-empty lines of a UTF-8 text file from ``data/``, e.g. ``read_lines("names.txt")``."""
    return [line for line in read_text(name).splitlines() if line.strip()]
