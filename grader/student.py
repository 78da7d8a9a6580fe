"""The ``student`` fixture: what a hidden check sees of a submission.

``RemoteStudent`` (the autograder's) forwards every call to the sandboxed worker and gets
plain data back; ``LocalStudent`` (used inside a notebook, by the instructor or a learner
checking their own work) calls the notebook's objects directly. Both convert every value
with the wire's one contract (``grader_worker.wire.Encoder``): values cross as copies, a
generator as a list, a namedtuple as a tuple, a Parameter as a tensor, anything else as a
``Handle``; so a check behaves identically on both.

A ``Handle`` carries the trusted side's knowledge of where it came from (``origin``: the
student name whose call made it); its ``remote_type`` is only what the student's side says.
"""
import contextlib
import signal
import threading
from typing import NamedTuple

import torch

from grader_worker.wire import Decoder, Encoder, WireError, roundtrip, seed_all, tensors_in

# What a trusted reference standing in for a student function accepts from the student's
# side: it computes on it, so its size (and with it time and memory) is bounded.
CALLBACK_ELEMENTS = 1 << 20
CALLBACK_DIM = 2048
CALLBACK_SECONDS = 5.0


class StudentError(Exception):
    """The student's code raised; the message is theirs (type, text, line in their cell)."""


class StudentTimeout(Exception):
    """The student's code ran past the check's time limit."""


class WorkerLost(Exception):
    """The worker died or broke the protocol (exited, crashed, flooded, killed)."""


ZYGOTE_LOST = "your code killed the grader's worker process (or made it run out of memory)"


class GradResult(NamedTuple):
    output: object
    arg_grads: list
    param_grads: dict


class Student:
    """Common surface of both proxies; subclasses implement ``_invoke``.

    ``evidence`` (per student name, what its calls reached) and ``imports`` (per cell, the
    forbidden libraries it imported) stay empty where nothing is traced (``LocalStudent``).
    """

    timeout: float = 10.0
    evidence: dict
    imports: dict

    def close(self):
        pass

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return Handle(self, {"name": name}, name)

    def function(self, name: str) -> "Handle":
        """The student's ``name`` (also when ``name`` collides with a method of this class)."""
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
        seed_all(seed)
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
        self.remote_type = remote_type  # the student side's word, never proof of a type

    @property
    def origin(self) -> str:
        """The student name whose call produced this object (known on the trusted side)."""
        return self._ref.get("origin") or self._ref.get("name", "")

    def __call__(self, *args, **kwargs):
        return self._student._invoke(self._ref, args=list(args), kwargs=kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._student._invoke(dict(self._ref, attr=name), get=True)

    def __repr__(self):
        return f"<student's {self.remote_type}>"


# ---- in-kernel proxy ----

def bounded_callback_args(value):
    """Refuse what a trusted reference should not compute on (see ``CALLBACK_*``)."""
    total = 0
    for t in tensors_in(value):
        total += t.numel()
        if t.dim() and max(t.shape) > CALLBACK_DIM or total > CALLBACK_ELEMENTS:
            raise WireError(f"the reference does not take a tensor of shape {tuple(t.shape)}: "
                            f"at most {CALLBACK_DIM} along an axis and {CALLBACK_ELEMENTS} elements")
    return value


class _TrustedTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Bound trusted-side work done for the student (a reference answering its call)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _TrustedTimeout(f"the reference ran past {seconds:g} s on these inputs")
    previous = signal.signal(signal.SIGALRM, expire)
    old = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, *old) if old[0] else signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class LocalStudent(Student):
    """Runs checks against objects in a namespace, converting values as the wire does."""

    def __init__(self, namespace: dict):
        self.evidence, self.imports = {}, {}
        self._ns = namespace
        self._saved: dict[str, list] = {}

    def _copy(self, value, origin=""):
        return roundtrip(value, handle_of=lambda v: {"__handle__": 0, "object": v},
                         make_handle=lambda h: Handle(self, {"object": h["object"], "origin": origin},
                                                      type(h["object"]).__name__))

    def _copy_in(self, value):
        return roundtrip(value, handle_of=self._unwrap, make_handle=lambda h: h["object"])

    def _unwrap(self, value):
        if isinstance(value, Handle) and "object" in value._ref:
            return {"__handle__": 0, "object": value._ref["object"]}
        raise WireError(f"cannot send a {type(value).__name__}")

    def _resolve(self, ref):
        if "object" in ref:
            target = ref["object"]
        elif ref["name"] in self._ns:
            target = self._ns[ref["name"]]
        else:
            raise StudentError(f"NameError: `{ref['name']}` is not defined: did its cell run?")
        if "attr" not in ref:
            return target
        try:
            return getattr(target, ref["attr"])
        except Exception as e:
            raise StudentError(f"{type(e).__name__}: {e}") from None

    def _invoke(self, ref, args=(), kwargs=None, get=False, grad=False, upstream=None):
        target = self._resolve(ref)
        origin = ref.get("origin") or ref.get("name", "")
        if get:
            return self._copy(target, origin)
        args = self._copy_in(list(args))
        kwargs = self._copy_in(dict(kwargs or {}))
        try:
            result = target(*args, **kwargs)
        except Exception as e:
            raise StudentError(f"{type(e).__name__}: {e}") from None
        if not grad:
            return self._copy(result, origin)
        outputs = [t for t in tensors_in(result) if t.requires_grad]
        if not outputs:
            raise StudentError("no output depends on the inputs through autograd")
        ups = upstream if upstream is not None else [torch.ones_like(t) for t in outputs]
        torch.autograd.backward(outputs, list(ups)[:len(outputs)])
        owner = getattr(target, "__self__", target)
        params = ({n: p.grad for n, p in owner.named_parameters()}
                  if isinstance(owner, torch.nn.Module) else {})
        return GradResult(self._copy(result, origin),
                          [self._copy(a.grad) if isinstance(a, torch.Tensor) else None for a in args],
                          self._copy(params))

    def has(self, name: str) -> bool:
        return name in self._ns

    def _seed_worker(self, seed):
        pass  # same process: already seeded

    def _stub(self, name, reference):
        self._saved.setdefault(name, []).append(self._ns.get(name))

        def stubbed(*args, **kwargs):
            args, kwargs = bounded_callback_args(self._copy_in((list(args), dict(kwargs))))
            with time_limit(CALLBACK_SECONDS):
                return self._copy_in(reference(*args, **kwargs))
        self._ns[name] = stubbed

    def _unstub(self, name):
        original = self._saved[name].pop()
        if original is None:
            self._ns.pop(name, None)
        else:
            self._ns[name] = original


# ---- sandboxed proxy ----

class RemoteStudent(Student):
    """The ``student`` fixture over a sandboxed child. Restarts the child after a timeout.

    ``watch`` (from ``grader.hidden.watch_list``) is what the child's tracer looks for in
    calls made on behalf of the ``traced`` names; ``evidence`` collects, per name, what
    those calls reached. It lives here, so a child that is restarted loses none of it.
    """

    MAX_RESTARTS = 8
    # each lost zygote costs a new sandbox (torch imported again): a submission that keeps
    # killing it gets no more of them
    MAX_KILLS = 2

    def __init__(self, sandbox, cells: list[dict], watch: dict | None = None, traced=()):
        self.sandbox = sandbox
        self.cells = cells
        self.watch = watch or {}
        self.traced = set(traced)
        self.evidence: dict[str, set] = {}
        self.imports: dict[str, set] = {}
        self.generation = 0
        self.restarts = 0
        self.exec_result = None
        self.hung: dict[str, tuple[str, str]] = {}  # cells skipped on restart, and why
        self.stubs: dict[str, list] = {}
        self.session = None
        self.kills_before = sandbox.kills
        self._start()

    def _start(self):
        """A fresh child with the notebook run in it, one cell per request.

        A cell that outlives its limit (even one that swallows the alarm) or kills its process
        is recorded, and the notebook is run again in a new child without it.
        """
        while True:
            self._check_kills()
            self.generation += 1
            self.session = self.sandbox.session()
            self.session.on_callback = self._callback
            if self.traced:
                self._request(dict(self.watch, op="forbid"), [], 10)
            outcome = self._run_cells()
            if outcome is not None:
                break
        if self.exec_result is None:
            results, names = outcome
            self.exec_result = {"cells": results, "names": names if isinstance(names, list) else []}
        for name, stack in self.stubs.items():  # stubs active when the old child was lost
            for _ in stack:
                self._request({"op": "stub", "name": name}, [], 10)

    def _run_cells(self):
        """(cell results, defined names), or None when a cell hung or crashed (restart)."""
        results, names = [], []
        for cell in self.cells:
            key, limit = cell["key"], cell["timeout"]
            if key in self.hung:
                status, error = self.hung[key]
                results.append({"key": key, "status": status, "error": error})
                continue
            try:
                reply, _ = self._request({"op": "exec", "cells": [cell]}, [], limit)
            except StudentTimeout:
                self.hung[key] = ("timeout", f"the cell ran longer than {limit:g} s")
                return None
            except WorkerLost as e:
                self.hung[key] = ("error", str(e))
                return None
            done = reply.get("cells") if isinstance(reply.get("cells"), list) else []
            if any(isinstance(e, dict) and e.get("status") == "timeout" for e in done):
                # restart even though the cell gave up: it may have left processes spinning
                self.hung[key] = ("timeout", f"the cell ran longer than {limit:g} s")
                self.session.end()
                return None
            results += done
            names = reply.get("names", names)
            imports = reply.get("imports")
            for key, found in (imports.items() if isinstance(imports, dict) else ()):
                self.imports.setdefault(str(key), set()).update(str(m) for m in _list(found))
        return results, names

    def _request(self, header, blobs, timeout):
        return self.session.request(header, blobs, timeout)

    def _check_kills(self):
        if self.sandbox.kills - self.kills_before >= self.MAX_KILLS:
            raise WorkerLost(f"{ZYGOTE_LOST}, {self.MAX_KILLS} times; later checks were not run")

    def _ensure(self):
        if self.session.alive:
            return
        self._check_kills()
        if self.restarts >= self.MAX_RESTARTS:
            raise WorkerLost("too many timeouts or crashes; later checks were not run")
        self.restarts += 1
        self._start()

    def close(self):
        if self.session is not None:
            self.session.end()

    # ---- calls ----

    def _encode_handle(self, value):
        if isinstance(value, Handle) and value._student is self and "handle" in value._ref:
            return {"__handle__": value._ref["handle"]}
        if isinstance(value, Handle) and value._student is self:
            raise StudentError("a check passed a student function as an argument")
        raise WireError(f"cannot send a {type(value).__name__}")

    def _decoder(self, blobs, origin: str) -> Decoder:
        def make_handle(value):
            kind = value.get("type")
            return Handle(self, {"handle": value["__handle__"], "gen": self.generation, "origin": origin},
                          kind[:80] if isinstance(kind, str) else "object")
        return Decoder(blobs, make_handle=make_handle)

    def _invoke(self, ref, args=(), kwargs=None, get=False, grad=False, upstream=None):
        self._ensure()
        if ref.get("gen", self.generation) != self.generation:
            raise StudentError("an object made before your code was restarted is gone")
        origin = ref.get("origin") or ref.get("name", "")
        enc = Encoder(handle_of=self._encode_handle)
        header = {"op": "call", "timeout": self.timeout, "trace": origin in self.traced,
                  "args": enc.encode(list(args)), "kwargs": enc.encode(dict(kwargs or {}))}
        header.update({k: v for k, v in ref.items() if k in ("name", "handle", "attr")})
        if get:
            header["get"] = True
        if grad:
            header["grad"] = True
            if upstream is not None:
                ups = list(upstream) if isinstance(upstream, (list, tuple)) else [upstream]
                header["upstream"] = enc.encode(ups)
        reply, blobs = self._request(header, enc.blobs, self.timeout)
        self.evidence.setdefault(origin, set()).update(str(e) for e in _list(reply.get("evidence")))
        op = reply.get("op")
        if op == "timeout":
            self.session.end()
            raise StudentTimeout(f"your code ran longer than {self.timeout:g} s")
        if op == "raised":
            raise StudentError(str(reply.get("message", "error"))[:600])
        if op != "result":
            raise WorkerLost("unexpected reply from the worker")
        dec = self._decoder(blobs, origin)
        value = dec.decode(reply.get("value"))
        if not grad:
            return value
        arg_grads = dec.decode(reply.get("arg_grads"))
        param_grads = dec.decode(reply.get("param_grads"))
        if type(arg_grads) is not list or type(param_grads) is not dict:
            raise WorkerLost("malformed gradients from the worker")
        return GradResult(value, arg_grads, param_grads)

    def has(self, name: str) -> bool:
        self._ensure()
        return name in (self.exec_result or {}).get("names", [])

    def _simple(self, header):
        self._ensure()
        reply, _ = self._request(header, [], 10)
        if reply.get("op") != "ok":
            raise WorkerLost("unexpected reply from the worker")
        return reply

    def _seed_worker(self, seed):
        self._simple({"op": "seed", "seed": seed})

    def _stub(self, name, reference):
        self.stubs.setdefault(name, []).append(reference)  # nested stubs: the innermost answers
        self._simple({"op": "stub", "name": name})

    def _unstub(self, name):
        stack = self.stubs.get(name)
        if stack:
            stack.pop()
        if not stack:
            self.stubs.pop(name, None)
        if self.session.alive:
            self._simple({"op": "unstub", "name": name})

    def _callback(self, reply, blobs):
        """Run the trusted reference for a stubbed name; return the frame to send back."""
        name = reply.get("name")
        try:
            dec = self._decoder(blobs, str(name))
            args = dec.decode(reply.get("args"))
            kwargs = dec.decode(reply.get("kwargs"))
            if name not in self.stubs or type(args) is not list or type(kwargs) is not dict:
                raise WireError("bad callback")
            bounded_callback_args((args, kwargs))
            with time_limit(CALLBACK_SECONDS):
                result = self.stubs[name][-1](*args, **kwargs)
            enc = Encoder()
            return {"op": "callback_result", "value": enc.encode(result)}, enc.blobs
        except Exception as e:
            return {"op": "callback_error", "message": f"{type(e).__name__}: {e}"[:300]}, []


def _list(value) -> list:
    return value if type(value) is list else []
