"""The memory report, from a profile's ``extra["memory"]`` section (see docs/memory.md).

* ``print_memory`` — the text report: totals and mode, the lines and functions that
  allocated the most (bytes and count), the peak and the lines holding it then, leak
  candidates (live at exit) with the stacks that allocated them, and memory_profiler's
  line-by-line tables for the functions chosen with ``@profile`` / ``-f``.
* ``show_mem_lines`` — one memory_profiler table (Line #, Mem usage, Increment,
  Occurrences, Line Contents).
* ``timeline_svg`` / ``write_timeline`` — memory over time (RSS, tracked heap, reserved but
  untouched mappings): an SVG always, a PNG too when matplotlib can be imported.

Everything reads only the section (plain lists and dicts), through ``MemoryView``.
"""
from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterable, TextIO

from ..model import Profile
from ..outfile import open_output
from .base import PathShortener, xml_escape

__all__ = ["MemoryView", "has_memory", "print_memory", "show_mem_lines", "format_bytes",
           "timeline_svg", "write_timeline"]

MiB = 1024.0 * 1024.0
NO_FRAME = "<no Python frame>"


def format_bytes(n: float) -> str:
    """``123 B``, ``12.3 KiB``, ``1.5 MiB``, ``2.00 GiB``; negative amounts keep a sign."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n < 1024:
        return f"{sign}{int(round(n))} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024.0
        if n < 1024 or unit == "TiB":
            return f"{sign}{n:.1f} {unit}" if n < 100 else f"{sign}{n:.0f} {unit}"
    return f"{sign}{n:.0f} TiB"  # pragma: no cover


def has_memory(profile: Profile) -> bool:
    return isinstance(profile.extra.get("memory"), dict)


class _LiveMixin:
    """Live = allocated − freed, for anything with alloc/free bytes and counts."""

    @property
    def live_bytes(self) -> int:
        return self.alloc_bytes - self.free_bytes  # type: ignore[attr-defined]

    @property
    def live_count(self) -> int:
        return self.alloc_count - self.free_count  # type: ignore[attr-defined]


@dataclass
class Row(_LiveMixin):
    """Totals of one line or function."""
    key: Any
    alloc_bytes: int = 0
    alloc_count: int = 0
    free_bytes: int = 0
    free_count: int = 0
    peak_bytes: int = 0
    native_bytes: int = 0


@dataclass
class Stack(_LiveMixin):
    frames: list[int]            #: frame ids, innermost first
    native: bool
    truncated: int
    alloc_count: int
    alloc_bytes: int
    free_count: int
    free_bytes: int
    peak_count: int
    peak_bytes: int


class MemoryView:
    """The section, with lookups: functions, frames, stacks and derived tables.

    ``root`` (the program's working directory) decides which files are the user's code:
    files that are not the standard library's, an installed package's or frozen.

    Cost: the user's-code decision is made once per function (``user_checks`` counts
    them), a stack's innermost user frame once per stack, and the tables are sums over
    integer columns; ``stacks`` (one ``Stack`` object per stack) is built only on demand.
    """

    def __init__(self, data: dict[str, Any], root: str | None = None) -> None:
        self.data = data
        self.root = root
        self._shorten = PathShortener(self.root)
        self.functions = [tuple(f) for f in self.data.get("functions", [])]
        self.frames = [tuple(f) for f in self.data.get("frames", [])]
        self.totals = self.data.get("totals", {})
        raw = self.data.get("stacks", [])
        if any(len(st) != 9 for st in raw):
            raise ValueError("memory section: a stack does not have 9 fields")
        cols = list(zip(*raw)) if raw else [()] * 9
        for col in cols[1:]:
            if not set(map(type, col)) <= {int, bool}:
                raise ValueError("memory section: a stack's counters are not integers")
        #: per stack: frame ids (innermost first), native, truncated, counters
        self._frames_col: list[list[int]] = list(cols[0])
        self._native = [bool(x) for x in cols[1]]
        (self._truncated, self._ac, self._ab, self._fc, self._fb, self._pc,
         self._pb) = (list(c) for c in cols[2:9])
        self._frame_func = [int(f[0]) for f in self.frames]
        self._user_func: list[bool | None] = [None] * len(self.functions)
        self._user_frame_flag: list[bool] | None = None
        self._user_frames: list[int] | None = None
        self._stacks: list[Stack] | None = None
        self._imports: list[bool] | None = None
        self.user_checks = 0

    @classmethod
    def of(cls, obj: Profile | dict[str, Any], root: str | None = None) -> "MemoryView":
        if isinstance(obj, Profile):
            return cls(obj.extra["memory"], root or obj.meta.get("cwd"))
        return cls(obj, root)

    @property
    def stacks(self) -> list[Stack]:
        """Every stack as a ``Stack`` (built on first use)."""
        if self._stacks is None:
            self._stacks = [Stack(list(fr), nat, int(t), int(ac), int(ab), int(fc), int(fb),
                                  int(pc), int(pb))
                            for fr, nat, t, ac, ab, fc, fb, pc, pb in zip(
                                self._frames_col, self._native, self._truncated, self._ac,
                                self._ab, self._fc, self._fb, self._pc, self._pb)]
        return self._stacks

    def _is_user_func(self, func: int) -> bool:
        hit = self._user_func[func]
        if hit is None:
            self.user_checks += 1
            filename = self.functions[func][0]
            hit = self._user_func[func] = (not filename.startswith("<frozen") and
                                           self._shorten.kind(filename) in ("project", "other"))
        return hit

    def is_user(self, frame: int) -> bool:
        """Whether a frame is in the user's code (see the class docstring)."""
        return self._is_user_func(self._frame_func[frame])

    def _user_flags(self) -> list[bool]:
        if self._user_frame_flag is None:
            funcs = [self._is_user_func(i) for i in range(len(self.functions))]
            self._user_frame_flag = [funcs[f] for f in self._frame_func]
        return self._user_frame_flag

    def user_frame(self, s: Stack) -> int | None:
        """The innermost frame of the user's code in ``s``, else its innermost frame."""
        flags = self._user_flags()
        for f in s.frames:
            if flags[f]:
                return f
        return s.frames[0] if s.frames else None

    def user_frames(self) -> list[int]:
        """Per stack (in order): ``user_frame``'s answer, -1 for a stack without frames;
        computed once."""
        if self._user_frames is None:
            flags = self._user_flags()
            out = []
            for fr in self._frames_col:
                for f in fr:
                    if flags[f]:
                        out.append(f)
                        break
                else:
                    out.append(fr[0] if fr else -1)
            self._user_frames = out
        return self._user_frames

    def _import_funcs(self) -> list[bool]:
        if self._imports is None:
            self._imports = [
                f[0].startswith("<frozen importlib._bootstrap") or
                f[0].endswith(("importlib/_bootstrap.py", "importlib/_bootstrap_external.py"))
                for f in self.functions]
        return self._imports

    def is_import(self, s: Stack) -> bool:
        """Whether ``s`` ran inside an import (module-level state, not a leak)."""
        imp = self._import_funcs()
        ff = self._frame_func
        return any(imp[ff[f]] for f in s.frames)

    @property
    def sampled(self) -> bool:
        return self.data.get("mode") == "sampled"

    # -- labels ------------------------------------------------------------------------------

    def line_key(self, frame: int | None) -> tuple[str, int, str]:
        """(filename, line, function name) of a frame; NO_FRAME for none."""
        if frame is None or frame < 0:
            return (NO_FRAME, 0, "")
        func, line = self.frames[frame]
        filename, name, _ = self.functions[func]
        return (filename, line, name)

    def func_key(self, frame: int | None) -> tuple[str, int, str]:
        if frame is None or frame < 0:
            return (NO_FRAME, 0, "")
        func, _ = self.frames[frame]
        filename, name, first = self.functions[func]
        return (filename, first, name)

    def _func_key_of(self, func: int) -> tuple[str, int, str]:
        if func < 0:
            return (NO_FRAME, 0, "")
        filename, name, first = self.functions[func]
        return (filename, first, name)

    # -- tables --------------------------------------------------------------------------------

    def _sum_by(self, keys: Iterable[Any]) -> dict[Any, list[int]]:
        """Per key (one per stack, in order; any hashable): [alloc_bytes, alloc_count,
        free_bytes, free_count, peak_bytes, native_bytes]."""
        acc: dict[Any, list[int]] = {}
        for k, ab, ac, fb, fc, pb, nat in zip(keys, self._ab, self._ac, self._fb, self._fc,
                                              self._pb, self._native):
            r = acc.get(k)
            if r is None:
                acc[k] = [ab, ac, fb, fc, pb, ab if nat else 0]
            else:
                r[0] += ab
                r[1] += ac
                r[2] += fb
                r[3] += fc
                r[4] += pb
                if nat:
                    r[5] += ab
        return acc

    @staticmethod
    def _rows(acc: dict[int, list[int]], label: Any) -> list[Row]:
        return [Row(label(k), r[0], r[1], r[2], r[3], r[4], r[5]) for k, r in acc.items()]

    def by_line(self, user: bool = False) -> list[Row]:
        """Per line that allocated: the innermost Python frame of each stack, or with
        ``user`` the innermost frame of the user's code (library frames folded in)."""
        keys = (self.user_frames() if user else
                [fr[0] if fr else -1 for fr in self._frames_col])
        return self._rows(self._sum_by(keys), self.line_key)

    def by_function(self, inclusive: bool = False) -> list[Row]:
        """Per function: its own lines (``inclusive=False``), or its lines and everything
        they called (each stack counted once per function in it)."""
        ff = self._frame_func
        if not inclusive:
            keys = [ff[fr[0]] if fr else -1 for fr in self._frames_col]
            return self._rows(self._sum_by(keys), self._func_key_of)
        # Each stack adds to every distinct function in it: sum the counters per distinct
        # set of functions first (stacks that differ only in lines share one), then spread.
        func_of = ff.__getitem__
        none = frozenset((-1,))
        per_set = self._sum_by(frozenset(map(func_of, fr)) if fr else none
                               for fr in self._frames_col)
        n = len(self.functions) + 1                  # the last slot: stacks without frames
        cols = [[0] * n for _ in range(6)]
        seen = [False] * n
        for fs, r in per_set.items():
            for i, c in enumerate(cols):
                v = r[i]
                if v:
                    for k in fs:
                        c[k] += v
            for k in fs:
                seen[k] = True
        acc = {(k if k < n - 1 else -1): [c[k] for c in cols] for k in range(n) if seen[k]}
        return self._rows(acc, self._func_key_of)

    def live_stack_ids(self) -> list[int]:
        """Indexes of the stacks with bytes still live at the end."""
        return [i for i, (ab, fb) in enumerate(zip(self._ab, self._fb)) if ab > fb]

    def leaks(self, min_bytes: int = 1024, imports: bool = False) -> list[Stack]:
        """Stacks with bytes still live at the end (leak candidates), largest first;
        stacks holding less than ``min_bytes`` are left out, and so are stacks that ran
        inside an import (module state) unless ``imports``."""
        floor = max(1, min_bytes)
        idx = [i for i, (ab, fb) in enumerate(zip(self._ab, self._fb)) if ab - fb >= floor]
        out = [self._stack(i) for i in idx]
        if not imports:
            out = [s for s in out if not self.is_import(s)]
        out.sort(key=lambda s: (-s.live_bytes, -s.live_count))
        return out

    def import_stacks(self) -> list[Stack]:
        """Stacks with bytes live at the end that ran inside an import."""
        return [s for s in (self._stack(i) for i in self.live_stack_ids()) if self.is_import(s)]

    def _stack(self, i: int) -> Stack:
        if self._stacks is not None:
            return self._stacks[i]
        return Stack(list(self._frames_col[i]), self._native[i], int(self._truncated[i]),
                     int(self._ac[i]), int(self._ab[i]), int(self._fc[i]), int(self._fb[i]),
                     int(self._pc[i]), int(self._pb[i]))


# -- the text report ------------------------------------------------------------------------

def _loc(shorten: PathShortener, key: tuple[str, int, str], with_line: bool = True) -> str:
    filename, line, name = key
    if filename == NO_FRAME:
        return NO_FRAME
    where = f"{shorten(filename)}:{line}" if with_line else shorten(filename)
    return f"{where} ({name})" if name else where


def _source(filename: str, line: int) -> str:
    text = linecache.getline(filename, line).strip() if line > 0 else ""
    return text if len(text) <= 60 else text[:57] + "..."


def print_memory(obj: Profile | dict[str, Any], stream: TextIO | None = None, limit: int = 10,
                 min_leak_bytes: int = 1024, cwd: str | None = None,
                 show_lines: bool = True) -> None:
    """The memory report of a profile (or of an ``extra["memory"]`` section)."""
    stream = sys.stdout if stream is None else stream
    if isinstance(obj, Profile):
        cwd = cwd or obj.meta.get("cwd")
    v = MemoryView.of(obj, cwd or os.getcwd())
    shorten = PathShortener(v.root)
    t = v.totals
    w = stream.write
    est = " (estimated)" if v.sampled else ""
    if v.sampled:
        mode = (f"sampled mode: about one sample per {format_bytes(v.data.get('sample_bytes') or 0)} "
                f"allocated, amounts are unbiased estimates")
    else:
        mode = "exact mode: every allocation"
    native = ("Python allocators and native malloc/calloc/realloc/mmap (preload shim)"
              if v.data.get("native") else
              "Python allocators only (native allocations not tracked: run under "
              "`hotpath run --memory`)")
    w(f"hotpath memory profile — {mode}\n")
    w(f"Tracked: {native}\n")
    if v.data.get("forked"):
        w("Note: recorded in a forked child, which stops recording at the fork.\n")
    w(f"Allocated {format_bytes(t.get('alloc_bytes', 0))} in {t.get('alloc_count', 0):,} blocks"
      f"{est}; freed {format_bytes(t.get('free_bytes', 0))}; "
      f"live at exit {format_bytes(t.get('live_bytes', 0))} in {t.get('live_count', 0):,} blocks\n")
    rss = v.data.get("timeline", {}).get("rss") or []
    rss_note = f"; RSS peaked at {format_bytes(max(rss))}" if rss and max(rss) else ""
    w(f"Peak: {format_bytes(t.get('peak_bytes', 0))} of tracked heap live at "
      f"{t.get('peak_time', 0.0):.3f} s{rss_note}\n")
    if t.get("reserved_max"):
        w(f"Reserved: up to {format_bytes(t['reserved_max'])} of anonymous mappings (mmap) "
          f"at once, {format_bytes(t.get('reserved_bytes', 0))} at exit of which "
          f"{format_bytes(t.get('reserved_touched', 0))} touched; only touched pages "
          f"count in the heap\n")
    w(f"Tracker's own memory: {format_bytes(t.get('tracker_bytes', 0))}\n")
    n = limit if limit > 0 else None

    lines = v.by_line(user=True)

    def table(title: str, rows: list[Row]) -> None:
        w(f"\n{title}\n")
        w("(each allocation at the innermost line of your code in its stack; what library "
          "code it called is folded in)\n")
        w(f"{'Allocated':>11} {'Blocks':>10} {'At peak':>10} {'Live end':>10} {'Native':>7}  Location\n")
        for r in rows:
            nat = f"{100 * r.native_bytes / r.alloc_bytes:.0f}%" if r.alloc_bytes and r.native_bytes else "-"
            w(f"{format_bytes(r.alloc_bytes):>11} {r.alloc_count:>10,} "
              f"{format_bytes(r.peak_bytes):>10} {format_bytes(r.live_bytes):>10} {nat:>7}  "
              f"{_loc(shorten, r.key)}\n")
            src = _source(r.key[0], r.key[1])
            if src:
                w(f"{'':>53}  | {src}\n")

    table(f"Top lines by bytes allocated{est}",
          sorted(lines, key=lambda r: (-r.alloc_bytes, -r.alloc_count))[:n])
    w(f"\nTop lines by number of allocations{est}\n")
    w(f"{'Blocks':>10} {'Allocated':>11}  Location\n")
    for r in sorted(lines, key=lambda r: (-r.alloc_count, -r.alloc_bytes))[:n]:
        w(f"{r.alloc_count:>10,} {format_bytes(r.alloc_bytes):>11}  {_loc(shorten, r.key)}\n")

    own = {r.key: r for r in v.by_function()}
    incl = sorted(v.by_function(inclusive=True), key=lambda r: (-r.alloc_bytes, -r.alloc_count))
    incl.sort(key=lambda r: -(own[r.key].alloc_bytes if r.key in own else 0))
    w(f"\nTop functions by bytes allocated{est} (own lines; with callees)\n")
    w(f"{'Own':>11} {'Own blocks':>11} {'With callees':>13}  Function\n")
    for r in incl[:n]:
        o = own.get(r.key)
        w(f"{format_bytes(o.alloc_bytes if o else 0):>11} {(o.alloc_count if o else 0):>11,} "
          f"{format_bytes(r.alloc_bytes):>13}  {_loc(shorten, r.key)}\n")

    peak = t.get("peak_bytes", 0)
    w(f"\nAt the peak ({format_bytes(peak)}{est} live at {t.get('peak_time', 0.0):.3f} s), held by\n")
    w(f"{'Held':>11} {'Share':>6}  Location\n")
    for r in sorted((r for r in lines if r.peak_bytes > 0), key=lambda r: -r.peak_bytes)[:n]:
        share = f"{100 * r.peak_bytes / peak:.1f}%" if peak else "-"
        w(f"{format_bytes(r.peak_bytes):>11} {share:>6}  {_loc(shorten, r.key)}\n")

    leaks = v.leaks(min_leak_bytes)
    w(f"\nLeak candidates: still live at exit{est}, by allocating stack "
      f"(at least {format_bytes(min_leak_bytes)} each)\n")
    during_import = v.import_stacks()
    if not leaks:
        w("  none\n")
    for s in leaks[:n]:
        kind = " native" if s.native else ""
        w(f"  {format_bytes(s.live_bytes)} in {s.live_count:,}{kind} blocks, allocated at:\n")
        if not s.frames:
            w(f"      {NO_FRAME}\n")
        for f in s.frames[:12]:
            w(f"      {_loc(shorten, v.line_key(f))}\n")
        if len(s.frames) > 12:
            w(f"      ... {len(s.frames) - 12} more frames\n")
        if s.truncated == 1:
            w(f"      ... (deeper than {v.data.get('max_frames')} frames)\n")
    if len(leaks) > (n or len(leaks)):
        rest = leaks[n:]
        w(f"  ... and {len(rest)} more stacks holding {format_bytes(sum(s.live_bytes for s in rest))}\n")
    if during_import:
        w(f"  (not listed: {format_bytes(sum(s.live_bytes for s in during_import))} allocated "
          f"while importing modules, in {len(during_import):,} stacks: module state)\n")

    if show_lines and v.data.get("lines"):
        w("\n")
        for f in v.data["lines"]:
            show_mem_lines(f, stream=stream)


def show_mem_lines(func: dict[str, Any], stream: TextIO | None = None,
                   precision: int = 1) -> None:
    """memory_profiler's table for one function: ``func`` is {filename, lineno, name,
    lines: [[line, mem_bytes, increment_bytes, occurrences]]}."""
    stream = sys.stdout if stream is None else stream
    template = "{0:>6} {1:>12} {2:>12}  {3:>10}   {4:<}"
    header = template.format("Line #", "Mem usage", "Increment", "Occurrences", "Line Contents")
    filename = func["filename"]
    stream.write(f"Filename: {filename}\n\n")
    stream.write(header + "\n")
    stream.write("=" * len(header) + "\n")
    rows = {int(r[0]): r for r in func["lines"]}
    linecache.checkcache(filename)
    all_lines = linecache.getlines(filename)
    first = int(func["lineno"])
    block: list[str] = []
    if all_lines:
        import inspect
        try:
            block = inspect.getblock(all_lines[first - 1:])
        except Exception:
            block = all_lines[first - 1:]
    last = max([first + len(block) - 1, *rows]) if rows else first + len(block) - 1
    fmt = "{0:" + f"{precision + 4}.{precision}f" + "} MiB"
    for ln in range(first, last + 1):
        r = rows.get(ln)
        text = all_lines[ln - 1] if 0 < ln <= len(all_lines) else "\n"
        if not text.endswith("\n"):
            text += "\n"
        if r:
            stream.write(template.format(ln, fmt.format(r[1] / MiB), fmt.format(r[2] / MiB),
                                         int(r[3]), text))
        else:
            stream.write(template.format(ln, "", "", "", text))
    stream.write("\n\n")


# -- memory over time --------------------------------------------------------------------------

def _nice_step(span: float, ticks: int = 5) -> float:
    import math
    if span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def timeline_svg(obj: Profile | dict[str, Any], width: int = 900, height: int = 360,
                 title: str | None = None) -> str:
    """Memory over time as a self-contained SVG: RSS, the tracked heap and the reserved but
    untouched mappings, in MiB, against seconds since recording started, with the peak
    marked."""
    v = MemoryView.of(obj)
    tl = v.data.get("timeline", {})
    ts = [float(x) for x in tl.get("t", [])]
    rss = [x / MiB for x in tl.get("rss", [])]
    heap = [x / MiB for x in tl.get("heap", [])]
    reserved = [x / MiB for x in tl.get("reserved", [])]
    peak_t = float(v.totals.get("peak_time", 0.0))
    peak_b = v.totals.get("peak_bytes", 0) / MiB
    left, right, top, bottom = 70, 20, 40, 50
    pw, ph = width - left - right, height - top - bottom
    t_max = max(ts + [peak_t, 1e-3])
    y_max = max(rss + heap + reserved + [peak_b, 0.001]) * 1.05
    xs = lambda t: left + pw * t / t_max                        # noqa: E731
    ys = lambda m: top + ph * (1 - m / y_max)                   # noqa: E731
    title = title or ("Memory over time" + (" (sampled estimate)" if v.sampled else ""))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Verdana, sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{xml_escape(title)}</text>']
    ystep = _nice_step(y_max)
    k = 0
    while k * ystep <= y_max:
        y = ys(k * ystep)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{k * ystep:g}</text>')
        k += 1
    xstep = _nice_step(t_max)
    k = 0
    while k * xstep <= t_max * 1.0001:
        x = xs(k * xstep)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 5}" stroke="#333"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{k * xstep:g}</text>')
        k += 1
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">seconds</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2})">MiB</text>')

    def poly(vals: list[float], colour: str, name: str) -> None:
        if not vals:
            return
        pts = " ".join(f"{xs(t):.1f},{ys(m):.1f}" for t, m in zip(ts, vals))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}">'
                   f'<title>{xml_escape(name)}</title></polyline>')

    if any(rss):
        poly(rss, "#1f77b4", "RSS")
    poly(heap, "#d62728", "tracked heap")
    if any(reserved):
        poly(reserved, "#7f7f7f", "reserved, untouched (not in the heap)")
    px, py = xs(peak_t), ys(peak_b)
    out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="#d62728">'
               f'<title>peak {peak_b:.1f} MiB at {peak_t:.3f} s</title></circle>')
    out.append(f'<text x="{min(px + 8, left + pw - 120):.1f}" y="{max(py - 8, top + 12):.1f}">'
               f'peak {peak_b:.1f} MiB</text>')
    lx = left + 10
    items = (([("RSS", "#1f77b4")] if any(rss) else []) + [("tracked heap", "#d62728")] +
             ([("reserved, untouched", "#7f7f7f")] if any(reserved) else []))
    for i, (name, colour) in enumerate(items):
        y = top + 14 + 16 * i
        out.append(f'<line x1="{lx}" y1="{y - 4}" x2="{lx + 20}" y2="{y - 4}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 26}" y="{y}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_timeline(obj: Profile | dict[str, Any], base: str) -> list[str]:
    """Write ``base.svg`` always and ``base.png`` when matplotlib is importable; returns
    the paths written."""
    paths = []
    with open_output(base + ".svg", "w", encoding="utf-8") as f:
        f.write(timeline_svg(obj))
    paths.append(base + ".svg")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return paths
    v = MemoryView.of(obj)
    tl = v.data.get("timeline", {})
    fig, ax = plt.subplots(figsize=(9, 3.6))
    try:
        if any(tl.get("rss", [])):
            ax.plot(tl["t"], [x / MiB for x in tl["rss"]], label="RSS")
        ax.plot(tl.get("t", []), [x / MiB for x in tl.get("heap", [])], label="tracked heap")
        if any(tl.get("reserved", [])):
            ax.plot(tl["t"], [x / MiB for x in tl["reserved"]], label="reserved, untouched",
                    linestyle="--", color="grey")
        ax.plot([v.totals.get("peak_time", 0.0)], [v.totals.get("peak_bytes", 0) / MiB], "o",
                label="peak")
        ax.set_xlabel("seconds")
        ax.set_ylabel("MiB")
        ax.set_title("Memory over time")
        ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(base + ".png", dpi=100)
        paths.append(base + ".png")
    finally:
        plt.close(fig)
    return paths


def iter_leak_lines(obj: Profile | dict[str, Any], min_bytes: int = 1024
                    ) -> Iterable[tuple[tuple[str, int, str], int]]:
    """(innermost line, live bytes) of each leak candidate, largest first."""
    v = MemoryView.of(obj)
    for s in v.leaks(min_bytes):
        yield v.line_key(s.frames[0] if s.frames else None), s.live_bytes
