"""The memory view's allocation flame graph and temporal view, as the page's data.

``memory_flame(view)``: the stacks of a memory profile (``model.memory.MemoryView``)
merged into one tree, outermost frame at the root, one node per (caller node, frame) — so
the same function called from two lines is two nodes, as in memray's flame graph — and a
leaf "[native]" under the frame whose C code asked for native memory. Each node carries
six inclusive amounts, one per choice of the page's selector:

    peak, peakN      bytes / blocks held at the peak of the tracked heap
    leak, leakN      bytes / blocks still live at exit (leak candidates)
    alloc, allocN    bytes / blocks allocated over the whole run

A node's amount is the sum over the stacks through it, so a child never exceeds its
parent and pruning the smallest nodes (beyond ``MAX_NODES``) keeps a tree.

``memory_temporal(view)``: the section's ``temporal`` samples (``capture.memory._Temporal``)
as stacked series, one per stack that held most memory at some moment, each labelled by
its innermost frame of the user's code, the rest as "other".
"""
from __future__ import annotations

from typing import Any, Callable

from ..model.memory import NO_FRAME, MemoryView

__all__ = ["memory_flame", "memory_temporal", "MAX_NODES", "METRICS"]

#: nodes kept in the flame graph (the largest, by their largest share of any metric)
MAX_NODES = 4000
METRICS = ("peak", "peakN", "leak", "leakN", "alloc", "allocN")
ROOT, NATIVE, NONE = -1, -2, -3          # the "fr" of the root, a native leaf, no frame


def _frames_table(v: MemoryView, used: list[int], shorten: Callable[[str], str]
                  ) -> dict[str, list[Any]]:
    files: dict[str, int] = {}
    out: dict[str, list[Any]] = {"name": [], "file": [], "line": [], "user": [], "files": []}
    for f in used:
        filename, line, name = v.line_key(f)
        short = shorten(str(filename))
        if short not in files:
            files[short] = len(out["files"])
            out["files"].append(short)
        out["name"].append(str(name))
        out["file"].append(files[short])
        out["line"].append(int(line))
        out["user"].append(1 if v.is_user(f) else 0)
    return out


def memory_flame(v: MemoryView, shorten: Callable[[str], str] = str,
                 max_nodes: int = MAX_NODES, hide_imports: bool = False) -> dict[str, Any]:
    """The flame graph's data: ``frames`` (name, file index, line, user flag; ``files``),
    ``p`` (parent node), ``fr`` (frame index, or ROOT / NATIVE / NONE) and one list of
    inclusive amounts per metric (``METRICS``); node 0 is the root; parents come first.
    ``pruned``: nodes left out (too small to show). ``hide_imports``: frames of the import
    machinery (importlib's bootstrap, as memray's "hide import system frames") are left
    out of every stack, so what an import ran hangs under the line that imported."""
    imp = v._import_funcs()
    ff = v._frame_func
    p, fr = [-1], [ROOT]
    vals = [[0] for _ in METRICS]
    child: dict[tuple[int, int], int] = {}
    frame_ix: dict[int, int] = {}
    used: list[int] = []
    for s in v.stacks:
        amounts = (s.peak_bytes, s.peak_count, max(s.live_bytes, 0), max(s.live_count, 0),
                   s.alloc_bytes, s.alloc_count)
        if not any(amounts):
            continue
        path = [0]
        keys = []
        for f in reversed(s.frames):
            if hide_imports and imp[ff[f]]:
                continue
            k = frame_ix.get(f)
            if k is None:
                k = frame_ix[f] = len(used)
                used.append(f)
            keys.append(k)
        if not keys:
            keys = [NONE]
        if s.native:
            keys.append(NATIVE)
        node = 0
        for k in keys:
            nxt = child.get((node, k))
            if nxt is None:
                nxt = child[(node, k)] = len(p)
                p.append(node)
                fr.append(k)
                for col in vals:
                    col.append(0)
            node = nxt
            path.append(node)
        for col, a in zip(vals, amounts):
            if a:
                for n in path:
                    col[n] += a
    pruned = 0
    if len(p) > max_nodes:
        totals = [max(col[0], 1) for col in vals]
        share = [max(col[i] / t for col, t in zip(vals, totals)) for i in range(len(p))]
        floor = sorted(share, reverse=True)[max_nodes - 1]
        keep = [False] * len(p)
        keep[0] = True
        kept = 1
        for i in range(1, len(p)):       # parents first: a kept node's parent is kept
            if keep[p[i]] and share[i] > floor and kept < max_nodes:
                keep[i] = True
                kept += 1
        new = [-1] * len(p)
        order = [i for i in range(len(p)) if keep[i]]
        for k, i in enumerate(order):
            new[i] = k
        pruned = len(p) - len(order)
        p = [new[p[i]] if i else -1 for i in order]
        fr = [fr[i] for i in order]
        vals = [[col[i] for i in order] for col in vals]
    # frame indexes in the order frames were first met (the ids of `used`)
    return {"frames": _frames_table(v, used, shorten), "p": p, "fr": fr,
            **dict(zip(METRICS, vals)), "pruned": pruned}


def memory_temporal(v: MemoryView, shorten: Callable[[str], str] = str,
                    frames: int = 6) -> dict[str, Any] | None:
    """The temporal view's data, or None when the profile has no temporal samples:
    ``t`` (seconds), ``series`` [{name, file, line, stack [labels, innermost first],
    more, native, stacks, live [bytes per t]}] largest first — stacks with the same label
    (innermost line of the user's code, native or not) summed as one, ``stacks`` of them,
    ``stack`` the first one's frames — and ``other`` [bytes per t]."""
    tp = v.data.get("temporal")
    if not isinstance(tp, dict) or not tp.get("t"):
        return None
    stacks = v.stacks
    series: list[dict[str, Any]] = []
    by_label: dict[tuple[Any, ...], dict[str, Any]] = {}
    for s_ix, live in zip(tp.get("stacks", []), tp.get("live", [])):
        s = stacks[s_ix]
        top = v.user_frame(s)
        filename, line, name = v.line_key(top)
        key = (filename, line, name, s.native)
        same = by_label.get(key)
        if same is not None:                 # stacks that differ only outside the label
            same["live"] = [a + int(b) for a, b in zip(same["live"], live)]
            same["stacks"] += 1
            continue
        labels = []
        for f in s.frames[:frames]:
            fn, ln, nm = v.line_key(f)
            labels.append(f"{nm} ({shorten(str(fn))}:{ln})")
        by_label[key] = {"name": str(name) if top is not None else NO_FRAME,
                         "file": shorten(str(filename)) if top is not None else "",
                         "line": int(line), "stack": labels,
                         "more": max(len(s.frames) - frames, 0), "stacks": 1,
                         "native": s.native, "live": [int(x) for x in live]}
        series.append(by_label[key])
    series.sort(key=lambda se: -max(se["live"], default=0))
    return {"t": [float(x) for x in tp["t"]], "series": series,
            "other": [int(x) for x in tp.get("other", [])]}
