"""Run a notebook's hidden pytest module against one ``student`` and collect each check's result.

The checks run here, in the trusted process. A result keeps only what a student may see:
the check's docstring and its assertion message, never the check's code (assertion
rewriting is off, tracebacks are dropped).
"""
import contextlib
import io
from dataclasses import dataclass

import pytest

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


class _Collector:
    """A pytest plugin: provides the ``student`` fixture and records each check's outcome."""

    def __init__(self, student, exercises):
        self._student = student
        self.exercises = exercises
        self.results: list[CheckResult] = []
        self.timed_out: set[str] = set()
        self.broken: list[str] = []

    def pytest_collectreport(self, report):
        if report.failed:
            self.broken.append(str(report.longrepr).strip().splitlines()[-1:][0] if report.longrepr else "")

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "grader_check: a hidden check of one exercise")

    @pytest.fixture
    def student(self):
        return self._student

    @pytest.fixture(autouse=True)
    def _seeded(self, request):
        info = request.node.function.check_info
        if info.exercise in self.timed_out:
            # one hang per exercise is enough: the rest would only add their own time limits
            raise StudentTimeout("not run: an earlier check of this exercise timed out")
        self._student.timeout = info.timeout
        self._student.seed(0)

    def pytest_collection_modifyitems(self, session, config, items):
        keep = []
        for item in items:
            info = getattr(getattr(item, "function", None), "check_info", None)
            if info is not None and (self.exercises is None or info.exercise in self.exercises):
                keep.append(item)
        items[:] = keep

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        info = item.function.check_info
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
            if call.excinfo is None:
                self.results.append(CheckResult(info.exercise, doc, info.points, "passed"))
            else:
                status, message = describe_failure(call.excinfo.value)
                if status == "timeout":
                    self.timed_out.add(info.exercise)
                self.results.append(CheckResult(info.exercise, doc, info.points, status, message))
        return report


def run_checks(notebook: str, student, exercises=None) -> list[CheckResult]:
    """Every hidden check of ``notebook`` (or of the named exercises) against ``student``."""
    collector = _Collector(student, set(exercises) if exercises is not None else None)
    path = hidden.module_path(notebook)
    # no:unraisableexception: its gc.collect() at exit costs more than the checks themselves
    args = [str(path), "-q", "-p", "no:cacheprovider",
            "-p", "no:unraisableexception", "-p", "no:threadexception",
            "--assert=plain", "-o", "addopts=", "-W", "ignore", "--rootdir", str(hidden.HIDDEN)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[collector])
    if collector.broken or not path.exists():
        raise GraderFault(f"the hidden checks of {notebook} could not be loaded: "
                          f"{'; '.join(collector.broken) or 'no module'}")
    return collector.results
