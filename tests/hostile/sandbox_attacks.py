"""Submissions that attack the sandbox itself, each as notebook 01's ``rnn_cell`` answer.

``POISON`` try to leave something in the sandbox for the next submission (issue class 1),
``KILLERS`` take down the grader's worker (class 2): both are judged by the students graded
after them, and their own ``rnn_cell`` is wrong. ``ESCAPES`` try what only a sandbox running
as host root would allow (class 6): their ``rnn_cell`` is right only where the attack worked,
so an escape that earns a point has broken the sandbox.
``WITNESS`` is a correct answer that refuses to give it in a sandbox someone left dirty.
"""

_RIGHT = "torch.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b)"

POISON = {
    "scratch-chmod-rename": '''
import os
home = os.getcwd()
os.makedirs(os.path.join(home, "a/b/c"))
os.chmod(os.path.join(home, "a/b"), 0)
os.chmod(os.path.join(home, "a"), 0o500)
os.rename(home, "/tmp/.moved")
os.symlink("/nonexistent", home)
os.chmod("/tmp/.moved", 0)
for path in ("/tmp", "/dev/shm"):
    try:
        os.chmod(path, 0)
    except OSError:
        pass
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return None
''',
    "scratch-fill-and-notes": '''
import ctypes, os
for folder in ("/tmp", "/dev/shm", os.getcwd()):
    with open(os.path.join(folder, "note-for-the-next-one"), "w") as f:
        f.write("left behind")
for folder, size in (("/dev/shm", 1 << 20), ("/tmp", 8 << 20)):
    try:
        with open(os.path.join(folder, "ballast"), "wb") as f:
            while True:
                f.write(b"x" * size)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget(0x5EED, 1 << 20, 0o1666)  # IPC_CREAT | 0666: outlives this process
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return None
''',
    "scratch-lurker-and-limits": '''
import os, resource, time
if os.fork() == 0:  # a grandchild in its own session that keeps breaking the scratch
    os.setsid()
    if os.fork() == 0:
        for _ in range(2000):
            for path in ("/tmp/work", "/tmp", "/dev/shm"):
                try:
                    os.chmod(path, 0)
                    open(os.path.join(path, "lurker"), "w").close()
                except OSError:
                    pass
            time.sleep(0.01)
    os._exit(0)
zygote = os.getppid()
for limit, value in ((resource.RLIMIT_NOFILE, 8), (resource.RLIMIT_NPROC, 1), (resource.RLIMIT_AS, 1 << 26)):
    try:
        resource.prlimit(zygote, limit, (value, value))
    except OSError:
        pass
try:
    os.setpriority(os.PRIO_PROCESS, zygote, 19)
except OSError:
    pass
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return None
''',
}

KILLERS = {
    "kill-zygote-while-running": '''
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return None
''',
    "kill-everything-when-checked": '''
import os, signal
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    for pid in (1, os.getppid(), -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return None
''',
    "reach-the-workers-pipes": '''
import glob, os, signal
zygote = os.getppid()
# the pipes to the trusted side, through the worker's and bubblewrap's open files and memory
for path in glob.glob(f"/proc/{zygote}/fd/*") + glob.glob("/proc/1/fd/*") + [f"/proc/{zygote}/mem"]:
    try:
        with open(path, "wb") as f:
            f.write(b"\\x00" * 64)
    except OSError:
        pass
os.kill(zygote, signal.SIGKILL)
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    return None
''',
}

ESCAPES = {
    "root-read-host-secrets": f'''
import os
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    try:
        open("/etc/shadow").read()
    except OSError:
        return None
    return {_RIGHT}
''',
    "root-fork-past-the-limit": f'''
import os, time
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    started = 0
    for _ in range(60):
        try:
            if os.fork() == 0:
                time.sleep(20)
                os._exit(0)
            started += 1
        except OSError:
            break
    if started < 40:  # the limit is 32 processes per submission
        return None
    return {_RIGHT}
''',
    "root-memory-across-processes": f'''
import os
tried = []
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    if not tried:  # once is enough to show the limit holds, and it is slow
        pids = []
        for _ in range(2):  # 2 x 600 MB, each under the per-process limit of 1 GiB
            pid = os.fork()
            if pid == 0:
                hoard = bytearray(b"x") * (600 << 20)
                os._exit(0 if len(hoard) else 1)
            pids.append(pid)
        tried.append(all(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) == 0 for p in pids))
    if not tried[0]:
        return None
    return {_RIGHT}
''',
}

WITNESS = f'''
import os
def _dirty():
    """Anything a previous submission could have left: files, full tmpfs, SysV objects, processes."""
    mounts = [line.split(" ")[4] for line in open("/proc/self/mountinfo")]
    above_mounts = {{os.path.dirname(m) for m in mounts}} | set(mounts)
    found = [e for e in os.listdir("/tmp") if e != "work" and "/tmp/" + e not in above_mounts
             and not any(m.startswith("/tmp/" + e + "/") for m in mounts)]
    found += os.listdir("/dev/shm")
    found += [e for e in os.listdir(os.getcwd()) if e not in (".output", ".mpl")]
    for path in ("/tmp", "/dev/shm"):
        st = os.statvfs(path)
        if (st.f_blocks - st.f_bfree) * st.f_frsize > (16 << 20):
            found.append(path + " is full")
    for kind in ("shm", "msg", "sem"):
        found += open(f"/proc/sysvipc/{{kind}}").read().splitlines()[1:]
    ours = {{1, os.getpid(), os.getppid()}}
    found += [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in ours]
    return found
def rnn_cell(x_t, h_prev, W_xh, W_hh, b):
    if _dirty():
        return None
    return {_RIGHT}
'''

ATTACKS = {**POISON, **KILLERS, **ESCAPES}
