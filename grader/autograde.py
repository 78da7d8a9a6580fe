"""``python -m grader autograde``: grade a class, write the gradebook, grades.csv and feedback.

Input: ``SUBMISSIONS/<student_id>/<NN_topic>.ipynb``. Every student gets a row for every
exercise of every notebook being graded (the notebooks anyone submitted, or those named).

Each finished submission is saved in this order: feedback page, gradebook, result file.
The result file (with the submission's sha256) is written last and atomically, so a run
that is killed and started again regrades exactly the submissions without one, and
grades.csv, rebuilt from the result files, comes out the same as from one run.
"""
import csv
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader import formgrader
from grader.feedback import render
from grader.grade import Row, SubmissionResult, file_sha256
from grader.gradebook import GradebookWriter
from grader.notebooks import RELEASE, BadNotebook, notebook_names, read_json_notebook, read_release
from grader.sandbox import check_isolation

COLUMNS = ["student_id", "notebook", "exercise", "score", "max_score", "status", "message"]
JOB_TIMEOUT = 300.0
LANE_START_TIMEOUT = 180.0


def find_submissions(submissions: Path, notebooks: list[str] | None) -> tuple[list[str], list[str]]:
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    known = set(notebook_names()) | {p.stem for p in RELEASE.glob("*.ipynb")}
    if notebooks is None:
        submitted = {p.stem for s in students for p in (submissions / s).glob("*.ipynb")}
        notebooks = sorted(submitted & known)
    unknown = [n for n in notebooks if n not in known]
    if unknown:
        raise SystemExit(f"unknown notebook(s): {', '.join(unknown)}")
    return students, notebooks


def _atomic_write(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def failed_result(job: dict, release, status: str, message: str) -> SubmissionResult:
    """Every row of one submission, when grading it could not finish."""
    return SubmissionResult(job["student_id"], job["notebook"], file_sha256(Path(job["path"])), [
        Row(job["student_id"], job["notebook"], e.name, 0.0, e.points, status, message)
        for e in release.exercises])


class Lane:
    """A ``grader.lane`` subprocess; restarted if it dies or a job outlives its time."""

    def __init__(self, isolate: bool, release_dir: Path):
        self.args = [sys.executable, "-m", "grader.lane", "--release", str(release_dir)]
        if not isolate:
            self.args.append("--no-isolation")
        self.proc = None
        self.log = tempfile.TemporaryFile()

    def _start(self):
        self.log.seek(0)
        self.log.truncate()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        if self._readline(LANE_START_TIMEOUT) is None:
            self.log.seek(0)
            detail = self.log.read()[-1500:].decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"a grading lane could not start its sandbox: {detail[-1] if detail else ''}")

    def _readline(self, timeout: float):
        box = queue.Queue()
        reader = threading.Thread(target=lambda: box.put(self.proc.stdout.readline()), daemon=True)
        reader.start()
        try:
            line = box.get(timeout=timeout)
        except queue.Empty:
            return None
        return line or None

    def grade(self, job: dict, release) -> SubmissionResult:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self._readline(JOB_TIMEOUT)
        if line is not None:
            return SubmissionResult.from_json(json.loads(line))
        crashed = self.proc.poll() is not None
        self.kill()
        if crashed:
            return failed_result(job, release, "error", "the grader's process stopped while grading "
                                 "this notebook; please tell your instructor")
        return failed_result(job, release, "timeout",
                             f"grading this notebook took longer than {JOB_TIMEOUT:g} s and was stopped")

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def autograde(submissions: Path, out: Path, *, jobs: int = 2, db_url: str | None = None,
              isolate: bool = True, notebooks: list[str] | None = None,
              release_dir: Path = RELEASE, progress=print) -> list[SubmissionResult]:
    check_isolation(isolate)
    submissions, out = Path(submissions), Path(out)
    students, notebooks = find_submissions(submissions, notebooks)
    releases = {name: read_release(name, release_dir) for name in notebooks}
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{(out / 'gradebook.db').resolve()}"
    gradebook = GradebookWriter(db_url, list(releases.values()))
    formgrader.write_config(out, db_url)  # nbgrader's course folders: grader/formgrader.py

    done: dict[tuple[str, str], SubmissionResult] = {}
    todo = queue.Queue()
    for student in students:
        for name in notebooks:
            path = submissions / student / f"{name}.ipynb"
            saved = out / "results" / student / f"{name}.json"
            if saved.exists():
                result = SubmissionResult.from_json(json.loads(saved.read_text()))
                if result.sha256 == file_sha256(path):
                    done[(student, name)] = result
                    continue
            todo.put({"student_id": student, "notebook": name, "path": str(path.resolve())})
    total, resumed = todo.qsize(), len(done)
    if resumed:
        progress(f"resuming: {resumed} submissions already graded, {total} to go")

    finished = queue.Queue()

    def work(lane: Lane):
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                release = releases[job["notebook"]]
                try:
                    result = lane.grade(job, release)
                except Exception as e:  # a lane that cannot start: report it, keep the run going
                    lane.kill()
                    result = failed_result(job, release, "error", f"the grader failed: {e}")
                    print(f"grading {job['student_id']}/{job['notebook']} failed: {e}", file=sys.stderr)
                finished.put(result)
        finally:
            lane.close()

    lanes = [Lane(isolate, release_dir) for _ in range(max(1, min(jobs, total)))] if total else []
    threads = [threading.Thread(target=work, args=(lane,), daemon=True) for lane in lanes]
    for t in threads:
        t.start()
    start = time.perf_counter()
    for count in range(1, total + 1):
        result = finished.get()
        _save(out, submissions, result, gradebook)
        done[(result.student_id, result.notebook)] = result
        progress(f"[{count}/{total}] {result.student_id}/{result.notebook}: "
                 f"{result.score:g}/{sum(r.max_score for r in result.rows):g}")
    for t in threads:
        t.join()
    if total:
        elapsed = time.perf_counter() - start
        progress(f"graded {total} submissions in {elapsed:.1f} s ({elapsed / total:.2f} s each, "
                 f"{len(lanes)} lanes)")
    gradebook.close()
    results = [done[(s, n)] for s in students for n in notebooks]
    write_grades_csv(out / "grades.csv", results)
    return results


def _save(out: Path, submissions: Path, result: SubmissionResult, gradebook: GradebookWriter):
    try:
        nb = read_json_notebook(submissions / result.student_id / f"{result.notebook}.ipynb")
    except BadNotebook:
        nb = None
    _atomic_write(out / "feedback" / result.student_id / f"{result.notebook}.html", render(result, nb))
    gradebook.record(result)
    formgrader.save(out, submissions, result, nb, gradebook.gb)  # nbgrader's folders and records
    _atomic_write(out / "results" / result.student_id / f"{result.notebook}.json",
                  json.dumps(result.to_json(), indent=1))


def write_grades_csv(path: Path, results: list[SubmissionResult]):
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for result in results:
            for row in result.rows:
                writer.writerow([row.student_id, row.notebook, row.exercise, f"{row.score:g}",
                                 f"{row.max_score:g}", row.status, row.message])
    os.replace(tmp, path)
