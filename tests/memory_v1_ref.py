"""The memory section as hotpath wrote it before version 2 (the stacks as rows, each
stack's frames spelled out), computed in Python from ``MemTracker.snapshot()``: the
reference the C path (``capture.memory.memory_data``, ``MemTracker.shape``) is checked
against in test_memory_v2.py. The code is ``capture/memory.py``'s ``memory_data`` of
that version, unchanged but for its imports.
"""
from __future__ import annotations

import types
from typing import Any, Iterable

from hotpath.capture.memory import _HERE, _STDLIB, _trim_prefixes

SECTION_VERSION = 1
STACK_FIELDS = ["frames", "native", "truncated", "alloc_count", "alloc_bytes",
                "free_count", "free_bytes", "peak_count", "peak_bytes"]


def memory_data(snap: dict[str, Any], lines: list[dict[str, Any]] | None = None,
                trim: Iterable[str] = (),
                entry: types.CodeType | None = None,
                temporal: list[tuple[float, dict[int, int]]] | None = None
                ) -> dict[str, Any]:
    """Turn a ``MemTracker.snapshot()`` into the ``extra["memory"]`` section.

    Frames are resolved to (function, line); frames of hotpath itself (and runpy) are cut
    from the outer end of each stack; stacks made only of hotpath's frames, or whose
    innermost frame is hotpath's, are dropped (the tool's own allocations); and stacks
    that became equal are merged.

    ``entry``: the code of the one frame through which hotpath entered the program
    (``hotpath.session.program._enter_program``). A stack through it keeps only the frames
    inside it; a stack not through it that has one of hotpath's frames was hotpath's own
    work in the program's thread — the tail of its start-up, waiting for threads, restoring signal
    handlers, finishing — and is dropped like the tool's other allocations (the memory
    side of ``session.program.keep_program_calls``). Other threads' stacks stay as they are.

    ``temporal``: ``_Temporal.samples``, turned into the section's ``temporal`` (the live
    bytes of the ``TEMPORAL_STACKS`` stacks that held most at any sample, the rest summed).
    """
    prefixes = _trim_prefixes(trim)
    functions: list[list[Any]] = []
    func_ids: dict[tuple[str, str, int], int] = {}
    frame_ids: dict[tuple[Any, int], int] = {}
    frames: list[list[int]] = []
    merged: dict[tuple[tuple[int, ...], int], list[int]] = {}
    dropped = [0, 0]
    node_key: dict[int, tuple[tuple[int, ...], int]] = {}   # node → its stack's key

    # Nodes: (parent, code, line, counters...), parents first; 0 = overflow, 1 = root,
    # 2 = root of stacks cut at max_frames; line -1 marks a native allocation's node.
    # Each node's stack is its parent's plus its own frame, so everything about a stack
    # is derived from its parent's in O(1) (one tuple concatenation): its frames after
    # the cuts below, as ids (innermost first), and the states those cuts need. Frame ids
    # are numbered in tree order here and renumbered at the end in the order a walk of
    # the stacks (innermost first) meets them, the section's documented order.
    nodes = snap["nodes"]
    n = len(nodes)
    ids_of: list[tuple[int, ...]] = [()] * n     # the stack's kept frames, innermost first
    cut = [False] * n
    had = [False] * n          # the stack has a Python frame before any cut
    entered = [False] * n      # `entry` is in the stack (ids_of: the frames inside it)
    foreign = [False] * n      # not entered, and one of hotpath's frames is in the stack
    outer = [True] * n         # every frame kept so far is cut as an outer hotpath frame
    mine = [False] * n         # _allocated_by_hotpath's answer for the kept frames
    # per code object (by id; the snapshot holds them alive): (is entry, hotpath's file,
    # outer-cut prefix, standard library's file, function id)
    code_info: dict[int, tuple[bool, bool, bool, bool, int]] = {}

    def info(code: types.CodeType | None) -> tuple[bool, bool, bool, bool, int]:
        key = (("<unknown>", "<freed code object>", 0) if code is None else
               (code.co_filename, code.co_qualname, code.co_firstlineno))
        fid = func_ids.get(key)
        if fid is None:
            fid = func_ids[key] = len(functions)
            functions.append(list(key))
        if code is None:
            return (False, False, False, False, fid)
        name = code.co_filename
        return (code is entry, name.startswith(_HERE), name.startswith(prefixes),
                name.startswith(_STDLIB), fid)

    for i, (parent, code, line, *_rest) in enumerate(nodes):
        if parent < 0:
            cut[i] = i == 2
            continue
        cut[i] = cut[parent]
        if line == -1:                  # a native allocation: its caller's stack
            ids_of[i], had[i], entered[i] = ids_of[parent], had[parent], entered[parent]
            foreign[i], outer[i], mine[i] = foreign[parent], outer[parent], mine[parent]
            continue
        ci = code_info.get(id(code))
        if ci is None:
            ci = code_info[id(code)] = info(code)
        is_entry, here, prefixed, stdlib, fid = ci
        had[i] = True
        if entry is not None:
            if is_entry:                # the frames inside the entry frame start here
                entered[i] = True
                continue                # no frames kept yet: ids (), outer True
            if entered[parent]:
                entered[i] = True
            elif foreign[parent] or here:
                foreign[i] = True
                continue
        if outer[parent] and code is not None and prefixed:
            continue                    # cut from the outer end
        outer[i] = False
        key = (fid, line if line is not None and line > 0 else 0)
        f = frame_ids.get(key)
        if f is None:
            f = frame_ids[key] = len(frames)
            frames.append(list(key))
        ids_of[i] = (f,) + ids_of[parent]
        # _allocated_by_hotpath: the innermost frame that is not the standard library's
        mine[i] = (False if code is None else True if here else
                   mine[parent] if stdlib and not outer[parent] else False)
    for i, (parent, _code, line, ac, ab, fc, fb, pc, pb) in enumerate(nodes):
        if not ac:
            continue
        native = parent >= 0 and line == -1
        truncated = 2 if i == 0 else int(cut[i])
        ids = () if foreign[i] or mine[i] else ids_of[i]
        if had[i] and not ids:
            dropped[0] += ab
            dropped[1] += ac
            continue
        key = (ids, int(native))
        node_key[i] = key
        row = merged.get(key)
        if row is None:
            merged[key] = [truncated, ac, ab, fc, fb, pc, pb]
        else:
            row[0] = max(row[0], truncated)
            for k, v in enumerate((ac, ab, fc, fb, pc, pb), 1):
                row[k] += v
    # Renumber frames and functions in the order the stacks meet them.
    frame_new = [-1] * len(frames)
    order: list[int] = []
    for ids, _native in merged:
        for f in ids:
            if frame_new[f] < 0:
                frame_new[f] = len(order)
                order.append(f)
    func_new = [-1] * len(functions)
    funcs_order: list[int] = []
    new_frames: list[list[int]] = []
    for f in order:
        fn, ln = frames[f]
        k = func_new[fn]
        if k < 0:
            k = func_new[fn] = len(funcs_order)
            funcs_order.append(fn)
        new_frames.append([k, ln])
    functions = [functions[k] for k in funcs_order]
    frames = new_frames
    remap = frame_new.__getitem__
    stacks = [[list(map(remap, ids)), native, *row] for (ids, native), row in merged.items()]
    totals = {k: snap[k] for k in ("alloc_count", "alloc_bytes", "free_count", "free_bytes",
                                   "live_count", "live_bytes", "peak_count", "peak_bytes",
                                   "peak_time", "samples", "tracker_bytes", "duration")}
    totals["own_bytes"], totals["own_count"] = dropped
    for k in ("reserved_bytes", "reserved_touched", "reserved_max", "reserved_count",
              "mappings"):
        totals[k] = int(snap.get(k, 0))
    tl = snap["timeline"]
    data: dict[str, Any] = {
        "version": SECTION_VERSION,
        "mode": snap["mode"],
        "sample_bytes": int(snap["sample_bytes"]) if snap["mode"] == "sampled" else None,
        "native": bool(snap["native"]),
        "native_by_caller": bool(snap.get("native_by_caller", False)),
        "max_frames": snap["max_frames"],
        "forked": bool(snap.get("forked", False)),
        "functions": functions,
        "frames": frames,
        "stack_fields": list(STACK_FIELDS),
        "stacks": stacks,
        "totals": totals,
        "timeline": {"t": [round(p[0], 6) for p in tl], "rss": [p[1] for p in tl],
                     "heap": [p[2] for p in tl],
                     "reserved": [p[3] if len(p) > 3 else 0 for p in tl]},
    }
    if lines:
        data["lines"] = lines
    if temporal:
        peak = (float(snap["peak_time"]), {i: row[6] for i, row in enumerate(merged.values())
                                           if row[6] > 0})
        data["temporal"] = _temporal_section(temporal, node_key, list(merged), peak)
    return data


#: stacks kept by name in the temporal section (the rest are summed as "other")
TEMPORAL_STACKS = 30


def _temporal_section(samples: list[tuple[float, dict[int, int]]],
                      node_key: dict[int, Any], keys: list[Any],
                      peak: tuple[float, dict[int, int]]) -> dict[str, Any]:
    """{"t": [seconds], "stacks": [stack index], "live": [[bytes per t] per stack],
    "other": [bytes per t]}: the stacks that held most at any sample, largest first.
    ``peak``: (time, {stack index: bytes held}) at the tracked heap's peak, which the
    tracker knows exactly and the samples would mostly miss; it becomes one more point."""
    index = {k: i for i, k in enumerate(keys)}
    per_sample: list[dict[int, int]] = []
    times: list[float] = []
    for t, live in samples:
        if peak is not None and peak[0] <= t:
            times.append(round(peak[0], 6))
            per_sample.append(peak[1])
            peak = None                                     # type: ignore[assignment]
        times.append(t)
        acc: dict[int, int] = {}
        for node, b in live.items():
            k = node_key.get(node)
            if k is not None:
                s = index[k]
                acc[s] = acc.get(s, 0) + b
        per_sample.append(acc)
    if peak is not None:
        times.append(round(peak[0], 6))
        per_sample.append(peak[1])
    most: dict[int, int] = {}
    for acc in per_sample:
        for s, b in acc.items():
            if b > most.get(s, 0):
                most[s] = b
    top = sorted(most, key=lambda s: (-most[s], s))[:TEMPORAL_STACKS]
    chosen = set(top)
    return {"t": times, "stacks": top,
            "live": [[acc.get(s, 0) for acc in per_sample] for s in top],
            "other": [sum(b for s, b in acc.items() if s not in chosen) for acc in per_sample]}
