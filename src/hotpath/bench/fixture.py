"""The pytest benchmark fixture object (no pytest import here; see pytest_plugin).

Compatible with pytest-benchmark's ``BenchmarkFixture`` where it matters to tests:
``benchmark(fn, *args, **kwargs)`` and ``benchmark.pedantic(target, args, kwargs,
setup, teardown, rounds, warmup_rounds, iterations)`` return what the target returns;
``benchmark.extra_info``, ``benchmark.group``, ``benchmark.name``, ``benchmark.stats``
(``.stats.mean``, ``["mean"]``) behave the same. Beyond it:

* several benchmarks in one test: call it more than once, or name them with
  ``benchmark.case("name")(fn, *args)`` — each becomes its own benchmark
  ``test_name::name``;
* ``pedantic(setup=..., iterations=N)``: setup runs N times before each round, untimed,
  and the N calls are then timed in one loop (pytest-benchmark refuses this);
* ``async def`` targets are awaited, each round in one event-loop run;
* ``benchmark.baseline = True`` (or ``case(..., baseline=True)``) makes this benchmark
  the one its group is compared with;
* ``measure="instructions"`` (``--hotpath-measure``): each plain call's benchmark also
  gets its instruction counts (:mod:`hotpath.bench.counts`); ``pedantic`` benchmarks
  are timed only.
"""
from __future__ import annotations

import asyncio
import gc as _gc
import inspect
import os
import time
from dataclasses import replace
from typing import Any, Callable

from hotpath import _timing

from . import counts
from .result import BenchResult
from .clock import Probe, fixed, probe_round
from .clock import choose as choose_auto
from .runner import (_PY_CLOCKS, CLOCKS, Options, Timed, _anoop, _finish, _Raw, measure,
                     reference_for)

__all__ = ["BenchmarkFixture", "StatsView"]


class StatsView:
    """What pytest-benchmark's ``benchmark.stats`` offers: ``.stats.<field>`` and
    ``["<field>"]`` for min, max, mean, stddev, median, iqr, q1, q3, rounds, total,
    ops, data."""

    def __init__(self, result: BenchResult):
        self.result = result
        self.stats = _StatsFields(result)
        self.name = result.name
        self.group = result.group
        self.iterations = result.loops
        self.extra_info = result.extra_info

    def __getitem__(self, key: str) -> Any:
        return getattr(self.stats, key)

    def as_dict(self) -> dict:
        return self.result.to_dict()


class _StatsFields:
    def __init__(self, result: BenchResult):
        self._r = result

    def __getattr__(self, name: str) -> Any:
        if name == "data":
            return list(self._r.samples)
        if name == "iterations":
            return self._r.loops
        s = self._r.stats
        if hasattr(s, name):
            return getattr(s, name)
        raise AttributeError(name)


class BenchmarkFixture:
    """One test's benchmark fixture. ``record`` receives each finished BenchResult."""

    def __init__(self, name: str, fullname: str, options: Options, *,
                 group: str | None = None, baseline: bool = False,
                 params: dict | None = None, param: str | None = None,
                 disabled: bool = False):
        self.name = name
        self.fullname = fullname
        self.group = group
        self.baseline = baseline
        self.params = params
        self.param = param
        self.extra_info: dict = {}
        self.disabled = disabled
        self.options = options
        self.results: list[tuple[BenchResult, "_Case | None"]] = []
        self._unnamed = 0
        #: measure="instructions" where only valgrind counts: this test's benchmarks
        #: are counted when the session re-runs it under callgrind.
        self.counts_pending = False

    @property
    def enabled(self) -> bool:
        return not self.disabled

    @property
    def stats(self) -> StatsView | None:
        """The last benchmark's statistics (pytest-benchmark's ``benchmark.stats``)."""
        return StatsView(self.results[-1][0]) if self.results else None

    # -------------------------------------------------------------- entry points

    def __call__(self, function_to_benchmark: Callable, *args: Any, **kwargs: Any) -> Any:
        """Benchmark ``function_to_benchmark(*args, **kwargs)`` with calibrated loops;
        return what one more (untimed) call returns."""
        return self._bench(None, function_to_benchmark, args, kwargs)

    def pedantic(self, target: Callable, args: tuple = (), kwargs: dict | None = None,
                 setup: Callable | None = None, teardown: Callable | None = None,
                 rounds: int = 1, warmup_rounds: int = 0, iterations: int = 1) -> Any:
        """Benchmark with everything fixed by hand, as in pytest-benchmark.

        ``setup()`` runs before each call, untimed; if it returns ``(args, kwargs)``
        those are the call's arguments. With ``iterations > 1`` the setups of a round
        all run first, then the round times the ``iterations`` calls in one loop.
        ``teardown(*args, **kwargs)`` runs after each round for each call's arguments.
        """
        return self._pedantic(None, target, args, kwargs, setup, teardown, rounds,
                              warmup_rounds, iterations)

    def case(self, name: str, *, group: str | None = None, baseline: bool = False) -> "_Case":
        """A named benchmark in this test: ``benchmark.case("sorted")(sorted, data)``,
        ``benchmark.case("inplace").pedantic(...)``."""
        return _Case(self, name, group, baseline)

    # ---------------------------------------------------------------- internals

    def _label(self, case: "_Case | None", func: Callable) -> tuple[str, str]:
        if case is not None:
            suffix = case.name
        else:
            self._unnamed += 1
            if self._unnamed == 1:
                return self.name, self.fullname
            suffix = getattr(func, "__name__", "call") + f"#{self._unnamed}"
        return f"{self.name}::{suffix}", f"{self.fullname}::{suffix}"

    def _store(self, result: BenchResult, case: "_Case | None", name: str, fullname: str) -> None:
        result.name, result.fullname = name, fullname
        result.params, result.param = self.params, self.param
        self.results.append((result, case))

    def finalize(self) -> list[BenchResult]:
        """Fix group, baseline and extra_info as they are at the end of the test."""
        out = []
        for result, case in self.results:
            result.group = (case.group if case and case.group else None) or self.group
            result.baseline = case.baseline if case else self.baseline
            result.extra_info = dict(self.extra_info)
            out.append(result)
        return out

    def _bench(self, case, func, args, kwargs) -> Any:
        if self.disabled:
            return _call_once(func, args, kwargs)
        name, fullname = self._label(case, func)
        t = Timed(func, args, kwargs, options=self.options, name=name)
        counting = self.options.measure == "instructions"
        try:
            if counting and os.environ.get(counts.COUNTS_ONLY_ENV):
                # The session's re-run under callgrind: count, time nothing.
                result = BenchResult(name=name, samples=[], loops=0,
                                     options=self.options.as_dict(),
                                     counts=counts.count_target(t))
            else:
                t.options = replace(self.options, measure="time")
                result = measure(t)
                result.options["measure"] = self.options.measure
                if counting:
                    how = counts.backend()
                    if how == "valgrind":
                        self.counts_pending = True
                    else:
                        result.counts = counts.count_target(t, how=how)
        finally:
            t.close()
        self._store(result, case, name, fullname)
        return _call_once(func, args, kwargs)

    def _pedantic(self, case, target, args, kwargs, setup, teardown, rounds, warmup_rounds,
                  iterations) -> Any:
        kwargs = dict(kwargs or {})
        if not isinstance(iterations, int) or iterations < 1:
            raise ValueError("Must have positive int for `iterations`.")
        if not isinstance(rounds, int) or rounds < 1:
            raise ValueError("Must have positive int for `rounds`.")
        if not isinstance(warmup_rounds, int) or warmup_rounds < 0:
            raise ValueError("Must have positive int for `warmup_rounds`.")
        has_args = bool(args or kwargs)

        def make_call() -> tuple[tuple, dict]:
            if setup is not None:
                made = setup()
                if made:
                    if has_args:
                        raise TypeError("Can't use `args` or `kwargs` if `setup` returns the arguments.")
                    a, k = made
                    return tuple(a), dict(k or {})
            return tuple(args), kwargs

        if self.disabled:
            a, k = make_call()
            out = _call_once(target, a, k)
            if teardown is not None:
                teardown(*a, **k)
            return out
        name, fullname = self._label(case, target)
        opts = self.options
        is_async = inspect.iscoroutinefunction(target)
        t = Timed(target, options=opts, name=name)
        # One clock for the benchmark: a named one as asked; timer="auto" reads the
        # thread's CPU clock and the wall clock for every round and chooses once, at
        # the end, by the rule of hotpath.bench.clock.
        auto = t.auto and not is_async
        probe = Probe() if auto else None
        runner = asyncio.Runner() if is_async else None

        def one_round(func: Callable, calls: list, probed: bool) -> tuple[float, float | None]:
            """Seconds per call on the benchmark's clock; with auto, (cpu, wall)."""
            n = len(calls)
            if runner is not None:
                return _async_round(runner, func, calls, opts.gc, _py_clock(t)) / n, None
            if auto:
                wall, cpu, proc, switches = probe_round(
                    lambda: _wall_and_cpu(func, calls, opts.gc))
                if probed:
                    probe.add(wall, cpu, proc, switches)
                return cpu * 1e-9 / n, wall * 1e-9 / n
            if t.clock is None:                      # a Python callable timer
                timer = t._py_timer
                t0 = timer()
                _timing.run_each(func, calls, CLOCKS["perf"], opts.gc)
                return (timer() - t0) / n, None
            return _timing.run_each(func, calls, t.clock, opts.gc) * 1e-9 / n, None

        raw = _Raw(loops=iterations)
        ref_other: list[float] = []
        reference = None
        try:
            for r in range(warmup_rounds + rounds):
                calls = [make_call() for _ in range(iterations)]
                if reference is None:
                    reference = _anoop if is_async else reference_for(target, *calls[0])
                gross, other = one_round(target, calls, r >= warmup_rounds)
                if teardown is not None:
                    for a, k in calls:
                        teardown(*a, **k)
                ref = one_round(reference, calls, False) if opts.subtract else None
                if r >= warmup_rounds:
                    raw.gross.append(gross)
                    if other is not None:
                        raw.other.append(other)
                    if ref is not None:
                        raw.reference.append(ref[0])
                        if ref[1] is not None:
                            ref_other.append(ref[1])
            a, k = make_call()
            out = runner.run(target(*a, **k)) if runner is not None else target(*a, **k)
            if teardown is not None:
                teardown(*a, **k)
        finally:
            if runner is not None:
                runner.close()
        if auto:
            raw.choice = choose_auto([(name, probe)])
            if raw.choice.clock != "thread":         # keep the wall clock's rounds
                raw.gross, raw.other = raw.other, raw.gross
                raw.reference = ref_other
        elif is_async and t.auto:
            raw.choice = choose_auto([(name, None)])
        else:
            raw.choice = fixed(t.timer_name, t.clock_label)
        result = _finish(t, raw)
        result.options = dict(result.options, pedantic=True, rounds=rounds,
                              warmup_rounds=warmup_rounds, iterations=iterations)
        self._store(result, case, name, fullname)
        return out


def _py_clock(t: Timed) -> tuple[Callable[[], float], float]:
    """The Python clock for async rounds and its scale to seconds: the benchmark's own
    (the wall clock under timer="auto": the event loop may wait)."""
    if t._py_timer is not None:
        return t._py_timer, 1.0
    return _PY_CLOCKS.get(t.clock_label, time.perf_counter_ns), 1e-9


def _wall_and_cpu(func: Callable, calls: list, keep_gc: bool) -> tuple[int, int]:
    """One round over prepared calls on the thread's CPU clock (in C), with the wall
    clock read around it: (wall_ns, cpu_ns)."""
    w0 = time.perf_counter_ns()
    cpu = _timing.run_each(func, calls, CLOCKS["thread"], keep_gc)
    return time.perf_counter_ns() - w0, cpu


def _async_round(runner: asyncio.Runner, func: Callable, calls: list, keep_gc: bool,
                 clock: tuple[Callable[[], float], float]) -> float:
    timer, scale = clock

    async def round_():
        t0 = timer()
        for a, k in calls:
            await func(*a, **k)
        return timer() - t0

    gc_was = _gc.isenabled()
    if not keep_gc:
        _gc.disable()
    try:
        return runner.run(round_()) * scale
    finally:
        if gc_was:
            _gc.enable()


def _call_once(func: Callable, args: tuple, kwargs: dict) -> Any:
    if inspect.iscoroutinefunction(func):
        return asyncio.run(func(*args, **kwargs))
    return func(*args, **kwargs)


class _Case:
    """A named benchmark inside a test (see :meth:`BenchmarkFixture.case`)."""

    def __init__(self, fixture: BenchmarkFixture, name: str, group: str | None, baseline: bool):
        self.fixture, self.name, self.group, self.baseline = fixture, name, group, baseline

    def __call__(self, function_to_benchmark: Callable, *args: Any, **kwargs: Any) -> Any:
        return self.fixture._bench(self, function_to_benchmark, args, kwargs)

    def pedantic(self, target: Callable, args: tuple = (), kwargs: dict | None = None,
                 setup: Callable | None = None, teardown: Callable | None = None,
                 rounds: int = 1, warmup_rounds: int = 0, iterations: int = 1) -> Any:
        return self.fixture._pedantic(self, target, args, kwargs, setup, teardown, rounds,
                                      warmup_rounds, iterations)
