"""nbgrader's course folders beside our grades, so nbgrader's formgrader works on them.

``autograde --out DIR`` makes ``DIR`` an nbgrader course directory (nbgrader 0.9's layout):

    DIR/nbgrader_config.py                                the course root and gradebook (formgrader
                                                          reads it from its working directory)
    DIR/source/<notebook>/<notebook>.ipynb                the instructor's source (assignment list)
    DIR/submitted/<student>/<notebook>/<notebook>.ipynb   the file as the student handed it in,
    DIR/submitted/<student>/<notebook>/timestamp.txt      with its time (the file's mtime, UTC)
    DIR/autograded/<student>/<notebook>/...               the same notebook, each test cell's
                                                          output replaced by our check lines

and the gradebook (``GradebookWriter.record``) gets what formgrader lists: students with names (``SUBMISSIONS/students.csv``,
nbgrader's ``id,first_name,last_name,email`` format, when present; the id otherwise) and each
submission's timestamp, equal to ``timestamp.txt`` as formgrader requires.
"""
import csv
import datetime
import functools
import json
import shutil
from pathlib import Path


from grader.notebooks import SOLUTIONS, nbgrader_meta

TIMESTAMP = "timestamp.txt"


def write_config(out: Path, db_url: str) -> None:
    """``nbgrader_config.py`` in the course root, so nbgrader's apps and formgrader find it."""
    text = ("# Written by `python -m grader autograde`: this folder is an nbgrader course.\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(out.resolve())!r}\n"
            f"c.CourseDirectory.db_url = {db_url!r}\n"
            "# the course hands notebooks out and in without nbgrader's exchange; a local one\n"
            "# keeps formgrader from warning about a missing system-wide exchange\n"
            f"c.Exchange.root = {str((out / 'exchange').resolve())!r}\n"
            "# `nbgrader export` writes here, not over the grader's own grades.csv\n"
            "c.CsvExportPlugin.to = 'nbgrader-export.csv'\n")
    path = out / "nbgrader_config.py"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def student_names(submissions: Path) -> dict[str, dict]:
    """``SUBMISSIONS/students.csv`` by student id, read again only when the file changes."""
    path = submissions / "students.csv"
    try:
        return _read_names(path, path.stat().st_mtime_ns)
    except OSError:
        return {}


@functools.lru_cache(maxsize=4)
def _read_names(path: Path, _changed: int) -> dict[str, dict]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return {r["id"]: {k: r.get(k) or "" for k in ("first_name", "last_name", "email")}
            for r in rows if r.get("id")}


def submitted_at(path: Path) -> datetime.datetime:
    """When the student handed the file in: its modification time, as naive UTC (the gradebook's)."""
    try:
        seconds = path.stat().st_mtime
    except OSError:
        seconds = 0.0
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def _check_lines(result) -> dict[str, str]:
    lines: dict[str, list[str]] = {}
    for c in result.checks:
        mark = "✔" if c.passed else "✘"
        lines.setdefault(c.exercise, []).append(
            f"{mark} {c.name} ({c.points:g} pt){'' if c.passed else ': ' + c.message}")
    for row in result.rows:
        if row.exercise not in lines:
            lines[row.exercise] = [f"✘ {row.status}: {row.message}" if row.message else row.status]
    return {name: "\n".join(text) + "\n" for name, text in lines.items()}


def autograded_notebook(nb: dict, result) -> dict:
    """The submission with each test cell's outputs replaced by the grader's check lines."""
    nb = json.loads(json.dumps(nb))
    lines = _check_lines(result)
    for cell in nb.get("cells", []):
        gid = nbgrader_meta(cell).get("grade_id", "") if isinstance(cell, dict) else ""
        if cell.get("cell_type") == "code" and gid.startswith("test_") and gid[5:] in lines:
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": lines[gid[5:]]}]
    return nb


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def save(out: Path, submissions: Path, result, nb: dict | None, when: datetime.datetime) -> None:
    """One graded submission into nbgrader's folders (its gradebook rows are
    ``GradebookWriter.record``'s): as handed in, and autograded with the grader's lines."""
    student, name = result.student_id, result.notebook
    source = out / "source" / name / f"{name}.ipynb"
    if not source.exists() and (SOLUTIONS / f"{name}.ipynb").exists():
        source.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SOLUTIONS / f"{name}.ipynb", source)
    stamp = when.isoformat(sep=" ").encode()
    submitted = out / "submitted" / student / name
    try:
        _write(submitted / f"{name}.ipynb", (submissions / student / f"{name}.ipynb").read_bytes())
    except OSError:
        pass  # a missing file: the gradebook still lists its (zero) rows
    _write(submitted / TIMESTAMP, stamp)
    autograded = out / "autograded" / student / name
    if nb is None:  # unreadable: formgrader still opens a page saying why
        why = "; ".join(sorted({r.message for r in result.rows if r.message}))
        nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
              "cells": [{"cell_type": "markdown", "id": "unreadable", "metadata": {},
                         "source": f"**This submission could not be read:** {why}"}]}
    text = json.dumps(autograded_notebook(nb, result), indent=1, ensure_ascii=False)
    _write(autograded / f"{name}.ipynb", text.encode("utf-8", "replace"))
    _write(autograded / TIMESTAMP, stamp)
