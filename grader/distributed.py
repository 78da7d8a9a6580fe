"""Grading past one machine: submissions out to a Dask cluster, plain JSON results back.

``python -m grader autograde SUBMISSIONS --scheduler tcp://HOST:8786`` hands each submission
to a ``dask worker``; the worker grades it in its own sandboxed lanes (bubblewrap on that
host) and answers with the result as a JSON string. What travels is plain data only:

- out: a job dict of str (student id, notebook name, the notebook's sha256, the grading
  fingerprint) and a bool (isolation), plus the notebook's bytes;
- back: one str, the ``SubmissionResult`` as JSON, validated field by field on arrival.

Nothing a submission produced is ever unpickled by the calling process, and that process
stays the only writer of the gradebook, grades.csv and feedback (``grader.autograde``).

When a worker is lost, the scheduler hands its unfinished submissions to another worker
(each future resolves once, so nothing is saved twice); a submission whose grading killed
``distributed.scheduler.allowed-failures`` workers gets error rows, as a crashed local lane
does. If the whole cluster is gone, the run stops: what was graded is saved, and the same
command resumes.
"""
import functools
import hashlib
import json
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import grader
import grader_worker
from grader.grade import FAULT_MESSAGE, STATUSES, Row, SubmissionResult, file_sha256
from grader.notebooks import RELEASE, Release, read_release
from grader.runner import CheckResult

NO_WORKERS_TIMEOUT = 300.0  # seconds without any worker before the run stops (resumable)
POLL = 5.0
NOTEBOOK_NAME = re.compile(r"\d\d_[a-z0-9_]+")
SHA256 = re.compile(r"[0-9a-f]{64}|missing")


class ClusterError(RuntimeError):
    """The cluster cannot grade (a worker misconfigured, unreachable, or all gone)."""


@functools.cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for package in (Path(grader.__file__).parent, Path(grader_worker.__file__).parent):
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(notebook: str, release_dir: Path = RELEASE) -> str:
    """What grading a notebook depends on: its release and the grader's code (hidden checks).

    Caller and worker compare it, so a worker with another version of the course cannot
    grade with different checks unnoticed.
    """
    release = hashlib.sha256((release_dir / f"{notebook}.ipynb").read_bytes()).hexdigest()
    return hashlib.sha256(f"{release} {_code_digest()}".encode()).hexdigest()


# -- worker side ---------------------------------------------------------------------------

_local = threading.local()  # one lane per Dask worker thread, started on its first job
_releases: dict[str, Release] = {}


def _validate_job(job, notebook) -> None:
    if not (isinstance(job, dict) and set(job) == {"student_id", "notebook", "sha256",
                                                   "fingerprint", "isolate"}):
        raise ClusterError(f"malformed job: {sorted(job) if isinstance(job, dict) else type(job)}")
    if not all(isinstance(job[k], str) for k in ("student_id", "notebook", "sha256", "fingerprint")):
        raise ClusterError("malformed job: fields must be strings")
    if not isinstance(job["isolate"], bool) or not NOTEBOOK_NAME.fullmatch(job["notebook"]):
        raise ClusterError("malformed job")
    if notebook is None:
        if job["sha256"] != "missing":
            raise ClusterError("job without its notebook")
    elif not isinstance(notebook, bytes) or hashlib.sha256(notebook).hexdigest() != job["sha256"]:
        raise ClusterError(f"{job['student_id']}/{job['notebook']} arrived damaged (sha256 differs)")


def grade_remote(job: dict, notebook: bytes | None) -> str:
    """Run on a Dask worker: grade one submission in this host's sandbox, return JSON."""
    from grader.autograde import Lane  # the same lane as a local run

    _validate_job(job, notebook)
    name = job["notebook"]
    if fingerprint(name) != job["fingerprint"]:
        raise ClusterError(f"this worker's release or hidden checks of {name} differ from the "
                           "caller's: install the same version of the course on every host")
    if name not in _releases:
        _releases[name] = read_release(name)
    lanes = _local.__dict__.setdefault("lanes", {})
    if job["isolate"] not in lanes:
        lanes[job["isolate"]] = Lane(job["isolate"], RELEASE)
    with tempfile.TemporaryDirectory(prefix="submission-") as tmp:
        path = Path(tmp, f"{name}.ipynb")  # not written when nothing was submitted
        if notebook is not None:
            path.write_bytes(notebook)
        result = lanes[job["isolate"]].grade(
            {"student_id": job["student_id"], "notebook": name, "path": str(path)}, _releases[name])
    return json.dumps(result.to_json())


# -- caller side ---------------------------------------------------------------------------

def _expect(condition: bool, what: str):
    if not condition:
        raise ClusterError(f"a worker sent a malformed result: {what}")


def _fields(item, cls, types: dict) -> dict:
    _expect(isinstance(item, dict) and set(item) == set(types), f"{cls} fields")
    for key, kind in types.items():
        value = item[key]
        if kind is float:
            _expect(isinstance(value, (int, float)) and not isinstance(value, bool)
                    and value == value, f"{cls}.{key} is not a number")
        else:
            _expect(isinstance(value, kind), f"{cls}.{key} is not {kind.__name__}")
    return item


ROW = {"student_id": str, "notebook": str, "exercise": str, "score": float, "max_score": float,
       "status": str, "message": str}
CHECK = {"exercise": str, "name": str, "points": float, "status": str, "message": str}


def parse_result(text, job: dict, release: Release) -> SubmissionResult:
    """A worker's answer, accepted only if it is exactly a result for this job."""
    _expect(isinstance(text, str), "not a JSON string")
    try:
        data = json.loads(text)
    except ValueError:
        raise ClusterError("a worker sent a result that is not JSON") from None
    _expect(isinstance(data, dict) and set(data) == {"student_id", "notebook", "sha256", "rows",
                                                      "checks", "notes", "fault"}, "top-level fields")
    _expect((data["student_id"], data["notebook"], data["sha256"])
            == (job["student_id"], job["notebook"], job["sha256"]), "answers another submission")
    _expect(isinstance(data["rows"], list) and isinstance(data["checks"], list)
            and isinstance(data["notes"], list), "rows, checks and notes must be lists")
    rows = [_fields(r, "row", ROW) for r in data["rows"]]
    _expect([r["exercise"] for r in rows] == [e.name for e in release.exercises], "exercises")
    for row, exercise in zip(rows, release.exercises):
        _expect(row["student_id"] == job["student_id"] and row["notebook"] == job["notebook"],
                "row of another submission")
        _expect(row["max_score"] == exercise.points and 0 <= row["score"] <= exercise.points,
                f"score of {exercise.name}")
        _expect(row["status"] in STATUSES, f"status {row['status']!r}")
    checks = [_fields(c, "check", CHECK) for c in data["checks"]]
    _expect(all(isinstance(n, str) for n in data["notes"]), "notes must be strings")
    _expect(isinstance(data["fault"], str), "fault must be a string")
    return SubmissionResult(job["student_id"], job["notebook"], job["sha256"],
                            [Row(**r) for r in rows], [CheckResult(**c) for c in checks],
                            list(data["notes"]), data["fault"])


def _outgoing(job: dict, isolate: bool, fingerprints: dict) -> tuple[dict, bytes | None]:
    path = Path(job["path"])
    try:
        notebook = path.read_bytes()
    except FileNotFoundError:
        notebook = None
    digest = hashlib.sha256(notebook).hexdigest() if notebook is not None else file_sha256(path)
    return ({"student_id": job["student_id"], "notebook": job["notebook"], "sha256": digest,
             "fingerprint": fingerprints[job["notebook"]], "isolate": isolate}, notebook)


def grade_on_cluster(address: str, jobs: Iterable[dict], releases: dict[str, Release],
                     isolate: bool, release_dir: Path = RELEASE) -> Iterator[SubmissionResult]:
    """Grade ``jobs`` (dicts of student_id, notebook, path) on the cluster at ``address``.

    Yields each result once, in the order they finish. At most a few submissions per worker
    thread are in flight, so a class of any size needs little memory on either side. A
    cluster that cannot grade stops the run (``SystemExit``) with what was graded saved.
    """
    try:
        yield from _grade_on_cluster(address, jobs, releases, isolate, release_dir)
    except ClusterError as e:
        raise SystemExit(f"grading on {address} stopped: {e}") from None


def _grade_on_cluster(address, jobs, releases, isolate, release_dir):
    from distributed import Client, wait
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from grader.autograde import failed_result

    fingerprints = {name: fingerprint(name, release_dir) for name in releases}
    jobs = iter(jobs)
    try:
        client = Client(address, timeout=30, set_as_default=False)
    except OSError as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None
    with client:
        in_flight: dict = {}  # future -> (job, outgoing job)
        last_worker_seen, threads, checked = time.monotonic(), 1, 0.0

        def fill():
            while len(in_flight) < max(8, 4 * threads):
                job = next(jobs, None)
                if job is None:
                    return
                sent, notebook = _outgoing(job, isolate, fingerprints)
                key = f"grade-{job['student_id']}-{job['notebook']}-{uuid.uuid4().hex[:8]}"
                future = client.submit(grade_remote, sent, notebook, key=key, pure=False)
                in_flight[future] = (job, sent)

        while True:
            now = time.monotonic()
            if now - checked > POLL:
                threads, checked = sum(client.nthreads().values()), now
                if threads:
                    last_worker_seen = now
                elif now - last_worker_seen > NO_WORKERS_TIMEOUT:
                    raise ClusterError(
                        f"no Dask worker has been connected to {address} for "
                        f"{NO_WORKERS_TIMEOUT:g} s; what was graded is saved: start workers and "
                        "run the same command again to grade the rest")
            fill()
            if not in_flight:
                return
            try:
                with client.as_current():
                    finished = wait(list(in_flight), timeout=POLL, return_when="FIRST_COMPLETED").done
            except TimeoutError:  # nothing finished yet: look at the workers again
                continue
            for future in finished:
                job, sent = in_flight.pop(future)
                release = releases[job["notebook"]]
                try:
                    text = future.result()
                except (KilledWorker, FutureCancelledError) as e:
                    # the cluster's fault, not the student's: reported, not saved, graded again
                    yield failed_result(job, release, "grader-fault", FAULT_MESSAGE,
                                        fault=f"lost on the cluster: {type(e).__name__}: {e}")
                    continue
                except Exception as e:
                    raise ClusterError(f"the cluster could not grade {job['student_id']}/"
                                       f"{job['notebook']}: {type(e).__name__}: {e}") from None
                yield parse_result(text, sent, release)
