"""Known-wrong and correct-alternative answers, one module per notebook (``nbNN.py``).

They test the tests: every wrong variant must lose points and every correct one must get
full points (``tests/test_variants.py``), and the demo builds its flawed students from them.
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    exercise: str
    kind: str  # "wrong" or "correct"
    description: str
    source: str

    def __post_init__(self):
        if self.kind not in ("wrong", "correct"):
            raise ValueError(f"kind must be 'wrong' or 'correct', not {self.kind!r}")


def variants_of(notebook: str) -> list[Variant]:
    return list(importlib.import_module(f"grader.variants.nb{notebook[:2]}").VARIANTS)
