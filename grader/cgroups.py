"""One sandbox's memory and process limits as a cgroup of the host (v2, or v1), when we may.

rlimits are per process (and ``RLIMIT_NPROC`` is per host user); a cgroup bounds everything a
submission starts, together. We can make one only as root, or where the host delegated a
cgroup v2 subtree to us; elsewhere ``SandboxCgroup.create`` returns None and the sandbox
keeps its rlimits alone.
"""
import os
import signal
import time
from pathlib import Path

PREFIX = "grader-sandbox-"
CONTROLLERS = ("memory", "pids")


def _own_paths() -> dict[str, str]:
    """{controller or "": our cgroup path} from /proc/self/cgroup ("" is the v2 hierarchy)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        for name in names.split(",") if names else [""]:
            paths[name] = path
    return paths


def _mounts() -> dict[str, Path]:
    """{controller or "": where its hierarchy is mounted}."""
    found = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fstype, _, options = (right.split(" ") + ["", "", ""])[:3]
        point = Path(left.split(" ")[4])
        if fstype == "cgroup2":
            found.setdefault("", point)
        elif fstype == "cgroup":
            for name in options.split(","):
                if name in CONTROLLERS:
                    found.setdefault(name, point)
    return found


def _v2_dirs(name: str) -> dict[str, Path]:
    mounts, own = _mounts(), _own_paths()
    if "" not in mounts or "" not in own:
        return {}
    parent = mounts[""] / own[""].lstrip("/")
    try:
        available = (parent / "cgroup.controllers").read_text().split()
        if not set(CONTROLLERS) <= set(available):
            return {}
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        missing = [c for c in CONTROLLERS if c not in enabled]
        if missing:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))
    except OSError:
        return {}
    return {c: parent / name for c in CONTROLLERS}


def _v1_dirs(name: str) -> dict[str, Path]:
    mounts, own = _mounts(), _own_paths()
    return {c: mounts[c] / own[c].lstrip("/") / name for c in CONTROLLERS if c in mounts and c in own}


def _remove_stale(parent: Path):
    """Empty cgroups left behind by a grader that was killed (its process is gone)."""
    for old in parent.glob(PREFIX + "*"):
        owner = old.name[len(PREFIX):].split("-")[0]
        try:
            if not Path(f"/proc/{int(owner)}").exists() and not (old / "cgroup.procs").read_text().strip():
                old.rmdir()
        except (OSError, ValueError):
            pass


class SandboxCgroup:
    """Directories (one per v1 controller, one in v2) that hold one sandbox's processes."""

    def __init__(self, dirs: dict[str, Path], v2: bool):
        self.dirs = dirs
        self.v2 = v2

    @classmethod
    def create(cls) -> "SandboxCgroup | None":
        name = f"{PREFIX}{os.getpid()}-{time.monotonic_ns()}"
        for v2, dirs in ((True, _v2_dirs(name)), (False, _v1_dirs(name))):
            if set(dirs) != set(CONTROLLERS):
                continue
            made = {}
            try:
                for controller, path in dirs.items():
                    _remove_stale(path.parent)
                    path.mkdir()
                    made[controller] = path
                group = cls(made, v2)
                group._write("pids", "pids.max", "max")  # proves we may write, before relying on it
                return group
            except OSError:
                cls(made, v2).remove()
        return None

    def _write(self, controller: str, name: str, value: str):
        (self.dirs[controller] / name).write_text(value)

    def procs_files(self) -> list[str]:
        """Writing a pid (or "0" from the process itself) into each of these moves it in."""
        return sorted({str(path / "cgroup.procs") for path in self.dirs.values()})

    def memory_usage(self) -> int:
        name = "memory.current" if self.v2 else "memory.usage_in_bytes"
        return int((self.dirs["memory"] / name).read_text())

    def limit(self, memory_bytes: int, processes: int):
        """Cap memory (page cache and tmpfs included, swap excluded) and the number of tasks."""
        self._write("pids", "pids.max", str(processes))
        if self.v2:
            self._write("memory", "memory.max", str(memory_bytes))
            if (self.dirs["memory"] / "memory.swap.max").exists():
                self._write("memory", "memory.swap.max", "0")
            return
        self._write("memory", "memory.limit_in_bytes", str(memory_bytes))
        if (self.dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
            try:
                self._write("memory", "memory.memsw.limit_in_bytes", str(memory_bytes))
            except OSError:
                pass  # swap accounting off: nothing to cap

    def kill(self):
        for path in self.dirs.values():
            try:
                pids = (path / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass

    def remove(self):
        """Kill what is left and delete the directories (a dying task may hold one briefly)."""
        for _ in range(100):
            self.kill()
            for path in list(self.dirs.values()):
                try:
                    path.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    continue
                self.dirs = {c: p for c, p in self.dirs.items() if p != path}
            if not self.dirs:
                return
            time.sleep(0.02)
