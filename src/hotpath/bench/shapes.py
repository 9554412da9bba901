"""The shape of one benchmark entry in a bench file, checked before it is read.

An entry of the ``"benchmarks"`` list of a hotpath or pytest-benchmark file is read
only after :func:`check_entry` has accepted it, so a file of any other shape — pyperf's,
another tool's, a hand-edited one, random JSON — ends in one ``ValueError`` naming the
field, never in a ``KeyError`` or ``TypeError`` from deep inside a comparison.

Accepted (everything else in an entry is ignored)::

    name        str (required)
    stats       object (required): "data", a non-empty list of numbers (seconds per
                call, one per round), or else the numbers min, max, mean, stddev, median,
                q1, q3 and an integer rounds >= 1; "iterations" an integer >= 1
    group, fullname, param        str or null
    params, options, extra_info   object or null
    hotpath     object or null: gross, wall (lists of numbers), overhead (number),
                loops (integer >= 1), memory_peak (integer or null), source (str or
                null), async and baseline (booleans)
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["check_entry", "is_number", "is_count"]

_SAVED_STATS = ("min", "max", "mean", "stddev", "median", "q1", "q3")


def is_number(x: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_count(x: Any) -> bool:
    """An int >= 1 (not a bool)."""
    return isinstance(x, int) and not isinstance(x, bool) and x >= 1


def _numbers(x: Any) -> bool:
    return isinstance(x, list) and all(is_number(v) for v in x)


def check_entry(entry: Any, where: str) -> None:
    """Raise ValueError("<where>: ...") unless ``entry`` has the shape above."""
    def bad(what: str) -> ValueError:
        return ValueError(f"{where}: {what}")

    if not isinstance(entry, dict):
        raise bad(f"a benchmark must be an object, not {type(entry).__name__}")
    if not isinstance(entry.get("name"), str) or not entry["name"]:
        raise bad("no 'name' (a string): not a hotpath or pytest-benchmark entry")
    stats = entry.get("stats")
    if not isinstance(stats, dict):
        raise bad("no 'stats' object")
    data = stats.get("data")
    if data is not None and (not _numbers(data) or not data):
        raise bad("'stats.data' must be a non-empty list of numbers")
    if not data:
        missing = [k for k in _SAVED_STATS if not is_number(stats.get(k))]
        if missing:
            raise bad(f"'stats' has no raw data and no number for {', '.join(missing)}")
        if not is_count(stats.get("rounds")):
            raise bad("'stats.rounds' must be an integer >= 1")
    if "iterations" in stats and not is_count(stats["iterations"]):
        raise bad("'stats.iterations' must be an integer >= 1")
    for key in ("group", "fullname", "param"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise bad(f"'{key}' must be a string or null")
    for key in ("params", "options", "extra_info"):
        if entry.get(key) is not None and not isinstance(entry[key], dict):
            raise bad(f"'{key}' must be an object or null")
    hp = entry.get("hotpath")
    if hp is None:
        return
    if not isinstance(hp, dict):
        raise bad("'hotpath' must be an object")
    for key in ("gross", "wall"):
        if hp.get(key) is not None and not _numbers(hp[key]):
            raise bad(f"'hotpath.{key}' must be a list of numbers")
    if "overhead" in hp and not is_number(hp["overhead"]):
        raise bad("'hotpath.overhead' must be a number")
    if "loops" in hp and not is_count(hp["loops"]):
        raise bad("'hotpath.loops' must be an integer >= 1")
    peak = hp.get("memory_peak")
    if peak is not None and (not isinstance(peak, int) or isinstance(peak, bool)):
        raise bad("'hotpath.memory_peak' must be an integer or null")
    if hp.get("source") is not None and not isinstance(hp["source"], str):
        raise bad("'hotpath.source' must be a string or null")
    counts = hp.get("counts")
    if counts is not None:
        samples = counts.get("samples") if isinstance(counts, dict) else None
        if not isinstance(samples, dict) or not all(
                isinstance(k, str) and _numbers(v) for k, v in samples.items()):
            raise bad("'hotpath.counts' must be an object with 'samples': "
                      "{counter: list of numbers}")
    for key in ("async", "baseline"):
        if key in hp and not isinstance(hp[key], bool):
            raise bad(f"'hotpath.{key}' must be true or false")
