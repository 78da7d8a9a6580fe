"""One submission's process: run its notebook cells, then answer the trusted side's calls.

Everything here runs next to student code and is therefore untrusted: the trusted side
checks types, shapes and values of whatever comes back, and decides every score itself.
"""
import os
import signal
import sys
import traceback

import torch

from grader_worker.tracer import Tracer
from grader_worker.wire import Decoder, Encoder, WireError, read_frame, seed_all, tensors_in, write_frame


class CellTimeout(BaseException):
    """Raised by the alarm; a BaseException so a bare ``except Exception`` cannot swallow it."""


def _on_alarm(signum, frame):
    raise CellTimeout()


class _Shell:
    """Stands in for IPython inside the worker: magics and shell escapes do nothing."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = run_line_magic
    system = run_line_magic
    getoutput = run_line_magic


def _to_python(source: str) -> str:
    """Turn notebook syntax (``%magic``, ``!cmd``) into plain Python, as IPython would."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or confused: run the source as it is
        return source


class Child:
    def __init__(self, sock: int):
        self.sock = sock
        self.shell = _Shell()
        self.ns: dict = {"__name__": "__main__", "get_ipython": lambda: self.shell,
                         "display": lambda *a, **k: None}
        self.handles: dict[int, object] = {}
        self.cell_names: dict[str, str] = {}
        self.tracer = Tracer()
        self.stubs: dict[str, list] = {}  # name -> what each (nested) stub replaced
        signal.signal(signal.SIGALRM, _on_alarm)

    # ---- protocol ----

    def send(self, header: dict, **values):
        enc = Encoder(handle_of=self._handle_of)
        try:
            for key, v in values.items():
                header[key] = enc.encode(v)
        except WireError as e:
            header = {"op": "raised", "type": "TypeError",
                      "message": f"returned something the grader cannot read: {e}", "where": ""}
            enc.blobs = []
        write_frame(self.sock, header, enc.blobs)

    def serve(self):
        while True:
            header, blobs = read_frame(self.sock)
            op = header.get("op")
            handler = getattr(self, f"op_{op}", None)
            if handler is None:
                self.send({"op": "raised", "type": "ProtocolError", "message": f"unknown op {op}",
                           "where": ""})
                continue
            handler(header, blobs)

    # ---- running the notebook ----

    def op_exec(self, header, blobs):
        results = []
        for cell in header["cells"]:
            key = cell["key"]
            self.cell_names[f"<cell {key}>"] = cell.get("label", key)
            status, error = self._run_cell(key, cell["source"], float(cell.get("timeout", 30)))
            results.append({"key": key, "status": status, "error": error})
        names = sorted(k for k, v in self.ns.items() if not k.startswith("_") and callable(v))
        self.send({"op": "exec_done", "cells": results, "names": names,
                   "imports": {k: sorted(v) for k, v in self.tracer.imports.items()}})

    def _run_cell(self, key: str, source: str, timeout: float):
        try:
            code = compile(_to_python(source), f"<cell {key}>", "exec", dont_inherit=True)
        except SyntaxError as e:
            return "error", f"SyntaxError: {e.msg} (line {e.lineno})"
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            with self.tracer.cell(key):
                exec(code, self.ns)
            return "ok", ""
        except CellTimeout:
            return "timeout", f"the cell ran longer than {timeout:g} s"
        except BaseException as e:  # the student's exception, reported not raised
            return "error", self._describe(e)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _describe(self, exc: BaseException) -> str:
        """``ValueError: ... (line 4 of your `rnn_cell` cell)``: the student's own frame only."""
        where = ""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename in self.cell_names:
                where = f" (line {frame.lineno} of your `{self.cell_names[frame.filename]}` cell)"
                break
        try:
            message = str(exc)
        except BaseException:
            message = "(its message could not be printed)"
        if type(message) is not str:
            message = "(its message is not text)"
        if len(message) > 500:
            message = message[:497] + "..."
        return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"

    # ---- calls from the checks ----

    def _handle_of(self, value):
        hid = len(self.handles) + 1
        self.handles[hid] = value
        return {"__handle__": hid, "type": type(value).__name__}

    def _resolve_handle(self, value):
        hid = value.get("__handle__")
        if hid not in self.handles:
            raise WireError("unknown handle")
        return self.handles[hid]

    def _target(self, header):
        if "handle" in header:
            hid = header["handle"]
            if hid not in self.handles:
                raise NameError("the object this check was using no longer exists")
            return self.handles[hid]
        name = header["name"]
        if name not in self.ns:
            raise NameError(f"`{name}` is not defined: did its cell run without error?")
        return self.ns[name]

    def op_call(self, header, blobs):
        try:
            dec = Decoder(blobs, make_handle=self._resolve_handle)
            args = dec.decode(header.get("args", {"__list__": []}))
            kwargs = dec.decode(header.get("kwargs", {"__dict__": []}))
            upstream = dec.decode(header["upstream"]) if "upstream" in header else None
            target = self._target(header)
            if header.get("attr"):
                target = getattr(target, header["attr"])
        except BaseException as e:
            self.send({"op": "raised", "type": type(e).__name__, "message": str(e)[:500], "where": ""})
            return
        signal.setitimer(signal.ITIMER_REAL, float(header.get("timeout", 10)))
        extra = {}
        try:
            with self.tracer.call(bool(header.get("trace"))):
                if header.get("get"):
                    result = target
                else:
                    result = target(*args, **kwargs)
                if header.get("grad"):
                    extra = self._backward(target, result, args, upstream)
        except CellTimeout:
            self.send({"op": "timeout"})
            return
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.send({"op": "raised", "type": type(e).__name__, "message": self._describe(e),
                       "where": "", "evidence": self.tracer.last})
            return
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.send({"op": "result", "evidence": self.tracer.last}, value=result, **extra)

    def _backward(self, target, result, args, upstream):
        outputs = [t for t in tensors_in(result) if t.requires_grad]
        if not outputs:
            raise RuntimeError("no output depends on the inputs through autograd "
                               "(.detach(), .item(), .numpy() or torch.no_grad() breaks the graph)")
        if upstream is None:
            upstream = [torch.ones_like(t) for t in outputs]
        torch.autograd.backward(outputs, list(upstream)[:len(outputs)])
        arg_grads = [a.grad if isinstance(a, torch.Tensor) else None for a in args]
        param_grads = {}
        owner = getattr(target, "__self__", target)
        if isinstance(owner, torch.nn.Module):
            param_grads = {n: p.grad for n, p in owner.named_parameters()}
        return {"arg_grads": arg_grads, "param_grads": param_grads}

    def op_seed(self, header, blobs):
        seed_all(int(header["seed"]))
        self.send({"op": "ok"})

    # ---- stubs: a student name answered by the trusted reference ----

    def op_stub(self, header, blobs):
        name = header["name"]
        self.stubs.setdefault(name, []).append(self.ns.get(name))
        child = self

        def stubbed(*args, **kwargs):
            enc = Encoder(handle_of=child._handle_of)
            head = {"op": "callback", "name": name, "args": enc.encode(list(args)),
                    "kwargs": enc.encode(dict(kwargs))}
            write_frame(child.sock, head, enc.blobs)
            reply, reply_blobs = read_frame(child.sock)
            if reply.get("op") != "callback_result":
                raise RuntimeError(f"the reference `{name}` failed: {reply.get('message', '')}")
            return Decoder(reply_blobs, make_handle=child._resolve_handle).decode(reply["value"])

        stubbed.__name__ = name
        self.ns[name] = stubbed
        self.send({"op": "ok"})

    def op_unstub(self, header, blobs):
        name = header["name"]
        saved = self.stubs.get(name)
        original = saved.pop() if saved else None
        if original is None:
            self.ns.pop(name, None)
        else:
            self.ns[name] = original
        self.send({"op": "ok"})

    # ---- forbidden shortcuts ----

    def op_forbid(self, header, blobs):
        self.tracer.watch(header.get("ops", []), header.get("calls", []), header.get("modules", []))
        self.send({"op": "ok"})


def run(sock: int):
    """Entry point after the fork: the zygote has already set limits and redirected output."""
    sys.argv = ["notebook"]
    try:
        Child(sock).serve()
    except EOFError:
        pass
    finally:
        os._exit(0)
