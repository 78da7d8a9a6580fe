"""Start the sandboxed worker and talk to it; the trusted half of the boundary.

One ``Sandbox`` is a bubblewrap container (no network, read-only Python environment, private
sized tmpfs at /tmp and /dev/shm, nothing of ``grader/``, ``solutions/`` or the gradebook)
running the zygote. A ``Session`` is one submission's child inside it
(``grader.student.RemoteStudent`` is the ``student`` fixture over a session). Every read from
the worker has a deadline, and every value from it is decoded by ``grader_worker.wire`` (data
only, no pickle).

Nothing a submission does may reach the next one: the zygote wipes and checks the sandbox
after every child and says when it is in doubt; a sandbox in doubt, dead or silent is
replaced before the next session starts, so only the submission that broke it pays.
Started by root, the sandbox runs as an unprivileged host user of its own, inside a cgroup
that bounds the memory and processes of the whole submission.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from grader.cgroups import SandboxCgroup
from grader.student import ZYGOTE_LOST, StudentTimeout, WorkerLost
from grader_worker.wire import WireError, read_frame, write_frame

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"memory_mb": 1024, "cpu_s": 300, "processes": 32, "output_mb": 8}
TMP_BYTES = 512 << 20
SHM_BYTES = 64 << 20
# The zygote, bubblewrap and its init share the cgroup's task count with the submission.
OWN_TASKS = 16
# Started by root, each sandbox runs as host uid/gid RUN_AS_BASE + the lane's pid: no other
# process shares it, so RLIMIT_NPROC counts the submission's processes alone.
RUN_AS_BASE = 1_900_000_000
START_TIMEOUT = 120.0
CHILD_START_TIMEOUT = 30.0
GRACE = 3.0


class IsolationUnavailable(RuntimeError):
    pass


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def privileged() -> bool:
    return os.geteuid() == 0


def run_as() -> int:
    return RUN_AS_BASE + os.getpid()


def _bwrap_command(python: str) -> list[str]:
    """The sandbox: read-only system and Python, our two worker-side packages and data, tmpfs."""
    cmd = [bwrap_path(), "--die-with-parent", "--new-session"]
    if privileged():
        # No user namespace: its only user would be host root. The zygote keeps just the
        # capabilities it needs to become `run_as()`, and drops them before it imports anything.
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL",
                "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-all", "--uid", "65534", "--gid", "65534"]
    # the tmpfs first: later binds under /tmp (a checkout in /tmp) stay visible
    cmd += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "lib", "lib64", "sbin", "lib32"):
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.prefix)}
    binds = [p for p in sorted(prefixes) if not str(p).startswith("/usr")]
    binds += [ROOT / part for part in ("rnncourse", "grader_worker", "data") if (ROOT / part).exists()]
    made = set()
    for path in binds:
        # folders above a bind, made by us: readable by the sandbox user (bwrap's own are 0700
        # when it runs as root) and, on /tmp, not the sandbox user's to rename or chmod
        for parent in reversed(path.parents):
            if parent not in made and str(parent) not in ("/", "/tmp", "/usr", "/etc"):
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--chdir", "/tmp", "--clearenv"]
    env = dict(_worker_env("/tmp/work"), GRADER_SANDBOXED="1")
    if privileged():
        env["GRADER_RUN_AS"] = f"{run_as()}:{run_as()}"
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += [python, "-I", "-m", "grader_worker.zygote"]
    return cmd


def _worker_env(scratch: str) -> dict:
    return {"HOME": scratch, "MPLCONFIGDIR": f"{scratch}/.mpl", "MPLBACKEND": "Agg",
            "COURSE_FAST": "1", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "GRADER_SCRATCH": scratch, "LANG": "C.UTF-8",
            "PATH": "/usr/bin:/bin", "TQDM_DISABLE": "1", "TMPDIR": scratch}


def _in_cgroup(cmd: list[str], group: SandboxCgroup | None) -> list[str]:
    """``cmd``, first moved into ``group``: every process the sandbox starts is then in it."""
    if group is None:
        return cmd
    return ["/bin/sh", "-c", 'for f in $GRADER_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; '
            'exec "$@"', "sh", *cmd]


_warned = False


def check_isolation(isolate: bool) -> None:
    """Refuse to grade without a sandbox unless the instructor asked for it, loudly."""
    global _warned
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
    if not _warned and not whole_submission_limits():
        _warned = True
        print("note: no cgroup available (run as root for one): memory and process limits "
              "apply per process of a submission, not to all of its processes together.",
              file=sys.stderr)


def whole_submission_limits() -> bool:
    """Whether this host lets a sandbox bound a submission's processes together (a cgroup)."""
    group = SandboxCgroup.create()
    if group is None:
        return False
    group.remove()
    return True


class Sandbox:
    """A worker process (the zygote) that forks a fresh child for each submission.

    ``doubt`` says why the running zygote may not give the next submission a clean child;
    ``session()`` replaces such a sandbox (and a dead one) before it starts the child.
    """

    def __init__(self, isolate: bool = True, limits: dict | None = None):
        check_isolation(isolate)
        self.isolate = isolate
        self.limits = dict(LIMITS, **(limits or {}))
        self.proc = None
        self.cgroup = None
        self.doubt = ""
        self.kills = 0  # zygotes lost, for RemoteStudent.MAX_KILLS
        self._scratch = None

    # ---- lifecycle ----

    def start(self):
        python = str(Path(sys.prefix) / "bin" / "python")
        self.doubt = ""
        if self.isolate:
            self.cgroup = SandboxCgroup.create()
            cmd = _in_cgroup(_bwrap_command(python), self.cgroup)
            env = dict(os.environ, GRADER_CGROUP_PROCS=" ".join(self.cgroup.procs_files())) \
                if self.cgroup else None
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
            if header.get("op") != "ready":
                raise WireError(f"expected ready, got {str(header.get('op'))[:40]}")
        except (TimeoutError, WorkerLost, WireError) as e:
            self._stderr.seek(0)
            detail = self._stderr.read()[-2000:].decode(errors="replace").strip()
            self.stop()
            raise WorkerLost(f"the sandbox did not start ({type(e).__name__}): {detail}") from None
        if self.cgroup is not None:
            # the zygote's own share (torch imported) plus the submission's allowance
            self.cgroup.limit(self.cgroup.memory_usage() + int(self.limits["memory_mb"]) * (1 << 20),
                              int(self.limits["processes"]) + OWN_TASKS)
        return self

    def stop(self):
        """Kill the sandbox and everything in it, now."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        self._release()

    def _release(self):
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

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
        self._release()

    def restart(self):
        self.stop()
        return self.start()

    def distrust(self, reason: str):
        """The zygote can no longer be relied on: kill it now; the next session gets a new one."""
        self.doubt = reason or "unknown"
        self.stop()

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
            raise WorkerLost(ZYGOTE_LOST) from None

    def _read_zygote(self, deadline: float) -> dict:
        header, _ = self._read_raw(deadline)
        return header

    # ---- sessions ----

    def session(self) -> "Session":
        """A fresh child on a zygote known to be clean: a new sandbox when in any doubt."""
        for _ in range(2):
            if self.proc is None or self.proc.poll() is not None or self.doubt:
                self.restart()
            try:
                self._send({"op": "start", "limits": self.limits})
                if self._read_zygote(time.monotonic() + CHILD_START_TIMEOUT).get("op") == "started":
                    return Session(self)
                self.distrust("the worker did not confirm a new child")
            except (OSError, TimeoutError, WorkerLost, WireError) as e:
                self.distrust(f"the worker did not start a child ({type(e).__name__})")
        raise WorkerLost("the grader's sandbox could not start a process for your notebook")


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
        deadline = time.monotonic() + timeout + GRACE
        try:
            self.sandbox._send(header, blobs)
            while True:
                zyg = self.sandbox._read_zygote(deadline)
                if zyg.get("op") == "session_end":
                    self._ended(zyg)
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
        except (WorkerLost, OSError, EOFError) as e:
            if not self.alive:  # the child ended and the zygote said so
                raise
            self._lost(str(e) if isinstance(e, WorkerLost) else ZYGOTE_LOST)
        except WireError as e:
            self._lost(f"the worker broke the protocol ({e})")

    def _ended(self, zyg: dict):
        self.alive = False
        self.end_reason = _exit_reason(zyg)
        if zyg.get("doubt"):
            self.sandbox.doubt = str(zyg["doubt"])[:200]

    def _lost(self, reason: str):
        self.alive = False
        self.end_reason = reason
        self.sandbox.kills += reason == ZYGOTE_LOST
        self.sandbox.distrust(reason)
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
                    self._ended(zyg)
                    return
                if zyg.get("op") == "child":
                    self.sandbox._read_raw(deadline)
        except (TimeoutError, WorkerLost, WireError, OSError, EOFError):
            self.sandbox.distrust("the worker did not end a child")


def _exit_reason(zyg: dict) -> str:
    code = zyg.get("exit")
    if type(code) is int and code < 0:
        import signal
        name = {signal.SIGKILL: "killed (memory, CPU or process limit, or os.kill)",
                signal.SIGXCPU: "stopped: CPU time limit", signal.SIGSEGV: "crashed (segfault)"}
        return f"your code's process was {name.get(-code, f'ended by signal {-code}')}"
    return f"your code's process exited (exit code {code}): do not call exit() or os._exit()"
