"""Run time of every solution notebook, at full settings and with COURSE_FAST=1.

Limits (DESIGN.md): at most 180 s full and 20 s fast on 2 cores. Printed, never asserted.
Usage: .venv/bin/python tools/bench_notebooks.py [NAME ...] [--fast-only]
"""
import os
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from grader.notebooks import SOLUTIONS, notebook_names


def run(name: str, fast: bool) -> float:
    os.environ["COURSE_FAST"] = "1" if fast else "0"
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
        return time.perf_counter() - start


def main(argv: list[str]) -> None:
    names = [a for a in argv if not a.startswith("--")] or notebook_names()
    modes = [True] if "--fast-only" in argv else [True, False]
    for name in names:
        times = {("fast" if fast else "full"): run(name, fast) for fast in modes}
        print(f"{name:28s} " + "  ".join(f"{mode} {t:6.1f} s" for mode, t in times.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
