"""Grading on a real Dask cluster on loopback: a scheduler and two workers, each its own process.

The class is graded once locally and once through the cluster, and the two grades.csv must
be byte for byte the same; then one worker is killed while it grades, and every row must
still come back exactly once.
"""
import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.__main__ import main as cli
from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.demo import flawed_answers
from grader.distributed import ClusterError, fingerprint, grade_remote, parse_result
from grader.notebooks import read_release

pytestmark = pytest.mark.slow
NOTEBOOKS = ["01_rnn_fundamentals", "02_bptt_gradient_flow"]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_class(root: Path) -> Path:
    subs = root / "submissions"
    for name in NOTEBOOKS:
        write_submission(subs, "reference", name, fill_release(name, reference_answers(name)))
        write_submission(subs, "flawed", name, fill_release(name, flawed_answers(name, 0)))
    write_submission(subs, "untouched", NOTEBOOKS[0], fill_release(NOTEBOOKS[0], {}))
    # "untouched" submitted no notebook 02: the cluster must report it missing, as locally
    return subs


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes, each in its own process group."""

    def __init__(self, root: Path, workers: int):
        self.root = root
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.procs: dict[str, subprocess.Popen] = {}
        self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port",
                                  self.address.rsplit(":", 1)[1], "--no-dashboard"])
        self.workers = []
        for i in range(workers):
            address = f"tcp://127.0.0.1:{free_port()}"
            self._spawn(address, ["worker", self.address, "--host", "127.0.0.1", "--worker-port",
                                  address.rsplit(":", 1)[1], "--nthreads", "1", "--no-nanny",
                                  "--no-dashboard", "--name", f"w{i}",
                                  "--local-directory", str(root / f"w{i}")])
            self.workers.append(address)

    def _spawn(self, name: str, args: list[str]):
        log = open(self.root / f"{name.replace('/', '_').replace(':', '_')}.log", "wb")
        self.procs[name] = subprocess.Popen([str(DASK), *args], stdout=log, stderr=log,
                                            start_new_session=True)

    def kill(self, name: str):
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop(self):
        for name in list(self.procs):
            self.kill(name)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, its local grades.csv, and a running cluster (always stopped)."""
    from distributed import Client

    root = tmp_path_factory.mktemp("dask")
    subs = build_class(root)
    cluster = Cluster(root, workers=2)
    try:
        autograde(subs, root / "local", jobs=2, progress=lambda *a: None)
        with Client(cluster.address, timeout=START_TIMEOUT, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
            yield root, subs, cluster, client
    finally:
        cluster.stop()


def rows(csv_path: Path) -> list[list[str]]:
    return list(csv.reader(open(csv_path, encoding="utf-8")))


def test_cluster_grades_csv_is_identical_to_local(graded):
    root, subs, cluster, client = graded
    assert cli(["autograde", str(subs), "--out", str(root / "cluster"),
                "--scheduler", cluster.address]) == 0
    local = (root / "local" / "grades.csv").read_bytes()
    assert (root / "cluster" / "grades.csv").read_bytes() == local
    table = rows(root / "local" / "grades.csv")
    assert {r[5] for r in table[1:]} >= {"passed", "failed", "missing"}  # a class worth comparing
    loaded = client.run(lambda: sorted(__import__("grader.distributed").distributed._releases))
    assert len(loaded) == 2 and all(loaded.values()), f"a worker graded nothing: {loaded}"
    assert len(list((root / "cluster" / "results").rglob("*.json"))) == 3 * len(NOTEBOOKS)
    for student in ("reference", "flawed", "untouched"):
        for name in NOTEBOOKS:
            page = root / "cluster" / "feedback" / student / f"{name}.html"
            assert page.read_text() == (root / "local" / "feedback" / student / f"{name}.html").read_text()


def test_losing_a_worker_mid_run_regrades_its_submissions_once(graded):
    root, subs, cluster, client = graded
    killed = []

    def progress(message: str):
        if message.startswith("[1/") and not killed:  # first result in: kill a busy worker
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if keys and w in cluster.procs]
                if busy:
                    killed.append((busy[0], list(client.processing()[busy[0]])))
                    cluster.kill(busy[0])
                    return
                time.sleep(0.05)

    results = autograde(subs, root / "lost", scheduler=cluster.address, progress=progress)
    assert killed, "no worker was busy after the first result"
    worker, in_flight = killed[0]
    assert in_flight, f"{worker} was killed with nothing to lose"
    table = rows(root / "lost" / "grades.csv")
    keys = [(r[0], r[1], r[2]) for r in table[1:]]
    assert len(keys) == len(set(keys)), "a row came back twice"
    assert table == rows(root / "local" / "grades.csv")
    assert sorted((r.student_id, r.notebook) for r in results) == sorted(
        (s, n) for s in ("reference", "flawed", "untouched") for n in NOTEBOOKS)
    saved = sorted(p.relative_to(root / "lost" / "results") for p in (root / "lost" / "results").rglob("*.json"))
    assert len(saved) == len(results)


def test_worker_refuses_a_damaged_or_foreign_job():
    name = NOTEBOOKS[0]
    notebook = json.dumps(fill_release(name, {})).encode()
    job = {"student_id": "s", "notebook": name, "sha256": hashlib.sha256(b"other").hexdigest(),
           "fingerprint": fingerprint(name), "isolate": True}
    with pytest.raises(ClusterError, match="damaged"):
        grade_remote(job, notebook)
    job = dict(job, sha256=hashlib.sha256(notebook).hexdigest(), fingerprint="0" * 64)
    with pytest.raises(ClusterError, match="differ"):
        grade_remote(job, notebook)
    with pytest.raises(ClusterError, match="malformed"):
        grade_remote(dict(job, extra="x"), notebook)


def test_caller_accepts_only_a_well_formed_result_for_its_own_job(graded):
    root, *_ = graded
    name = NOTEBOOKS[0]
    release = read_release(name)
    saved = json.loads((root / "local" / "results" / "reference" / f"{name}.json").read_text())
    job = {"student_id": "reference", "notebook": name, "sha256": saved["sha256"]}
    assert parse_result(json.dumps(saved), job, release).score == sum(e.points for e in release.exercises)
    tampered = [
        dict(saved, student_id="flawed"),
        dict(saved, rows=saved["rows"][:-1]),
        dict(saved, rows=[dict(saved["rows"][0], score=99.0)] + saved["rows"][1:]),
        dict(saved, rows=[dict(saved["rows"][0], status="excellent")] + saved["rows"][1:]),
        dict(saved, notes=[{"__class__": "os.system"}]),
        dict(saved, extra=1),
    ]
    for data in tampered:
        with pytest.raises(ClusterError):
            parse_result(json.dumps(data), job, release)
    with pytest.raises(ClusterError):
        parse_result(b"\x80\x04", job, release)
