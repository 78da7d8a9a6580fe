"""Run a notebook's hidden checks against one ``student`` and collect each check's result.

The checks run here, in the trusted process. A result keeps only what a student may see:
the check's docstring and its assertion message, never the check's code or a traceback.
"""
import contextlib
import io
from dataclasses import dataclass

from grader import hidden
from grader.student import StudentError, StudentTimeout, WorkerLost
from grader_worker.wire import WireError

# What a wrong result makes check code raise (unpacking a tensor, indexing a number): the
# student's. Anything else raised by a check is the grader's own failure.
RESULT_ERRORS = (TypeError, ValueError, IndexError, KeyError, AttributeError, RuntimeError)


class GraderFault(Exception):
    """The grader could not grade (a hidden module that does not import, a broken check)."""


@dataclass
class CheckResult:
    exercise: str
    name: str
    points: float
    status: str  # passed | failed | error | timeout | grader-fault
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(status, message) for an exception raised inside a check."""
    if isinstance(exc, AssertionError):
        return "failed", str(exc) or "the result is not what was expected"
    if isinstance(exc, StudentTimeout):
        return "timeout", str(exc)
    if isinstance(exc, StudentError):
        return "error", f"your code raised {exc}"
    if isinstance(exc, WorkerLost):
        return "error", str(exc)
    if isinstance(exc, WireError):
        return "error", f"your code returned something the grader cannot read ({exc})"
    if isinstance(exc, RESULT_ERRORS):
        return "failed", f"your result could not be used ({type(exc).__name__}: {exc})"
    return "grader-fault", f"{type(exc).__name__}: {exc}"


def run_checks(notebook: str, student, exercises=None) -> list[CheckResult]:
    """Every hidden check of ``notebook`` (or of the named exercises) against ``student``, in
    the order the module defines them, each seeded and with its own time limit per call.

    The checks are called directly rather than through ``pytest.main``: the runner needs none
    of pytest's collection, fixtures or failure reports (which cost more than the checks).
    """
    try:
        checks = hidden.checks(notebook)
    except Exception as e:  # a module that does not import (or is missing)
        raise GraderFault(f"the hidden checks of {notebook} could not be loaded: "
                          f"{type(e).__name__}: {e}") from None
    results, timed_out = [], set()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for fn in checks:
            info = fn.check_info
            if exercises is not None and info.exercise not in exercises:
                continue
            doc = (fn.__doc__ or fn.__name__).strip().splitlines()[0]
            if info.exercise in timed_out:
                # one hang per exercise is enough: the rest would only add their own time limits
                results.append(CheckResult(info.exercise, doc, info.points, "timeout",
                                           "not run: an earlier check of this exercise timed out"))
                continue
            student.timeout = info.timeout
            try:
                student.seed(0)  # a worker lost on the way is this check's failure, as in fn
                fn(student)
            except Exception as e:
                status, message = describe_failure(e)
                if status == "timeout":
                    timed_out.add(info.exercise)
                results.append(CheckResult(info.exercise, doc, info.points, status, message))
            else:
                results.append(CheckResult(info.exercise, doc, info.points, "passed"))
    return results
