"""From the C capture to the model: ``_core.Profiler.snapshot()`` → ``model.Profile``.

The snapshot packs each thread's call tree as little-endian 32-byte records
``<u32 func, u32 parent, u64 calls, i64 self, i64 total>``; the root's func and parent
are 0xFFFFFFFF. Function 0 is the call tree's overflow pseudo-function.
"""
from __future__ import annotations

import struct
import sys
import threading
from typing import Any

from hotpath.model import ROOT, Function, Node, Profile, ThreadProfile

_NODE = struct.Struct("<IIQqq")
_NONE32 = 0xFFFFFFFF


def _nodes(packed: bytes) -> list[Node]:
    out = []
    for func, parent, calls, self_t, total_t in _NODE.iter_unpack(packed):
        out.append(Node(ROOT if func == _NONE32 else func,
                        -1 if parent == _NONE32 else parent, calls, self_t, total_t))
    return out


def _thread_name(ident: int, recorded: str | None) -> str:
    if recorded:
        return recorded
    t = threading._active.get(ident)  # type: ignore[attr-defined]
    return t.name if t is not None else f"Thread-{ident}"


def profile_from_snapshot(snap: dict[str, Any], meta: dict[str, Any] | None = None
                          ) -> Profile:
    """Build a model.Profile from a capture snapshot (see module docstring)."""
    functions = [Function(f, line, name, qual) for f, line, name, qual, _ in snap["functions"]]
    threads = []
    for t in snap["threads"]:
        threads.append(ThreadProfile(thread_id=t["ident"], name=_thread_name(t["ident"], t["name"]),
                                     nodes=_nodes(t["nodes"]), truncated=bool(t["truncated"])))
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "clock": snap["clock"],
        "profiled_seconds": snap["enabled_seconds"],
    }
    if snap.get("error"):
        info["capture_error"] = snap["error"]
    if meta:
        info.update(meta)
    return Profile(functions=functions, threads=threads,
                   tick_seconds=snap["tick_seconds"], meta=info)
