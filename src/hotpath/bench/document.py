"""The envelope of a benchmark file (layout in :mod:`.jsonio`): machine and commit
information around already-serialised benchmarks.

Its own module so that the result types (``BenchResult.to_json``,
``CompareResult.to_document``) can write files without importing the reader, which
imports them (no import circle).
"""
from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from typing import Any

__all__ = ["FORMAT", "FORMAT_VERSION", "document", "machine_info", "commit_info"]

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
