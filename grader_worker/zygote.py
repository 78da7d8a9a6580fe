"""The sandbox's main process: import torch once, then fork one child per submission.

Started by the trusted side inside bubblewrap (``python -I -m grader_worker.zygote``), it
talks to the trusted side over stdin/stdout. For each submission it forks a child with a
private socket, relays the child's frames (each announced by a frame of its own, so a child
can never forge a zygote message), and when the child ends it kills every other process in
the sandbox, empties /tmp and /dev/shm, makes a new scratch folder, and checks that nothing
the child could change is changed. What it cannot put back it reports as ``doubt``, and the
trusted side replaces the whole sandbox before the next submission.
"""
import ctypes
import os
import resource
import select
import shutil
import signal
import socket
import stat
import sys
import time

from grader_worker.wire import WireError, parse_frame, read_raw_frame, write_frame, _write_all

# A child's working folder, made anew for each child; inside the sandbox it is on /tmp.
SCRATCH = os.environ.get("GRADER_SCRATCH", "/tmp/work")
# Only inside bubblewrap's pid namespace is every other process ours to kill, and every
# file on its tmpfs ours to delete.
SANDBOXED = os.environ.get("GRADER_SANDBOXED") == "1"
WIPED = ("/tmp", "/dev/shm") if SANDBOXED else (SCRATCH,)
PR_SET_DUMPABLE = 4
MOUNTS: set[str] = set()  # mount points below WIPED (binds of a checkout in /tmp)
BASELINE: dict = {}  # WIPED folders' modes and our own state at start, see doubt_after_child


def drop_privileges():
    """Started by host root, become the unprivileged host user the trusted side chose."""
    run_as = os.environ.pop("GRADER_RUN_AS", "")
    if run_as:
        uid, gid = (int(n) for n in run_as.split(":"))
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # all three: no way back to root, capabilities gone


def preload():
    """Import what every notebook uses, before any fork, so a child starts in milliseconds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch
    import tqdm.auto  # noqa: F401
    from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

    import rnncourse  # noqa: F401
    import rnncourse.checks  # noqa: F401
    # One thread per child: grading work is tiny, and jobs run side by side.
    torch.set_num_threads(1)
    # A backward pass given its output gradients imports sympy on first use (through
    # torch.fx.experimental.symbolic_shapes): done here once, not in every child (0.35 s each).
    leaf = torch.zeros(1, requires_grad=True)
    torch.autograd.backward([leaf * 2], [torch.ones(1)])
    for name in ("rnncourse.data", "rnncourse.plots", "rnncourse.train"):
        __import__(name)


def set_limits(limits: dict):
    """Per-child resource limits; the trusted side's wall clock backs them up."""
    status = open("/proc/self/status").read()
    vm_kb = int(status.split("VmSize:")[1].split()[0])
    caps = {
        resource.RLIMIT_AS: vm_kb * 1024 + int(limits["memory_mb"]) * (1 << 20),
        resource.RLIMIT_CPU: int(limits["cpu_s"]),
        resource.RLIMIT_NPROC: int(limits["processes"]),
        resource.RLIMIT_FSIZE: int(limits["output_mb"]) * (1 << 20),
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in caps.items():
        resource.setrlimit(which, (value, value))


def start_child(limits: dict) -> tuple[int, socket.socket]:
    parent_sock, child_sock = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent_sock.close()
        os.setsid()
        os.chdir(SCRATCH)
        log = os.open(os.path.join(SCRATCH, ".output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(devnull)
        # A flood of output fails the write instead of killing the child silently.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        set_limits(limits)
        from grader_worker import child
        child.run(child_sock.detach())
    child_sock.close()
    return pid, parent_sock


def kill_everything_else() -> str:
    """Kill every process in this sandbox's pid namespace but bubblewrap's init and us."""
    me = os.getpid()
    for _ in range(50):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return ""
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.01)
    return "processes of the last submission survived"


def _mount_points() -> set[str]:
    """Mount points under the wiped folders: binds of a checkout that lives in /tmp."""
    points = {line.split(" ")[4] for line in open("/proc/self/mountinfo")}
    return {p for p in points if any(p.startswith(root + "/") for root in WIPED)}


def _writable(func, path, _exc):
    """rmtree's retry after a child took its own permissions away (same user: we may chmod)."""
    os.chmod(os.path.dirname(path), 0o700)
    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, 0o700)
        shutil.rmtree(path, onerror=_writable)
    else:
        func(path)


def _empty(folder: str):
    """Delete everything in ``folder`` but the mount points below it and the folders above them."""
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if path in MOUNTS:
            continue
        if any(m.startswith(path + "/") for m in MOUNTS):
            _empty(path)
        elif os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, onerror=_writable)
        else:
            os.unlink(path)


def fresh_scratch() -> str:
    """Empty the writable folders, make a new SCRATCH; the reason if anything is left over."""
    try:
        for root, mode in BASELINE["folders"].items():
            if os.lstat(root).st_mode != mode:
                os.chmod(root, stat.S_IMODE(mode))
            _empty(root)
            left = [e for e in os.listdir(root)
                    if not any((m + "/").startswith(os.path.join(root, e) + "/") for m in MOUNTS)]
            if left or os.lstat(root).st_mode != mode:
                return f"{root} could not be emptied"
        os.makedirs(SCRATCH, 0o700, exist_ok=not SANDBOXED)
    except (OSError, RecursionError) as e:
        return f"the scratch space could not be reset ({type(e).__name__})"
    return ""


def _own_state() -> dict:
    """What a child running as our user could change about us, or leave for the next child."""
    state = {"rlimits": [resource.getrlimit(getattr(resource, n)) for n in dir(resource)
                         if n.startswith("RLIMIT_")],
             "nice": os.getpriority(os.PRIO_PROCESS, 0)}
    if SANDBOXED:  # the sandbox's own IPC namespace: System V objects outlive their maker
        state["sysv"] = [open(f"/proc/sysvipc/{k}").read().count("\n") for k in ("shm", "msg", "sem")]
    return state


def doubt_after_child() -> str:
    """Why the next child could not start clean here, or "" when everything is as at start."""
    reason = kill_everything_else() if SANDBOXED else ""
    reason = reason or fresh_scratch()
    if not reason and _own_state() != BASELINE["state"]:
        reason = "the worker's limits, priority or shared memory were changed"
    return reason


def session(limits: dict):
    """Relay frames between the trusted side (fds 0/1) and one child until it ends."""
    pid, sock = start_child(limits)
    write_frame(1, {"op": "started"})
    reason = "ended"
    try:
        while True:
            ready, _, _ = select.select([0, sock], [], [], 0.5)
            if 0 in ready:
                raw = read_raw_frame(0)
                header, _ = parse_frame(raw)
                if header.get("op") == "end":
                    break
                try:
                    _write_all(sock.fileno(), raw)
                except OSError:
                    reason = "exited"
                    break
            if sock in ready:
                try:
                    raw = read_raw_frame(sock.fileno())
                except (EOFError, OSError):
                    reason = "exited"
                    break
                except WireError as e:
                    reason = f"protocol: {e}"
                    break
                write_frame(1, {"op": "child"})
                _write_all(1, raw)
    finally:
        sock.close()
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
        doubt = doubt_after_child()  # including what escaped the child's process group
    code = os.waitstatus_to_exitcode(status)
    write_frame(1, {"op": "session_end", "reason": reason, "exit": code, "doubt": doubt})


def main():
    drop_privileges()
    MOUNTS.update(_mount_points() if SANDBOXED else ())
    BASELINE["folders"] = {root: os.lstat(root).st_mode for root in WIPED}
    doubt = fresh_scratch()
    if doubt:
        sys.exit(doubt)
    preload()
    # Not dumpable: a child cannot ptrace us or read our pipes through /proc.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    BASELINE["state"] = _own_state()
    write_frame(1, {"op": "ready", "pid": os.getpid()})
    while True:
        try:
            header, _ = parse_frame(read_raw_frame(0))
        except EOFError:
            return
        if header.get("op") == "start":
            session(header["limits"])
        elif header.get("op") == "bye":
            return


if __name__ == "__main__":
    sys.exit(main())
