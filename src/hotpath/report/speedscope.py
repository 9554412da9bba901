"""speedscope export (https://www.speedscope.app/file-format-schema.json).

One profile per thread, built from its calling-context tree. The default is an
``"evented"`` profile: every tree node becomes one open/close pair, its children laid
side by side from its start and its own (self) time after them, so the file grows
linearly with the tree even for very deep recursion. ``mode="sampled"`` writes one
weighted sample per node that has self time instead (stack of frame indices, weight =
self time), which some tools prefer. Times are integer nanoseconds; the timeline is
synthetic (the tree does not keep the order of calls), as in any flame graph.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from ..model import Profile, ThreadProfile
from ..outfile import open_output
from .base import exporter_name, node_spans, thread_label

__all__ = ["to_speedscope", "write_speedscope", "SCHEMA_URL"]

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"


def to_speedscope(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
                  mode: str = "evented") -> dict[str, Any]:
    """The speedscope document of ``profile`` as a JSON-able dict."""
    if mode not in ("evented", "sampled"):
        raise ValueError(f"speedscope mode must be 'evented' or 'sampled', not {mode!r}")
    threads = list(profile.threads if threads is None else threads)
    frames: list[dict[str, Any]] = []
    frame_of: dict[int, int] = {}

    def frame(func: int) -> int:
        idx = frame_of.get(func)
        if idx is None:
            f = profile.functions[func]
            entry: dict[str, Any] = {"name": f.display_name}
            if not f.is_builtin:
                entry["file"] = f.filename
                entry["line"] = f.lineno
            frames.append(entry)
            idx = frame_of[func] = len(frames) - 1
        return idx

    ns = profile.tick_seconds * 1e9
    build = _evented if mode == "evented" else _sampled
    profiles = [build(t, frame, ns) for t in threads]
    totals = [p["endValue"] for p in profiles]
    return {
        "$schema": SCHEMA_URL,
        "shared": {"frames": frames},
        "profiles": profiles,
        "name": str(profile.meta.get("command") or "hotpath profile"),
        "activeProfileIndex": totals.index(max(totals)) if totals else 0,
        "exporter": exporter_name(),
    }


def write_speedscope(profile: Profile, path: str, mode: str = "evented") -> None:
    """Write ``profile`` as a speedscope JSON file at ``path``."""
    doc = to_speedscope(profile, mode=mode)
    with open_output(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))


def _evented(t: ThreadProfile, frame, ns: float) -> dict[str, Any]:
    """Open/close events of ``t``'s tree; children from the parent's start, self last."""
    order, first = t.child_index()
    spans = node_spans(t)
    func = t.func
    events: list[dict[str, Any]] = []
    cursor = 0                                     # in ticks
    start = [0] * len(func)
    todo: list[tuple[int, bool]] = [(c, True) for c in reversed(order[first[0]:first[1]])
                                    if spans[c]]
    while todo:
        i, opening = todo.pop()
        fr = frame(func[i])
        if opening:
            start[i] = cursor
            events.append({"type": "O", "frame": fr, "at": round(cursor * ns)})
            todo.append((i, False))
            todo.extend((c, True) for c in reversed(order[first[i]:first[i + 1]]) if spans[c])
        else:
            cursor = start[i] + spans[i]
            events.append({"type": "C", "frame": fr, "at": round(cursor * ns)})
    return {"type": "evented", "name": thread_label(t), "unit": "nanoseconds",
            "startValue": 0, "endValue": round(spans[0] * ns), "events": events}


def _sampled(t: ThreadProfile, frame, ns: float) -> dict[str, Any]:
    """One weighted sample per node with self time: its stack and its self time."""
    samples: list[list[int]] = []
    weights: list[int] = []
    path: list[int] = []
    func, self_ticks = t.func, t.self_ticks
    for i, depth in t.walk():
        path[depth - 1:] = [frame(func[i])]
        w = round(self_ticks[i] * ns)
        if w > 0:
            samples.append(list(path))
            weights.append(w)
    return {"type": "sampled", "name": thread_label(t), "unit": "nanoseconds",
            "startValue": 0, "endValue": sum(weights), "samples": samples,
            "weights": weights}
