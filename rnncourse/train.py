"""Training-loop plumbing shared by the notebooks: step budgets with a progress bar."""
from collections.abc import Iterator

from tqdm.auto import tqdm

from rnncourse.env import fast_mode


def budget(full: int, fast: int) -> int:
    """Training steps allowed: ``full`` normally, ``fast`` under ``COURSE_FAST=1``.

    A fixed number of steps, not seconds, so that a run computes the same numbers on any
    machine, however busy; the full budgets are sized to fit the course's CPU limits.
    """
    return fast if fast_mode() else full


def steps(n: int, desc: str = "training") -> Iterator[int]:
    """Yield step numbers ``0 .. n - 1`` under a progress bar."""
    yield from tqdm(range(n), desc=desc, mininterval=1.0)
