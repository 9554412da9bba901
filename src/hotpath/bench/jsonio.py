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

:func:`load` also reads pytest-benchmark's own files (kind ``"pytest"``) and pyperf's
(``pyperf timeit -o``, ``--output``; format version 1.0: see :mod:`.pyperf_file`). Every
file is checked against the shape it claims before anything is read from it; a file
of another shape is one ``ValueError`` that says what is wrong and where.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

from .pyperf_file import is_pyperf, pyperf_results
from .result import BenchResult
from .shapes import check_entry

__all__ = ["FORMAT", "FORMAT_VERSION", "document", "load", "load_results", "machine_info",
           "commit_info"]

FORMAT = "hotpath-bench"
FORMAT_VERSION = 1


def machine_info() -> dict:
    """pytest-benchmark's ``machine_info`` keys, from the standard library only."""
    return {
        "node": platform.node(),
        "processor": platform.processor(),
        "machine": platform.machine(),
        "python_compiler": platform.python_compiler(),
        "python_implementation": platform.python_implementation(),
        "python_implementation_version": platform.python_version(),
        "python_version": platform.python_version(),
        "python_build": list(platform.python_build()),
        "release": platform.release(),
        "system": platform.system(),
        "cpu": {"count": os.cpu_count(), "arch": platform.machine()},
    }


def commit_info(path: str = ".") -> dict:
    """The git commit of ``path``, as pytest-benchmark records it (best effort)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
    try:
        info = {"id": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}
        info["dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))
        info["time"] = git("log", "-1", "--format=%cI")
        info["project"] = os.path.basename(os.path.abspath(git("rev-parse", "--show-toplevel")))
        return info
    except (OSError, subprocess.SubprocessError):
        return {"id": None, "dirty": False, "project": None, "branch": None,
                "error": "not a git checkout"}


def document(benchmarks: list[dict], kind: str = "bench", **extra: Any) -> dict:
    """A complete bench file around already-serialised benchmarks."""
    from hotpath import __version__
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind}
    header.update(extra)
    return {
        "machine_info": machine_info(),
        "commit_info": commit_info(),
        "benchmarks": benchmarks,
        "datetime": datetime.now(timezone.utc).isoformat(),
        "version": __version__,
        "hotpath": header,
    }


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
