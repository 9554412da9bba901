"""``hotpath.LineProfiler``: line timings with line_profiler's API, on hotpath's C capture.

    from hotpath import LineProfiler
    lp = LineProfiler()

    @lp                       # or lp.add_function(f); lp.enable() ... lp.disable()
    def f(): ...

    f()
    lp.print_stats()          # kernprof's table: Line #, Hits, Time, Per Hit, % Time

Hits and the attribution of time follow line_profiler exactly: a line's time runs from
its line event to the next event of the same frame (next line, return, yield, and on
3.12+ a raise), and the line gets one hit each time that interval closes. Only the code
objects handed to the profiler are traced: on 3.12+ the rest of the program runs at full
speed (sys.monitoring local events); on 3.11 a C trace hook mutes every other frame on
its first event.

``hotpath.profile`` is a decorator that does nothing unless line profiling is active
(``hotpath run --lines``, or ``HOTPATH_LINES=1`` in the environment, which prints the
table at exit); ``hotpath run --lines`` also makes it available as the builtin
``profile``, as kernprof does.
"""
from __future__ import annotations

import atexit
import functools
import inspect
import os
import pickle
import sys
import types
from typing import Any, TextIO

from hotpath.model.lines import NS, AutoChoice, FunctionLines, Key, LineData

from ._runmixin import RunMixin

__all__ = ["LineProfiler", "LineStats", "load_stats", "profile", "show_func", "show_text"]



class LineStats:
    """Line timings, shaped like line_profiler's ``LineStats``.

    ``timings`` maps ``(filename, first line, qualified name)`` to a sorted list of
    ``(lineno, hits, time)``; times are integers in ``unit`` seconds (1e-9).
    """

    def __init__(self, timings: dict[tuple[str, int, str], list[tuple[int, int, int]]],
                 unit: float = NS, notes: dict[tuple[str, int, str], str] | None = None):
        self.timings = timings
        self.unit = unit
        #: key → a remark shown under the function's header (e.g. when auto mode chose it)
        self.notes = notes or {}

    def __repr__(self) -> str:
        return f"LineStats({len(self.timings)} functions, unit={self.unit!r})"

    def __eq__(self, other: object) -> bool:
        if not hasattr(other, "timings") or not hasattr(other, "unit"):
            return NotImplemented
        return self.unit == other.unit and self.timings == other.timings  # type: ignore[attr-defined]

    def __add__(self, other: Any) -> "LineStats":
        out = LineStats({k: list(v) for k, v in self.timings.items()}, self.unit, dict(self.notes))
        out += other
        return out

    def __iadd__(self, other: Any) -> "LineStats":
        scale = other.unit / self.unit
        for key, rows in other.timings.items():
            merged = {ln: (h, t) for ln, h, t in self.timings.get(key, [])}
            for ln, h, t in rows:
                h0, t0 = merged.get(ln, (0, 0))
                merged[ln] = (h0 + h, t0 + round(t * scale))
            self.timings[key] = sorted((ln, h, t) for ln, (h, t) in merged.items())
        return self

    def print(self, stream: TextIO | None = None, output_unit: float | None = None,
              stripzeros: bool = False, details: bool = True, summarize: bool = False,
              sort: bool = False, rich: bool = False) -> None:
        show_text(self.timings, self.unit, output_unit=output_unit, stream=stream,
                  stripzeros=stripzeros, details=details, summarize=summarize, sort=sort,
                  notes=self.notes)

    def to_file(self, filename: str | os.PathLike[str]) -> None:
        """Pickle, as line_profiler's ``dump_stats`` (``python -m line_profiler`` reads it
        where hotpath is importable)."""
        with open(filename, "wb") as f:
            pickle.dump(self, f, pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_files(cls, file: str | os.PathLike[str], /, *files: str | os.PathLike[str]) -> "LineStats":
        stats = load_stats(file)
        for other in files:
            stats += load_stats(other)
        return stats


def load_stats(filename: str | os.PathLike[str]) -> LineStats:
    """Read a file written by ``dump_stats`` (hotpath's or line_profiler's)."""
    with open(filename, "rb") as f:
        obj = pickle.load(f)
    if isinstance(obj, LineStats):
        return obj
    return LineStats(dict(obj.timings), obj.unit)


def show_func(*args: Any, **kwargs: Any) -> None:
    """kernprof's table for one function (see ``hotpath.report.lines.show_func``)."""
    from hotpath.report.lines import show_func as impl
    impl(*args, **kwargs)


def show_text(*args: Any, **kwargs: Any) -> None:
    """kernprof's tables for many functions (see ``hotpath.report.lines.show_text``)."""
    from hotpath.report.lines import show_text as impl
    impl(*args, **kwargs)


# -- finding code objects ---------------------------------------------------------------

def _functions_of(obj: Any) -> list[Any]:
    """The plain functions behind ``obj``: a function, bound/static/class method,
    property, partial, cached_property. Empty for what has no Python code."""
    if isinstance(obj, (staticmethod, classmethod, types.MethodType)):
        return _functions_of(obj.__func__)
    if isinstance(obj, property):
        return [f for part in (obj.fget, obj.fset, obj.fdel) if part is not None
                for f in _functions_of(part)]
    if isinstance(obj, (functools.partial, functools.partialmethod)):
        return _functions_of(obj.func)
    if isinstance(obj, functools.cached_property):
        return _functions_of(obj.func)
    if isinstance(getattr(obj, "__code__", None), types.CodeType):
        return [obj]
    return []


def _label(code: types.CodeType) -> tuple[str, int, str]:
    return (code.co_filename, code.co_firstlineno, code.co_qualname)


# -- the profiler ---------------------------------------------------------------------------

class LineProfiler(RunMixin):
    """LineProfiler(*functions): time the lines of chosen functions.

    line_profiler's API: ``add_function``, ``add_callable``, ``add_class``,
    ``add_module``, ``enable``/``disable``, ``enable_by_count``/``disable_by_count``,
    ``runcall``, ``run``, ``runctx``, ``get_stats``, ``print_stats``, ``dump_stats``; an
    instance decorates functions (recording while a decorated call runs) and is a
    context manager (recording inside the block).
    """

    timer_unit = NS

    def __init__(self, *functions: Any) -> None:
        from hotpath import _core
        self._tracer = _core.LineTracer()
        self.functions: list[Any] = []
        self._codes: list[types.CodeType] = []
        for f in functions:
            self.add_function(f)

    # -- choosing what to time -------------------------------------------------------

    def add_code(self, code: types.CodeType) -> bool:
        """Time the lines of one code object. True when it was not timed yet."""
        new = self._tracer.add_code(code)
        if new and code not in self._codes:
            self._codes.append(code)
        return bool(new)

    def add_function(self, func: Any) -> int:
        """Time the lines of ``func`` (function, method, property, partial, ...).
        Returns the number of code objects added."""
        funcs = _functions_of(func)
        if not funcs:
            if inspect.isclass(func):
                return self.add_class(func)
            raise TypeError(f"cannot line-profile {func!r}: it has no Python code")
        n = 0
        for f in funcs:
            if self.add_code(f.__code__):
                n += 1
            if f not in self.functions:
                self.functions.append(f)
        return n

    add_callable = add_function

    def add_class(self, cls: type) -> int:
        """Time every method defined in the class body (not inherited ones)."""
        n = 0
        for value in list(vars(cls).values()):
            for f in _functions_of(value):
                if f.__qualname__.startswith(cls.__qualname__ + "."):
                    n += self.add_function(f)
        return n

    def add_module(self, mod: types.ModuleType) -> int:
        """Time every function and method defined in ``mod``. Returns how many code
        objects were added."""
        n = 0
        name = mod.__name__
        for value in list(vars(mod).values()):
            if inspect.isclass(value) and value.__module__ == name:
                n += self.add_class(value)
                continue
            for f in _functions_of(value):
                if getattr(f, "__module__", None) == name:
                    n += self.add_function(f)
        return n

    # -- recording ---------------------------------------------------------------------

    def enable(self) -> None:
        """Start timing (every thread) until ``disable()``."""
        self._tracer.enable()

    def disable(self) -> None:
        self._tracer.disable()

    def enable_by_count(self) -> None:
        """Start timing unless already started; nests with ``disable_by_count``."""
        self._tracer.enable_by_count()

    def disable_by_count(self) -> None:
        self._tracer.disable_by_count()

    @property
    def enabled(self) -> bool:
        return self._tracer.enabled

    def auto(self, **options: Any) -> None:
        """Choose hot functions automatically while enabled (see ``hotpath run
        --lines=auto``): ``interval``, ``min_samples``, ``fraction``,
        ``max_functions``, ``exclude`` (filename prefixes)."""
        self._tracer.auto(**options)

    def __call__(self, func: Any) -> Any:
        """Decorate: time ``func``'s lines while it runs."""
        if inspect.isclass(func):
            self.add_class(func)
            return func
        self.add_function(func)
        return self.wrap_function(func)

    def wrap_function(self, func: Any) -> Any:
        """A wrapper recording while ``func`` runs (each step, for generators)."""
        if isinstance(func, (staticmethod, classmethod)):
            return type(func)(self.wrap_function(func.__func__))
        if isinstance(func, property):
            return property(*(self.wrap_function(f) if f else None
                              for f in (func.fget, func.fset, func.fdel)), func.__doc__)
        on, off = self._tracer.enable_by_count, self._tracer.disable_by_count
        if inspect.isasyncgenfunction(func):
            @functools.wraps(func)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
                agen = func(*args, **kwargs)
                sent = None
                while True:
                    on()
                    try:
                        item = await agen.asend(sent)
                    except StopAsyncIteration:
                        return
                    finally:
                        off()
                    sent = yield item
            return agen_wrapper
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def coro_wrapper(*args: Any, **kwargs: Any) -> Any:
                on()
                try:
                    return await func(*args, **kwargs)
                finally:
                    off()
            return coro_wrapper
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                gen = func(*args, **kwargs)
                sent = None
                while True:
                    on()
                    try:
                        item = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        off()
                    sent = yield item
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            on()
            try:
                return func(*args, **kwargs)
            finally:
                off()
        return wrapper

    # run / runctx / runcall / with: RunMixin, nesting as enable_by_count does.
    _run_on = enable_by_count
    _run_off = disable_by_count

    # -- results -------------------------------------------------------------------------

    def _snapshot(self) -> dict[str, Any]:
        return self._tracer.snapshot()

    def get_stats(self) -> LineStats:
        """The timings: ``.timings`` {(file, first line, name): [(line, hits, time)]},
        ``.unit`` (seconds per time unit: 1e-9)."""
        snap = self._snapshot()
        return _stats_from_snapshot(snap)

    def print_stats(self, stream: TextIO | None = None, output_unit: float | None = 1e-6,
                    stripzeros: bool = False, details: bool = True, summarize: bool = False,
                    sort: bool = False, rich: bool = False) -> None:
        """kernprof's table (Timer unit 1e-06 s unless ``output_unit`` says otherwise)."""
        self.get_stats().print(stream=stream, output_unit=output_unit, stripzeros=stripzeros,
                               details=details, summarize=summarize, sort=sort)

    def dump_stats(self, filename: str | os.PathLike[str]) -> None:
        self.get_stats().to_file(filename)

    def clear(self) -> None:
        """Zero every counter (the functions stay chosen)."""
        self._tracer.clear()

    def line_data(self, mode: str = "explicit") -> dict[str, Any]:
        """The timings as the JSON-able section ``profile.extra["lines"]``."""
        return line_data_from_snapshot(self._snapshot(), mode)


def _line_data(snap: dict[str, Any], mode: str = "explicit") -> LineData:
    """The C snapshot as the model: per code object's label, its rows summed (two code
    objects may share a label), in the order the C side lists them."""
    scale = snap["tick_seconds"] / NS
    rows: dict[Key, dict[int, tuple[int, int]]] = {}
    autos: dict[Key, AutoChoice] = {}
    for code, lines, auto in snap["codes"]:
        key = _label(code)
        acc = rows.setdefault(key, {})
        for ln, hits, ticks in lines:
            h0, t0 = acc.get(ln, (0, 0))
            acc[ln] = (h0 + hits, t0 + round(ticks * scale))
        if auto is not None:
            autos[key] = AutoChoice(*auto)
    return LineData([FunctionLines(*key, sorted((ln, h, t) for ln, (h, t) in acc.items()),
                                   autos.get(key))
                     for key, acc in rows.items()],
                    NS, mode, snap["clock"], snap["samples"])


def _stats_from_snapshot(snap: dict[str, Any]) -> LineStats:
    return stats_from_line_data(_line_data(snap))


def line_data_from_snapshot(snap: dict[str, Any], mode: str) -> dict[str, Any]:
    """``profile.extra["lines"]`` (``hotpath.model.lines.LineData``'s section)."""
    return _line_data(snap, mode).to_section()


def stats_from_line_data(data: dict[str, Any] | LineData) -> LineStats:
    """A LineStats from a profile file's section (or its ``LineData``)."""
    if not isinstance(data, LineData):
        data = LineData.from_section(data)
    return LineStats(data.timings(), data.unit, data.notes())


# -- hotpath.profile ------------------------------------------------------------------------

class _GlobalProfile:
    """``@hotpath.profile``: line-profiles the function when line profiling is active
    (``hotpath run --lines``, or ``HOTPATH_LINES=1``), and otherwise returns it as is."""

    def __init__(self) -> None:
        self.profiler: LineProfiler | None = None
        self._env_checked = False

    def install(self, profiler: LineProfiler | None) -> None:
        """Make ``profiler`` the one ``@profile`` registers with (None: pass through)."""
        self.profiler = profiler

    def _from_env(self) -> None:
        self._env_checked = True
        if os.environ.get("HOTPATH_LINES", "").lower() not in ("1", "true", "yes", "on"):
            return
        lp = LineProfiler()
        lp.enable()
        self.profiler = lp

        def report() -> None:
            try:
                lp.disable()
            except Exception as e:  # pragma: no cover - a capture error at exit
                sys.stderr.write(f"hotpath: warning: {e}\n")
            lp.print_stats(stream=sys.stdout, stripzeros=True)
        atexit.register(report)

    def __call__(self, func: Any) -> Any:
        if self.profiler is None and not self._env_checked:
            self._from_env()
        lp = self.profiler
        if lp is None:
            return func
        if inspect.isclass(func):
            lp.add_class(func)
        else:
            lp.add_function(func)
        return func     # the profiler records for the whole run: no wrapper needed

    def add_function(self, func: Any) -> Any:
        return self(func)

    def __repr__(self) -> str:
        state = "active" if self.profiler is not None else "inactive (passes functions through)"
        return f"<hotpath.profile: {state}>"


profile = _GlobalProfile()
