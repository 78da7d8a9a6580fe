"""The ``student`` fixture: what a hidden check sees of a submission.

``RemoteStudent`` (the autograder's) forwards every call to the sandboxed worker and gets
plain data back; ``LocalStudent`` (used inside a notebook, by the instructor or a learner
checking their own work) calls the notebook's objects directly but copies tensors in and
out the same way, so a check behaves identically on both.
"""
import contextlib
import random
from typing import NamedTuple

import numpy as np
import torch

from grader_worker.wire import tensors_in


class StudentError(Exception):
    """The student's code raised; the message is theirs (type, text, line in their cell)."""


class StudentTimeout(Exception):
    """The student's code ran past the check's time limit."""


class WorkerLost(Exception):
    """The worker died or broke the protocol (exited, crashed, flooded, killed)."""


class GradResult(NamedTuple):
    output: object
    arg_grads: list
    param_grads: dict


class Student:
    """Common surface of both proxies; subclasses implement ``_invoke``."""

    timeout: float = 10.0

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return Handle(self, {"name": name}, name)

    def value(self, name: str):
        """A non-callable value the notebook defines (a constant, a vocabulary)."""
        return self._invoke({"name": name}, get=True)

    def grad(self, target, *args, upstream=None, **kwargs) -> GradResult:
        """Call ``target`` with float tensor args requiring grad and back-propagate ``upstream``."""
        args = [a.detach().clone().requires_grad_(True)
                if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
        return self._invoke(target._ref, args=args, kwargs=kwargs, grad=True, upstream=upstream)

    def seed(self, seed: int = 0):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        self._seed_worker(seed)

    @contextlib.contextmanager
    def stub(self, name: str, reference):
        """Answer the student's ``name`` with a trusted ``reference`` while testing its callers."""
        self._stub(name, reference)
        try:
            yield
        finally:
            self._unstub(name)


class Handle:
    """A student function, class or object, living wherever the student's code runs."""

    def __init__(self, student: Student, ref: dict, remote_type: str):
        self._student = student
        self._ref = ref
        self.remote_type = remote_type

    def __call__(self, *args, **kwargs):
        return self._student._invoke(self._ref, args=list(args), kwargs=kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._student._invoke(dict(self._ref, attr=name), get=True)

    def __repr__(self):
        return f"<student's {self.remote_type}>"


# ---- in-kernel proxy ----

def _copy_in(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, Handle):
        return value._ref["object"]
    if isinstance(value, torch.Generator):
        return torch.Generator().set_state(value.get_state())
    if type(value) in (list, tuple):
        return type(value)(_copy_in(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_in(v) for k, v in value.items()}
    return value


class LocalStudent(Student):
    """Runs checks against objects in a namespace, copying values as the wire would."""

    def __init__(self, namespace: dict):
        self._ns = namespace
        self._saved = {}

    def _copy_out(self, value):
        if isinstance(value, torch.Tensor):  # as the wire does: a copy that keeps requires_grad
            copy = value.detach().clone()
            return copy.requires_grad_(True) if value.requires_grad and copy.is_floating_point() else copy
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) in (list, tuple):
            return type(value)(self._copy_out(v) for v in value)
        if isinstance(value, dict):
            return {k: self._copy_out(v) for k, v in value.items()}
        if isinstance(value, np.generic):
            return value.item()
        if hasattr(value, "__next__") and hasattr(value, "__iter__"):
            return [self._copy_out(v) for v in value]
        return Handle(self, {"object": value}, type(value).__name__)

    def _resolve(self, ref):
        if "object" in ref:
            target = ref["object"]
        elif ref["name"] in self._ns:
            target = self._ns[ref["name"]]
        else:
            raise StudentError(f"NameError: `{ref['name']}` is not defined: did its cell run?")
        return getattr(target, ref["attr"]) if "attr" in ref else target

    def _invoke(self, ref, args=(), kwargs=None, get=False, grad=False, upstream=None):
        target = self._resolve(ref)
        if get:
            return self._copy_out(target)
        args = [_copy_in(a) for a in args]
        kwargs = {k: _copy_in(v) for k, v in (kwargs or {}).items()}
        try:
            result = target(*args, **kwargs)
        except Exception as e:
            raise StudentError(f"{type(e).__name__}: {e}") from None
        if not grad:
            return self._copy_out(result)
        outputs = [t for t in tensors_in(result) if t.requires_grad]
        if not outputs:
            raise StudentError("no output depends on the inputs through autograd")
        ups = upstream if upstream is not None else [torch.ones_like(t) for t in outputs]
        torch.autograd.backward(outputs, list(ups)[:len(outputs)])
        owner = getattr(target, "__self__", target)
        params = ({n: p.grad for n, p in owner.named_parameters()}
                  if isinstance(owner, torch.nn.Module) else {})
        return GradResult(self._copy_out(result),
                          [self._copy_out(a.grad) if isinstance(a, torch.Tensor) else None for a in args],
                          self._copy_out(params))

    def has(self, name: str) -> bool:
        return name in self._ns

    def _seed_worker(self, seed):
        pass  # same process: already seeded

    def _stub(self, name, reference):
        self._saved[name] = self._ns.get(name)
        self._ns[name] = lambda *a, **k: reference(*_copy_in(list(a)), **_copy_in(k))

    def _unstub(self, name):
        original = self._saved.pop(name)
        if original is None:
            self._ns.pop(name, None)
        else:
            self._ns[name] = original
