"""The memory report, from a profile's ``extra["memory"]`` section (see docs/memory.md).

* ``print_memory`` — the text report: totals and mode, the lines and functions that
  allocated the most (bytes and count), the peak and the lines holding it then, leak
  candidates (live at exit) with the stacks that allocated them, and memory_profiler's
  line-by-line tables for the functions chosen with ``@profile`` / ``-f``.
* ``show_mem_lines`` — one memory_profiler table (Line #, Mem usage, Increment,
  Occurrences, Line Contents).
* ``timeline_svg`` / ``write_timeline`` — memory over time (RSS, tracked heap, reserved but
  untouched mappings): an SVG always, a PNG too when asked and matplotlib can be imported.

Everything reads only the section, through the model's ``MemoryView``
(``hotpath.model.memory``).
"""
from __future__ import annotations

import linecache
import os
import sys
from typing import Any, Iterable, TextIO

from ..model import Profile
from ..model.memory import NO_FRAME, MemoryView, Row
from ..outfile import open_output
from .base import PathShortener, xml_escape

__all__ = ["print_memory", "show_mem_lines", "format_bytes",
           "timeline_svg", "write_timeline"]

MiB = 1024.0 * 1024.0


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
    n_import, live_import = v.import_totals()
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
    if n_import:
        w(f"  (not listed: {format_bytes(live_import)} allocated "
          f"while importing modules, in {n_import:,} stacks: module state)\n")

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


def _raw_section(obj: Any) -> dict[str, Any]:
    """The memory section's dict, from a Profile, a MemoryView or the dict itself: what the
    timeline needs without building a view over every stack (0.7 s for 100k stacks)."""
    if isinstance(obj, Profile):
        data = obj.extra.get("memory")
        if not isinstance(data, dict):
            return MemoryView.of(obj).data      # its message for a profile without one
        return data
    if isinstance(obj, MemoryView):
        return obj.data
    return obj


def timeline_svg(obj: Profile | dict[str, Any], width: int = 900, height: int = 360,
                 title: str | None = None) -> str:
    """Memory over time as a self-contained SVG: RSS, the tracked heap and the reserved but
    untouched mappings, in MiB, against seconds since recording started, with the peak
    marked."""
    data = _raw_section(obj)          # the timeline and totals only: no stack is read
    tl = data.get("timeline", {})
    totals = data.get("totals", {})
    ts = [float(x) for x in tl.get("t", [])]
    rss = [x / MiB for x in tl.get("rss", [])]
    heap = [x / MiB for x in tl.get("heap", [])]
    reserved = [x / MiB for x in tl.get("reserved", [])]
    peak_t = float(totals.get("peak_time", 0.0))
    peak_b = totals.get("peak_bytes", 0) / MiB
    left, right, top, bottom = 70, 20, 40, 50
    pw, ph = width - left - right, height - top - bottom
    t_max = max(ts + [peak_t, 1e-3])
    y_max = max(rss + heap + reserved + [peak_b, 0.001]) * 1.05
    xs = lambda t: left + pw * t / t_max                        # noqa: E731
    ys = lambda m: top + ph * (1 - m / y_max)                   # noqa: E731
    title = title or ("Memory over time" + (" (sampled estimate)" if data.get("mode") == "sampled" else ""))
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


def write_timeline(obj: Profile | dict[str, Any], base: str, png: bool = False) -> list[str]:
    """Write ``base.svg``, and with ``png`` also ``base.png`` when matplotlib is
    importable (importing it costs about a second, more than the rest of a memory run's
    analysis: only on request); returns the paths written."""
    paths = []
    with open_output(base + ".svg", "w", encoding="utf-8") as f:
        f.write(timeline_svg(obj))
    paths.append(base + ".svg")
    if not png:
        return paths
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return paths
    data = _raw_section(obj)
    tl = data.get("timeline", {})
    totals = data.get("totals", {})
    fig, ax = plt.subplots(figsize=(9, 3.6))
    try:
        if any(tl.get("rss", [])):
            ax.plot(tl["t"], [x / MiB for x in tl["rss"]], label="RSS")
        ax.plot(tl.get("t", []), [x / MiB for x in tl.get("heap", [])], label="tracked heap")
        if any(tl.get("reserved", [])):
            ax.plot(tl["t"], [x / MiB for x in tl["reserved"]], label="reserved, untouched",
                    linestyle="--", color="grey")
        ax.plot([totals.get("peak_time", 0.0)], [totals.get("peak_bytes", 0) / MiB], "o",
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
