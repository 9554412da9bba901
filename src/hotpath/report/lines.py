"""kernprof's line table, from line timings or a profile's ``extra["lines"]`` (``LineData``).

The layout is line_profiler's, column for column, so its users read it without help::

    Timer unit: 1e-06 s

    Total time: 0.0123 s
    File: examples/lines_demo.py
    Function: evolve at line 14

    Line #      Hits         Time  Per Hit   % Time  Line Contents
    ==============================================================
        14                                           @profile
        15                                           def evolve(self, dt):
        16      1000        123.0      0.1      1.0      for p in self.particles:

Options: ``output_unit`` (seconds per displayed time unit; the header says which),
``stripzeros`` (skip functions with no hits), ``details`` (the per-line tables),
``summarize`` (one line per function: ``seconds - file:line - name``), ``sort`` (by total
time, ascending, as line_profiler). A function chosen by ``--lines=auto`` gets a note
under its header saying from when it was timed.
"""
from __future__ import annotations

import inspect
import linecache
import os
import sys
from typing import Any, Mapping, Sequence, TextIO

from ..model import Profile
from ..model.lines import LineData, has_lines

__all__ = ["show_func", "show_text", "print_lines", "has_lines", "line_stats"]

# line_profiler's default (minimum) column widths
_WIDTHS = {"line": 6, "hits": 9, "time": 12, "perhit": 8, "percent": 8}

Key = tuple[str, int, str]
Rows = Sequence[tuple[int, int, int | float]]


def _code_block(filename: str, lineno: int) -> list[str]:
    """The source lines of the block starting at ``lineno`` (inspect.getblock)."""
    lines = linecache.getlines(filename)[lineno - 1:]
    if not lines:
        return []
    try:
        return inspect.getblock(lines)
    except Exception:          # tokenizer trouble on odd sources: show to the last line hit
        return lines


def show_func(filename: str, start_lineno: int, func_name: str, timings: Rows, unit: float,
              output_unit: float | None = None, stream: TextIO | None = None,
              stripzeros: bool = False, note: str | None = None) -> None:
    """One function's table. ``timings`` are (lineno, hits, time in ``unit`` seconds)."""
    stream = sys.stdout if stream is None else stream
    total_hits = sum(t[1] for t in timings)
    total_time = sum(t[2] for t in timings)
    if stripzeros and total_hits == 0:
        return
    if output_unit is None:
        output_unit = unit
    scalar = unit / output_unit
    linenos = [t[0] for t in timings]

    stream.write("Total time: %g s\n" % (total_time * unit))
    sublines: list[str] = []
    # IPython's cells: in linecache under a name no file has (ipykernel: /tmp/ipykernel_*/N.py)
    if os.path.exists(filename) or filename.startswith("<") or filename in linecache.cache:
        linecache.checkcache(filename)
        sublines = _code_block(filename, start_lineno)
    if sublines:
        stream.write(f"File: {filename}\n")
        stream.write(f"Function: {func_name} at line {start_lineno}\n")
    else:
        stream.write(f"File: {filename}\n")
        stream.write(f"Function: {func_name} at line {start_lineno}\n")
        stream.write(f"(source not found: {filename}; showing timings without it)\n")
        nlines = 1 if not linenos else max(linenos) - min(min(linenos), start_lineno) + 1
        sublines = [""] * nlines
    if note:
        stream.write(note + "\n")
    # lines past the block (a decorator's or an odd source's): extend to show them
    if linenos and max(linenos) >= start_lineno + len(sublines):
        extra = linecache.getlines(filename)[start_lineno - 1 + len(sublines):max(linenos)]
        sublines = sublines + extra + [""] * (max(linenos) - start_lineno + 1
                                               - len(sublines) - len(extra))

    display: dict[int, tuple[str, str, str, str]] = {}
    for lineno, nhits, time in timings:
        percent = "" if total_time == 0 else "%5.1f" % (100 * time / total_time)
        time_disp = "%5.1f" % (time * scalar)
        if len(time_disp) > _WIDTHS["time"]:
            time_disp = "%5.3g" % (time * scalar)
        perhit_disp = "%5.1f" % (float(time) * scalar / nhits) if nhits else ""
        if len(perhit_disp) > _WIDTHS["perhit"]:
            perhit_disp = "%5.3g" % (float(time) * scalar / nhits)
        nhits_disp = "%d" % nhits
        if len(nhits_disp) > _WIDTHS["hits"]:
            nhits_disp = "%g" % nhits
        display[lineno] = (nhits_disp, time_disp, perhit_disp, percent)

    widths = dict(_WIDTHS)
    if display:
        widths["hits"] = max(widths["hits"], max(len(d[0]) for d in display.values()))
        widths["time"] = max(widths["time"], max(len(d[1]) for d in display.values()))
        widths["perhit"] = max(widths["perhit"], max(len(d[2]) for d in display.values()))
    template = " ".join("%" + str(widths[k]) + "s"
                        for k in ("line", "hits", "time", "perhit", "percent")) + "  %-s"
    header = template % ("Line #", "Hits", "Time", "Per Hit", "% Time", "Line Contents")
    stream.write("\n" + header + "\n" + "=" * len(header) + "\n")
    empty = ("", "", "", "")
    for lineno, line in zip(range(start_lineno, start_lineno + len(sublines)), sublines):
        stream.write(template % (lineno, *display.get(lineno, empty),
                                 line.rstrip("\n").rstrip("\r")) + "\n")
    stream.write("\n")


def show_text(stats: Mapping[Key, Rows], unit: float, output_unit: float | None = None,
              stream: TextIO | None = None, stripzeros: bool = False, details: bool = True,
              summarize: bool = False, sort: bool = False,
              notes: Mapping[Key, str] | None = None) -> None:
    """Every function's table (and/or the one-line summaries), line_profiler's layout."""
    stream = sys.stdout if stream is None else stream
    notes = notes or {}
    stream.write("Timer unit: %g s\n\n" % (output_unit if output_unit is not None else unit))
    items = list(stats.items())
    if sort:
        items.sort(key=lambda kv: sum(t[2] for t in kv[1]))
    if details:
        for (fn, lineno, name), timings in items:
            show_func(fn, lineno, name, timings, unit, output_unit=output_unit, stream=stream,
                      stripzeros=stripzeros, note=notes.get((fn, lineno, name)))
    if summarize:
        for (fn, lineno, name), timings in items:
            total = sum(t[2] for t in timings) * unit
            if not stripzeros or total:
                stream.write("%6.2f seconds - %s:%s - %s\n" % (total, fn, lineno, name))


# -- from a profile file ----------------------------------------------------------------------

def line_stats(profile: Profile) -> LineData:
    """The line data of ``profile`` (empty when it has none)."""
    return LineData.from_section(profile.extra.get("lines", {}))


def print_lines(profile: Profile, stream: TextIO | None = None, output_unit: float = 1e-6,
                stripzeros: bool = True, details: bool = True, summarize: bool = False,
                sort: bool = False) -> None:
    """The line tables of a profile (nothing when it holds no line data). Functions
    chosen automatically are listed first, in the order they were chosen."""
    stream = sys.stdout if stream is None else stream
    data: dict[str, Any] = profile.extra.get("lines", {})
    if not data.get("functions"):
        return
    stats = line_stats(profile)
    if data.get("mode") == "auto":
        chosen = [f for f in data["functions"] if f.get("auto")]
        chosen.sort(key=lambda f: f["auto"]["chosen_at"])
        stream.write(f"hotpath --lines=auto chose {len(chosen)} function(s) "
                     f"({data.get('samples', 0)} samples of the running threads):\n")
        stream.write("  timed from   own time when chosen   function\n")
        for f in chosen:
            own = f["auto"].get("own_seconds")
            own_s = f"{own * 1e3:10.1f} ms" if own is not None else " " * 13
            stream.write(f"  {f['auto']['chosen_at']:8.3f} s  {own_s}          {f['name']} "
                         f"({f['filename']}:{f['lineno']})\n")
        stream.write("\n")
    show_text(stats.timings(), stats.unit, output_unit=output_unit, stream=stream,
              stripzeros=stripzeros, details=details, summarize=summarize, sort=sort,
              notes=stats.notes())
