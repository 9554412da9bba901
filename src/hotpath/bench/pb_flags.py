"""pytest-benchmark's command-line flags for hotpath's ``benchmark`` fixture.

While pytest-benchmark is not active (not installed, or ``-p no:benchmark``), hotpath's
pytest plugin owns the ``benchmark`` fixture and adds pytest-benchmark's common flags
with the same meaning, so a project can drop pytest-benchmark without touching its CI
command line. When pytest-benchmark is active none of these is added: its flags are its
own, and hotpath's stay under the ``--hotpath-`` names.

===============================  =========================================================
``--benchmark-disable``          run each benchmarked function once, untimed (``--benchmark-enable`` undoes it)
``--benchmark-skip`` / ``-only`` skip the tests that benchmark / that do not (only wins)
``--benchmark-min-rounds=N``     fewest rounds
``--benchmark-min-time=S``       shortest round (sets the loop count)
``--benchmark-max-time=S``       time budget for the rounds of one benchmark
``--benchmark-warmup[=KIND]``    on (hotpath's warm-up round), off, auto (on PyPy only)
``--benchmark-timer=FUNC``       time.perf_counter, time.process_time, time.thread_time
``--benchmark-disable-gc``       gc off while timing (hotpath's default already)
``--benchmark-sort=COL``         table order: min, max, mean, stddev, name, fullname
``--benchmark-group-by=LABEL``   group, name, func, fullname, fullfunc, param, param:NAME (comma-separated)
``--benchmark-columns=LABELS``   min, max, mean, stddev, median, iqr, outliers, ops, rounds, iterations
``--benchmark-json=PATH``        the run as JSON (every sample)
``--benchmark-save=NAME``        ``STORAGE/<machine>/NNNN_NAME.json``
``--benchmark-autosave``         the same, named ``<commit>_<time>[_uncommitted-changes]``
``--benchmark-compare[=NUM]``    compare with saved run NUM (prefix of the file name), or the latest
``--benchmark-compare-fail=EXPR`` fail the session on a regression: ``min:5%``, ``mean:0.001``
``--benchmark-storage=URI``      where saved runs live (``file://./.benchmarks``)
``--benchmark-histogram[=PFX]``  an SVG box plot per group, ``PFX-<group>.svg``
===============================  =========================================================

``<machine>`` is pytest-benchmark's machine id (``Linux-CPython-3.12-64bit``), so saved
runs of both tools share one directory: ``pytest-benchmark compare`` reads hotpath's
files (they are pytest-benchmark's layout with raw samples and a ``"hotpath"`` object
added), and ``--benchmark-compare`` reads pytest-benchmark's. Two differences, both
documented in docs/bench.md: saved files always hold the raw samples (as with
``--benchmark-save-data``), and ``--benchmark-compare-fail`` fails a benchmark only when
the change is over the limit *and*, when both runs kept raw samples, significant
(Mann–Whitney U), so a noisy machine does not fail an A/A run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from .gate import Gate
from .document import commit_info
from .result import BenchResult

__all__ = ["add_options", "PbFlags", "machine_id", "Storage", "group_key", "SORTS", "COLUMNS"]

SORTS = ("min", "max", "mean", "stddev", "name", "fullname")
COLUMNS = ("min", "max", "mean", "stddev", "median", "iqr", "ops", "outliers", "rounds",
           "iterations")
_GROUPINGS = ("group", "name", "func", "fullname", "fullfunc", "param")
DEFAULT_STORAGE = "file://./.benchmarks"


def machine_id() -> str:
    """pytest-benchmark's ``get_machine_id``: ``Linux-CPython-3.12-64bit``."""
    return "-".join([platform.system(), platform.python_implementation(),
                     ".".join(platform.python_version_tuple()[:2]), platform.architecture()[0]])


# ------------------------------------------------------------- option value types
# Each raises argparse.ArgumentTypeError, which pytest turns into one usage line.


def _rounds(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError("Value for --benchmark-min-rounds must be at least 1.")
    return v


def _seconds(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {s!r}") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be >= 0 and finite, not {s!r}")
    return v


def _warmup(s: str) -> bool:
    s = s.lower().strip()
    if s == "auto":
        return platform.python_implementation() == "PyPy"
    if s in ("off", "false", "no"):
        return False
    if s in ("on", "true", "yes", ""):
        return True
    raise argparse.ArgumentTypeError(f"Could not parse value: {s!r} (auto, on or off).")


def _sort(s: str) -> str:
    s = s.lower().strip()
    if s not in SORTS:
        raise argparse.ArgumentTypeError(f"Unacceptable value: {s!r}. Value for --benchmark-sort "
                                         f"must be one of: {', '.join(SORTS)}.")
    return s


def _columns(s: str) -> list[str]:
    cols = [c.strip() for c in s.lower().split(",")]
    bad = [c for c in cols if c not in COLUMNS]
    if bad:
        raise argparse.ArgumentTypeError(f"Invalid column name(s): {', '.join(bad)}. The only "
                                         f"valid column names are: {', '.join(COLUMNS)}")
    return cols


def _group_by(s: str) -> str:
    for g in s.split(","):
        if g not in _GROUPINGS and not (g.startswith("param:") and len(g) > 6):
            raise argparse.ArgumentTypeError(
                f"Unsupported grouping {s!r}: use {', '.join(_GROUPINGS)} or param:NAME, "
                "comma-separated")
    return s


def _save_name(s: str) -> str:
    if not s:
        raise argparse.ArgumentTypeError("Can't be empty.")
    bad = "".join(c for c in "\\/:*?<>|" if c in s)
    if bad:
        raise argparse.ArgumentTypeError(
            f"Must not contain any of these characters: /:*?<>|\\ (it has {bad!r})")
    return s


def _compare_fail(s: str) -> str:
    # pytest-benchmark's syntax (STAT:N% with a whole N, or STAT:SECONDS) is a subset
    # of hotpath's gates.
    if not re.fullmatch(r"(min|max|mean|median|stddev|iqr):([0-9]+%|[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)",
                        s):
        raise argparse.ArgumentTypeError(f"Could not parse value: {s!r} (e.g. min:5% or "
                                         "mean:0.001 for a number of seconds).")
    return s


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")


def add_options(group: Any) -> None:
    """pytest-benchmark's flags, on hotpath's option group (only while it is inactive)."""
    a = group.addoption
    a("--benchmark-disable", action="store_true",
      help="run benchmarked functions once, without timing (hotpath: as --hotpath-disable)")
    a("--benchmark-enable", action="store_true", help="override --benchmark-disable")
    a("--benchmark-skip", action="store_true", help="skip tests that benchmark")
    a("--benchmark-only", action="store_true",
      help="skip tests that do not benchmark (overrides --benchmark-skip)")
    a("--benchmark-min-rounds", type=_rounds, metavar="NUM", default=None,
      help="fewest rounds (hotpath: as --hotpath-min-rounds)")
    a("--benchmark-min-time", type=_seconds, metavar="SECONDS", default=None,
      help="shortest round, sets the loop count (hotpath: as --hotpath-min-time)")
    a("--benchmark-max-time", type=_seconds, metavar="SECONDS", default=None,
      help="time budget for the rounds of each benchmark (hotpath: as --hotpath-max-time)")
    a("--benchmark-warmup", type=_warmup, metavar="KIND", nargs="?", const=True, default=None,
      help="auto (warm up on PyPy only), on or off")
    a("--benchmark-timer", metavar="FUNC", default=None,
      help="time.perf_counter (wall clock), time.process_time or time.thread_time "
           "(--hotpath-timer wins)")
    a("--benchmark-disable-gc", action="store_true",
      help="gc off while timing (hotpath's default; --hotpath-gc keeps it on)")
    a("--benchmark-sort", type=_sort, metavar="COL", default=None,
      help=f"table order: {', '.join(SORTS)} (hotpath's default: median)")
    a("--benchmark-group-by", type=_group_by, metavar="LABEL", default=None,
      help="group the table by group (default), name, func, fullname, fullfunc, param or "
           "param:NAME (comma-separated)")
    a("--benchmark-columns", type=_columns, metavar="LABELS", default=None,
      help=f"columns of the table, comma-separated, from: {', '.join(COLUMNS)}")
    a("--benchmark-json", metavar="PATH", default=None, help="write the run as JSON to PATH")
    a("--benchmark-save", type=_save_name, metavar="NAME", default=None,
      help="save the run into STORAGE/<machine>/NNNN_NAME.json")
    a("--benchmark-autosave", action="store_true",
      help="save the run into STORAGE/<machine>/NNNN_<commit>_<time>.json")
    a("--benchmark-save-data", action="store_true",
      help="accepted: hotpath's saved runs always hold every sample")
    a("--benchmark-compare", metavar="NUM", nargs="?", const=True, default=None,
      help="compare with saved run NUM (a prefix of its file name, or a path), or with "
           "the latest saved run when no NUM is given")
    a("--benchmark-compare-fail", metavar="EXPR", nargs="+", action="extend",
      type=_compare_fail, default=None,
      help="with --benchmark-compare: fail when EXPR regressed (min:5%%, mean:0.001) and "
           "the change is significant")
    a("--benchmark-storage", metavar="URI", default=DEFAULT_STORAGE,
      help="where saved runs live: file://PATH (default: %(default)s)")
    a("--benchmark-histogram", metavar="FILENAME-PREFIX", nargs="?", default=None,
      const=f"benchmark_{_now()}",
      help="write an SVG box plot of each group to FILENAME-PREFIX-<group>.svg")


# ------------------------------------------------------------------- storage


class Storage:
    """pytest-benchmark's file storage: ``<root>/<machine_id>/NNNN_<name>.json``."""

    def __init__(self, uri: str, machine: str | None = None):
        if "://" not in uri:
            uri = "file://" + uri
        if not uri.startswith("file://"):
            raise ValueError(f"--benchmark-storage={uri}: hotpath keeps saved runs in files "
                             "only (file://PATH)")
        self.root = Path(uri[len("file://"):])
        self.machine = machine or machine_id()

    @property
    def dir(self) -> Path:
        return self.root / self.machine

    def runs(self, prefix: str = "") -> list[Path]:
        """Saved runs of this machine whose file name starts with ``prefix`` (numbered
        ones only when no prefix), in pytest-benchmark's order (by file name)."""
        pat = re.compile(re.escape(prefix) + ".*\\.json$" if prefix else r"[0-9]{4}_.*\.json$")
        found = [p for d in (self.dir, self.root) if d.is_dir()
                 for p in d.iterdir() if p.is_file() and pat.match(p.name)]
        return sorted(found, key=lambda p: (p.name, str(p.parent)))

    def next_path(self, name: str) -> Path:
        nums = [int(p.name[:4]) for p in self.runs()]
        return self.dir / f"{max(nums, default=0) + 1:04d}_{name}.json"

    def save(self, doc: dict, name: str) -> Path:
        path = self.next_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=4)
            fh.write("\n")
        return path

    def find(self, which: "str | bool") -> Path | None:
        """The run ``--benchmark-compare`` means: the latest (``True``), a file, or the
        last run whose name starts with ``which`` (``0001``)."""
        if which is True:
            runs = self.runs()
        elif os.path.isfile(which):
            return Path(which)
        else:
            runs = self.runs(str(which))
        return runs[-1] if runs else None


def autosave_name() -> str:
    """pytest-benchmark's autosave tag: ``<commit>_<YYYYmmdd_HHMMSS>[_uncommitted-changes]``."""
    info = commit_info()
    parts = [info.get("id") or "unversioned", _now()]
    if info.get("dirty"):
        parts.append("uncommitted-changes")
    return "_".join(parts)


# ------------------------------------------------------------ table settings


def group_key(r: BenchResult, group_by: str) -> str | None:
    """pytest-benchmark's grouping key (``pytest_benchmark_group_stats``)."""
    key: list[Any] = []
    fullname = r.fullname or r.name
    for g in group_by.split(","):
        if g == "group":
            key.append(r.group)
        elif g == "name":
            key.append(r.name)
        elif g == "func":
            key.append(r.name.split("[")[0])
        elif g == "fullname":
            key.append(fullname)
        elif g == "fullfunc":
            key.append(fullname.split("[")[0])
        elif g == "param":
            key.append(r.param)
        else:
            pname = g[len("param:"):]
            key.append(f"{pname}={(r.params or {}).get(pname)}")
    return " ".join(str(k) for k in key if k) or None


def sort_key(sort: str) -> Callable[[BenchResult], Any]:
    if sort == "name":
        return lambda r: r.name
    if sort == "fullname":
        return lambda r: r.fullname or r.name
    return lambda r: getattr(r.stats, sort)


def column_cell(r: BenchResult, col: str, f: Callable[[float], str]) -> str:
    s = r.stats
    if col in ("min", "max", "mean", "stddev", "median", "iqr"):
        return f(getattr(s, col))
    if col == "ops":
        return f"{s.ops:,.4g}" if s.ops else "-"
    if col == "outliers":
        return f"{s.stddev_outliers};{s.iqr_outliers}"
    if col == "rounds":
        return str(s.rounds)
    return f"{r.loops:,}"          # iterations


COLUMN_TITLES = {"min": "Min", "max": "Max", "mean": "Mean", "stddev": "StdDev",
                 "median": "Median", "iqr": "IQR", "ops": "OPS", "outliers": "Outliers",
                 "rounds": "Rounds", "iterations": "Iterations"}


# ------------------------------------------------------------- the settings


@dataclass
class PbFlags:
    """What pytest-benchmark's flags asked for beyond hotpath's own options (which
    :meth:`apply` sets on the config)."""
    sort: str | None = None
    group_by: str | None = None
    columns: list[str] | None = None
    json_path: str | None = None
    save_name: str | None = None
    storage: Storage | None = None
    histogram: str | None = None
    compare_note: str | None = None    # why there is nothing to compare with
    compare_fail: bool = False
    saved: list[str] = field(default_factory=list)

    @classmethod
    def apply(cls, config: pytest.Config) -> "PbFlags":
        """Read pytest-benchmark's flags; the ones hotpath has options for set those
        options (``config.option.hotpath_*``). Raises pytest.UsageError."""
        opt = config.option
        get = lambda name: getattr(opt, name, None)  # noqa: E731
        self = cls()
        if get("benchmark_disable") and not get("benchmark_enable"):
            opt.hotpath_disable = True
        if get("benchmark_only"):
            if opt.hotpath_disable:
                raise pytest.UsageError(
                    "Can't have both --benchmark-only and --benchmark-disable options.")
            opt.hotpath_only, opt.hotpath_skip = True, False
        elif get("benchmark_skip"):
            opt.hotpath_skip = True
        for flag in ("min_rounds", "min_time", "max_time"):
            value = get("benchmark_" + flag)
            if value is not None:
                setattr(opt, "hotpath_" + flag, value)
        warm = get("benchmark_warmup")
        if warm is not None:
            opt.hotpath_warmup = max(opt.hotpath_warmup, 1) if warm else 0
        if get("benchmark_disable_gc"):
            opt.hotpath_gc = False
        self.sort, self.group_by = get("benchmark_sort"), get("benchmark_group_by")
        self.columns, self.json_path = get("benchmark_columns"), get("benchmark_json")
        self.histogram = get("benchmark_histogram")
        self.save_name = get("benchmark_save") or (autosave_name()
                                                   if get("benchmark_autosave") else None)
        try:
            self.storage = Storage(get("benchmark_storage") or DEFAULT_STORAGE)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        compare, fails = get("benchmark_compare"), get("benchmark_compare_fail") or []
        if compare is not None:
            found = self.storage.find(compare)
            if found is None:
                self.compare_note = (f"Can't compare. No benchmark files in "
                                     f"{str(self.storage.root)!r}" +
                                     (". Can't load the previous benchmark." if compare is True
                                      else f" match {compare!r}."))
            elif get("hotpath_compare"):
                raise pytest.UsageError("--benchmark-compare and --hotpath-compare: give one")
            else:
                opt.hotpath_compare = str(found)
        if fails:
            if not get("hotpath_compare"):
                raise pytest.UsageError("--benchmark-compare-fail requires valid "
                                        "--benchmark-compare." + (f" {self.compare_note}"
                                                                  if self.compare_note else ""))
            for e in fails:
                Gate.parse(e)            # checked by _compare_fail already
            opt.hotpath_compare_fail = list(opt.hotpath_compare_fail or []) + list(fails)
            self.compare_fail = True
        return self

    def write(self, doc: dict) -> None:
        """--benchmark-json and --benchmark-save/--benchmark-autosave, at the session's end."""
        if self.json_path:
            path = Path(self.json_path)
            if path.parent != Path(""):
                path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=4)
                fh.write("\n")
            self.saved.append(f"Wrote benchmark data in: {path}")
        if self.save_name and self.storage is not None:
            path = self.storage.save(doc, self.save_name)
            self.saved.append(f"Saved benchmark data in: {path}")
