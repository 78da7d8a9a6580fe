"""Grading speed: a class of N submissions of notebook 01, autograded with and without isolation.

Prints wall time per submission, amortised over the class (lane start-up included) and
excluding start-up. Usage: .venv/bin/python tools/bench_autograde.py [N] [--jobs J]
"""
import argparse
import shutil
import tempfile
import time
from pathlib import Path

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.demo import flawed_answers

NB = "01_rnn_fundamentals"


def make_class(root: Path, n: int):
    kinds = [reference_answers(NB), {}, flawed_answers(NB, 0), flawed_answers(NB, 1)]
    for i in range(n):
        write_submission(root, f"student{i:03d}", NB, fill_release(NB, kinds[i % len(kinds)]))


def run(n: int, jobs: int, isolate: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subs, out = Path(tmp, "subs"), Path(tmp, "out")
        make_class(subs, n)
        times = []
        start = time.perf_counter()
        autograde(subs, out, jobs=jobs, isolate=isolate, notebooks=[NB],
                  progress=lambda msg: times.append(time.perf_counter()))
        total = time.perf_counter() - start
        first = times[0] - start  # first result: lane start-up plus one submission
        steady = (times[-2] - times[0]) / max(1, n - 1) if n > 1 else float("nan")
        print(f"isolation={'on ' if isolate else 'off'} jobs={jobs} n={n}: total {total:.1f} s, "
              f"{total / n:.3f} s per submission amortised, {steady:.3f} s per submission after "
              f"start-up (first result after {first:.1f} s)")
        shutil.rmtree(out, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    run(args.n, args.jobs, isolate=True)
    run(args.n, args.jobs, isolate=False)


if __name__ == "__main__":
    main()
