"""Does every solution notebook run top to bottom (seeded, CPU, no download) in grading mode?"""
import os
import time

import nbformat
import pytest
from nbclient import NotebookClient

from grader.notebooks import SOLUTIONS
from tests.conftest import NOTEBOOKS


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_notebook_runs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    # run times are measured by tools/bench_notebooks.py, not asserted here
    print(f"{name}: {time.perf_counter() - start:.1f} s with COURSE_FAST=1")
    hidden_runs = [c for c in nb.cells if c.cell_type == "code" and "run_hidden_checks" in c.source]
    assert hidden_runs, "the solution notebook should run its hidden checks in-kernel"
    assert os.environ["COURSE_FAST"] == "1"
