"""Running benchmarks: what is timed, how often, and what is subtracted.

One benchmark is a :class:`Timed` target — a callable with its arguments, or a
statement compiled the way :mod:`timeit` compiles it — measured in *rounds*:

1. **Calibration** (in C, ``hotpath._timing.calibrate``): the loop count grows until one
   round lasts at least ``min_time``; that loop count is kept for every round.
2. **Clock** (:mod:`hotpath.bench.clock`): one clock for every target measured
   together, chosen once (``timer="auto"``: from a few probe rounds of each target).
3. **Warm-up**: ``warmup`` rounds that are thrown away (specialising interpreters need
   a few calls before they settle).
4. **Rounds**: each round runs the target ``loops`` times between two clock reads (in
   C, ``hotpath._timing.run``), with the garbage collector off unless ``gc=True``. A
   callable is called by the C loop; a statement is inlined in a Python ``for`` loop,
   as timeit's template does, and that loop function is called once per round. Right
   after it, a *reference round* times the same with nothing to do: an empty Python
   function of the same shape for Python functions, the C ``noop`` builtin for other
   callables, the same ``for`` loop around ``pass`` for statements.
5. **Subtraction**: the loop's own cost — the median per-call time of the reference
   rounds — is subtracted from every round. ``lambda: None`` therefore measures ~0, and
   a statement measures the cost of the statement alone. ``subtract=False`` keeps gross
   times: for a statement that is timeit's figure (loop time / number, the ``for``
   loop's own cost included).

Samples are seconds per call, one per round. Several targets can be measured with
their rounds interleaved (:func:`measure_interleaved`), so that drift of the machine
hits all of them alike — :func:`hotpath.bench.compare` is built on it.
"""
from __future__ import annotations

import asyncio
import functools
import gc as _gc
import inspect
import itertools
import keyword
import math
import textwrap
import time
import tracemalloc
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from hotpath import _timing
from hotpath.progress import note

from .clock import ClockChoice, Probe, fixed, median, probe_round
from .clock import choose as choose_auto
from .result import BenchResult

__all__ = ["Timed", "Options", "bench", "measure", "measure_interleaved", "prepare",
           "choose_clock", "run_rounds", "CLOCKS"]

#: Clock names accepted as ``timer=`` and their number in ``hotpath._timing``.
CLOCKS = {"perf": _timing.CLOCK_PERF, "process": _timing.CLOCK_PROCESS,
          "thread": _timing.CLOCK_THREAD}
_CLOCK_FUNCS = {time.perf_counter: "perf", time.perf_counter_ns: "perf",
                time.monotonic: "perf", time.process_time: "process",
                time.process_time_ns: "process", time.thread_time: "thread",
                time.thread_time_ns: "thread"}
_PY_CLOCKS = {"perf": time.perf_counter_ns, "process": time.process_time_ns,
              "thread": time.thread_time_ns}

MAX_ROUNDS = 100_000


@dataclass
class Options:
    """How to measure. Times are in seconds.

    ``min_time``: a round lasts at least this long (sets the loop count), unless
    ``number`` fixes the loop count. ``max_time``: the time budget for the rounds of
    one benchmark, which sets the number of rounds unless ``repeat`` fixes it; never
    fewer than ``min_rounds``. ``timer``: ``"perf"`` (wall clock, as timeit),
    ``"process"`` / ``"thread"`` (CPU time), or a zero-argument callable returning
    seconds; ``"auto"`` (default) chooses one clock for everything measured together:
    the thread's CPU time when the code runs on this thread without waiting, the wall
    clock otherwise (see :mod:`hotpath.bench.clock`). ``gc``: keep the garbage
    collector on while timing. ``subtract``: subtract the loop's own cost.
    ``processes``: run the rounds in that many fresh worker processes, one after
    another. ``memory``: also record the peak memory one call allocates (tracemalloc).
    ``measure``: ``"time"``, or ``"instructions"`` to count the instructions (and, with
    hardware counters, cycles, cache and branch misses) of one call as well
    (:mod:`hotpath.bench.counts`), reported beside the times.
    """

    min_time: float = 0.002
    max_time: float = 1.0
    min_rounds: int = 10
    number: int | None = None
    repeat: int | None = None
    warmup: int = 1
    timer: Any = "auto"
    gc: bool = False
    subtract: bool = True
    processes: int = 0
    memory: bool = False
    measure: str = "time"

    def clock_name(self) -> str | None:
        """The C clock to use, or None for a Python callable timer."""
        t = self.timer
        if isinstance(t, str):
            if t == "auto":
                return t
            if t not in CLOCKS:
                raise ValueError(f"timer must be 'auto', one of {sorted(CLOCKS)} or a callable, "
                                 f"not {t!r}")
            return t
        if callable(t):
            return _CLOCK_FUNCS.get(t)
        raise TypeError(f"timer must be a clock name or a callable, not {t!r}")

    def as_dict(self) -> dict:
        t = self.timer
        timer = t if isinstance(t, str) else getattr(t, "__qualname__", repr(t))
        return {"min_time": self.min_time, "max_time": self.max_time,
                "min_rounds": self.min_rounds, "number": self.number,
                "repeat": self.repeat, "warmup": self.warmup, "timer": timer,
                "disable_gc": not self.gc, "subtract": self.subtract,
                "processes": self.processes, "memory": self.memory,
                "measure": self.measure}


# ------------------------------------------------------------- compiled statements

# timeit's template, as a generator so that the setup runs once and state carries from
# one round to the next: setup and statement are fast locals of one function, as in
# timeit's ``inner``; each ``send(iterable)`` runs the statement once per item.
_TEMPLATE = """\
def __hotpath_make():
{setup}
    __hotpath_it = yield
    while True:
        for __hotpath_i in __hotpath_it:
{stmt}
        __hotpath_it = yield
"""

_ONCE = (None,)


def compile_statement(stmt: str, setup: str = "pass",
                      globals: dict | None = None) -> Callable[[], Any]:
    """Compile ``stmt`` into a zero-argument function, with ``setup`` run once first.

    As in :mod:`timeit`, setup and statement share one scope (one function's locals):
    names the setup binds are visible to the statement, and the statement may rebind
    them, so state carries from one call to the next just as it does from one
    iteration of timeit's loop to the next. ``globals`` is the namespace for everything
    else (a fresh one by default).

    The function's ``__hotpath_loop__(iterable)`` runs the statement once per item,
    inlined in a ``for`` loop in that scope — timeit's template — which is what rounds
    time.
    """
    for src, what in ((stmt, "statement"), (setup, "setup")):
        if not isinstance(src, str):
            raise TypeError(f"{what} must be a string here, not {type(src).__name__}")
        compile(src, f"<hotpath {what}>", "exec")          # a clear SyntaxError first
    stmt = textwrap.dedent(stmt).strip("\n") or "pass"
    setup = textwrap.dedent(setup).strip("\n") or "pass"
    source = _TEMPLATE.format(setup=textwrap.indent(setup, " " * 4),
                              stmt=textwrap.indent(stmt, " " * 12))
    ns = globals if globals is not None else {"__name__": "__hotpath_bench__"}
    exec(compile(source, "<hotpath bench>", "exec"), ns)
    gen = ns.pop("__hotpath_make")()
    next(gen)                                   # runs the setup
    loop = gen.send

    def fn() -> None:
        loop(_ONCE)

    fn.__hotpath_source__ = stmt
    fn.__hotpath_loop__ = loop
    return fn


def _empty_statement() -> Callable[[], None]:
    """The reference for compiled statements: the same template around ``pass``."""
    return compile_statement("pass")


# ----------------------------------------------------------------- reference calls


def _python_noop(nargs: int, kwnames: Sequence[str]) -> Callable[..., None]:
    """An empty Python function taking ``nargs`` positional and the given keyword
    arguments, so calling it costs what calling the target costs, minus its body."""
    names = [f"a{i}" for i in range(nargs)]
    if all(k.isidentifier() and not keyword.iskeyword(k) for k in kwnames):
        params = names + (["*"] + [f"{k}=None" for k in kwnames] if kwnames else [])
    else:
        params = names + ["**kw"]
    ns: dict = {}
    exec(f"def noop({', '.join(params)}):\n    pass\n", ns)
    return ns["noop"]


def reference_for(func: Callable, args: tuple, kwargs: dict) -> Callable:
    """A do-nothing callable whose call costs what calling ``func`` costs without its
    body: same kind (Python function, bound method, or anything else → C ``noop``)."""
    if isinstance(func, types.FunctionType):
        if getattr(func, "__hotpath_source__", None) is not None:
            return _empty_statement()
        return _python_noop(len(args), list(kwargs))
    if isinstance(func, types.MethodType) and isinstance(func.__func__, types.FunctionType):
        return types.MethodType(_python_noop(len(args) + 1, list(kwargs)), func.__self__)
    return _timing.noop


async def _anoop(*args, **kwargs):
    pass


# ------------------------------------------------------------------ a timed target


class Timed:
    """One target and how to run a round of it and of its reference.

    ``target`` is a callable (sync or ``async def``), or a statement string compiled
    with ``setup`` (a string) in ``globals``; a statement's rounds run it inlined in a
    ``for`` loop, as timeit does.
    """

    def __init__(self, target: Callable | str, args: tuple = (), kwargs: dict | None = None,
                 *, setup: str = "pass", globals: dict | None = None,
                 options: Options | None = None, name: str | None = None):
        self.options = options or Options()
        self.source: str | None = None
        self.setup = setup
        if isinstance(target, str):
            if args or kwargs:
                raise TypeError("a statement takes no arguments; bind names in setup")
            self.source = target
            target = compile_statement(target, setup, globals)
        elif not callable(target):
            raise TypeError(f"target must be callable or a statement string, not {type(target).__name__}")
        self.func = target
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.name = name or self.source or _callable_name(target)
        self.is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
            getattr(target, "__call__", None))  # noqa: B004  (the method, not a test)
        self.reference = _anoop if self.is_async else reference_for(target, self.args, self.kwargs)
        #: A statement: the for-loop functions a round calls once (timeit's template).
        self.loop_func = target.__hotpath_loop__ if self.source is not None else None
        self.reference_loop = (self.reference.__hotpath_loop__ if self.loop_func is not None
                               else None)
        asked = self.options.clock_name()
        #: timer="auto": calibrated on the wall clock; the comparison's clock is set by
        #: use_clock() before the rounds, which then read both clocks (the other one
        #: only to say how busy the machine was).
        self.auto = asked == "auto"
        self.clock_label = "perf" if self.auto else (asked or "custom")
        self.clock = CLOCKS.get(self.clock_label)
        self._py_timer = None if asked is not None else self.options.timer
        self.both = False
        self.last_other: float | None = None   # auto: the other clock, last round, per call
        self.probe: Probe | None = None
        self.loops = 0
        self._runner: asyncio.Runner | None = None

    @property
    def timer_name(self) -> str:
        """The timer as asked: "auto", a clock name, or a callable's name."""
        return self.options.as_dict()["timer"]

    # -- one round: seconds per call ---------------------------------------------

    def _call(self, reference: bool, loops: int) -> tuple[Callable, int, tuple, dict]:
        """What the C loop calls, how often, with what: a statement's loop function
        once with an iterator of ``loops`` items, any other target ``loops`` times."""
        if self.loop_func is not None:
            loop = self.reference_loop if reference else self.loop_func
            return loop, 1, (itertools.repeat(None, loops),), {}
        return (self.reference if reference else self.func), loops, self.args, self.kwargs

    def _round_of(self, reference: bool, loops: int) -> float:
        opts = self.options
        if self.is_async:
            return self._async_round(self.reference if reference else self.func, loops) / loops
        func, n, args, kwargs = self._call(reference, loops)
        if self.both:
            wall, cpu = _timing.run_both(func, n, args, kwargs, opts.gc)
            mine, other = (cpu, wall) if self.clock_label == "thread" else (wall, cpu)
            self.last_other = other * 1e-9 / loops
            return mine * 1e-9 / loops
        if self.clock is not None:
            return _timing.run(func, n, args, kwargs, self.clock, opts.gc) * 1e-9 / loops
        return self._py_round(func, n, args, kwargs) / loops

    def round(self) -> float:
        """Time one round of the target; seconds per call (gross)."""
        return self._round_of(False, self.loops)

    def reference_round(self) -> float:
        """Time one round of the reference; seconds per call."""
        return self._round_of(True, self.loops)

    def _py_round(self, func: Callable, n: int, args: tuple, kwargs: dict) -> float:
        timer = self._py_timer
        gc_was = _gc.isenabled()
        if not self.options.gc:
            _gc.disable()
        try:
            t0 = timer()
            for _ in range(n):
                func(*args, **kwargs)
            return timer() - t0
        finally:
            if gc_was:
                _gc.enable()

    def _async_round(self, func: Callable, loops: int) -> float:
        if self._runner is None:
            self._runner = asyncio.Runner()
        timer = self._py_timer or _PY_CLOCKS[self.clock_label]
        scale = 1.0 if self._py_timer else 1e-9
        args, kwargs = self.args, self.kwargs

        async def round_():
            t0 = timer()
            for _ in range(loops):
                await func(*args, **kwargs)
            return timer() - t0

        gc_was = _gc.isenabled()
        if not self.options.gc:
            _gc.disable()
        try:
            return self._runner.run(round_()) * scale
        finally:
            if gc_was:
                _gc.enable()

    def count_call(self, reference: bool, loops: int) -> tuple[Callable, int, tuple, dict]:
        """What a counted round calls (see hotpath.bench.counts): as :meth:`_call`; an
        ``async def`` target's round is one call that runs ``loops`` awaits in the
        event loop (created once per benchmark), the reference's the same around
        an empty coroutine, so the loop's own count is subtracted."""
        if not self.is_async:
            return self._call(reference, loops)
        if self._runner is None:
            self._runner = asyncio.Runner()
        func = self.reference if reference else self.func
        args, kwargs, run = self.args, self.kwargs, self._runner.run

        async def round_():
            for _ in range(loops):
                await func(*args, **kwargs)

        return (lambda: run(round_())), 1, (), {}

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    # -- calibration and the clock -----------------------------------------------

    def calibrate(self) -> float:
        """Set ``self.loops``; return the seconds per call seen while calibrating."""
        opts = self.options
        if opts.number is not None:
            if opts.number < 1:
                raise ValueError("number must be >= 1")
            self.loops = opts.number
            return self.round()
        target_ns = max(1, int(opts.min_time * 1e9))
        if self.clock is not None and not self.is_async and self.loop_func is None:
            loops, ns = _timing.calibrate(self.func, target_ns, self.args, self.kwargs,
                                          self.clock, opts.gc)
            self.loops = loops
            return ns * 1e-9 / loops

        loops = 1
        while True:             # the same rule as the C calibration
            per_call = self._round_of(False, loops)
            elapsed = per_call * loops * 1e9
            if elapsed >= target_ns:
                self.loops = loops
                return per_call
            if elapsed * 10 < target_ns:
                loops *= 10
            else:
                loops = max(loops + 1, int(loops * 1.05 * target_ns / elapsed))

    def probe_clock(self, rounds: int = 3) -> Probe:
        """timer="auto": a few rounds on every clock at once (see hotpath.bench.clock)."""
        probe = Probe()
        for _ in range(rounds):
            func, n, args, kwargs = self._call(False, self.loops)
            probe.add(*probe_round(
                lambda: _timing.run_both(func, n, args, kwargs, self.options.gc)))
        self.probe = probe
        return probe

    def use_clock(self, choice: ClockChoice) -> None:
        """Read ``choice``'s clock from now on (timer="auto"; a named timer is read
        from the start). Calibration ran on the wall clock, and on a busy machine part
        of that was time spent descheduled, which leaves CPU-time rounds short: grow
        the loop count (at most 20x) until the probe rounds held ``min_time`` of CPU."""
        if not self.auto or self.is_async:
            return
        self.clock_label, self.clock, self.both = choice.clock, CLOCKS[choice.clock], True
        if choice.clock == "thread" and self.options.number is None and self.probe:
            target_ns = self.options.min_time * 1e9
            cpu_ns = min(self.probe.cpu)
            if 0 < cpu_ns < target_ns:
                grow = min(20.0, target_ns * 1.05 / cpu_ns)
                self.loops = max(self.loops, math.ceil(self.loops * grow))

    def call_once(self) -> Any:
        """Call the target once, untimed, and return its result."""
        if self.is_async:
            if self._runner is None:
                self._runner = asyncio.Runner()
            return self._runner.run(self.func(*self.args, **self.kwargs))
        return self.func(*self.args, **self.kwargs)

    def peak_memory(self) -> int:
        """Peak bytes allocated during one call, above what was live before it."""
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            self.call_once()
            _, peak = tracemalloc.get_traced_memory()
            return max(0, peak - before)
        finally:
            if not was_tracing:
                tracemalloc.stop()


def _callable_name(fn: Callable) -> str:
    if isinstance(fn, functools.partial):
        return f"partial({_callable_name(fn.func)})"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name or type(fn).__qualname__


# ------------------------------------------------------------------ measuring


@dataclass
class _Raw:
    gross: list[float] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)
    #: timer="auto": the same rounds on the other clock (wall when CPU time is kept).
    other: list[float] = field(default_factory=list)
    loops: int = 0
    calibration: float = math.nan
    memory: int | None = None
    choice: ClockChoice | None = None


def _rounds_for(opts: Options, round_seconds: float) -> int:
    if opts.repeat is not None:
        if opts.repeat < 1:
            raise ValueError("repeat must be >= 1")
        return opts.repeat
    if round_seconds <= 0:
        return max(opts.min_rounds, 1)
    n = int(opts.max_time / round_seconds)
    return max(opts.min_rounds, min(n, MAX_ROUNDS), 1)


def prepare(targets: Sequence[Timed]) -> list[_Raw]:
    """Calibrate every target (and, for timer="auto", probe it for the clock)."""
    raws = [_Raw() for _ in targets]
    for t, raw in zip(targets, raws):
        raw.calibration = t.calibrate()
        if t.auto and not t.is_async:
            t.probe_clock()
        raw.loops = t.loops
    return raws


def choose_clock(targets: Sequence[Timed]) -> ClockChoice:
    """The one clock of a comparison of prepared targets."""
    timers = {t.timer_name for t in targets}
    if len(timers) > 1:
        raise ValueError(f"targets measured together must use one timer, not {sorted(timers)}")
    first = targets[0]
    if not first.auto:
        return fixed(first.timer_name, first.clock_label)
    return choose_auto([(t.name, None if t.is_async else t.probe) for t in targets])


def run_rounds(targets: Sequence[Timed], raws: Sequence[_Raw], choice: ClockChoice,
               rounds: int | None = None) -> None:
    """Run the rounds of prepared targets on ``choice``'s clock, interleaved — round r
    of every target before round r + 1 of any, with the order rotated each round so
    no target always goes first. The shared round count comes from the summed round
    times."""
    for t, raw in zip(targets, raws):
        t.use_clock(choice)
        raw.loops, raw.choice = t.loops, choice
    ref_cost: list[float | None] = [None] * len(targets)
    for _ in range(max(t.options.warmup for t in targets)):
        for j, t in enumerate(targets):
            t.round()
            if t.options.subtract:
                ref_cost[j] = t.reference_round()
    if rounds is None:
        # The round count comes from what a round of every target, plus its reference
        # round, costs; the reference is timed once here if warm-up did not.
        total = 0.0
        for j, (t, raw) in enumerate(zip(targets, raws)):
            if t.options.subtract and ref_cost[j] is None:
                ref_cost[j] = t.reference_round()
            total += (raw.calibration + (ref_cost[j] or 0.0)) * raw.loops
        rounds = _rounds_for(targets[0].options, total)
    k = len(targets)
    names = ", ".join(dict.fromkeys(t.name for t in targets))
    for r in range(rounds):
        note(f"{names}: round {r + 1} of {rounds}")
        for i in range(k):
            j = (i + r) % k
            t, raw = targets[j], raws[j]
            raw.gross.append(t.round())
            if t.both:
                raw.other.append(t.last_other)
            if t.options.subtract:
                raw.reference.append(t.reference_round())
    for t, raw in zip(targets, raws):
        if t.options.memory:
            raw.memory = t.peak_memory()
        t.close()


def measure_interleaved(targets: Sequence[Timed], rounds: int | None = None,
                        choice: ClockChoice | None = None) -> list[_Raw]:
    """Calibrate every target, choose one clock for all (unless ``choice`` is given),
    then run their rounds interleaved (:func:`run_rounds`)."""
    raws = prepare(targets)
    run_rounds(targets, raws, choice or choose_clock(targets), rounds)
    return raws


def _finish(t: Timed, raw: _Raw, *, group: str | None = None,
            params: dict | None = None) -> BenchResult:
    options = t.options.as_dict()
    choice = raw.choice or fixed(t.timer_name, t.clock_label)
    options["clock"] = choice.clock
    options["clock_reason"] = choice.reason
    gross, wall = raw.gross, None
    if raw.other and len(raw.other) == len(gross):
        cpu, walls = (gross, raw.other) if choice.clock == "thread" else (raw.other, gross)
        options["cpu_wall_ratio"] = median([c / w for c, w in zip(cpu, walls) if w > 0])
        if choice.clock == "thread":
            wall = list(raw.other)
    overhead = median(raw.reference) if raw.reference else 0.0
    result = BenchResult(
        name=t.name, samples=[g - overhead for g in gross], gross=list(gross),
        overhead=overhead, loops=raw.loops, options=options,
        memory_peak=raw.memory, source=t.source, group=group, params=params,
        is_async=t.is_async)
    result.wall = wall
    return result


def measure(t: Timed, *, group: str | None = None, params: dict | None = None) -> BenchResult:
    """Measure one target (in worker processes when ``options.processes`` > 0)."""
    if t.options.processes:
        raw = _measure_in_workers(t)
    else:
        raw = measure_interleaved([t])[0]
    result = _finish(t, raw, group=group, params=params)
    if t.options.measure == "instructions":
        add_counts([t], [result])
    return result


_measure_target = measure          # bench()'s `measure` argument hides the function
MEASURES = ("time", "instructions")


def add_counts(targets: Sequence[Timed], results: Sequence[BenchResult]) -> None:
    """Count the instructions of measured targets (one valgrind worker for all, where
    one is needed) and attach them to their results (``result.counts``)."""
    from .counts import measure_counts
    for t in targets:
        t.close()
    counted = measure_counts(list(targets))
    for r, c in zip(results, counted):
        r.counts = c


# ------------------------------------------------------------- worker processes


def _worker_main(spec: dict) -> dict:
    """Run in a fresh worker process: measure and send back the raw rounds."""
    opts = Options(**spec["options"])
    if spec["stmt"] is not None:
        t = Timed(spec["stmt"], setup=spec["setup"], options=opts)
    else:
        t = Timed(spec["func"], spec["args"], spec["kwargs"], options=opts)
    raw = measure_interleaved([t], rounds=spec["rounds"])[0]
    return {"gross": raw.gross, "reference": raw.reference, "memory": raw.memory}


def _measure_in_workers(t: Timed) -> _Raw:
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    opts = t.options
    n = opts.processes
    # Calibrate and choose the clock here, so every worker runs the same loop count on
    # the same clock; the rounds are split.
    prepare([t])
    choice = choose_clock([t])
    t.use_clock(choice)
    per_call = t.round()
    t.close()
    if opts.repeat is not None:
        total_rounds = opts.repeat
    else:
        total_rounds = _rounds_for(opts, per_call * t.loops * (2 if opts.subtract else 1))
    total_rounds = max(total_rounds, n)
    worker_opts = dict(vars(opts), processes=0, number=t.loops, repeat=None)
    if t.auto:
        worker_opts["timer"] = choice.clock
    elif not isinstance(worker_opts["timer"], str):
        worker_opts["timer"] = opts.clock_name() or worker_opts["timer"]
    spec: dict = {"options": worker_opts, "stmt": t.source, "setup": None,
                  "func": None, "args": t.args, "kwargs": t.kwargs}
    if t.source is not None:
        spec["setup"] = t.setup
    else:
        spec["func"] = t.func
    try:
        pickle.dumps(spec)
    except Exception as exc:
        raise ValueError("processes=N needs a target a worker process can import: a "
                         "module-level function with picklable arguments, or a "
                         f"statement string ({exc})") from None
    raw = _Raw(loops=t.loops, calibration=per_call, choice=choice)
    ctx = multiprocessing.get_context("spawn")
    for i in range(n):
        spec["rounds"] = total_rounds // n + (1 if i < total_rounds % n else 0)
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            out = pool.submit(_worker_main, spec).result()
        raw.gross.extend(out["gross"])
        raw.reference.extend(out["reference"])
        if out["memory"] is not None:
            raw.memory = max(raw.memory or 0, out["memory"])
    return raw


# ------------------------------------------------------------------- public API


def bench(target: Callable | str, *args: Any, kwargs: dict | None = None,
          setup: str | Callable[[], Any] | None = None, globals: dict | None = None,
          name: str | None = None, number: int | None = None, repeat: int | None = None,
          min_time: float = Options.min_time, max_time: float = Options.max_time,
          min_rounds: int = Options.min_rounds, warmup: int = Options.warmup,
          timer: Any = "auto", gc: bool = False, subtract: bool = True,
          processes: int = 0, memory: bool = False, measure: str = "time") -> BenchResult:
    """Benchmark a callable or a statement and return a :class:`BenchResult`.

    ``hotpath.bench(fn, *args, kwargs={...})`` times ``fn(*args, **kwargs)``;
    ``hotpath.bench("sorted(x)", setup="x = list(range(1000))")`` times a statement as
    ``python -m timeit`` does. A callable ``setup`` is called once (untimed) and what it
    returns becomes the arguments (a tuple is spread, anything else is one argument).

    ``number`` / ``repeat`` fix the loops per round / the rounds (timeit's ``-n`` /
    ``-r``); otherwise a round lasts at least ``min_time`` seconds and rounds continue
    for about ``max_time`` seconds (at least ``min_rounds``). See :class:`Options` for
    ``timer``, ``gc``, ``subtract``, ``processes``, ``memory`` and ``measure``
    (``"instructions"``: ``result.instructions`` is the per-call instruction count).

    Nothing is printed: ``print(result)`` shows the timeit-style summary.
    """
    opts = Options(min_time=min_time, max_time=max_time, min_rounds=min_rounds,
                   number=number, repeat=repeat, warmup=warmup, timer=timer, gc=gc,
                   subtract=subtract, processes=processes, memory=memory, measure=measure)
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, not {measure!r}")
    if isinstance(target, str):
        if args or kwargs:
            raise TypeError("a statement takes no arguments; bind names in setup")
        if setup is not None and not isinstance(setup, str):
            raise TypeError("with a statement, setup must be a string")
        if globals is not None and processes:
            raise ValueError("globals= cannot be sent to worker processes; bind names in setup")
        t = Timed(target, setup=setup or "pass", globals=globals, options=opts, name=name)
    else:
        if setup is not None:
            if not callable(setup):
                raise TypeError("with a callable target, setup must be callable")
            if args:
                raise TypeError("pass either arguments or a setup that returns them")
            args = _as_args(setup())
        t = Timed(target, args, kwargs, options=opts, name=name)
    return _measure_target(t)


def _as_args(value: Any) -> tuple:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)
