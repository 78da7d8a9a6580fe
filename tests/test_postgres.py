"""A shared gradebook on a real PostgreSQL server: the same scores as SQLite, nothing twice.

The test starts its own server (Debian's ``postgresql``: ``initdb`` and ``pg_ctl``) on
loopback in a temporary data directory, as an unprivileged user when run as root, and always
stops it. ``make test`` installs the package when run as root; elsewhere the test is skipped.
"""
import csv
import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy

from grader.autograde import autograde
from grader.classroom import fill_release, reference_answers, write_submission
from grader.demo import flawed_answers
from grader.gradebook import GradebookWriter
from grader.notebooks import read_release
from tests.test_distributed import free_port

pytestmark = pytest.mark.slow
NB = "01_rnn_fundamentals"
STUDENTS = ("reference", "untouched", "flawed")


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="module")
def postgres_url():
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (make test does "
                    "it when run as root) to test the shared gradebook")
    as_root = os.geteuid() == 0
    user = pwd.getpwnam("postgres" if _has_user("postgres") else "nobody") if as_root else None
    root = Path(tempfile.mkdtemp(prefix="pg-"))
    if user:
        os.chown(root, user.pw_uid, user.pw_gid)
    ids = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[]) if user else {}

    def run(*args, **kw):
        return subprocess.run([str(bindir / args[0]), *args[1:]], check=True, capture_output=True,
                              timeout=120, cwd=root, **ids, **kw)

    data, port = root / "data", free_port()
    try:
        run("initdb", "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8")
        run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-w", "-t", "90", "start", "-o",
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off")
        try:
            yield f"postgresql://grader@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as e:
        pytest.fail(f"{e.cmd[0]} failed: {e.stderr.decode(errors='replace')[-800:]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_gradebook_on_postgres_has_the_scores_sqlite_has(postgres_url, tmp_path):
    subs = tmp_path / "submissions"
    write_submission(subs, "reference", NB, fill_release(NB, reference_answers(NB)))
    write_submission(subs, "untouched", NB, fill_release(NB, {}))
    write_submission(subs, "flawed", NB, fill_release(NB, flawed_answers(NB, 0)))
    out = tmp_path / "out"
    results = autograde(subs, out, jobs=2, db_url=postgres_url, progress=lambda *a: None)
    release = read_release(NB)

    sqlite = GradebookWriter(f"sqlite:///{tmp_path / 'gradebook.db'}", [release])
    for result in results:
        sqlite.record(result)
    expected = sqlite.scores()
    sqlite.close()
    on_postgres = GradebookWriter(postgres_url, [release])
    assert on_postgres.scores() == expected
    on_postgres.close()

    from_csv = {(r["student_id"], r["notebook"], r["exercise"]): float(r["score"])
                for r in csv.DictReader(open(out / "grades.csv"))}
    assert expected == from_csv
    full = sum(e.points for e in release.exercises)
    totals = {s: sum(v for (st, _, _), v in expected.items() if st == s) for s in STUDENTS}
    assert totals["reference"] == full and totals["untouched"] == 0 < totals["flawed"] < full

    # a resumed run regrades one lost submission into the same server: no row twice
    (out / "results" / "flawed" / f"{NB}.json").unlink()
    autograde(subs, out, jobs=1, db_url=postgres_url, progress=lambda *a: None)
    again = GradebookWriter(postgres_url, [release])
    assert again.scores() == expected
    count = again.gb.db.execute(sqlalchemy.text("select count(*) from grade")).scalar()
    again.close()
    assert count == len(STUDENTS) * len(release.exercises)
    assert json.loads((out / "results" / "flawed" / f"{NB}.json").read_text())["student_id"] == "flawed"
