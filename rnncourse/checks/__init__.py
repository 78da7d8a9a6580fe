"""Visible checks that teach: one ✔ or ✘ line per check, never a traceback through this package.

Every check function of ``rnncourse.checks.nbNN`` is decorated with :func:`visible_check`.
The decorated check still *raises* on failure (nbgrader's Validate and the grader's trusted
re-run of the visible checks need an exception), but the exception is a :class:`CheckFailed`,
an ``AssertionError`` whose ``_render_traceback_`` makes IPython print only its message:

- a wrong answer: ``✘ rnn_cell: h_t differs from nn.RNN's ...`` (the check's own message);
- an unfinished one (``raise NotImplementedError()`` still there): ``✘ rnn_cell is not
  written yet: write `rnn_cell` in the cell above and run it``;
- a check cell run before its answer cell (``NameError: name 'rnn_cell' is not defined``):
  the same sentence, through an IPython handler for that ``NameError`` (any other
  ``NameError`` keeps IPython's usual display);
- an answer that crashes: the exception's type and message and the frames of the student's
  own code (never this package's);
- a check whose exercise builds on another one (``bptt`` calls ``rnn_cell_backward``) says,
  when it fails after that one failed in the same session, that it is probably the same cause.

A passing check prints ``✔ name: N visible checks passed``, as the check itself prints.
"""
import functools
import linecache
import os
import sys
import sysconfig
import traceback

import torch

__all__ = ["CheckFailed", "expect_close", "visible_check"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # rnncourse/
_LIBRARY_DIRS = tuple({os.path.abspath(sysconfig.get_paths()[k]) for k in ("stdlib", "purelib", "platlib")})
# The grader calls the same checks on its trusted side and tells its own errors (a timeout, a
# lost worker, a value that cannot cross the wire) apart from a failed check: let them through.
_PASS_THROUGH_PACKAGES = ("grader",)

_EXERCISES: set[str] = set()         # names of every decorated check, for the NameError hint
_FAILED: dict[str, str] = {}         # exercise -> message of its last failure in this kernel


class CheckFailed(AssertionError):
    """A visible check failed. In IPython only the ✘ line (and the student's frames) is shown."""

    def __init__(self, message: str, frames: list[str] | None = None):
        super().__init__(message)
        self.frames = frames or []

    def _render_traceback_(self) -> list[str]:
        return [f"✘ {self.args[0]}", *self.frames]


def unfinished_message(name: str) -> str:
    return f"`{name}` is not written yet: write `{name}` in the cell above and run it"


def _ipython():
    """The running IPython shell, or None (plain Python, pytest, the grader's trusted side)."""
    module = sys.modules.get("IPython")
    return module.get_ipython() if module is not None else None


def _missing_name(error: NameError) -> str | None:
    return getattr(error, "name", None)


def _student_frames(tb) -> list[str]:
    """The traceback lines of code outside this package and the libraries: the student's."""
    def theirs(frame):
        path = os.path.abspath(frame.filename)
        return not path.startswith(_PACKAGE_DIR) and not path.startswith(_LIBRARY_DIRS)
    frames = [f for f in traceback.extract_tb(tb) if theirs(f)]
    for f in frames:
        linecache.checkcache(f.filename)
    return ["in your code:\n" + "".join(traceback.format_list(frames))] if frames else []


def _name_error_hint(shell, etype, value, tb, tb_offset=None):
    """IPython handler for NameError: a check cell run before the answer cell it checks."""
    name = _missing_name(value)
    if name not in _EXERCISES:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    stb = [f"✘ `{name}` is not defined yet: write `{name}` in its cell above and run that cell, "
           f"then run this one (after a kernel restart, run the cells from the top)"]
    shell._showtraceback(etype, value, stb)
    return stb


def _install_name_error_hint():
    shell = _ipython()
    if shell is not None and not shell.custom_exceptions:   # ours already, or someone else's: keep it
        shell.set_custom_exc((NameError,), _name_error_hint)


def _from_grader(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in _PASS_THROUGH_PACKAGES


def visible_check(fn=None, *, uses: tuple[str, ...] = ()):
    """Decorate a visible check ``fn(answer)`` so that it teaches instead of tracing back.

    ``uses`` names the exercises the checked one calls (``@visible_check(uses=("rnn_cell",))``):
    when such an exercise failed its own check earlier in the session, this check's failure
    says so instead of reading like a second mistake.
    """
    if fn is None:
        return functools.partial(visible_check, uses=uses)
    name = fn.__name__
    _EXERCISES.add(name)
    _install_name_error_hint()

    @functools.wraps(fn)
    def run(answer, *args, **kwargs):
        try:
            result = fn(answer, *args, **kwargs)
        except CheckFailed:
            raise
        except Exception as error:                      # noqa: BLE001 (every failure is rendered)
            if _from_grader(error):
                raise
            failure = _failure(name, error, uses)
            if _ipython() is not None:
                _FAILED[name] = failure.args[0]
            raise failure from None
        _FAILED.pop(name, None)
        return result

    return run


def _failure(name: str, error: Exception, uses: tuple[str, ...]) -> CheckFailed:
    if isinstance(error, NotImplementedError):
        return CheckFailed(unfinished_message(name))
    if isinstance(error, NameError) and _missing_name(error) in _EXERCISES:
        missing = _missing_name(error)
        return CheckFailed(f"{name}: your code calls `{missing}`, which is not defined yet: "
                           f"write `{missing}` in its cell and run it, then run this check again")
    if isinstance(error, AssertionError):
        message, frames = f"{name}: {error}", []
    else:
        frames = _student_frames(error.__traceback__)
        message = (f"{name}: calling your code raised {type(error).__name__}: {error}" if frames else
                   f"{name}: what your code returned could not be checked ({type(error).__name__}: "
                   f"{error}); compare it with the docstring's types and shapes")
    broken = [u for u in uses if u in _FAILED]
    if broken:
        message += (f" (probably the same cause: `{name}` uses {', '.join(f'`{u}`' for u in broken)}, "
                    f"whose check failed above; fix that first)")
    return CheckFailed(message, frames)


def expect_close(got, want, what: str, likely: dict | None = None, atol: float = 1e-5) -> None:
    """Assert ``got`` matches ``want``; if not, name the known mistake whose result it matches.

    ``likely`` maps a mistake ("tanh is left out") to what that mistake computes, so a student
    reads the cause, as in the hidden checks, rather than only that a value differs.
    """
    assert isinstance(got, torch.Tensor), f"{what} should be a tensor, got {type(got).__name__}"
    assert tuple(got.shape) == tuple(want.shape), \
        f"{what} should have shape {tuple(want.shape)}, got {tuple(got.shape)}"
    if torch.allclose(got.double(), want.double(), atol=atol):
        return
    for mistake, wrong in (likely or {}).items():
        if tuple(wrong.shape) == tuple(got.shape) and torch.allclose(got.double(), wrong.double(), atol=atol):
            raise AssertionError(f"{what} is wrong: it is what you get when {mistake}")
    raise AssertionError(f"{what} differs from the reference")
