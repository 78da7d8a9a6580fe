"""Hidden checks run inside a notebook's own kernel, for the instructor's solution notebooks.

The solution notebook's hidden-test blocks call ``run_hidden_checks``; the release strips
those blocks. This is trusted use only (the instructor's own code): grading students always
goes through the sandbox.
"""
from grader import hidden
from grader.runner import run_checks
from grader.student import LocalStudent


def run_hidden_checks(exercise: str, namespace: dict) -> None:
    """Run the hidden checks of ``exercise`` against the notebook's definitions; raise if any fail."""
    info = hidden.exercises().get(exercise)
    if info is None:
        raise LookupError(f"no hidden module has checks for {exercise!r}")
    results = run_checks(info.notebook, LocalStudent(namespace), exercises=[exercise])
    if not results:
        raise AssertionError(f"no hidden checks ran for {exercise}")
    for r in results:
        print(f"{'✔' if r.passed else '✘'} hidden: {r.name}" + ("" if r.passed else f": {r.message}"))
    failed = [r for r in results if not r.passed]
    if failed:
        raise AssertionError(f"{len(failed)} hidden checks of {exercise} failed")
