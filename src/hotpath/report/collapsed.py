"""Collapsed stacks, the input of flamegraph.pl and inferno: ``a;b;c 123`` per line.

One line per distinct stack with self time: frames from the outermost in, separated by
``;``, then a space and the self time in integer nanoseconds (``unit`` changes that).
The values are rounded with a running sum, so the lines add up to the profile's total.
Frames are labelled ``qualname (short/path.py:12)``; ``;`` and line breaks inside labels
are replaced. With several threads, each stack starts with a frame naming its thread
(``split_threads=False`` merges them instead).
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..model import Profile, ThreadProfile
from .base import Labeler, Rounder, thread_label

__all__ = ["collapsed_lines", "write_collapsed", "UNITS"]

UNITS = {"ns": 1e9, "us": 1e6, "ms": 1e3, "s": 1.0}


def collapsed_lines(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
                    unit: str = "ns", split_threads: bool | None = None,
                    label: Labeler | None = None) -> Iterator[str]:
    """Yield ``"a;b;c value"`` lines (without newlines), one per stack with self time."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    threads = list(profile.threads if threads is None else threads)
    if split_threads is None:
        split_threads = len(threads) > 1
    label = label or Labeler(profile, forbid=";")
    rounder = Rounder(profile.tick_seconds * UNITS[unit])
    merged: dict[str, int] = {}        # identical labels can meet: sum their lines
    for t in threads:
        path: list[str] = [thread_label(t)] if split_threads else []
        base = len(path)
        for i, depth in t.walk():
            n = t.nodes[i]
            path[base + depth - 1:] = [label(n.func)]
            if n.self_ticks:
                value = rounder.take(n.self_ticks)
                key = ";".join(path)
                merged[key] = merged.get(key, 0) + value
    for key, value in merged.items():
        if value > 0:
            yield f"{key} {value}"


def write_collapsed(profile: Profile, path: str, unit: str = "ns") -> None:
    """Write collapsed stacks of ``profile`` to ``path`` (UTF-8)."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in collapsed_lines(profile, unit=unit):
            f.write(line + "\n")
