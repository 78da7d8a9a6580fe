"""Hidden checks run inside a notebook's own kernel, for the instructor's solution notebooks.

The solution notebook's hidden-test blocks call ``run_hidden_checks``; the release strips
those blocks. This is trusted use only (the instructor's own code): grading students always
goes through the sandbox.
"""
import re

from grader.runner import HIDDEN, run_checks
from grader.student import LocalStudent


def notebook_of(exercise: str) -> str:
    """The number of the notebook whose hidden module has checks for ``exercise``."""
    pattern = re.compile(r"@check\(\s*[\"']" + re.escape(exercise) + r"[\"']")
    found = [p.stem for p in sorted(HIDDEN.glob("nb[0-9][0-9].py")) if pattern.search(p.read_text())]
    if len(found) != 1:
        raise LookupError(f"expected one hidden module with checks for {exercise!r}, found {found}")
    return found[0][2:]  # the number: enough to find its modules


def run_hidden_checks(exercise: str, namespace: dict) -> None:
    """Run the hidden checks of ``exercise`` against the notebook's definitions; raise if any fail."""
    results = run_checks(notebook_of(exercise), LocalStudent(namespace), exercises=[exercise])
    if not results:
        raise AssertionError(f"no hidden checks ran for {exercise}")
    for r in results:
        print(f"{'✔' if r.passed else '✘'} hidden: {r.name}" + ("" if r.passed else f": {r.message}"))
    failed = [r for r in results if not r.passed]
    if failed:
        raise AssertionError(f"{len(failed)} hidden checks of {exercise} failed")
