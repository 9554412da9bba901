"""The lines mode (``hotpath run --lines[=auto] [-f SPEC ...]``), and the selection of
functions by ``@profile`` and ``-f`` that the memory mode's line-by-line view uses too."""
from __future__ import annotations

import inspect
import os
import shlex
import sys
import types
from typing import Any, Callable, Iterable, TextIO

from hotpath.capture.lines import LineProfiler, profile
from hotpath.model import Profile

from .modes import Mode

__all__ = ["LinesMode", "Selection", "resolve_targets", "SHARES_TRACE_HOOK",
           "trace_hook_holder"]


def resolve_targets(specs: Iterable[str]) -> list[tuple[str, str, str]]:
    """Parse ``-f`` specs: ``pkg.mod:func`` or ``path/file.py:Class.method``.
    Returns (spec, filename or module name, qualname) triples; raises ValueError."""
    out = []
    for spec in specs:
        target, sep, qual = spec.rpartition(":")
        if not sep or not target or not qual:
            raise ValueError(f"-f {spec!r}: expected pkg.mod:func or path/file.py:Class.method")
        out.append((spec, target, qual))
    return out


def absolute_specs(specs: Iterable[tuple[str, str, str]]) -> list[str]:
    """``-f`` specs (as ``resolve_targets`` gives them) with file paths made absolute,
    for a child process whose working directory may differ."""
    out = []
    for spec, target, qual in specs:
        if target.endswith(".py") or os.sep in target or "/" in target:
            spec = f"{os.path.abspath(target)}:{qual}"
        out.append(spec)
    return out


def _auto_exclusions() -> tuple[str, ...]:
    """Files --lines=auto never chooses: hotpath's own, and the standard library's
    waiting places (a thread blocked in them has them as its innermost frame)."""
    import sysconfig
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # hotpath/
    stdlib = sysconfig.get_paths()["stdlib"]
    waits = ["threading.py", "queue.py", "selectors.py", "subprocess.py",
             os.path.join("asyncio", ""), os.path.join("concurrent", ""),
             os.path.join("multiprocessing", "")]
    return (here + os.sep, *(os.path.join(stdlib, w) for w in waits))


#: Before 3.12 line events come from the interpreter's one trace hook (sys.settrace),
#: which a debugger or coverage may hold or take; from 3.12 sys.monitoring lets them coexist.
SHARES_TRACE_HOOK = sys.version_info < (3, 12)


def trace_hook_holder() -> str:
    """Who holds the trace hook now, for a message: 'coverage (coverage.tracer.CTracer)',
    or 'nothing' when it was removed."""
    t = sys.gettrace()
    if t is None:
        return "nothing"
    kind = t if isinstance(t, (types.FunctionType, types.MethodType)) else type(t)
    module = getattr(kind, "__module__", None) or "?"
    name = f"{module}.{getattr(kind, '__qualname__', getattr(kind, '__name__', '?'))}"
    return f"{module.split('.')[0]} ({name})"


class Selection:
    """The functions a run chooses for line-by-line views: ``@profile`` (also made a
    builtin, as kernprof does) and ``-f`` names, resolved now or when their module's code
    is executed. ``lp`` is what they are added to: a ``LineProfiler`` for timings, a
    ``MemLineProfiler`` for memory. ``watch_exec(callback)`` arranges for
    ``callback(code)`` to see each module's code as it is executed (default: a Python
    audit hook)."""

    def __init__(self, lp: Any, specs: Iterable[str] = (),
                 watch_exec: Callable[[Callable[[types.CodeType], None]], None] | None = None
                 ) -> None:
        self.lp = lp
        self.specs = resolve_targets(specs)   # ValueError on a malformed spec
        self.found: set[str] = set()
        self._pending: dict[str, list[tuple[str, str]]] = {}   # realpath -> [(spec, qualname)]
        self._watch = watch_exec

    def install(self) -> None:
        """Before the program starts: ``profile`` in builtins, ``-f`` targets resolved
        now or when their module's code is executed."""
        import builtins
        profile.install(self.lp)
        if not hasattr(builtins, "profile"):
            builtins.profile = profile       # type: ignore[attr-defined]
            self._builtin = True
        for spec, target, qual in self.specs:
            if target.endswith(".py") or os.sep in target or "/" in target:
                path = os.path.realpath(target)
                if not os.path.exists(path):
                    raise ValueError(f"-f {spec!r}: no such file {target!r}")
            else:
                mod = sys.modules.get(target)
                if mod is not None and self._add_qualname(mod, qual):
                    self.found.add(spec)
                    continue
                import importlib.util
                try:
                    found = importlib.util.find_spec(target)
                except (ImportError, ValueError) as e:
                    raise ValueError(f"-f {spec!r}: cannot find module {target!r} ({e})") from None
                if found is None or not found.origin or not os.path.exists(found.origin):
                    raise ValueError(f"-f {spec!r}: no module named {target!r}")
                path = os.path.realpath(found.origin)
            self._pending.setdefault(path, []).append((spec, qual))
        if self._pending:
            self._watch_exec()

    def _watch_exec(self) -> None:
        """Have ``_on_exec`` see every module's code as it is executed."""
        if self._watch is not None:
            self._watch(self._on_exec)
        else:
            sys.addaudithook(self._on_audit)

    def _add_qualname(self, mod: types.ModuleType, qual: str) -> bool:
        obj: Any = mod
        for part in qual.split("."):
            obj = inspect.getattr_static(obj, part, None) if inspect.isclass(obj) else getattr(obj, part, None)
            if obj is None:
                return False
        try:
            return self.lp.add_function(obj) >= 0
        except TypeError:
            return False

    def _on_audit(self, event: str, args: tuple[Any, ...]) -> None:
        # Runs for every audited event of the process: return at once unless it is the
        # execution of a module whose functions were named with -f.
        if event != "exec" or not self._pending or not args:
            return
        self._on_exec(args[0])

    def _on_exec(self, code: Any) -> None:
        if not self._pending or not isinstance(code, types.CodeType):
            return
        path = os.path.realpath(code.co_filename)
        wanted = self._pending.get(path)
        if not wanted:
            return
        todo = [code]
        while todo:
            co = todo.pop()
            for spec, qual in wanted:
                if co.co_qualname == qual:
                    self.lp.add_code(co)
                    self.found.add(spec)
            todo.extend(c for c in co.co_consts if isinstance(c, types.CodeType))

    def stop(self) -> None:
        """The run has ended: ``@profile`` passes functions through again; a warning for
        each ``-f`` name that was never found."""
        profile.install(None)
        self._pending = {}
        for spec, _, _ in self.specs:
            if spec not in self.found:
                sys.stderr.write(f"hotpath: warning: -f {spec}: no such function was run "
                                 f"or defined\n")

    def abandon(self) -> None:
        self._pending = {}


class LinesMode(Mode):
    """``hotpath run --lines[=auto] [-f SPEC ...]``: a LineProfiler for the whole run over
    the functions chosen with ``@profile`` and ``-f`` (or, ``mode="auto"``, the hot ones
    it finds itself); the profile's ``extra["lines"]``; kernprof's table. Listed after
    ``FunctionsMode``, which keeps recording function timings."""

    name = "lines"

    def __init__(self, mode: str = "explicit", specs: Iterable[str] = (),
                 lprof: str | None = None) -> None:
        self.mode = mode                      # "explicit" or "auto"
        self.lprof = lprof                    # also write line_profiler's .lprof here
        self.lprof_abs = os.path.abspath(lprof) if lprof else None   # before any chdir
        self.lp = LineProfiler()
        self.select = Selection(self.lp, specs)
        if mode == "auto":
            self.lp.auto(exclude=_auto_exclusions())

    def install(self) -> None:
        self.select.install()

    def start(self) -> None:
        """Start timing; RuntimeError naming the other tool when the trace hook
        (Python 3.11) is held by someone else."""
        try:
            self.lp.enable()
        except RuntimeError:
            if not SHARES_TRACE_HOOK or sys.gettrace() is None:
                raise
            raise RuntimeError(
                f"--lines on Python 3.11 needs the interpreter's trace hook (sys.settrace) "
                f"and {trace_hook_holder()} holds it; run one tool at a time, or use "
                f"Python 3.12+ where both can run") from None

    def spec(self) -> dict:
        return {"kind": "lines", "mode": self.mode, "specs": absolute_specs(self.select.specs)}

    def abandon(self) -> None:
        """In a forked child: stop recording; nothing is reported."""
        try:
            self.lp.disable()
        except Exception:
            pass
        self.select.abandon()

    def stop(self) -> None:
        """Stop timing. Warnings go to stderr."""
        if SHARES_TRACE_HOOK and self.lp.enabled and sys.gettrace() is not self.lp._tracer:
            sys.stderr.write(
                f"hotpath: warning: the program took the trace hook (sys.settrace) that "
                f"--lines needs on Python 3.11 (now held by {trace_hook_holder()}); line "
                f"timings stopped when it did\n")
        try:
            self.lp.disable()
        except Exception as e:     # a capture error: keep what was recorded
            sys.stderr.write(f"hotpath: warning: line profiler: {e}\n")

    def finish(self, profile: Profile) -> None:
        """The ``extra["lines"]`` section; warnings for what was not found."""
        self.select.stop()
        data = self.lp.line_data(self.mode)
        if not data["functions"]:
            hint = ("no function got hot enough to be chosen" if self.mode == "auto" else
                    "decorate functions with @profile, name them with -f pkg.mod:func, "
                    "or use --lines=auto")
            sys.stderr.write(f"hotpath: no line timings: {hint}\n")
        profile.extra["lines"] = data

    def after_write(self, profile: Profile, path: str) -> str:
        """``--lprof PATH``: line_profiler's file beside the profile (its own error line
        on failure; the profile file stands)."""
        if not (self.lprof_abs and profile.extra.get("lines", {}).get("functions")):
            return ""
        from hotpath.report.lprof import write_run_lprof
        if not write_run_lprof(profile, self.lprof_abs):
            return ""
        q = shlex.quote(self.lprof or "")
        return f"\nhotpath: line timings written to {q} (python -m line_profiler {q})"

    def show(self, profile: Profile, stream: TextIO) -> None:
        from hotpath.report.lines import print_lines
        print_lines(profile, stream=stream)
