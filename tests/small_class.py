"""A small graded class for the page, formgrader and browser tests: notebook 01, graded once per run.

It is the demo's class (reference, untouched, two students with known mistakes, a forger),
released, sandboxed and graded by the real pipeline into ``build/test-class`` (kept as a test
artefact, like the screenshots).
"""
import functools
import shutil

from grader.autograde import autograde
from grader.demo import build_class, describe_class
from grader.notebooks import ROOT
from grader.release import release
from grader.report import report

NB = "01_rnn_fundamentals"
CLASS = ROOT / "build" / "test-class"


@functools.lru_cache(maxsize=None)
def small_class():
    """The class folder: ``release/``, ``submissions/`` and ``out/`` (grades, pages, nbgrader's course)."""
    shutil.rmtree(CLASS, ignore_errors=True)
    release(CLASS / "release", names=[NB])
    build_class(CLASS / "submissions", [NB], CLASS / "release")
    out = CLASS / "out"
    autograde(CLASS / "submissions", out, jobs=2, notebooks=[NB], release_dir=CLASS / "release",
              progress=lambda *_: None)
    describe_class(out)
    report(out)
    return CLASS
