"""``MemLineProfiler``: memory line by line for chosen functions (memory_profiler's table).

After each line of a chosen function runs, the tracked live bytes are read; a line's
``Mem usage`` is the largest value seen after it, its ``Increment`` the sum of the changes
since the previously traced line, ``Occurrences`` the times it ran.

Nothing is hooked until a function is chosen (``add_code`` and friends), so a run without
chosen functions sees no trace function and pays nothing. Then the events come from:

* 3.12+: ``sys.monitoring`` *local* events (PY_START, PY_RESUME, LINE, PY_RETURN,
  PY_YIELD) switched on for the chosen code objects only, on every thread. No trace
  function is installed (``sys.gettrace()`` stays None) and no frame object is made.
* 3.11: a C trace function (``MemTracker.settrace``, src/hotpath/_core/mem/memtrace.h) on
  every thread, the only source of line events there; it calls back only for the chosen
  code objects and mutes every other frame on its first event.

No allocation the hooks cause is charged to the program. Every callback pauses the
tracker before doing anything, so the profiler's own work (rows, dict entries) is not
recorded; what the interpreter allocates for a callback before it runs is forgotten
(``MemTracker.forget``, docs/memory.md): on 3.12+ the int of a LINE event's line number
and of an event's instruction offset (above 256), on 3.11 the frame object CPython makes
for every call while a trace function is set.
"""
from __future__ import annotations

import sys
import threading
import types
from typing import Any

from .lines import _functions_of

__all__ = ["MemLineProfiler"]

HAVE_MONITORING = hasattr(sys, "monitoring")
_TOOL_IDS = (4, 1, 0)        # preference order; the C profilers prefer 5, 3, 2


class MemLineProfiler:
    """Memory line by line for chosen functions, with memory_profiler's rules.

    The interface is the one ``hotpath.profile`` and ``-f`` selection use for line
    timings: ``add_function``, ``add_class``, ``add_code``, ``enable``, ``disable``.
    ``tracker`` is a ``hotpath.MemoryProfiler``.
    """

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker
        self.codes: dict[types.CodeType, dict[int, list[float]]] = {}
        self._local = threading.local()
        self._enabled = False
        self._source: _Monitoring | _SetTrace | None = None

    # -- choosing functions ---------------------------------------------------------------

    def add_code(self, code: types.CodeType) -> None:
        if code in self.codes:
            return
        self.codes[code] = {}
        if self._enabled:
            self._watch(code)

    def add_function(self, func: Any) -> int:
        fs = _functions_of(func)
        for f in fs:
            self.add_code(f.__code__)
        return len(fs) if fs else -1

    def add_class(self, cls: type) -> int:
        n = 0
        for value in vars(cls).values():
            for f in _functions_of(value):
                self.add_code(f.__code__)
                n += 1
        return n

    def __call__(self, func: Any) -> Any:
        self.add_function(func)
        return func

    # -- recording --------------------------------------------------------------------------

    @property
    def hooked(self) -> bool:
        """Whether an event source is installed (only once a function was chosen)."""
        return self._source is not None

    def enable(self) -> None:
        """Record from now on; hooks are installed when (and only if) a function is chosen."""
        if self._enabled:
            return
        self._enabled = True
        for code in self.codes:
            self._watch(code)

    def disable(self) -> None:
        if not self._enabled:
            return
        self._enabled = False
        source, self._source = self._source, None
        if source is not None:
            source.stop()

    def _watch(self, code: types.CodeType) -> None:
        if self._source is None:
            source = _Monitoring(self) if HAVE_MONITORING else _SetTrace(self)
            source.start()
            self._source = source
        self._source.watch(code)

    # -- events (the tracker is paused while these run) ---------------------------------------

    def _record(self, code: types.CodeType, lineno: int, prev: int | None) -> None:
        mem = self.tracker.live_bytes()
        rows = self.codes[code]
        row = rows.get(lineno)
        prev_row = rows.get(prev) if prev else None
        prev_mem = prev_row[1] if prev_row else 0
        if row is None:
            rows[lineno] = [mem - prev_mem, mem, 1]
        else:
            row[0] += mem - prev_mem
            row[1] = max(row[1], mem)
            row[2] += 1

    def _state(self) -> dict[str, Any]:
        st = self._local.__dict__
        if "stack" not in st:
            st["stack"] = []          # [code, current line] per running chosen frame
            st["prev"] = None
        return st

    def _on_start(self, code: types.CodeType, line: int) -> None:
        self._state()["stack"].append([code, line])

    def _on_line(self, code: types.CodeType, line: int) -> None:
        st = self._state()
        stack = st["stack"]
        if not _unwind_to(stack, code):
            return
        top = stack[-1]
        self._record(code, top[1], st["prev"])
        st["prev"] = top[1]
        top[1] = line

    def _on_return(self, code: types.CodeType) -> None:
        st = self._state()
        stack = st["stack"]
        if not _unwind_to(stack, code):
            return
        _, line = stack.pop()
        self._record(code, line, st["prev"])
        st["prev"] = line

    def line_data(self) -> list[dict[str, Any]]:
        """For the section: per function {filename, lineno, name, lines: [[line,
        mem_bytes, increment_bytes, occurrences]]}, functions that ran only."""
        out = []
        for code, rows in self.codes.items():
            if not rows:
                continue
            out.append({"filename": code.co_filename, "lineno": code.co_firstlineno,
                        "name": code.co_qualname,
                        "lines": [[ln, int(r[1]), int(r[0]), int(r[2])]
                                  for ln, r in sorted(rows.items())]})
        return out


class _Monitoring:
    """3.12+: sys.monitoring local events on the chosen code objects only."""

    def __init__(self, prof: MemLineProfiler) -> None:
        self.prof = prof
        self.tool = -1
        self.codes: list[types.CodeType] = []
        self._lines: dict[types.CodeType, dict[int, int]] = {}

    def _line_at(self, code: types.CodeType, offset: int) -> int:
        table = self._lines.get(code)
        if table is None:
            table = self._lines[code] = {}
            for start, end, line in code.co_lines():
                if line is not None:
                    for off in range(start, end, 2):
                        table[off] = line
        return table.get(offset, code.co_firstlineno)

    def start(self) -> None:
        mon = sys.monitoring
        for tool in _TOOL_IDS:
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "hotpath-memory-lines")
                self.tool = tool
                break
        else:
            raise RuntimeError("hotpath: every sys.monitoring tool id is taken; cannot "
                               "record memory line by line")
        p = self.prof
        tr = p.tracker._tracker
        line_at = self._line_at

        # Fixed signatures (no *args tuple): nothing is allocated before pause().
        def on_start(code: types.CodeType, offset: int) -> None:
            tr.pause()
            try:
                p._on_start(code, code.co_firstlineno)
            finally:
                tr.resume()

        forget = tr.forget

        # The ints CPython made for `offset` / `line` (above 256) are hotpath's: forgotten
        # first (forget allocates nothing; nothing else was allocated since them).
        def on_resume(code: types.CodeType, offset: int) -> None:
            forget(offset)
            tr.pause()
            try:
                p._on_start(code, line_at(code, offset))
            finally:
                tr.resume()

        def on_line(code: types.CodeType, line: int) -> None:
            forget(line)
            tr.pause()
            try:
                p._on_line(code, line)
            finally:
                tr.resume()

        def on_return(code: types.CodeType, offset: int, value: Any) -> None:
            forget(offset)
            tr.pause()
            try:
                p._on_return(code)
            finally:
                tr.resume()

        ev = mon.events
        for event, fn in ((ev.PY_START, on_start), (ev.PY_RESUME, on_resume),
                          (ev.LINE, on_line), (ev.PY_RETURN, on_return),
                          (ev.PY_YIELD, on_return)):
            mon.register_callback(self.tool, event, fn)

    def watch(self, code: types.CodeType) -> None:
        ev = sys.monitoring.events
        sys.monitoring.set_local_events(
            self.tool, code,
            ev.PY_START | ev.PY_RESUME | ev.LINE | ev.PY_RETURN | ev.PY_YIELD)
        self.codes.append(code)

    def stop(self) -> None:
        mon = sys.monitoring
        for code in self.codes:
            mon.set_local_events(self.tool, code, 0)
        for event in (mon.events.PY_START, mon.events.PY_RESUME, mon.events.LINE,
                      mon.events.PY_RETURN, mon.events.PY_YIELD):
            mon.register_callback(self.tool, event, None)
        mon.free_tool_id(self.tool)


class _SetTrace:
    """3.11: a C trace function that calls back only for the chosen code objects (the
    tracker is paused while the callback runs; the frame object 3.11 makes for every
    call is forgotten in C)."""

    def __init__(self, prof: MemLineProfiler) -> None:
        self.prof = prof
        self._prev: Any = None
        self._tr = prof.tracker._tracker

        def event(frame: types.FrameType, what: int) -> None:
            code = frame.f_code
            if what == 0:
                prof._on_start(code, frame.f_lineno)
            elif what == 2:
                prof._on_line(code, frame.f_lineno)
            elif what == 3:
                prof._on_return(code)
        self.event = event

    def start(self) -> None:
        self._prev = sys.gettrace()
        self._tr.settrace(self.event)

    def watch(self, code: types.CodeType) -> None:
        self._tr.watch(code)

    def stop(self) -> None:
        self._tr.settrace(None)
        if self._prev is not None:
            sys.settrace(self._prev)


def _unwind_to(stack: list[list[Any]], code: types.CodeType) -> bool:
    """Make the innermost entry of ``code`` the top of ``stack``; False (stack left as it
    is) when ``code`` has no entry. A chosen frame left by an exception gives no return
    event on 3.12+, so the entries above the innermost one of this code are dropped."""
    if not any(e[0] is code for e in stack):
        return False
    while stack[-1][0] is not code:
        stack.pop()
    return True
