"""The self-contained HTML report: one file, works offline, no external resources.

``report_data(profile)`` flattens the model into compact columnar arrays (functions,
per-thread trees with widths, and per-thread flat and caller→callee stats computed by
the model with cProfile's recursion rules); ``to_html`` embeds them as JSON in a
``<script type="application/json">`` block next to the page's CSS and vanilla JS
(``_html_assets``). The page draws an interactive flame graph on a canvas (click to
zoom, search, hover for self/total time and calls), a sortable function table with
callers and callees, and a thread selector.

Injection safety: the JSON is escaped so that ``<``, ``>`` and ``&`` never appear
literally (``</script>``, ``<!--`` cannot end the block), every other string is escaped
with ``base.xml_escape``, and the script inserts profile text with ``textContent`` only.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterable

from ..model import Profile, ThreadProfile
from . import _html_assets
from .base import (PathShortener, exporter_name, format_seconds, node_spans, thread_label,
                   xml_escape)

__all__ = ["report_data", "to_html", "write_html", "json_for_script"]

_KINDS = {"project": 0, "library": 1, "builtin": 2, "other": 3}
_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_for_script(obj: Any) -> str:
    """JSON text safe inside an HTML ``<script>`` element (and ASCII only).

    ``ensure_ascii`` escapes every non-ASCII character (U+2028, lone surrogates), and
    ``<``, ``>``, ``&`` — which can only occur inside JSON strings — become ``\\u``
    escapes, so the text can neither close the element nor open a comment.
    """
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).translate(_SAFE)


def report_data(profile: Profile, threads: Iterable[ThreadProfile] | None = None
                ) -> dict[str, Any]:
    """The JSON-able data the page reads (documented field by field in the JS)."""
    threads = list(profile.threads if threads is None else threads)
    shorten = PathShortener(profile.meta.get("cwd"))
    files: list[str] = []
    file_idx: dict[str, int] = {}
    funcs: dict[str, list] = {"name": [], "file": [], "line": [], "kind": []}
    for f in profile.functions:
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
        nodes = t.nodes
        fs = profile.function_stats([t])
        es = profile.edge_stats([t])
        out_threads.append({
            "name": thread_label(t),
            "truncated": t.truncated,
            # calling-context tree; node 0 is the root; t = width (ticks)
            "nodes": {"f": [n.func for n in nodes], "p": [n.parent for n in nodes],
                      "n": [n.calls for n in nodes], "s": [n.self_ticks for n in nodes],
                      "t": spans},
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
    return {
        "title": str(profile.meta.get("command") or "hotpath profile"),
        "exporter": exporter_name(),
        "summary": _summary(profile.meta),
        "tickSeconds": profile.tick_seconds,
        "files": files,
        "funcs": funcs,
        "threads": out_threads,
    }


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
    return [str(x) for x in items]


def to_html(profile: Profile, threads: Iterable[ThreadProfile] | None = None) -> str:
    """The whole report as one HTML document (a string)."""
    data = report_data(profile, threads)
    return _html_assets.PAGE.format(
        title=xml_escape(f"hotpath: {data['title']}"),
        css=_html_assets.CSS,
        data=json_for_script(data),
        js=_html_assets.JS,
    )


def write_html(profile: Profile, path: str) -> None:
    """Write the HTML report of ``profile`` to ``path``."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(to_html(profile))
