"""What a call into the student's code reached: the evidence behind "forbidden shortcut".

A shortcut is recognised by what runs, not by how it is spelled. Three witnesses, all set up
before any student code runs:

- PyTorch's profiler (RecordFunction, in the dispatcher): it names every aten op a call
  reaches, composite ones included (``aten::lstm``, ``aten::rnn_tanh_cell``), however the
  function was fetched (``torch._VF``, ``torch._C._VariableFunctions``, ``getattr`` with a
  built string, a helper in another cell, ``nn.RNNBase`` with a mode string);
- wrappers on Python-level APIs that reach no telling op (``clip_grad_norm_``) and on the
  construction of PyTorch's recurrent modules (counting an ``nn.LSTM``'s parameters);
- an audit hook (it cannot be removed) for imports of forbidden libraries and for what would
  take work out of the profiler's sight: forking, ``ctypes``, ``gc`` introspection.

What hides work from the witnesses is itself evidence (``escape:...``): the profiler found
switched off or restarted during a call, or CPU time spent by another thread. The trusted
side decides what any piece of evidence means; this module only reports it.
"""
import contextlib
import os
import sys
import threading
import time

import torch
from torch._C._profiler import ProfilerActivity, _ExperimentalConfig
from torch.autograd import (ProfilerConfig, ProfilerState, _disable_profiler, _enable_profiler,
                            _prepare_profiler, _profiler_enabled)

# Bound now, before student code can rebind the module attributes.
_ACTIVITIES = {ProfilerActivity.CPU}
_CONFIG = ProfilerConfig(ProfilerState.KINETO, False, False, False, False, False, _ExperimentalConfig())
_mark_enter = torch.ops.profiler._record_function_enter_new
_mark_exit = torch.ops.profiler._record_function_exit._RecordFunction
MARK = "grader::trace"
_listdir, _clock_gettime = os.listdir, time.clock_gettime
_native_id = threading.get_native_id
_PROCESS, _THREAD = time.CLOCK_PROCESS_CPUTIME_ID, time.CLOCK_THREAD_CPUTIME_ID
# CPU seconds of other threads unaccounted for (the clocks are read one after the other);
# starting a thread that runs any op costs far more
OTHER_THREAD_CPU = 20e-6
ESCAPES = {"os.fork": "fork", "os.forkpty": "fork", "os.posix_spawn": "spawn", "os.exec": "spawn",
           "os.system": "spawn", "subprocess.Popen": "spawn", "ctypes.dlopen": "ctypes",
           "ctypes.dlsym": "ctypes", "ctypes.cdata": "ctypes", "gc.get_objects": "introspection",
           "gc.get_referrers": "introspection", "gc.get_referents": "introspection",
           "sys.setprofile": "tracing", "sys.settrace": "tracing"}
# nn.RNNBase(mode, ...) builds the same module as the class of that mode
MODE_CLASSES = {"RNN_TANH": "torch.nn.modules.rnn.RNN", "RNN_RELU": "torch.nn.modules.rnn.RNN",
                "LSTM": "torch.nn.modules.rnn.LSTM", "GRU": "torch.nn.modules.rnn.GRU"}


def _thread_cpu(tid: int) -> float:
    """CPU seconds of thread ``tid`` of this process, exact even while it runs (the kernel's
    per-thread CPU clock: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED))."""
    return _clock_gettime(((~tid) << 3) | 6)


def _others() -> dict[int, float]:
    mine, others = _native_id(), {}
    for name in _listdir("/proc/self/task"):
        tid = int(name)
        if tid != mine:
            try:
                others[tid] = _thread_cpu(tid)
            except OSError:  # it ended meanwhile
                pass
    return others


def _threads(before: bool) -> tuple[float, dict[int, float]]:
    """CPU seconds of the process (threads that ended included) less the calling thread's,
    and of each other live thread. The clocks are read in the order that can only make
    the unaccounted time at the end of a call smaller, never larger."""
    if before:
        others = _others()
        me = _clock_gettime(_THREAD)
        return _clock_gettime(_PROCESS) - me, others
    everyone = _clock_gettime(_PROCESS)
    return everyone - _clock_gettime(_THREAD), _others()


def _hidden_thread(before, after) -> bool:
    """Whether other threads did work during the call that the threads alive before it did
    not account for: a thread started during the call, or one that ended during it."""
    (total0, live0), (total1, live1) = before, after
    accounted = sum(live1[t] - live0[t] for t in live1 if t in live0)
    return (total1 - total0) - accounted > OTHER_THREAD_CPU


def canonical(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"


class Tracer:
    def __init__(self):
        self.ops: set[str] = set()
        self.modules: set[str] = set()
        self.active = False
        self.found: set[str] = set()
        self.last: list[str] = []
        self.imports: dict[str, set] = {}
        self.cell_key = None
        sys.addaudithook(self._audit)

    # ---- what to watch (sent by the trusted side) ----

    def watch(self, ops, calls, modules):
        self.ops = {op for op in ops if isinstance(op, str)}
        self.modules = {m for m in modules if isinstance(m, str)}
        for path in calls:
            if isinstance(path, str):
                self._wrap(path)
        if any(path.startswith("torch.nn.modules.rnn.") for path in calls):
            self._wrap_rnn_base()
        self._prime()

    def _prime(self):
        """Start and stop the profiler once: its first start leaves a thread behind, which
        must exist before a call is watched for threads it starts."""
        try:
            _prepare_profiler(_CONFIG, _ACTIVITIES)
            _enable_profiler(_CONFIG, _ACTIVITIES)
            torch.zeros(1)
            _disable_profiler()
        except Exception:
            pass

    def _wrap(self, path: str):
        module, _, attr = path.rpartition(".")
        try:
            parent = sys.modules[module] if module in sys.modules else __import__(module, fromlist=["_"])
            original = getattr(parent, attr)
        except Exception:
            return
        tracer = self
        if isinstance(original, type):
            init = original.__init__

            def wrapped_init(obj, *args, **kwargs):
                tracer.saw(f"new:{path}")
                init(obj, *args, **kwargs)
            original.__init__ = wrapped_init
            return

        def wrapped(*args, **kwargs):
            tracer.saw(f"call:{path}")
            return original(*args, **kwargs)
        wrapped.__name__ = getattr(original, "__name__", attr)
        for owner in list(sys.modules.values()):  # every alias: torch.nn.utils.clip_grad_norm_ ...
            try:
                if getattr(owner, attr, None) is original:
                    setattr(owner, attr, wrapped)
            except Exception:
                pass

    def _wrap_rnn_base(self):
        base = torch.nn.RNNBase
        init = base.__init__
        tracer = self

        def wrapped_init(obj, mode, *args, **kwargs):
            if mode in MODE_CLASSES:
                tracer.saw(f"new:{MODE_CLASSES[mode]}")
            init(obj, mode, *args, **kwargs)
        base.__init__ = wrapped_init

    # ---- recording ----

    def saw(self, evidence: str):
        if self.active:
            self.found.add(evidence)

    def _audit(self, event, args):
        if event == "import" and args and self.modules:
            top = str(args[0]).partition(".")[0]
            if top in self.modules:
                self.saw(f"import:{top}")
                if self.cell_key is not None:
                    self.imports.setdefault(self.cell_key, set()).add(top)
        elif event in ESCAPES:
            self.saw(f"escape:{ESCAPES[event]}")

    @contextlib.contextmanager
    def cell(self, key: str):
        self.cell_key = key
        try:
            yield
        finally:
            self.cell_key = None

    @contextlib.contextmanager
    def call(self, traced: bool):
        """Trace one call; afterwards ``last`` is its evidence (empty when not traced)."""
        self.last = []
        if not traced:
            yield
            return
        self.found = set()
        before = _threads(before=True)
        _prepare_profiler(_CONFIG, _ACTIVITIES)
        _enable_profiler(_CONFIG, _ACTIVITIES)
        _mark_exit(_mark_enter(MARK, None))  # a trace without it was restarted midway
        self.active = True
        try:
            yield
        finally:
            self.active = False
            self.last = sorted(self.found | self._stop(before))

    def _stop(self, before: float) -> set[str]:
        found = set()
        if _hidden_thread(before, _threads(before=False)):
            found.add("escape:thread")
        try:
            events = _disable_profiler().events() if _profiler_enabled() else None
        except Exception:
            events = None
        if events is None:  # switched off by the call; set it up again for the next one
            self._prime()
            return found | {"escape:profiler"}
        names = {event.name() for event in events}
        if MARK not in names:
            found.add("escape:profiler")
        return found | (names & self.ops)
