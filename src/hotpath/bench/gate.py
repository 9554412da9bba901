"""Regression gates: ``median:5%``, ``mean:0.001``, as pytest-benchmark's
``--benchmark-compare-fail`` spells them, plus a significance test.

A gate ``STAT:THRESHOLD`` fails a benchmark when, compared with the same benchmark in
an earlier run, ``STAT`` got worse by more than ``THRESHOLD`` — a percentage of the
earlier value (``5%``) or an absolute time in seconds (``0.001``, or with a unit:
``10us``) — **and**, when both runs kept their raw samples, the two-sided Mann–Whitney
U test says the difference is real (p < alpha). A noisy run that happens to land 6%
slower without being distinguishable from the earlier one does not fail the build.

``instructions:0.5%`` (or ``cycles``, ``cache_misses``, ``branch_misses``; absolute
limits are counts per call: ``instructions:200``) gates on the counts of
``measure="instructions"``: the median per-call count got worse by more than the limit
and every round now counted more than every round then (counts barely vary, so the
ranges not overlapping is the test; a rank test on three rounds could never reach
p < 0.05).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .result import BenchResult
from .stats import ALPHA, format_p, format_time, mann_whitney_u

__all__ = ["Gate", "GateOutcome"]

_COUNTERS = ("instructions", "cycles", "cache_misses", "branch_misses")
_STATS = ("min", "max", "mean", "median", "stddev", "iqr") + _COUNTERS
_LOCATION = ("min", "max", "mean", "median")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass(frozen=True)
class GateOutcome:
    failed: bool
    message: str


@dataclass(frozen=True)
class Gate:
    stat: str
    threshold: float          # a fraction (0.05) when percent, else seconds
    percent: bool

    @classmethod
    def parse(cls, expr: str) -> "Gate":
        """``"median:5%"``, ``"mean:0.001"``, ``"min:20us"``; raises ValueError."""
        m = re.fullmatch(r"\s*(\w+)\s*:\s*([0-9.eE+-]+)\s*(%|ns|us|µs|ms|s)?\s*", expr)
        if not m or m.group(1) not in _STATS:
            raise ValueError(f"invalid gate {expr!r}: expected STAT:N% or STAT:SECONDS with "
                             f"STAT one of {', '.join(_STATS)} (e.g. median:5%)")
        try:
            value = float(m.group(2))
        except ValueError:
            raise ValueError(f"invalid gate {expr!r}: {m.group(2)!r} is not a number") from None
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"invalid gate {expr!r}: the threshold must be >= 0")
        unit = m.group(3)
        if unit == "%":
            return cls(m.group(1), value / 100, True)
        if m.group(1) in _COUNTERS:
            if unit:
                raise ValueError(f"invalid gate {expr!r}: a count limit is N% or a number of "
                                 "events per call, without a time unit")
            return cls(m.group(1), value, False)
        return cls(m.group(1), value * _UNITS.get(unit or "s", 1.0), False)

    def __str__(self) -> str:
        if self.percent:
            t = f"{self.threshold * 100:g}%"
        else:
            t = f"{self.threshold:g}" if self.stat in _COUNTERS else format_time(self.threshold)
        return f"{self.stat}:{t}"

    def _check_counts(self, current: BenchResult, earlier: BenchResult) -> GateOutcome:
        now, then = current.count_samples(self.stat), earlier.count_samples(self.stat)
        what = self.stat.replace("_", " ")
        if not now or not then:
            side = "this run" if not now else "the earlier run"
            return GateOutcome(True, f"{current.name}: no {what} counted in {side} (measure "
                                     "with --measure instructions): FAIL")
        old, new = earlier.count(self.stat), current.count(self.stat)
        delta = new - old
        over, change = self._exceeds(old, delta)
        if self.percent:
            desc = f"{what} {change:+.2%} (limit +{self.threshold:.2%})"
        else:
            desc = f"{what} {delta:+,.1f} per call (limit +{self.threshold:g})"
        apart = min(now) > max(then)
        desc += f", {old:,.1f} -> {new:,.1f} per call"
        failed = over and apart
        verdict = ("FAIL" if failed else
                   "ok (over the limit but the rounds overlap)" if over else "ok")
        return GateOutcome(failed, f"{current.name}: {desc}: {verdict}")

    def _exceeds(self, old: float, delta: float) -> tuple[bool, float]:
        """Whether a change of ``delta`` from ``old`` is over the limit, and the change
        compared: relative for a percent gate, ``delta`` itself otherwise."""
        if not self.percent:
            return delta > self.threshold, delta
        change = delta / old if old > 0 else (math.inf if delta > 0 else 0.0)
        return change > self.threshold, change

    def check(self, current: BenchResult, earlier: BenchResult,
              alpha: float = ALPHA) -> GateOutcome:
        if self.stat in _COUNTERS:
            return self._check_counts(current, earlier)
        old = getattr(earlier.stats, self.stat)
        new = getattr(current.stats, self.stat)
        delta = new - old
        over, change = self._exceeds(old, delta)
        if self.percent:
            what = f"{self.stat} {change:+.1%} (limit +{self.threshold:.1%})"
        else:
            what = (f"{self.stat} {'+' if delta >= 0 else '-'}{format_time(abs(delta))} "
                    f"(limit +{format_time(self.threshold)})")
        if self.stat in _LOCATION and current.samples and earlier.samples:
            p = mann_whitney_u(current.samples, earlier.samples).p_value
            significant = p < alpha
            what += f", {format_p(p)}"
        else:
            significant = True
            if self.stat in _LOCATION:
                what += ", no raw samples to test significance"
        failed = over and significant
        if failed:
            verdict = "FAIL"
        elif over:
            verdict = f"ok (over the limit but not significant at alpha={alpha:g})"
        else:
            verdict = "ok"
        return GateOutcome(failed, f"{current.name}: {what}: {verdict}")
