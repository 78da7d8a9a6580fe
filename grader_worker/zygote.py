"""The sandbox's main process: import torch once, then fork one child per submission.

Started by the trusted side inside bubblewrap (``python -I -m grader_worker.zygote``), it
talks to the trusted side over stdin/stdout. For each submission it forks a child with a
private socket, relays the child's frames (each announced by a frame of its own, so a child
can never forge a zygote message), and when the child ends it kills every other process
in the sandbox and wipes the scratch space, so nothing a submission leaves behind can touch
the next one.
"""
import ctypes
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time

from grader_worker.wire import WireError, parse_frame, read_raw_frame, write_frame, _write_all

# The only place a child may write; inside the sandbox it lives on a private tmpfs.
SCRATCH = os.environ.get("GRADER_SCRATCH", "/tmp/work")
# Only inside bubblewrap's pid namespace is every other process ours to kill.
SANDBOXED = os.environ.get("GRADER_SANDBOXED") == "1"
PR_SET_DUMPABLE = 4


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
    os.makedirs(SCRATCH, exist_ok=True)
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


def kill_everything_else():
    """Kill every process in this sandbox's pid namespace but bubblewrap's init and us."""
    me = os.getpid()
    for _ in range(50):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return
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


def wipe_scratch():
    for entry in os.listdir(SCRATCH):
        path = os.path.join(SCRATCH, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def session(limits: dict):
    """Relay frames between the trusted side (fds 0/1) and one child until it ends."""
    pid, sock = start_child(limits)
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
        if SANDBOXED:
            kill_everything_else()  # including what escaped the child's process group
        wipe_scratch()
    code = os.waitstatus_to_exitcode(status)
    write_frame(1, {"op": "session_end", "reason": reason, "exit": code})


def main():
    preload()
    # Not dumpable: a child cannot ptrace us or read our pipes through /proc.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
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
