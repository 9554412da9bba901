"""Reading pyperf's JSON files (``pyperf timeit -o FILE``, ``Runner(... --output)``).

pyperf's layout (format version ``"1.0"``)::

    {"version": "1.0",
     "metadata": {...},                       # common to every benchmark of the file
     "benchmarks": [
       {"metadata": {"name": ..., "unit": "second", "loops": ..., ...},   # optional
        "runs": [{"metadata": {...}, "warmups": [[loops, value], ...],
                  "values": [seconds per loop iteration, ...]}, ...]}, ...]}

A benchmark's metadata is the file's ``metadata`` updated by its own; ``name`` is
required, ``unit`` must be ``"second"`` (pyperf also stores byte and integer
benchmarks), ``timeit_stmt`` holds the statements of ``pyperf timeit`` (each as a
Python string literal). Values are per loop iteration already, read on pyperf's
clock — the wall clock — and nothing is subtracted: they become gross samples of a
:class:`BenchResult` whose options say so (``clock: perf``, ``subtract: false``).
Warm-up values and calibration runs (no values) are left out.
"""
from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

from .result import BenchResult
from .shapes import is_count, is_number

__all__ = ["is_pyperf", "pyperf_results", "PYPERF_VERSION"]

PYPERF_VERSION = "1.0"


def is_pyperf(doc: dict) -> bool:
    """A pyperf document: its benchmarks have "runs" where pytest-benchmark's and
    hotpath's have "name" and "stats"."""
    benches = doc.get("benchmarks")
    return (isinstance(benches, list) and bool(benches)
            and all(isinstance(b, dict) and "runs" in b and "stats" not in b for b in benches))


def _statements(text: Any) -> str | None:
    """pyperf's ``timeit_stmt`` (string literals separated by spaces) as one
    statement, the lines joined as pyperf joins them; None if it is not that."""
    if not isinstance(text, str):
        return None
    parts = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING:
                parts.append(ast.literal_eval(tok.string))
            elif tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                return None
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return "\n".join(parts) if parts and all(isinstance(p, str) for p in parts) else None


def pyperf_results(doc: dict, path: str) -> list[BenchResult]:
    """Every benchmark of a pyperf document; ValueError when its shape is not pyperf's."""
    version = doc.get("version")
    if version != PYPERF_VERSION:
        raise ValueError(f"{path}: a pyperf file of format version {version!r}; hotpath "
                         f"reads version {PYPERF_VERSION!r}")
    common = doc.get("metadata") or {}
    if not isinstance(common, dict):
        raise ValueError(f"{path}: pyperf 'metadata' must be an object")
    out = []
    for i, bench in enumerate(doc["benchmarks"]):
        where = f"{path}: benchmarks[{i}]"
        own = bench.get("metadata") or {}
        runs = bench.get("runs")
        if not isinstance(own, dict) or not isinstance(runs, list):
            raise ValueError(f"{where}: pyperf 'metadata' must be an object and 'runs' a list")
        meta = {**common, **own}
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: a pyperf benchmark without a 'name'")
        unit = meta.get("unit", "second")
        if unit != "second":
            raise ValueError(f"{where}: pyperf benchmark {name!r} measures {unit!r}, not time")
        values: list[float] = []
        for j, run in enumerate(runs):
            vals = run.get("values", []) if isinstance(run, dict) else None
            if not isinstance(vals, list) or not all(is_number(v) for v in vals):
                raise ValueError(f"{where}: runs[{j}]: 'values' must be a list of numbers")
            values.extend(float(v) for v in vals)
        if not values:
            raise ValueError(f"{where}: pyperf benchmark {name!r} has no values")
        loops = meta.get("loops", 1)
        inner = meta.get("inner_loops", 1)
        loops = loops * inner if is_count(loops) and is_count(inner) else 1
        options = {"clock": "perf", "timer": "perf", "subtract": False,
                   "clock_reason": "pyperf reads the wall clock", "tool": "pyperf"}
        out.append(BenchResult(name=name, samples=values, gross=list(values), loops=loops,
                               options=options, source=_statements(meta.get("timeit_stmt")),
                               fullname=name))
    return out
