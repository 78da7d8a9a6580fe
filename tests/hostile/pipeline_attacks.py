"""Attacks on the grading pipeline (issue classes 3, 4, 5, 7, 8, 9, 10), all on notebook 01.

``ATTACKS`` maps a name to ``(issue class, notebook builder, expected)``: the builder returns
the notebook file's text (some attacks are not valid UTF-8 JSON a ``dict`` could give);
``expected`` maps an exercise to the score it must get (what the attack did not earn is 0;
what honest code in the same notebook earned is kept).
"""
import json

from grader.classroom import fill_release, reference_answers
from grader.notebooks import nbgrader_meta

NB = "01_rnn_fundamentals"
FULL = {"rnn_cell": 4, "rnn_forward": 3, "load_into_nn_rnn": 2, "count_rnn_params": 2,
        "many_to_one_head": 2, "many_to_many_head": 2}


def _text(nb: dict) -> str:
    return json.dumps(nb, indent=1)  # ASCII: a lone surrogate stays an escape, as a real file would


def answers(**replaced) -> str:
    return _text(fill_release(NB, dict(reference_answers(NB), **replaced)))


def _with_markdown(text: str) -> str:
    nb = fill_release(NB, reference_answers(NB))
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": text})
    return _text(nb)


def _numeric_grade_ids() -> str:
    nb = fill_release(NB, reference_answers(NB))
    for cell in nb["cells"]:
        if nbgrader_meta(cell).get("grade_id") in ("count_rnn_params", "test_many_to_one_head"):
            cell["metadata"]["nbgrader"]["grade_id"] = 7
    return _text(nb)


def _deep_json() -> str:
    depth = 100_000
    return '{"cells": [{"cell_type": "code", "source": "", "metadata": ' + "[" * depth + "]" * depth + "}]}"


# appended to every answer cell: each float result is claimed as a bool tensor of 0xFF bytes
FORGED_WIRE = '''
import sys
_wire = sys.modules["grader_worker.wire"]
_honest = getattr(_wire, "_honest", _wire.tensor_to_wire)
def _forged(t):
    meta, data = _honest(t)
    return ({"dtype": "bool", "shape": [len(data)]}, b"\\xff" * len(data)) if meta["dtype"] == "float32" else (meta, data)
_wire._honest, _wire.tensor_to_wire = _honest, _forged
'''
HONEST_CELL = "def rnn_cell(x_t, h_prev, W_xh, W_hh, b):\n    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b)\n"

ATTACKS = {
    # 3: no byte of a submission stops the run
    "surrogate-in-markdown": (3, lambda: _with_markdown("broken \ud800 text"), FULL),
    "surrogate-in-exception": (3, lambda: answers(rnn_cell='''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    raise ValueError("bad \\ud800 byte")
'''), dict(FULL, rnn_cell=0, rnn_forward=2)),  # as any broken rnn_cell costs rnn_forward
    "deep-json": (3, _deep_json, dict.fromkeys(FULL, 0)),
    "numeric-grade-id": (3, _numeric_grade_ids, FULL),  # cells still matched by their ids
    # 4: forbidden shortcuts, however reached
    "vf-fetched-by-name": (4, lambda: answers(rnn_cell='''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    fn = getattr(torch._C._VariableFunctions, "rnn_" + "tanh_cell")
    return fn(x_t, h_prev, W_xh, W_hh, b, torch.zeros_like(b))
'''), dict(FULL, rnn_cell=0)),
    "rnnbase-mode-string": (4, lambda: answers(rnn_forward='''
def rnn_forward(x, h0, W_xh, W_hh, b):
    m = nn.RNNBase("RNN_" + "TANH", W_xh.shape[1], W_xh.shape[0], batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(W_xh); m.weight_hh_l0.copy_(W_hh)
        m.bias_ih_l0.copy_(b); m.bias_hh_l0.zero_()
    out, h_n = nn.RNN.forward(m, x, h0.unsqueeze(0))
    return out, h_n[0]
'''), dict(FULL, rnn_forward=0)),
    "shortcut-in-another-cell": (4, lambda: answers(count_rnn_params=reference_answers(NB)["count_rnn_params"] + '''
_cell = getattr(torch._VF, "rnn_tanh_cell")
''', rnn_cell='''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return _cell(x_t, h_prev, W_xh, W_hh, b, torch.zeros_like(b))
'''), dict(FULL, rnn_cell=0)),
    "shortcut-in-a-thread": (4, lambda: answers(rnn_cell='''
import threading
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    box = []
    t = threading.Thread(target=lambda: box.append(torch._VF.rnn_tanh_cell(
        x_t, h_prev, W_xh, W_hh, b, torch.zeros_like(b))))
    t.start(); t.join()
    return box[0]
'''), dict(FULL, rnn_cell=0)),
    "profiler-switched-off": (4, lambda: answers(rnn_cell='''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    try:
        torch.autograd._disable_profiler()
    except Exception:
        pass
    return torch.rnn_tanh_cell(x_t, h_prev, W_xh, W_hh, b, torch.zeros_like(b))
'''), dict(FULL, rnn_cell=0)),
    # 5: types are established on the trusted side
    "class-named-rnn": (5, lambda: answers(load_into_nn_rnn='''
class RNN:
    batch_first, input_size, hidden_size = True, 4, 5
    def __call__(self, x, h0):
        return torch.zeros(x.shape[0], x.shape[1], 5), torch.zeros(1, x.shape[0], 5)
def load_into_nn_rnn(W_xh, W_hh, b):
    return RNN()
'''), dict(FULL, load_into_nn_rnn=0)),
    "state-dict-look-alike": (5, lambda: answers(load_into_nn_rnn='''
class RNN(nn.Module):
    def __init__(self, W_xh, W_hh, b):
        super().__init__()
        self.batch_first, self.input_size, self.hidden_size = True, W_xh.shape[1], W_xh.shape[0]
        self.weight_ih_l0, self.weight_hh_l0 = nn.Parameter(W_xh.clone()), nn.Parameter(W_hh.clone())
        self.bias_ih_l0, self.bias_hh_l0 = nn.Parameter(b.clone()), nn.Parameter(torch.zeros_like(b))
    def forward(self, x, h0):
        return torch.zeros(x.shape[0], x.shape[1], self.hidden_size), h0
def load_into_nn_rnn(W_xh, W_hh, b):
    return RNN(W_xh, W_hh, b)
'''), dict(FULL, load_into_nn_rnn=0)),
    # 7: the trusted side bounds what it computes for the student
    "huge-shapes-to-a-reference": (7, lambda: answers(rnn_forward='''
def rnn_forward(x, h0, W_xh, W_hh, b):
    H = 30_000
    rnn_cell(torch.zeros(1, 1), torch.zeros(1, H), torch.zeros(H, 1), torch.zeros(1, H), torch.zeros(H))
    return x, h0
'''), dict(FULL, rnn_forward=0)),
    # 8: a worker the submission breaks is the submission's failure, never a grader fault
    "forged-wire-tensors": (8, lambda: answers(**{name: code + FORGED_WIRE for name, code in
                                                  reference_answers(NB).items()}),
                            dict.fromkeys(FULL, 0) | {"count_rnn_params": 2}),
    "exit-when-answering": (8, lambda: answers(rnn_cell=HONEST_CELL + '''
import os, sys
sys.modules["grader_worker.wire"].tensor_to_wire = lambda t: os._exit(0)  # the notebook's own checks never send
'''), dict.fromkeys(FULL, 0)),
    # 9: what the notebook's own checks accept, the grader accepts
    "namedtuple-and-float64": (9, lambda: answers(rnn_cell=HONEST_CELL.replace("return torch.tanh(", "return torch.tanh(").replace(
        "+ b)", "+ b).double()"), rnn_forward='''
from collections import namedtuple
Pair = namedtuple("Pair", "out h_n")
def rnn_forward(x, h0, W_xh, W_hh, b):
    h, outs = h0, []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b)
        outs.append(h)
    return Pair(torch.stack(outs, dim=1), h)
'''), FULL),
    "tensor-subclass-and-numpy-int": (9, lambda: answers(rnn_cell='''
class Marked(torch.Tensor):
    pass
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b).as_subclass(Marked)
''', count_rnn_params='''
import numpy as np
def count_rnn_params(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        d = input_size if layer == 0 else hidden_size * dirs
        total += dirs * (hidden_size * d + hidden_size * hidden_size + (2 * hidden_size if bias else 0))
    return np.int64(total)
'''), FULL),
    # 10: a forged check costs that exercise everything, and only that exercise
    "forged-rnn-cell-check": (10, lambda: answers(rnn_cell='''
import torch
torch.allclose = lambda *a, **k: True
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.zeros(x_t.shape[0], W_xh.shape[0])
'''), dict(FULL, rnn_cell=0)),
    "forged-visible-check-module": (10, lambda: answers(rnn_forward='''
import rnncourse.checks.nb01 as _visible
_visible.rnn_forward = lambda fn: print("ok")
check.rnn_forward = _visible.rnn_forward
def rnn_forward(x, h0, W_xh, W_hh, b):
    return x, h0
'''), dict(FULL, rnn_forward=0)),
}
