"""Run time of every solution notebook, at full settings and with COURSE_FAST=1.

Limits (DESIGN.md): at most 180 s full and 20 s fast on 2 cores. Printed, never asserted.
``--save DIR`` also writes each full-settings run, outputs included, to
``DIR/NAME.ipynb``, so the prose can be read beside what that very run printed.
Usage: .venv/bin/python tools/bench_notebooks.py [NAME ...] [--fast-only] [--save DIR]
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from grader.notebooks import SOLUTIONS, notebook_names


def run(name: str, fast: bool, save: Path | None) -> float:
    os.environ["COURSE_FAST"] = "1" if fast else "0"
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
        elapsed = time.perf_counter() - start
    if save and not fast:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save / f"{name}.ipynb")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks (default: all)")
    parser.add_argument("--fast-only", action="store_true")
    parser.add_argument("--save", type=Path, help="write the executed full-settings notebooks here")
    args = parser.parse_args()
    modes = [True] if args.fast_only else [True, False]
    for name in args.names or notebook_names():
        times = {("fast" if fast else "full"): run(name, fast, args.save) for fast in modes}
        print(f"{name:28s} " + "  ".join(f"{mode} {t:6.1f} s" for mode, t in times.items()), flush=True)


if __name__ == "__main__":
    main()
