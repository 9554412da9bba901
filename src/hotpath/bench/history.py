"""Benchmark history: runs saved by commit, and the commit where a benchmark changed.

Storage (``hotpath bench --save`` without a file, ``--hotpath-autosave``)::

    .benchmarks/hotpath/<machine>/<python>/<UTC time>_<sha12>[_dirty].json

``<machine>`` is the host name and architecture, ``<python>`` the implementation and
version (``CPython-3.12``); each file is an ordinary bench file (``hotpath.bench.load``
reads it) whose ``commit_info`` holds the full sha, the dirty flag and the commit time.
Runs are compared only within one machine and Python: that folder is a history.

``hotpath bench history [NAME]`` prints each benchmark over the commits (oldest first,
in the repository's order when the commits are in it) and names the commit where it
changed: the series is split where splitting most reduces the spread (binary
segmentation of the log medians, as asv's step detection), and a split is kept only
if the samples on either side differ by a Mann–Whitney U test (p < alpha) and by at
least ``min_effect``; the halves are searched again. Instruction counts are used when
every run has them (``--measure instructions``; they are exact, so the rank test is
replaced by the two sides' ranges not overlapping), times otherwise.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from .result import BenchResult
from .stats import ALPHA, choose_unit, format_time, mann_whitney_u

__all__ = ["ROOT", "run_dir", "autosave", "latest", "load_runs", "find_steps", "Step",
           "history_main"]

ROOT = ".benchmarks"
#: Smallest change history reports, for times and for counts. Times of one run are
#: tested against each other, but runs on another day differ by more than their
#: rounds do (a loaded machine moved identical code by 11% between runs here), so a
#: time step must also be large; counts hardly move, and 0.5% is a real change.
MIN_EFFECT_TIME = 0.25
MIN_EFFECT_COUNT = 0.005


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "unknown"


def machine_key(info: dict | None = None) -> str:
    info = info or {}
    node = info.get("node") or platform.node()
    arch = info.get("machine") or platform.machine()
    return _slug(f"{node}-{arch}")


def python_key(info: dict | None = None) -> str:
    info = info or {}
    impl = info.get("python_implementation") or platform.python_implementation()
    version = info.get("python_version") or platform.python_version()
    return _slug(f"{impl}-{'.'.join(version.split('.')[:2])}")


def run_dir(root: str | os.PathLike = ROOT, machine_info: dict | None = None) -> Path:
    """The history folder of this machine and Python (or of ``machine_info``'s)."""
    return Path(root) / "hotpath" / machine_key(machine_info) / python_key(machine_info)


def autosave(doc: dict, root: str | os.PathLike = ROOT) -> Path:
    """Store a bench document in the history; returns its path."""
    folder = run_dir(root, doc.get("machine_info"))
    folder.mkdir(parents=True, exist_ok=True)
    commit = doc.get("commit_info") or {}
    sha = (commit.get("id") or "nocommit")[:12]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}_{sha}{'_dirty' if commit.get('dirty') else ''}.json"
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    return path


def latest(root: str | os.PathLike = ROOT) -> Path | None:
    """The newest saved run of this machine and Python, or None."""
    folder = run_dir(root)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return files[-1] if files else None


# ------------------------------------------------------------------ reading runs


@dataclass
class Run:
    path: Path
    sha: str | None
    dirty: bool
    commit_time: str
    saved: str
    results: dict[str, BenchResult]
    subject: str = ""
    order: int = 0

    @property
    def label(self) -> str:
        return (self.sha or "no-commit")[:10] + ("+dirty" if self.dirty else "")


def _git(cwd: str, *args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def load_runs(root: str | os.PathLike = ROOT, repo: str = ".") -> list[Run]:
    """This machine's and Python's runs, oldest commit first (the repository's order
    where the commits are in it, else the commit time), then by save time."""
    from .jsonio import _read
    folder = run_dir(root)
    runs = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc, results = _read(str(path))
        except (OSError, ValueError) as exc:
            print(f"hotpath bench history: skipping {path}: {exc}", file=sys.stderr)
            continue
        c = doc.get("commit_info") or {}
        runs.append(Run(path, c.get("id"), bool(c.get("dirty")), c.get("time") or "",
                        doc.get("datetime") or "",
                        {(r.fullname or r.name): r for r in results}))
    order = {}
    out = _git(repo, "rev-list", "--topo-order", "--reverse", "HEAD")
    if out:
        order = {sha: i for i, sha in enumerate(out.split())}
    subjects = {}
    for r in runs:
        if r.sha and r.sha not in subjects:
            subjects[r.sha] = (_git(repo, "log", "-1", "--format=%s", r.sha) or "").strip()
        r.subject = subjects.get(r.sha or "", "")
    big = len(order) + 1
    runs.sort(key=lambda r: (order.get(r.sha or "", big), r.commit_time, r.dirty, r.saved))
    for i, r in enumerate(runs):
        r.order = i
    return runs


# ------------------------------------------------------------------ step detection


@dataclass
class Step:
    index: int                 # the first point of the new level
    before: float
    after: float
    p_value: float

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before else math.inf


@dataclass
class Point:
    label: str
    samples: list[float]
    subject: str = ""
    value: float = field(init=False)

    def __post_init__(self):
        xs = sorted(self.samples)
        n = len(xs)
        self.value = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _median(xs: Sequence[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _log(v: float) -> float:
    return math.log(v) if v > 0 else math.log(1e-12)


def _sse(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    m = sum(values) / len(values)
    return sum((v - m) ** 2 for v in values)


def find_steps(points: Sequence[Point], alpha: float = ALPHA, min_effect: float = 0.05,
               exact: bool = False, lo: int = 0, hi: int | None = None) -> list[Step]:
    """The points where the series changes level (binary segmentation; see module)."""
    hi = len(points) if hi is None else hi
    if hi - lo < 2:
        return []
    logs = [_log(p.value) for p in points]
    best, best_k = None, None
    for k in range(lo + 1, hi):
        cost = _sse(logs[lo:k]) + _sse(logs[k:hi])
        if best is None or cost < best:
            best, best_k = cost, k
    left = [x for p in points[lo:best_k] for x in p.samples]
    right = [x for p in points[best_k:hi] for x in p.samples]
    before, after = _median(left), _median(right)
    effect = abs(after / before - 1) if before > 0 else math.inf
    if exact:
        significant = min(right) > max(left) or max(right) < min(left)
        p = 0.0 if significant else 1.0
    else:
        p = mann_whitney_u(left, right).p_value if len(left) > 1 and len(right) > 1 else 1.0
        significant = p < alpha
    if not (significant and effect >= min_effect):
        return []
    return (find_steps(points, alpha, min_effect, exact, lo, best_k)
            + [Step(best_k, before, after, p)]
            + find_steps(points, alpha, min_effect, exact, best_k, hi))


# ------------------------------------------------------------------ the command


def series(runs: Sequence[Run], name: str, counts: bool) -> list[Point]:
    pts = []
    for r in runs:
        res = r.results.get(name)
        if res is None:
            continue
        xs = res.count_samples() if counts else (res.samples or [res.stats.median])
        if xs:
            pts.append(Point(r.label, list(xs), r.subject))
    return pts


def _fmt(v: float, counts: bool, unit: str | None) -> str:
    return f"{v:,.1f} instr" if counts else format_time(v, unit)


def build_history_parser(prog: str = "hotpath bench history") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Each saved benchmark over the "
                                "commits, and the commit where it changed.")
    p.add_argument("name", nargs="?", help="only benchmarks whose name contains NAME")
    p.add_argument("--dir", default=ROOT, help="where runs are saved (default: %(default)s)")
    p.add_argument("--plot", metavar="FILE", help="plot each benchmark over the commits "
                   "(.svg always; .png with matplotlib)")
    p.add_argument("--measure", choices=["auto", "time", "instructions"], default="auto",
                   help="instruction counts when every run has them (auto), or as asked")
    p.add_argument("--alpha", type=float, default=ALPHA, help="significance level")
    p.add_argument("--min-effect", type=float, default=None, metavar="FRACTION",
                   help="smallest change reported (default 0.25 for times, 0.005 for counts)")
    return p


def history_main(argv: Sequence[str] | None = None) -> int:
    args = build_history_parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    runs = load_runs(args.dir)
    if not runs:
        print(f"hotpath bench history: error: no saved runs for this machine and Python in "
              f"{run_dir(args.dir)} (save some with hotpath bench --save or "
              "--hotpath-autosave)", file=err)
        return 2
    names = sorted({n for r in runs for n in r.results})
    if args.name:
        names = [n for n in names if args.name in n]
        if not names:
            print(f"hotpath bench history: error: no saved benchmark matches {args.name!r}",
                  file=err)
            return 2
    plotted: dict[str, list[Point]] = {}
    print(f"hotpath bench history: {len(runs)} runs in {run_dir(args.dir)}", file=out)
    for name in names:
        have_counts = all(r.results[name].count_samples() for r in runs if name in r.results)
        counts = args.measure == "instructions" or (args.measure == "auto" and have_counts)
        pts = series(runs, name, counts)
        if not pts:
            continue
        min_effect = args.min_effect if args.min_effect is not None else (
            MIN_EFFECT_COUNT if counts else MIN_EFFECT_TIME)
        steps = find_steps(pts, args.alpha, min_effect, exact=counts)
        unit = None if counts else choose_unit([p.value for p in pts])
        print(f"\n{name} ({'instructions per call' if counts else 'median time per call'}):",
              file=out)
        starts = {s.index: s for s in steps}
        for i, p in enumerate(pts):
            mark = ""
            if i in starts:
                s = starts[i]
                mark = f"  <- changed here: {s.ratio - 1:+.1%}"
            subject = f"  {p.subject[:50]}" if p.subject else ""
            print(f"  {p.label:<16} {_fmt(p.value, counts, unit):>14}{subject}{mark}", file=out)
        if steps:
            for s in steps:
                p = pts[s.index]
                test = "ranges apart" if counts else f"p={s.p_value:.2g}"
                print(f"  CHANGED at {p.label} ({p.subject or 'no subject'}): "
                      f"{_fmt(s.before, counts, unit)} -> {_fmt(s.after, counts, unit)} "
                      f"({s.ratio - 1:+.1%}, {test})", file=out)
        else:
            print("  no change found", file=out)
        plotted[name] = pts
    if args.plot and plotted:
        from .plot import history_plot
        labels = list(dict.fromkeys(r.label for r in runs))
        try:
            written = history_plot(args.plot, plotted, labels)
        except ImportError:
            print("hotpath bench history: error: a .png plot needs matplotlib; write .svg",
                  file=err)
            return 2
        for path in written:
            print(f"plot: {path}", file=out)
    return 0
