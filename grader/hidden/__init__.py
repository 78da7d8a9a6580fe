"""Hidden checks, one pytest module per notebook (``nbNN.py``), and what they declare.

This is the one registry the grader asks about exercises: which notebook's module holds an
exercise's checks and how many points they are worth (``exercises()``), what each exercise
may not use (``forbidden()``), and which trusted references can stand in for a student's
function (``references()``).

Module-level declarations a hidden module may make:

- ``FORBIDDEN = {exercise: [api, ...]}``: an exercise that reaches one of these scores zero.
  An api is a dotted path (``"torch.nn.LSTM"``, ``"torch._VF.gru_cell"``,
  ``"torch.nn.functional.embedding"``, ``"torch.nn.utils.rnn.pad_sequence"``), an aten op
  (``"aten::lstm"``) or a library (``"tokenizers"``). It is recognised by what a call
  reaches (see ``evidence_of``), however it was spelled or fetched.
- ``REFERENCES = {exercise: function}``: a trusted implementation with the student's
  signature. When an exercise is found tampered, the other exercises are graded again with
  it standing in (``student.stub``), so honest code is judged on its own.
"""
import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

HIDDEN = Path(__file__).resolve().parent

# Modules whose forward reaches a telling op (aten's composite RNN ops are recorded even
# though they decompose), keyed by the class's canonical name.
MODULE_OPS = {
    "torch.nn.modules.rnn.RNNCell": ("aten::rnn_tanh_cell", "aten::rnn_relu_cell"),
    "torch.nn.modules.rnn.RNN": ("aten::rnn_tanh", "aten::rnn_relu"),
    "torch.nn.modules.rnn.LSTMCell": ("aten::lstm_cell",),
    "torch.nn.modules.rnn.LSTM": ("aten::lstm",),
    "torch.nn.modules.rnn.GRUCell": ("aten::gru_cell",),
    "torch.nn.modules.rnn.GRU": ("aten::gru",),
    "torch.nn.modules.sparse.Embedding": ("aten::embedding",),
    "torch.nn.modules.sparse.EmbeddingBag": ("aten::embedding_bag", "aten::_embedding_bag"),
    "torch.nn.modules.distance.CosineSimilarity": ("aten::cosine_similarity",),
}
# Python functions and the op they end in (measured with the profiler, torch 2.13).
FUNCTION_OPS = {
    "torch.nn.functional.embedding": ("aten::embedding",),
    "torch.nn.utils.rnn.pad_sequence": ("aten::pad_sequence",),
    "torch.nn.utils.rnn.pack_padded_sequence": ("aten::_pack_padded_sequence",),
    "torch.nn.utils.rnn.pack_sequence": ("aten::_pack_padded_sequence",),
    "torch.nn.utils.rnn.pad_packed_sequence": ("aten::_pad_packed_sequence",),
}
ESCAPE_TEXT = {
    "thread": "runs work in another thread", "fork": "forks a process", "spawn": "starts a program",
    "ctypes": "uses ctypes", "introspection": "searches the grader's memory (gc)",
    "tracing": "changes Python's tracing hooks", "profiler": "switches off the grader's profiler",
}


@dataclass(frozen=True)
class ExerciseInfo:
    notebook: str  # the hidden module's number, "01"
    points: float


def module_name(notebook: str) -> str:
    """``01_rnn_fundamentals`` -> ``grader.hidden.nb01``."""
    return f"grader.hidden.nb{notebook[:2]}"


def hidden_module(notebook: str):
    return importlib.import_module(module_name(notebook))


def checks(notebook: str) -> list:
    """The notebook's hidden checks (functions marked with ``grader.checks.check``), in the
    order its module defines them."""
    return [fn for fn in vars(hidden_module(notebook)).values() if hasattr(fn, "check_info")]


@cache
def exercises() -> dict[str, ExerciseInfo]:
    """Every exercise with hidden checks: its notebook and the sum of its checks' points."""
    found: dict[str, ExerciseInfo] = {}
    for path in sorted(HIDDEN.glob("nb[0-9][0-9].py")):
        for fn in checks(path.stem[2:]):
            info = fn.check_info
            known = found.get(info.exercise)
            if known is not None and known.notebook != path.stem[2:]:
                raise LookupError(f"{info.exercise} has checks in nb{known.notebook} and {path.stem}")
            found[info.exercise] = ExerciseInfo(path.stem[2:], (known.points if known else 0) + info.points)
    return found


def forbidden(notebook: str) -> dict[str, list[str]]:
    return {k: list(v) for k, v in getattr(hidden_module(notebook), "FORBIDDEN", {}).items()}


def references(notebook: str) -> dict:
    return dict(getattr(hidden_module(notebook), "REFERENCES", {}))


def _resolve(path: str):
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _canonical(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


@cache
def evidence_of(api: str) -> frozenset:
    """What a call that uses ``api`` leaves behind in the worker's tracer."""
    if api.startswith("aten::"):
        return frozenset({api})
    obj = _resolve(api)
    if obj is None:  # a library not installed here: its import is the evidence
        return frozenset({f"import:{api.partition('.')[0]}"})
    if inspect.ismodule(obj):
        return frozenset({f"import:{obj.__name__.partition('.')[0]}"})
    if isinstance(obj, type) and issubclass(obj, torch.nn.Module):
        name = _canonical(obj)
        return frozenset({f"new:{name}", *MODULE_OPS.get(name, ())})
    if type(obj).__name__ == "builtin_function_or_method":  # an aten op bound into Python
        return frozenset({f"aten::{obj.__name__}"})
    name = _canonical(obj)
    return frozenset({f"call:{name}", *FUNCTION_OPS.get(name, ())})


def watch_list(apis) -> dict[str, list[str]]:
    """What the worker's tracer must watch for ``apis``: aten ops, Python paths, libraries."""
    evidence = set().union(*(evidence_of(a) for a in apis)) if apis else set()
    return {"ops": sorted(e for e in evidence if e.startswith("aten::")),
            "calls": sorted(e.partition(":")[2] for e in evidence if e.startswith(("call:", "new:"))),
            "modules": sorted(e.partition(":")[2] for e in evidence if e.startswith("import:"))}


def shortcuts_used(apis: list[str], evidence: set[str]) -> tuple[list[str], list[str]]:
    """What ``evidence`` shows: the forbidden ``apis`` reached (the most specific name for
    each op), and each way of hiding work from the tracer (which counts as a shortcut: what
    it hid cannot be told apart from one)."""
    used, explained = [], set()
    for api in sorted(apis, key=lambda a: len(evidence_of(a))):
        reached = evidence_of(api) & evidence
        if reached and not reached <= explained:
            used.append(api)
            explained |= reached
    hidden_work = [ESCAPE_TEXT.get(e.partition(":")[2], e) for e in sorted(evidence) if e.startswith("escape:")]
    return used, hidden_work
