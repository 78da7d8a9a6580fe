"""``python -m grader autograde``: grade a class, write the gradebook, grades.csv and feedback.

Input: ``SUBMISSIONS/<student_id>/<NN_topic>.ipynb``. Every student gets a row for every
exercise of every notebook being graded (the notebooks anyone submitted, or those named).

Each finished submission is saved (``save``) in this order: feedback page, gradebook,
result file. The result file (with the submission's sha256) is written last and atomically,
so a run that is killed and started again regrades exactly the submissions without one, and
grades.csv, rebuilt from the result files, comes out the same as from one run. A save that
fails (whatever the submission holds) is replaced by that submission's rows saying so.

A grader fault (a lane that crashed, a hidden module that does not import, a check that
broke on the trusted side) is the instructor's to see: a ``GRADER FAULT`` line on stderr
and ``grader-fault`` rows in grades.csv, but no feedback page, gradebook entry or result
file, so a resumed run grades that submission again.
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

from tqdm import tqdm

from grader import formgrader
from grader.feedback import render
from grader.grade import FAULT_MESSAGE, SubmissionResult, every_row_failed, file_sha256
from grader.gradebook import GradebookWriter
from grader.notebooks import RELEASE, BadNotebook, clean_text, notebook_names, read_release, read_submission
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


def failed_result(job: dict, release, status: str, message: str, fault: str = "") -> SubmissionResult:
    """Every row of one submission, when grading it could not finish."""
    return every_row_failed(release, job["student_id"], file_sha256(Path(job["path"])), status,
                            message, fault=fault)


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
        start = time.monotonic()
        line = self._readline(JOB_TIMEOUT)
        if line is not None:
            return SubmissionResult.from_json(json.loads(line))
        # no line before the time limit, or the lane's end of file: only the clock tells which
        crashed = self.proc.poll() is not None or time.monotonic() - start < JOB_TIMEOUT
        self.log.seek(0)
        detail = self.log.read()[-300:].decode(errors="replace").strip().splitlines()
        self.kill()
        if crashed:
            return failed_result(job, release, "grader-fault", FAULT_MESSAGE,
                                 fault=f"the grading lane crashed: {detail[-1] if detail else ''}")
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
              release_dir: Path = RELEASE, progress=print,
              scheduler: str | None = None) -> list[SubmissionResult]:
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
            try:
                result = SubmissionResult.from_json(json.loads(saved.read_text()))
                if result.sha256 == file_sha256(path) and not result.fault:
                    done[(student, name)] = result
                    continue
            except (OSError, ValueError, KeyError, TypeError):
                pass  # no result yet, or an unreadable one: grade again
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
                    result = failed_result(job, release, "grader-fault", FAULT_MESSAGE,
                                           fault=f"the grader failed: {e}")
                finished.put(result)
        finally:
            lane.close()

    if scheduler:  # past one machine: the cluster's workers grade, this process saves
        from grader.distributed import grade_on_cluster
        lanes, threads = [], []
        results = grade_on_cluster(scheduler, [todo.get() for _ in range(total)], releases,
                                   isolate, release_dir)
    else:
        lanes = [Lane(isolate, release_dir) for _ in range(max(1, min(jobs, total)))] if total else []
        threads = [threading.Thread(target=work, args=(lane,), daemon=True) for lane in lanes]
        results = (finished.get() for _ in range(total))
    for t in threads:
        t.start()
    start = time.perf_counter()
    for count, result in enumerate(tqdm(results, total=total, unit="nb", desc="grading",
                                        disable=None, leave=False), 1):
        if result.fault:
            print(f"GRADER FAULT {clean_text(result.student_id)}/{result.notebook}: {result.fault} "
                  "(not saved; a resumed run grades it again)", file=sys.stderr)
        else:
            result = save(out, submissions, result, gradebook, releases[result.notebook])
        done[(result.student_id, result.notebook)] = result
        progress(f"[{count}/{total}] {result.student_id}/{result.notebook}: "
                 f"{result.score:g}/{sum(r.max_score for r in result.rows):g}")
    for t in threads:
        t.join()
    if total:
        elapsed = time.perf_counter() - start
        progress(f"graded {total} submissions in {elapsed:.1f} s ({elapsed / total:.2f} s each, "
                 f"{f'on {scheduler}' if scheduler else f'{len(lanes)} lanes'})")
    gradebook.close()
    results = [done[(s, n)] for s in students for n in notebooks]
    write_grades_csv(out / "grades.csv", results)
    return results


def save(out: Path, submissions: Path, result: SubmissionResult, gradebook: GradebookWriter,
         release) -> SubmissionResult:
    """Save one result; if that fails, save (and return) its rows saying why instead."""
    try:
        _save(out, submissions, result, gradebook)
        return result
    except Exception as e:
        message = clean_text(f"the grader could not save this notebook's result ({type(e).__name__}: "
                             f"{e}); tell your instructor")
        fallback = every_row_failed(release, result.student_id, result.sha256, "error", message)
        try:
            _save(out, None, fallback, gradebook)
        except Exception as again:
            fallback.fault = f"{message}; saving that failed too: {again}"
            print(f"GRADER FAULT {clean_text(result.student_id)}/{result.notebook}: {fallback.fault}",
                  file=sys.stderr)
        return fallback


def _save(out: Path, submissions: Path | None, result: SubmissionResult, gradebook: GradebookWriter):
    nb = None
    handed_in = None if submissions is None else submissions / result.student_id / f"{result.notebook}.ipynb"
    if handed_in is not None:
        try:
            nb = read_submission(handed_in)
        except BadNotebook:
            pass
    shown = SubmissionResult.from_json(result.to_json())
    shown.student_id = clean_text(shown.student_id)
    _atomic_write(out / "feedback" / result.student_id / f"{result.notebook}.html", render(shown, nb))
    if handed_in is None:
        gradebook.record(result)
    else:  # with what formgrader lists, and nbgrader's folders
        when = formgrader.submitted_at(handed_in)
        gradebook.record(result, formgrader.student_names(submissions).get(
            result.student_id, {"first_name": "", "last_name": shown.student_id}), when)
        if shown.student_id == result.student_id:
            formgrader.save(out, submissions, result, nb, when)
        else:  # nbgrader's folders want UTF-8 names; grades.csv and the gradebook have it
            print(f"formgrader: {shown.student_id}/{result.notebook} is left out of nbgrader's "
                  "folders: its folder name is not UTF-8", file=sys.stderr)
    _atomic_write(out / "results" / result.student_id / f"{result.notebook}.json",
                  json.dumps(result.to_json(), indent=1))


def write_grades_csv(path: Path, results: list[SubmissionResult]):
    tmp = path.with_suffix(".csv.tmp")
    # a student folder whose name is not UTF-8 keeps its exact bytes
    with open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for result in results:
            for row in result.rows:
                writer.writerow([row.student_id, row.notebook, row.exercise, f"{row.score:g}",
                                 f"{row.max_score:g}", row.status, row.message])
    os.replace(tmp, path)
