"""Training-loop plumbing shared by the notebooks: a wall-clock budget with a progress bar."""
import time
from collections.abc import Iterator

from tqdm.auto import tqdm

from rnncourse.env import fast_mode


def budget(full: float, fast: float) -> float:
    """Seconds of training allowed: ``full`` normally, ``fast`` under ``COURSE_FAST=1``."""
    return fast if fast_mode() else full


def timed_steps(seconds: float, max_steps: int | None = None, desc: str = "training") -> Iterator[int]:
    """Yield step numbers 0, 1, ... until ``seconds`` of wall time (or ``max_steps``) are used.

    A time budget rather than a step count keeps every notebook inside its CPU limit on any
    machine; the bar shows how far through the budget the loop is.
    """
    start = time.perf_counter()
    with tqdm(total=round(seconds, 1), desc=desc, unit="s", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s") as bar:
        step = 0
        while max_steps is None or step < max_steps:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
            bar.n = min(round(elapsed, 1), bar.total)
            bar.refresh()
            yield step
            step += 1
        bar.n = bar.total
        bar.refresh()
