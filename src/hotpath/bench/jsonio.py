"""Benchmark files: one JSON layout for the API, the CLI and the pytest plugin.

The layout is pytest-benchmark's, so its tools read hotpath files, plus one top-level
``"hotpath"`` object saying what the file holds::

    {
      "machine_info": {...},            # as pytest-benchmark writes it
      "commit_info": {...},
      "benchmarks": [ <BenchResult.to_dict()>, ... ],
      "datetime": "2025-01-01T12:00:00+00:00",
      "version": "0.1.0",               # hotpath's version
      "hotpath": {
        "format": "hotpath-bench",
        "format_version": 1,
        "kind": "bench" | "compare" | "pytest",
        "compare": {"implementations": [...], "sizes": [...], "baseline": "..."}   # kind compare
      }
    }

The envelope itself (``document``, ``machine_info``, ``commit_info``) is written by
:mod:`.document`, which the result types use without importing this reader.
:func:`load` also reads pytest-benchmark's own files (kind ``"pytest"``) and pyperf's
(``pyperf timeit -o``, ``--output``; format version 1.0: see :mod:`.pyperf_file`). Every
file is checked against the shape it claims before anything is read from it; a file
of another shape is one ``ValueError`` that says what is wrong and where.
"""
from __future__ import annotations

import json
from typing import Any

from .document import FORMAT, FORMAT_VERSION, commit_info, document, machine_info
from .pyperf_file import is_pyperf, pyperf_results
from .result import BenchResult
from .shapes import check_entry

__all__ = ["FORMAT", "FORMAT_VERSION", "document", "load", "load_results", "machine_info",
           "commit_info"]

def _read(path: str) -> tuple[dict, list[BenchResult]]:
    """The document and its benchmarks; ValueError (or OSError) when it is not a
    hotpath, pytest-benchmark or pyperf benchmark file of a shape hotpath reads."""
    with open(path, encoding="utf-8") as fh:
        try:
            doc = json.load(fh)
        except ValueError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ValueError(f"{path}: not a benchmark file (no 'benchmarks' list)")
    if is_pyperf(doc):
        return doc, pyperf_results(doc, path)
    header = doc.get("hotpath")
    if header is not None:
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            fmt = header.get("format") if isinstance(header, dict) else header
            raise ValueError(f"{path}: unknown format {fmt!r}")
        version = header.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"{path}: 'hotpath.format_version' must be an integer")
        if version > FORMAT_VERSION:
            raise ValueError(f"{path}: written by a newer hotpath (format version "
                             f"{version}, this one reads {FORMAT_VERSION})")
    if not doc["benchmarks"]:
        raise ValueError(f"{path}: the file holds no benchmarks")
    results = []
    for i, entry in enumerate(doc["benchmarks"]):
        check_entry(entry, f"{path}: benchmarks[{i}]")
        results.append(BenchResult.from_dict(entry))
    if isinstance(header, dict) and header.get("kind") == "compare":
        from .compare import CompareResult
        CompareResult.from_document(doc, path)          # a comparison must hold together
    return doc, results


def load_results(path: str) -> list[BenchResult]:
    """Every benchmark in a hotpath, pytest-benchmark or pyperf file, as BenchResults."""
    return _read(path)[1]


def load(path: str) -> Any:
    """Load a bench file back: a :class:`BenchResult` for a file saved by
    ``BenchResult.save``, a :class:`~hotpath.bench.compare.CompareResult` for one saved
    by ``CompareResult.save``, and a list of BenchResults otherwise (pytest plugin,
    CLI, pytest-benchmark or pyperf files)."""
    doc, results = _read(path)
    header = doc.get("hotpath") if not is_pyperf(doc) else None
    kind = header.get("kind") if isinstance(header, dict) else None
    if kind == "bench" and len(results) == 1:
        return results[0]
    if kind == "compare":
        from .compare import CompareResult
        return CompareResult.from_document(doc, path)
    return results
