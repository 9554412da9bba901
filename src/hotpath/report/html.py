"""The self-contained HTML report: one file, works offline, no external resources.

``report_data(profile)`` flattens the model into compact columnar arrays (functions,
per-thread trees with widths, and per-thread flat and caller→callee stats computed by
the model with cProfile's recursion rules); ``to_html`` embeds them as JSON in a
``<script type="application/json">`` block next to the page's CSS and vanilla JS (the
files in ``report/html/``, filled by ``pages``). The page draws an interactive flame
graph on a canvas (click to zoom, search, hover for self/total time and calls), a
sortable function table with callers and callees, and a thread selector.

Injection safety: the JSON is escaped so that ``<``, ``>`` and ``&`` never appear
literally (``</script>``, ``<!--`` cannot end the block), every other string is escaped
with ``base.xml_escape``, and the script inserts profile text with ``textContent`` only.

Line and memory data (``profile.extra["lines"]`` from ``hotpath run --lines``,
``profile.extra["memory"]`` from ``hotpath run --memory``) add two views:

* **Source** — one block per function with data: its source text (read now, by
  ``report.source``, and embedded, so the page works offline and after the file changes)
  with kernprof's columns (hits, time, per hit, % time), the bytes and blocks allocated on
  each line, bytes held at the peak and still live at exit, and memory_profiler's columns
  for ``@profile`` functions of a memory run;
* **Memory** — totals and the peak, memory over time (RSS and tracked heap, drawn as SVG
  by the page), the top lines and functions, what held the peak, and leak candidates with
  their stacks, an allocation flame graph (at the peak, leaks, or everything allocated;
  bytes or blocks) and the temporal view (which stacks held memory when), both from
  ``report.memflame`` and drawn by ``html/memory.js``. Amounts are aggregated here
  (``model.memory.MemoryView``), so the page gets a few hundred rows and at most
  ``memflame.MAX_NODES`` flame graph nodes however many stacks the profile holds.
"""
from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
from array import array
from typing import Any, Iterable

from ..model import Profile, ThreadProfile
from ..model.lines import LineData
from ..model.usercode import UserCode
from ..outfile import open_output
from . import pages
from .memflame import memory_flame, memory_temporal
from .base import (PathShortener, exporter_name, format_seconds, node_spans, thread_label,
                   xml_escape)
from .source import SourceReader

__all__ = ["report_data", "to_html", "write_html", "json_for_script"]

_KINDS = {"project": 0, "library": 1, "builtin": 2, "other": 3}


def json_for_script(obj: Any) -> str:
    """JSON text safe inside an HTML ``<script>`` element (and ASCII only).

    ``ensure_ascii`` escapes every non-ASCII character (U+2028, lone surrogates), and
    ``<``, ``>``, ``&`` — which can only occur inside JSON strings — become ``\\u``
    escapes, so the text can neither close the element nor open a comment.
    """
    # Packed columns (base64: no character JSON or HTML would escape) are spliced in
    # after the escaping, so megabytes of them are not scanned four more times.
    blobs: list[str] = []
    token = "hpblob" + os.urandom(6).hex()
    text = _safe_json(_lift_packed(obj, blobs, token))
    if not blobs:
        return text
    if text.count(token) != len(blobs):        # the token met elsewhere: never, but safe
        return _safe_json(obj)
    return re.sub(token + r":(\d+)", lambda m: blobs[int(m[1])], text)


def _safe_json(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    # three replaces, not str.translate: these scan at memchr speed on megabytes of JSON
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Packed(str):
    """Base64 text of a packed column (``packed_column``): only ``A-Za-z0-9+/=``."""
    __slots__ = ()


def _lift_packed(obj: Any, blobs: list[str], token: str) -> Any:
    """``obj`` with every packed column's text replaced by ``token:<index in blobs>``;
    containers copied, not changed."""
    if isinstance(obj, dict):
        b = obj.get("$b64")
        if isinstance(b, _Packed):
            blobs.append(b)
            return {**obj, "$b64": f"{token}:{len(blobs) - 1}"}
        return {k: _lift_packed(v, blobs, token) for k, v in obj.items()}
    if isinstance(obj, list) and obj and isinstance(obj[0], (dict, list)):
        return [_lift_packed(v, blobs, token) for v in obj]
    return obj


#: Typed arrays the page can rebuild, narrowest first: (JS name, array code, min, max).
_PACKINGS = (("u8", "B", 0, 255), ("i8", "b", -128, 127), ("u16", "H", 0, 65535),
             ("i16", "h", -32768, 32767), ("u32", "I", 0, 2 ** 32 - 1),
             ("i32", "i", -2 ** 31, 2 ** 31 - 1), ("f64", "d", -2 ** 53, 2 ** 53))


#: Arrays of these codes pack as they are (1, 2 and 4 bytes: the file's narrow widths).
_NARROW = {"B": "u8", "b": "i8", "H": "u16", "h": "i16", "I": "u32", "i": "i32"}


def packed_column(values: Any) -> Any:
    """A column of ints for the page: ``{"$b64": base64 of the values as little-endian
    <type>, "type": "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f64"}``: arrays of 1,
    2 or 4-byte ints as they are, others in the narrowest type that holds every value
    exactly (``f64`` up to 2**53), which ``common.js``
    turns back into a typed array while parsing the data; a plain list when empty or
    beyond 2**53. Encoding is a bulk copy, not a JSON number per node.
    """
    if not len(values):
        return []
    code = getattr(values, "typecode", "")
    name = _NARROW.get(code)
    if name is None:                       # a list, or 8-byte ints: look at the values
        hi = max(values)
        unsigned = code in ("Q", "L")      # min is 0 or more: skip that scan
        lo = 0 if unsigned else min(values)
        name, code = next(((n, c) for n, c, least, most in _PACKINGS
                           if least <= lo and hi <= most), (None, ""))
        if name is None:
            return list(values)
        values = array(code, values)
    if sys.byteorder == "big":
        values = array(code, values)
        values.byteswap()
    return {"$b64": _Packed(base64.b64encode(values).decode("ascii")), "type": name}


def report_data(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
                focus: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON-able data the page reads (documented field by field in the JS).

    ``focus``: packages counted as the user's code (``model.usercode``), which the hot
    path view shows and the "hide library" toggles keep."""
    threads = list(profile.threads if threads is None else threads)
    shorten = PathShortener(profile.meta.get("cwd"))
    user = UserCode(profile.meta.get("cwd"), focus, shorten)
    files: list[str] = []
    file_idx: dict[str, int] = {}
    packages: list[str] = []
    pkg_idx: dict[str, int] = {}
    # user: the user's code (1) or not (0); imp: import machinery; pkg: index into packages
    funcs: dict[str, list] = {"name": [], "file": [], "line": [], "kind": [], "user": [],
                              "imp": [], "pkg": []}
    for f in profile.functions:
        pkg = user.package(f.filename)
        pi = pkg_idx.get(pkg)
        if pi is None:
            pi = pkg_idx[pkg] = len(packages)
            packages.append(pkg)
        funcs["user"].append(int(user.is_user(f.filename)))
        funcs["imp"].append(int(user.is_import(f.filename)))
        funcs["pkg"].append(pi)
        short = shorten(f.filename)
        fi = file_idx.get(short)
        if fi is None:
            fi = file_idx[short] = len(files)
            files.append(short)
        funcs["name"].append(f.display_name)
        funcs["file"].append(fi)
        funcs["line"].append(f.lineno)
        funcs["kind"].append(_KINDS[shorten.kind(f.filename)])
    out_threads = []
    for t in threads:
        spans = node_spans(t)
        fs, es = profile.call_stats([t])
        out_threads.append({
            "name": thread_label(t),
            "truncated": t.truncated,
            # calling-context tree; node 0 is the root; t = width (ticks); each column
            # packed (``packed_column``), since JSON of 673k-node trees cost 0.3 s
            "nodes": {"f": packed_column(t.func), "p": packed_column(t.parent),
                      "n": packed_column(t.calls), "s": packed_column(t.self_ticks),
                      "t": packed_column(spans)},
            # flat stats: function, calls, primitive calls, self, cumulative
            "fs": {"f": list(fs), "n": [s.calls for s in fs.values()],
                   "p": [s.primitive_calls for s in fs.values()],
                   "s": [s.self_ticks for s in fs.values()],
                   "c": [s.cum_ticks for s in fs.values()]},
            # edges: caller, callee, calls, primitive calls, self, cumulative
            "es": {"a": [k[0] for k in es], "b": [k[1] for k in es],
                   "n": [s.calls for s in es.values()],
                   "p": [s.primitive_calls for s in es.values()],
                   "s": [s.self_ticks for s in es.values()],
                   "c": [s.cum_ticks for s in es.values()]},
        })
    blocks = _Blocks(profile, shorten)
    lines = _guard(_lines_section, profile, blocks)
    memory = _guard(_memory_section, profile, blocks, shorten)
    return {
        "title": str(profile.meta.get("command") or "hotpath profile"),
        "exporter": exporter_name(),
        "summary": _summary(profile.meta),
        "tickSeconds": profile.tick_seconds,
        "files": files,
        "packages": packages,
        "focus": list(user.focus),
        "lineLeaves": _line_leaves(profile),
        "funcs": funcs,
        "threads": out_threads,
        "processes": _processes_section(profile, threads),
        # annotated source (null without line or memory data) and the memory section
        "source": blocks.finish(lines) if blocks.items or lines else None,
        "memory": memory,
    }

def _processes_section(profile: Profile, threads: list[ThreadProfile]) -> list[dict]:
    """The processes of a whole-program profile (``report.processes.process_rows``), each
    with the indices of its threads in the page's thread list, its span in seconds from
    the first process's start, and where it waited on its children (empty for a
    one-process profile)."""
    if "processes" not in profile.extra:
        return []
    from hotpath.report.processes import process_rows
    where = {id(t): k for k, t in enumerate(threads)}
    out = []
    for r in process_rows(profile):
        p = r["proc"]
        mine = [where[id(profile.threads[i])] for i in p.threads
                if i < len(profile.threads) and id(profile.threads[i]) in where]
        out.append({"pid": p.pid, "ppid": p.ppid, "label": p.command, "depth": r["depth"],
                    "threads": mine, "missing": p.reason if p.missing else "",
                    "note": "" if p.missing else p.reason, "calls": r["calls"],
                    "seconds": r["seconds"], "begin": r["begin"], "end": r["end"],
                    "waited": r["waited"], "waits": [list(w) for w in r["waits"]]})
    return out


# -- annotated source and memory ----------------------------------------------------------------

MAX_BLOCKS = 200          # functions with an annotated-source block
TOP_ROWS = 100            # rows of each memory table
MAX_LEAKS = 30            # leak candidates listed, each with ...
LEAK_FRAMES = 40          # ... at most this many frames
TIMELINE_POINTS = 2000    # memory-over-time points kept (maxima per bucket beyond that)
MIN_LEAK_BYTES = 1024


def _guard(build, *args):
    """A section, or ``{"error": ...}`` if its data is malformed: one bad section must
    not cost the whole report."""
    try:
        return build(*args)
    except Exception as e:                     # noqa: BLE001 - reported on the page
        return {"error": f"{type(e).__name__}: {e}"}


class _Blocks:
    """The annotated-source blocks, one per function, keyed by (file name, first line):
    line timings, per-line memory and memory_profiler rows gather here from both
    sections, and ``finish`` adds the source text."""

    def __init__(self, profile: Profile, shorten: PathShortener) -> None:
        self.shorten = shorten
        self.reader = SourceReader(profile.meta.get("cwd"))
        self.items: list[dict[str, Any]] = []
        self.index: dict[tuple[str, int], int] = {}
        self.func_at: dict[tuple[str, int], int] = {}
        for i, f in enumerate(profile.functions):
            self.func_at.setdefault((f.filename, f.lineno), i)

    def find(self, filename: str, first: int) -> int:
        return self.index.get((filename, int(first)), -1)

    def add(self, filename: str, first: int, name: str) -> int:
        """The block of a function, created if new (-1 beyond ``MAX_BLOCKS``)."""
        key = (str(filename), int(first))
        b = self.index.get(key)
        if b is None:
            if len(self.items) >= MAX_BLOCKS:
                return -1
            b = self.index[key] = len(self.items)
            self.items.append({"filename": key[0], "first": key[1], "name": str(name),
                               "time": {}, "mem": {}, "mp": {}, "note": None})
        return b

    def finish(self, lines: dict[str, Any] | None) -> dict[str, Any]:
        out = []
        for b in self.items:
            data = set(b["time"]) | set(b["mem"]) | set(b["mp"])
            ex = self.reader.excerpt(b["filename"], b["first"], data,
                                     whole_file=b["name"] == "<module>")
            time_rows = [[ln, *b["time"][ln]] for ln in sorted(b["time"])]
            out.append({
                "name": b["name"], "file": self.shorten(b["filename"]), "path": b["filename"],
                "line": b["first"], "f": self.func_at.get((b["filename"], b["first"]), -1),
                "no": ex.numbers, "text": ex.text, "missing": ex.missing,
                # [line, hits, time in lines.unit seconds]
                "time": time_rows if b["time"] else None,
                "total": sum(r[2] for r in time_rows), "hits": sum(r[1] for r in time_rows),
                "note": b["note"],
                # [line, bytes allocated, blocks, bytes held at the peak, live at exit,
                #  native bytes]
                "mem": [[ln, *b["mem"][ln]] for ln in sorted(b["mem"])] if b["mem"] else None,
                "memTotal": sum(r[0] for r in b["mem"].values()),
                # memory_profiler: [line, mem usage, increment (bytes), occurrences]
                "mp": [[ln, *b["mp"][ln]] for ln in sorted(b["mp"])] if b["mp"] else None,
            })
        info = {k: v for k, v in (lines or {}).items() if k != "error"}
        return {"unit": info.get("unit", 1e-9), "mode": info.get("mode"),
                "samples": info.get("samples"), "error": (lines or {}).get("error"),
                "blocks": out}


def _lines_section(profile: Profile, blocks: _Blocks) -> dict[str, Any] | None:
    """Put ``extra["lines"]`` into blocks; returns the section's header fields."""
    data = profile.extra.get("lines")
    if not isinstance(data, dict) or not data.get("functions"):
        return None
    stats = LineData.from_section(data)
    notes = stats.notes()
    # hottest first, as a person reads them
    for (filename, first, name), rows in sorted(stats.timings().items(),
                                                key=lambda kv: -sum(r[2] for r in kv[1])):
        b = blocks.add(filename, first, name)
        if b < 0:
            break
        time = blocks.items[b]["time"]
        for ln, hits, t in rows:
            h0, t0 = time.get(ln, (0, 0))
            time[int(ln)] = (h0 + int(hits), t0 + t)
        blocks.items[b]["note"] = notes.get((filename, first, name))
    return {"unit": float(stats.unit), "mode": str(data.get("mode") or "explicit"),
            "samples": int(data.get("samples") or 0)}


def _downsample(tl: dict[str, Any]) -> dict[str, list]:
    t = [float(x) for x in tl.get("t", [])]
    rss = [int(x) for x in tl.get("rss", [])][:len(t)]
    heap = [int(x) for x in tl.get("heap", [])][:len(t)]
    rss += [0] * (len(t) - len(rss))
    heap += [0] * (len(t) - len(heap))
    if len(t) > TIMELINE_POINTS:          # keep each bucket's maxima: peaks stay visible
        step = len(t) / (TIMELINE_POINTS // 2)
        ot, orss, oheap = [], [], []
        k = 0.0
        while int(k) < len(t):
            a, b = int(k), min(int(k + step), len(t))
            ot += [t[a], t[b - 1]]
            orss += [max(rss[a:b])] * 2
            oheap += [max(heap[a:b])] * 2
            k += step
        t, rss, heap = ot, orss, oheap
    return {"t": [round(x, 6) for x in t], "rss": rss, "heap": heap}


def _memory_section(profile: Profile, blocks: _Blocks, shorten: PathShortener
                    ) -> dict[str, Any] | None:
    """The memory view's data; adds per-line memory to the blocks."""
    from ..model.memory import NO_FRAME, MemoryView
    if not isinstance(profile.extra.get("memory"), dict):
        return None
    v = MemoryView.of(profile)
    reader = blocks.reader
    funcs = v.functions

    # each stack at the innermost line of the user's code (text report's "top lines")
    frames = v.frames
    per_line: dict[tuple[int, int], list[int]] = {}
    for fr, r in v._sum_by(v.user_frames()).items():
        key = (-1, 0) if fr < 0 else (int(frames[fr][0]), int(frames[fr][1]))
        # [bytes, count, at peak, live, native bytes]
        per_line[key] = [r[0], r[1], r[4], r[0] - r[2], r[5]]

    def where(fid: int, line: int, src: bool = True) -> dict[str, Any]:
        if fid < 0:
            return {"name": NO_FRAME, "file": "", "line": 0, "b": -1, "src": ""}
        filename, name, first = funcs[fid]
        return {"name": str(name), "file": shorten(str(filename)), "line": int(line),
                "b": blocks.find(filename, first),
                "src": reader.line(filename, int(line)) if src else ""}

    # blocks: the user's functions of the top lines and of the top functions (with what
    # they called), and memory_profiler's functions
    top_lines = sorted(per_line.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
    own = {r.key: r for r in v.by_function()}
    incl = sorted(v.by_function(inclusive=True), key=lambda r: (-r.alloc_bytes, -r.alloc_count))
    chosen = [(funcs[fid][0], funcs[fid][2], funcs[fid][1])
              for (fid, _), r in top_lines[:60] if fid >= 0 and r[0] > 0]
    chosen += [r.key for r in incl[:60] if r.alloc_bytes > 0]
    user = 0
    for filename, first, name in dict.fromkeys(chosen):
        if (filename != NO_FRAME and not str(filename).startswith("<")
                and shorten.kind(filename) in ("project", "other")):
            blocks.add(filename, first, name)
            user += 1
            if user >= 40:
                break
    for f in v.data.get("lines") or []:
        b = blocks.add(f["filename"], int(f["lineno"]), f.get("name", ""))
        if b >= 0:
            for row in f["lines"]:
                blocks.items[b]["mp"][int(row[0])] = [int(row[1]), int(row[2]), int(row[3])]
    # per line of those blocks: what the line allocated, itself or in what it called
    # (each stack counted once per line, so recursion does not count twice)
    frame_block = {}
    for k, (fid, line) in enumerate(v.frames):
        b = blocks.find(funcs[fid][0], funcs[fid][2])
        if b >= 0:
            frame_block[k] = (b, int(line))
    if frame_block:
        for fr, ab, ac, fb, pb, nat in zip(v._frames_col, v._ab, v._ac, v._fb, v._pb,
                                           v._native):
            for b, line in {frame_block[f] for f in fr if f in frame_block}:
                r = blocks.items[b]["mem"].get(line)
                if r is None:
                    r = blocks.items[b]["mem"][line] = [0, 0, 0, 0, 0]
                r[0] += ab
                r[1] += ac
                r[2] += pb
                r[3] += ab - fb
                if nat:
                    r[4] += ab

    # the tables: top lines (by bytes, by count, at the peak), top functions, leaks
    keep = dict.fromkeys(
        [k for k, _ in top_lines[:TOP_ROWS]] +
        [k for k, _ in sorted(per_line.items(), key=lambda kv: (-kv[1][1], -kv[1][0]))[:TOP_ROWS]] +
        [k for k, r in sorted(per_line.items(), key=lambda kv: -kv[1][2])[:TOP_ROWS] if r[2] > 0])
    lines_out = []
    for key in keep:
        r = per_line[key]
        lines_out.append({**where(*key), "ab": r[0], "ac": r[1], "pb": r[2], "lb": r[3],
                          "nb": r[4]})
    incl.sort(key=lambda r: -(own[r.key].alloc_bytes if r.key in own else 0))
    funcs_out = []
    for r in incl[:TOP_ROWS]:
        filename, first, name = r.key
        o = own.get(r.key)
        funcs_out.append({
            "name": str(name) if filename != NO_FRAME else NO_FRAME,
            "file": shorten(str(filename)) if filename != NO_FRAME else "",
            "line": int(first), "b": blocks.find(filename, first),
            "oab": o.alloc_bytes if o else 0, "oac": o.alloc_count if o else 0,
            "iab": r.alloc_bytes, "iac": r.alloc_count})
    leaks = v.leaks(MIN_LEAK_BYTES)
    leaks_out = []
    for s in leaks[:MAX_LEAKS]:
        frames = [where(*v.frames[f]) for f in s.frames[:LEAK_FRAMES]]
        leaks_out.append({"lb": s.live_bytes, "lc": s.live_count, "native": s.native,
                          "truncated": s.truncated, "more": max(len(s.frames) - LEAK_FRAMES, 0),
                          "frames": frames})
    rest = leaks[MAX_LEAKS:]
    totals = {k: x for k, x in v.totals.items() if isinstance(x, (int, float))}
    tl = _downsample(v.data.get("timeline") or {})
    return {
        "mode": "sampled" if v.sampled else "exact",
        "sampleBytes": v.data.get("sample_bytes") if v.sampled else None,
        "native": bool(v.data.get("native")), "forked": bool(v.data.get("forked")),
        "maxFrames": v.data.get("max_frames"),
        "totals": totals, "rssPeak": max(tl["rss"], default=0), "timeline": tl,
        "lines": lines_out, "functions": funcs_out, "leaks": leaks_out,
        "leaksMore": [len(rest), sum(s.live_bytes for s in rest)],
        "imports": list(v.import_totals()),
        "minLeak": MIN_LEAK_BYTES,
        # the allocation flame graph and the temporal view (report/memflame.py)
        "flame": memory_flame(v, shorten),
        "flameNoImports": memory_flame(v, shorten, hide_imports=True),
        "temporal": memory_temporal(v, shorten),
    }


def _line_leaves(profile: Profile) -> dict[str, list]:
    """Per function with line timings, its costliest line: ``{"f": [function index],
    "line": [line], "hits": [hits], "sec": [seconds], "src": [its text]}``, for the hot
    path view's line leaf (``report.hottree``'s rule)."""
    out: dict[str, list] = {"f": [], "line": [], "hits": [], "sec": [], "src": []}
    data = LineData.of(profile)
    if data is None:
        return out
    at = {(f.filename, f.lineno): i for i, f in enumerate(profile.functions)}
    reader = SourceReader(profile.meta.get("cwd"))
    for fl in data.functions:
        i = at.get((fl.filename, fl.lineno))
        if i is None or not fl.lines:
            continue
        ln, hits, t = max(fl.lines, key=lambda r: (r[2], -r[0]))
        if t <= 0:
            continue
        out["f"].append(i)
        out["line"].append(int(ln))
        out["hits"].append(int(hits))
        out["sec"].append(t * data.unit)
        out["src"].append(reader.line(fl.filename, int(ln), limit=120).strip())
    return out


def _summary(meta: dict[str, Any]) -> list[str]:
    """Short "what was run, how" items for the page header."""
    items = []
    if meta.get("python"):
        impl = meta.get("implementation")
        items.append(f"Python {meta['python']}" + (f" ({impl})" if impl else ""))
    if meta.get("mode"):
        items.append(f"mode: {meta['mode']}")
    if meta.get("clock"):
        items.append(f"clock: {meta['clock']}")
    for key, name in (("duration", "wall time"), ("profiled_seconds", "profiled")):
        if isinstance(meta.get(key), (int, float)):
            items.append(f"{name}: {format_seconds(meta[key])}")
    if isinstance(meta.get("start_time"), (int, float)):
        try:
            items.append("started " + time.strftime("%Y-%m-%d %H:%M:%S",
                                                    time.localtime(meta["start_time"])))
        except (OverflowError, OSError, ValueError):
            pass
    items.extend(f"note: {n}" for n in meta.get("notes") or ())   # e.g. approximated tree
    return [str(x) for x in items]


def to_html(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
            focus: Iterable[str] = ()) -> str:
    """The whole report as one HTML document (a string); ``focus``: packages to count as
    the user's code."""
    data = report_data(profile, threads, focus)
    return pages.render("report", title=xml_escape(f"hotpath: {data['title']}"),
                        data=json_for_script(data))


def write_html(profile: Profile, path: str, focus: Iterable[str] = ()) -> None:
    """Write the HTML report of ``profile`` to ``path``."""
    with open_output(path, "w", encoding="utf-8") as f:
        f.write(to_html(profile, focus=focus))
