"""make lab and make lab-instructor: started as root or as a user, with the course's Python first.

The browser tests start both for real (as whoever runs the tests); this checks the commands
make would run, for root and for an unprivileged user, without starting anything.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader.notebooks import ROOT


def _dry_run(target: str, user: str | None = None) -> str:
    where = ROOT
    if user:  # the checkout may sit where the user cannot read: give it a readable Makefile
        where = Path(tempfile.mkdtemp())
        where.chmod(0o755)
        shutil.copy(ROOT / "Makefile", where / "Makefile")
    command = ["make", "-n", "-C", str(where), "-o", ".venv/.installed", target, "GRADES=build"]
    if user:
        command = ["runuser", "-u", user, "--"] + command
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        if user:
            shutil.rmtree(where)


@pytest.mark.parametrize("target", ["lab", "lab-instructor"])
def test_lab_runs_as_whoever_starts_it(target):
    as_me = _dry_run(target)
    assert ("--allow-root" in as_me) == (os.geteuid() == 0)
    assert f'PATH="{ROOT}/.venv/bin:' in as_me, "the course environment comes first on PATH"
    assert "terminal.bashrc" in as_me, "JupyterLab's terminal keeps that PATH"
    if os.geteuid() == 0 and shutil.which("runuser"):
        assert "--allow-root" not in _dry_run(target, user="nobody")


def test_terminal_shell_puts_the_course_environment_first(tmp_path):
    """What JupyterLab's terminal runs: an interactive bash with the rc file, after ~/.bashrc."""
    (tmp_path / ".bashrc").write_text("export PATH=/usr/bin:/bin\n")  # a bashrc that resets PATH
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "COURSE_BIN": str(ROOT / ".venv" / "bin")}
    done = subprocess.run(["bash", "--rcfile", str(ROOT / "jupyter" / "terminal.bashrc"), "-i", "-c",
                           "command -v python"], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == str(ROOT / ".venv" / "bin" / "python")
