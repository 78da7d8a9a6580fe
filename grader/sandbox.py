"""Start the sandboxed worker and talk to it; the trusted half of the boundary.

One ``Sandbox`` is a bubblewrap container (no network, read-only Python environment, a
private tmpfs, nothing of ``grader/``, ``solutions/`` or the gradebook) running the zygote.
A ``Session`` is one submission's child inside it (``grader.student.RemoteStudent`` is the
``student`` fixture over a session). Every read from the worker has a deadline, and every value from it
is decoded by ``grader_worker.wire`` (data only, no pickle).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from grader.student import StudentTimeout, WorkerLost
from grader_worker.wire import WireError, read_frame, write_frame

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"memory_mb": 1024, "cpu_s": 300, "processes": 32, "output_mb": 8}
START_TIMEOUT = 120.0
GRACE = 3.0


class IsolationUnavailable(RuntimeError):
    pass


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _bwrap_command(python: str) -> list[str]:
    """The sandbox: read-only system and Python, our two worker-side packages and data, a tmpfs."""
    cmd = [bwrap_path(), "--unshare-all", "--die-with-parent", "--new-session",
           "--uid", "65534", "--gid", "65534",
           # the tmpfs first: later binds under /tmp (a checkout in /tmp) stay visible
           "--size", str(512 << 20), "--tmpfs", "/tmp",
           "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "lib", "lib64", "sbin", "lib32"):
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.prefix)}
    for prefix in sorted(prefixes):
        if not str(prefix).startswith("/usr"):
            cmd += ["--ro-bind", str(prefix), str(prefix)]
    for part in ("rnncourse", "grader_worker", "data"):
        if (ROOT / part).exists():
            cmd += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    cmd += ["--dir", "/tmp/work", "--chdir", "/tmp/work", "--clearenv"]
    for key, value in _worker_env("/tmp/work").items():
        cmd += ["--setenv", key, value]
    cmd += ["--setenv", "GRADER_SANDBOXED", "1", python, "-I", "-m", "grader_worker.zygote"]
    return cmd


def _worker_env(scratch: str) -> dict:
    return {"HOME": scratch, "MPLCONFIGDIR": f"{scratch}/.mpl", "MPLBACKEND": "Agg",
            "COURSE_FAST": "1", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "GRADER_SCRATCH": scratch, "LANG": "C.UTF-8",
            "PATH": "/usr/bin:/bin", "TQDM_DISABLE": "1"}


def check_isolation(isolate: bool) -> None:
    """Refuse to grade without a sandbox unless the instructor asked for it, loudly."""
    if not isolate:
        warnings.warn("grading WITHOUT isolation (--no-isolation): student code runs with your "
                      "permissions and can read the hidden checks. Use only for trusted code.",
                      stacklevel=2)
        print("WARNING: grading without isolation: student code can see and change everything "
              "you can.", file=sys.stderr)
        return
    if sys.platform != "linux" or bwrap_path() is None:
        raise IsolationUnavailable(
            "bubblewrap (bwrap) is needed to isolate student code and was not found. Install it "
            "(Debian/Ubuntu: apt-get install bubblewrap), or pass --no-isolation to grade trusted "
            "code without a sandbox.")


class Sandbox:
    """A worker process (the zygote) that forks a fresh child for each submission."""

    def __init__(self, isolate: bool = True, limits: dict | None = None):
        check_isolation(isolate)
        self.isolate = isolate
        self.limits = dict(LIMITS, **(limits or {}))
        self.proc = None
        self._scratch = None

    # ---- lifecycle ----

    def start(self):
        python = str(Path(sys.prefix) / "bin" / "python")
        if self.isolate:
            cmd, env = _bwrap_command(python), None
        else:
            self._scratch = tempfile.mkdtemp(prefix="grader-scratch-")
            cmd = [python, "-I", "-m", "grader_worker.zygote"]
            env = dict(_worker_env(self._scratch), PYTHONPATH="")
        # the worker's own stderr (start-up errors, crashes) goes to a file we can quote
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=env, cwd=self._scratch)
        try:
            header = self._read_zygote(time.monotonic() + START_TIMEOUT)
        except (TimeoutError, WorkerLost, WireError) as e:
            self._stderr.seek(0)
            detail = self._stderr.read()[-2000:].decode(errors="replace").strip()
            raise WorkerLost(f"the sandbox did not start ({type(e).__name__}): {detail}") from None
        if header.get("op") != "ready":
            raise WorkerLost("the sandbox did not start")
        return self

    def close(self):
        if self.proc is None:
            return
        try:
            self._send({"op": "bye"})
        except OSError:
            pass
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def restart(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---- frames ----

    def _send(self, header: dict, blobs=()):
        write_frame(self.proc.stdin.fileno(), header, list(blobs))

    def _read_raw(self, deadline: float) -> tuple[dict, list[bytes]]:
        try:
            return read_frame(self.proc.stdout.fileno(), deadline)
        except EOFError:
            raise WorkerLost("the worker exited") from None

    def _read_zygote(self, deadline: float) -> dict:
        header, _ = self._read_raw(deadline)
        return header

    # ---- sessions ----

    def session(self) -> "Session":
        self._send({"op": "start", "limits": self.limits})
        return Session(self)


class Session:
    """One child: requests go in, the child's replies (and callbacks) come out."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.alive = True
        self.end_reason = ""
        self.on_callback = None

    def request(self, header: dict, blobs: list[bytes], timeout: float) -> tuple[dict, list[bytes]]:
        if not self.alive:
            raise WorkerLost(self.end_reason or "the worker is gone")
        try:
            self.sandbox._send(header, blobs)
        except OSError:
            self._lost("the worker exited")
        deadline = time.monotonic() + timeout + GRACE
        try:
            while True:
                zyg = self.sandbox._read_zygote(deadline)
                if zyg.get("op") == "session_end":
                    self.alive = False
                    self.end_reason = _exit_reason(zyg)
                    raise WorkerLost(self.end_reason)
                if zyg.get("op") != "child":
                    self._lost("the worker broke the protocol")
                reply, reply_blobs = self.sandbox._read_raw(deadline)
                if reply.get("op") == "callback" and self.on_callback is not None:
                    self.sandbox._send(*self.on_callback(reply, reply_blobs))
                    continue
                return reply, reply_blobs
        except TimeoutError:
            self.end()
            raise StudentTimeout(f"stopped after {timeout:g} s") from None
        except (WireError, EOFError) as e:
            self._lost(f"the worker broke the protocol ({e})")

    def _lost(self, reason: str):
        self.alive = False
        self.end_reason = reason
        self.sandbox.restart()
        raise WorkerLost(reason)

    def end(self):
        """Stop the child; if the zygote does not confirm in time, replace the whole sandbox."""
        if not self.alive:
            return
        self.alive = False
        try:
            self.sandbox._send({"op": "end"})
            deadline = time.monotonic() + 10
            while True:
                zyg = self.sandbox._read_zygote(deadline)
                if zyg.get("op") == "session_end":
                    return
                if zyg.get("op") == "child":
                    self.sandbox._read_raw(deadline)
        except (TimeoutError, WorkerLost, WireError, OSError, EOFError):
            self.sandbox.restart()


def _exit_reason(zyg: dict) -> str:
    code = zyg.get("exit")
    if type(code) is int and code < 0:
        import signal
        name = {signal.SIGKILL: "killed (memory, CPU or process limit, or os.kill)",
                signal.SIGXCPU: "stopped: CPU time limit", signal.SIGSEGV: "crashed (segfault)"}
        return f"your code's process was {name.get(-code, f'ended by signal {-code}')}"
    return f"your code's process exited (exit code {code}): do not call exit() or os._exit()"
