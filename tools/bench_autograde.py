"""What does grading a class cost? This grader and stock ``nbgrader autograde``, in one run.

The class: N students x every notebook in solutions/, cycling through the reference
answers, two students with known-wrong answers (from the variants) and the untouched
release. This grader grades all of it (isolation on, ``--jobs J``); stock nbgrader grades a
sample (``--nbgrader-sample`` submissions per notebook, in its own course directory:
source/ -> generate_assignment -> submitted/ -> autograde), since it is much slower.

Printed: seconds per notebook submission amortised (start-up included) and after start-up,
CPU seconds per submission (user+sys of the process tree: what an idle machine would show
as wall time per core), and the peak RSS of the whole process tree, sampled.

Usage: .venv/bin/python tools/bench_autograde.py [N] [--jobs J] [--nbgrader-sample K]
"""
import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.demo import flawed_answers
from grader.notebooks import SOLUTIONS, notebook_names, read_release

KINDS = ("reference", "flawed-1", "flawed-2", "untouched")
PAGE = os.sysconf("SC_PAGE_SIZE")


def answers(kind: str, name: str) -> dict[str, str]:
    if kind == "reference":
        return reference_answers(name)
    if kind == "untouched":
        return {}
    return flawed_answers(name, int(kind[-1]) - 1)


def make_class(root: Path, n: int, names: list[str]) -> dict[str, str]:
    """Write the class; return each student's kind."""
    kinds = {f"student{i:03d}": KINDS[i % len(KINDS)] for i in range(n)}
    notebooks = {(kind, name): fill_release(name, answers(kind, name))
                 for kind in set(kinds.values()) for name in names}
    for student, kind in kinds.items():
        for name in names:
            write_submission(root, student, name, notebooks[(kind, name)])
    return kinds


class PeakRSS:
    """Peak resident memory of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            except OSError:
                pass
            todo.extend(children.get(pid, []))
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    """User+sys of this process and its reaped children (lanes, sandboxes, subprocesses)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def bench_grader(subs: Path, out: Path, jobs: int, n_subs: int) -> tuple[float, float]:
    stamps = []
    cpu0, start = cpu_seconds(), time.perf_counter()
    with PeakRSS(os.getpid()) as mem:
        autograde(subs, out, jobs=jobs, progress=lambda msg: stamps.append(time.perf_counter()))
    total, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    first = stamps[0] - start  # lane start-up plus the first submission
    steady = (stamps[n_subs - 1] - stamps[0]) / max(1, n_subs - 1)
    amortised = total / n_subs
    print(f"this grader (isolation on, --jobs {jobs}): {n_subs} submissions in {total:.1f} s = "
          f"{amortised:.3f} s per submission amortised, {steady:.3f} s after start-up (first "
          f"result after {first:.1f} s); CPU {cpu / n_subs:.3f} s per submission; "
          f"peak RSS of the process tree {gib(mem.peak)}", flush=True)
    return amortised, cpu / n_subs


def bench_nbgrader(subs: Path, names: list[str], kinds: dict[str, str], sample: int,
                   root: Path) -> tuple[float, float]:
    """Stock nbgrader on its own course directory, a sample of the same submissions."""
    nbgrader = Path(sys.executable).with_name("nbgrader")
    students = []  # one student of each kind first, so the sample mixes them
    for kind in KINDS:
        students += [s for s, k in kinds.items() if k == kind][:1]
    students = (students + [s for s in kinds if s not in students])[:sample]
    for name in names:
        (root / "source" / name).mkdir(parents=True)
        shutil.copy(SOLUTIONS / f"{name}.ipynb", root / "source" / name / f"{name}.ipynb")
        for student in students:
            target = root / "submitted" / student / name
            target.mkdir(parents=True)
            shutil.copy(subs / student / f"{name}.ipynb", target / f"{name}.ipynb")
    # COURSE_FAST=1 shortens the notebooks' training cells, which stock nbgrader runs in
    # full (this grader drops them): the figure favours nbgrader.
    env = dict(os.environ, COURSE_FAST="1")
    common = [f"--CourseDirectory.root={root}", "--log-level=ERROR"]
    for name in names:
        subprocess.run([str(nbgrader), "generate_assignment", name, "--force", *common],
                       check=True, cwd=root, env=env, capture_output=True)
    n_subs = len(names) * len(students)
    cpu0, start = cpu_seconds(), time.perf_counter()
    with PeakRSS(os.getpid()) as mem:
        for name in names:
            done = subprocess.run([str(nbgrader), "autograde", name, "--create", *common],
                                  cwd=root, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"nbgrader autograde {name} failed:\n{done.stderr[-2000:]}")
    total, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    graded = len(list((root / "autograded").glob("*/*/*.ipynb")))
    if graded != n_subs:
        raise SystemExit(f"nbgrader autograded {graded} of {n_subs} submissions")
    scores = nbgrader_scores(root, names, students)
    if any(scores[(s, n)][0] != scores[(s, n)][1] for s in students for n in names
           if kinds[s] == "reference"):
        raise SystemExit(f"stock nbgrader did not give the reference answers full marks: {scores}")
    per = total / n_subs
    print("stock nbgrader's scores (sample): " + ", ".join(
        f"{kinds[s]} {sum(scores[(s, n)][0] for n in names):g}/{sum(scores[(s, n)][1] for n in names):g}"
        for s in students))
    print(f"stock nbgrader autograde (sample: {len(students)} students x {len(names)} notebooks = "
          f"{n_subs} submissions, COURSE_FAST=1): {total:.1f} s = {per:.3f} s per submission; "
          f"CPU {cpu / n_subs:.3f} s per submission; peak RSS of the process tree "
          f"{gib(mem.peak)}", flush=True)
    return per, cpu / n_subs


def nbgrader_scores(root: Path, names: list[str], students: list[str]) -> dict:
    """(score, max_score) of each sampled submission, from nbgrader's own gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {(s, n): (gb.find_submission_notebook(n, n, s).score,
                         gb.find_submission_notebook(n, n, s).max_score)
                for s in students for n in names}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=40, help="students")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--nbgrader-sample", type=int, default=2,
                        help="students whose notebooks stock nbgrader grades (each notebook); "
                             "0: this grader only (a large class)")
    args = parser.parse_args()
    names = notebook_names()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        subs = Path(tmp, "submissions")
        kinds = make_class(subs, args.n, names)
        n_subs = args.n * len(names)
        print(f"class: {args.n} students x {len(names)} notebooks = {n_subs} submissions "
              f"({', '.join(KINDS)}, in turn)", flush=True)
        ours = bench_grader(subs, Path(tmp, "out"), args.jobs, n_subs)
        rows = list(csv.DictReader((Path(tmp, "out") / "grades.csv").open(encoding="utf-8")))
        expected = sum(len(read_release(name).exercises) for name in names) * args.n
        print(f"grades.csv: {len(rows):,} rows, {len({(r['student_id'], r['notebook']) for r in rows}):,} "
              f"submissions (expected {expected:,} rows, {n_subs:,} submissions)", flush=True)
        if not args.nbgrader_sample:
            return
        stock = bench_nbgrader(subs, names, kinds, args.nbgrader_sample, Path(tmp, "course"))
        print(f"ratio: stock nbgrader takes {stock[0] / ours[0]:.1f}x this grader's wall time per "
              f"submission (amortised), {stock[1] / ours[1]:.1f}x its CPU time")


if __name__ == "__main__":
    main()
