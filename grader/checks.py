"""What a hidden check module is written with: the ``check`` decorator and ``expect_*`` helpers.

Every helper checks type and shape on the trusted side before comparing values, so an object
that claims to equal everything is just a wrong answer, and every failure message says what
the student should look at.
"""
from dataclasses import dataclass

import torch

from grader_worker.wire import tensors_in

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class CheckInfo:
    exercise: str
    points: float
    timeout: float


def check(exercise: str, points: float = 1, timeout: float = DEFAULT_TIMEOUT):
    """Mark a function of a hidden module as a check of ``exercise`` worth ``points``; the
    grader (``grader.runner``) calls it with the ``student``.

    Its docstring heads the feedback line; its assertion message says what is wrong.
    ``timeout`` bounds each call into the student's code made by this check.
    """
    def mark(fn):
        fn.check_info = CheckInfo(exercise, float(points), float(timeout))
        return fn
    return mark


def type_name(x) -> str:
    remote = getattr(x, "remote_type", None)
    return remote if isinstance(remote, str) else type(x).__name__


def expect_tensor(x, what: str) -> torch.Tensor:
    """``x`` must be a real ``torch.Tensor`` (not a look-alike)."""
    if type(x) is not torch.Tensor:
        raise AssertionError(f"{what}: expected a torch.Tensor, got {type_name(x)}")
    return x


def expect_shape(t, shape, what: str, hint: str | None = None) -> torch.Tensor:
    """``t`` must be a tensor of exactly ``shape``; a permuted shape gets a transpose hint."""
    expect_tensor(t, what)
    shape = tuple(shape)
    got = tuple(t.shape)
    if got != shape:
        msg = f"{what}: expected shape {shape}, got {got}"
        if len(got) == len(shape) and sorted(got) == sorted(shape):
            msg += ": the same sizes in another order; did you transpose or permute an axis?"
        elif len(got) == len(shape) - 1:
            msg += ": one axis fewer; did you drop a batch or time axis (indexing, squeeze, sum)?"
        elif len(got) == len(shape) + 1:
            msg += ": one axis too many; did you forget to index, squeeze or reduce?"
        if hint:
            msg += f" ({hint})"
        raise AssertionError(msg)
    return t


def _close(a: torch.Tensor, b: torch.Tensor, atol: float, rtol: float) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol, rtol=rtol)


def expect_close(actual, expected: torch.Tensor, what: str, likely: dict | None = None,
                 atol: float = 1e-5, rtol: float = 1e-4) -> torch.Tensor:
    """``actual`` must match ``expected`` in type, shape and value.

    ``likely`` maps a description of a known mistake ("tanh left out") to the tensor that
    mistake produces; when ``actual`` matches one, the message names it.
    """
    expect_shape(actual, expected.shape, what)
    if expected.is_floating_point() and not actual.is_floating_point():
        raise AssertionError(f"{what}: expected a floating-point tensor, got dtype {actual.dtype}")
    if torch.isnan(actual.double()).any() and not torch.isnan(expected.double()).any():
        raise AssertionError(f"{what} contains NaN")
    if _close(actual, expected, atol, rtol):
        return actual
    for mistake, wrong in (likely or {}).items():
        if _close(actual, wrong, atol, rtol):
            raise AssertionError(f"{what} is wrong: it is what you get when {mistake}")
    diff = (actual.double() - expected.double()).abs().max().item()
    raise AssertionError(f"{what} does not match the reference (largest difference {diff:.3g})")


def expect_equal(actual, expected, what: str, likely: dict | None = None):
    """Plain values (ints, strings, lists, dicts) must be equal, with the same known-mistake hints."""
    if actual == expected and type(actual) is type(expected):
        return actual
    for mistake, wrong in (likely or {}).items():
        if actual == wrong:
            raise AssertionError(f"{what} is wrong: it is what you get when {mistake}")
    shown = repr(actual)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    raise AssertionError(f"{what}: expected {expected!r}, got {shown}")


def expect_module(x, cls, what: str, inputs: tuple, **config) -> torch.nn.Module:
    """``x`` must be a ``cls`` (say ``nn.RNN``) configured as ``config``.

    Established on the trusted side, never from the type name the student's side reports:
    each ``config`` attribute must read as expected, the state dict must have exactly the
    keys and shapes of a real ``cls(**config)`` (more parameters change nothing here), and with that state loaded the real module
    must compute what ``x`` computes on ``inputs``. Returns the real module.
    """
    for key, value in config.items():
        try:
            got = getattr(x, key)
        except Exception:
            raise AssertionError(f"{what}: expected a torch.nn.{cls.__name__}, got an object "
                                 f"(called {type_name(x)}) without `{key}`") from None
        expect_equal(got, value, f"{what}.{key}")
    reference = cls(**config)
    expected = reference.state_dict()
    try:
        state = x.state_dict()
    except Exception:
        state = None
    if type(state) is not dict or not set(expected) <= set(state):
        raise AssertionError(f"{what}: expected a torch.nn.{cls.__name__}, got an object "
                             f"(called {type_name(x)}) without its parameters ({', '.join(expected)})")
    for key, tensor in expected.items():
        expect_shape(state[key], tensor.shape, f"{what}.{key}")
    reference.load_state_dict({key: state[key] for key in expected})
    with torch.no_grad():
        ref_out = reference(*inputs)
    out = x(*inputs)
    ref_tensors, tensors = list(tensors_in(ref_out)), list(tensors_in(out))
    if len(tensors) != len(ref_tensors):
        raise AssertionError(f"{what}: does not compute what a torch.nn.{cls.__name__} computes")
    for got, want in zip(tensors, ref_tensors):
        expect_close(got, want, f"{what}'s output (as a {cls.__name__} with its parameters)")
    return reference

