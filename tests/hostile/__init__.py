"""Hostile submissions, one per scenario: each replaces notebook 01's ``rnn_cell`` answer
(the exercise it attacks) or damages the file itself. ``ATTACKS`` maps a scenario name to
the answer-cell source; ``tests/test_hostile.py`` grades them all in one class with honest
students and checks that no attack earns a point or touches anyone else."""

# walk up from a module the sandbox does show (rnncourse) to where the course files would be
_FIND_ROOT = '''
import pathlib, rnncourse
root = pathlib.Path(rnncourse.__file__).resolve().parents[1]
'''

ATTACKS = {
    "forged-comparisons": '''
import torch
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.zeros(1)
''',
    "fake-result-object": '''
class AnyShape(tuple):
    def __eq__(self, other): return True
    __hash__ = tuple.__hash__
class Fake:
    shape = AnyShape()
    dtype = torch.float32
    def __eq__(self, other): return True
    def sum(self, *a, **k): return 0
    def __getattr__(self, name): return lambda *a, **k: self
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return Fake()
''',
    "read-solutions-and-hidden-checks": _FIND_ROOT + '''
import json
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    nb = json.loads((root / "solutions" / "01_rnn_fundamentals.ipynb").read_text())
    hidden = (root / "grader" / "hidden" / "nb01.py").read_text()
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if "def rnn_cell" in src:
            ns = {"torch": torch}
            exec(src, ns)
            return ns["rnn_cell"](x_t, h_prev, W_xh, W_hh, b)
''',
    "write-gradebook-and-results": _FIND_ROOT + '''
import os
for base in (root, pathlib.Path.cwd(), pathlib.Path("/tmp")):
    for path in list(base.rglob("gradebook.db")) + list(base.rglob("*.json")) + list(base.rglob("grades.csv")):
        try:
            path.write_text("owned")
        except OSError:
            pass
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return None
''',
    "os-exit": '''
import os
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    os._exit(0)
''',
    "endless-loop": '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    while True:
        try:
            pass
        except BaseException:
            pass
''',
    "memory-hog": '''
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 28))
''',
    "output-flood": '''
import sys
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    while True:
        print("spam " * 2000)
        sys.stderr.write("more spam " * 2000)
''',
    "fork-bomb": '''
import os
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    while True:
        try:
            os.fork()
        except OSError:
            pass
''',
    "exit-at-import": '''
raise SystemExit("bye")
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b)
''',
}
