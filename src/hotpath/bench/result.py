"""The result of one benchmark: raw samples, statistics, warnings, and its JSON shape.

A :class:`BenchResult` keeps every round (net and gross seconds per call), so its
statistics can be recomputed and it can be compared with another result — loaded from
a file saved weeks ago — with a significance test.

Its JSON form (:meth:`BenchResult.to_dict`) is one entry of pytest-benchmark's
``"benchmarks"`` list, with every field pytest-benchmark writes (``group``, ``name``,
``fullname``, ``params``, ``param``, ``extra_info``, ``options``, ``stats`` with
``data`` and ``iterations``), plus a ``"hotpath"`` object with what pytest-benchmark
does not have (gross samples, the subtracted loop cost, peak memory, ...).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .clock import label as clock_label
from .shapes import is_number
from .stats import ALPHA, MIN_EFFECT, Comparison, Stats, choose_unit, compare_samples, format_time

__all__ = ["BenchResult", "format_bytes", "clock_of"]


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


#: pytest-benchmark's and pyperf's timer names, as their files record them.
_TIMER_CLOCKS = {"perf_counter": "perf", "time.perf_counter": "perf", "monotonic": "perf",
                 "time.monotonic": "perf", "process_time": "process",
                 "time.process_time": "process", "thread_time": "thread",
                 "time.thread_time": "thread", "perf": "perf", "process": "process",
                 "thread": "thread"}


def clock_of(options: dict) -> str | None:
    """The clock of a benchmark from its saved options (hotpath's ``clock``, or the
    ``timer`` pytest-benchmark records); None when unknown."""
    clock = options.get("clock")
    if isinstance(clock, str):
        return clock
    timer = options.get("timer")
    return _TIMER_CLOCKS.get(timer) if isinstance(timer, str) else None


def _stats_from_dict(d: dict) -> Stats:
    """Stats as saved (when a file has no raw data, e.g. pytest-benchmark's default);
    the required fields were checked by hotpath.bench.shapes, optional ones that are
    not numbers fall back to what can be derived."""
    def num(key: str, default: float) -> float:
        return d[key] if is_number(d.get(key)) else default

    def count(key: str) -> int:
        v = d.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0

    return Stats(min=d["min"], max=d["max"], mean=d["mean"], stddev=d["stddev"],
                 median=d["median"], q1=d["q1"], q3=d["q3"], rounds=d["rounds"],
                 total=num("total", d["mean"] * d["rounds"]), low_outliers=0,
                 high_outliers=count("iqr_outliers"),
                 stddev_outliers=count("stddev_outliers"),
                 ld15iqr=num("ld15iqr", d["min"]), hd15iqr=num("hd15iqr", d["max"]))


@dataclass
class BenchResult:
    """One benchmark. Times are seconds per call.

    ``samples`` are net times, one per round (the loop's own cost, ``overhead``,
    already subtracted); ``gross`` are the same rounds before subtraction. ``loops``
    is the number of calls per round.
    """

    name: str
    samples: list[float]
    gross: list[float] = field(default_factory=list)
    overhead: float = 0.0
    loops: int = 1
    options: dict = field(default_factory=dict)
    memory_peak: int | None = None
    source: str | None = None
    group: str | None = None
    params: dict | None = None
    param: str | None = None
    fullname: str | None = None
    extra_info: dict = field(default_factory=dict)
    is_async: bool = False
    baseline: bool = False
    saved_stats: dict | None = None   # statistics as loaded, when there are no samples
    #: timer="auto": the gross wall-clock rounds, when CPU time was kept as ``gross``.
    wall: list[float] | None = None
    #: measure="instructions": {"backend", "loops", "rounds", "samples": {counter:
    #: per-call counts, one per round}, "overhead": {counter: reference per call}}.
    counts: dict | None = None

    def count_samples(self, counter: str = "instructions") -> list[float]:
        """Per-call counts of ``counter``, one per round (empty without counts)."""
        if not self.counts:
            return []
        return list(self.counts.get("samples", {}).get(counter) or [])

    def count(self, counter: str = "instructions") -> float | None:
        """The median per-call count of ``counter``, or None when it was not counted."""
        xs = sorted(self.count_samples(counter))
        if not xs:
            return None
        mid = len(xs) // 2
        return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2

    @property
    def instructions(self) -> float | None:
        """Instructions per call (median of the counted rounds, the loop's own count
        subtracted), or None unless measured with measure="instructions"."""
        return self.count("instructions")

    # ---------------------------------------------------------------- statistics

    @cached_property
    def stats(self) -> Stats:
        """Statistics of the net samples."""
        if self.samples:
            return Stats.from_samples(self.samples)
        if self.saved_stats:
            return _stats_from_dict(self.saved_stats)
        raise ValueError(f"benchmark {self.name!r} has no samples")

    @cached_property
    def gross_stats(self) -> Stats:
        """Statistics of the gross samples (what timeit would report)."""
        return Stats.from_samples(self.gross or self.samples)

    @property
    def rounds(self) -> int:
        return len(self.samples) if self.samples else self.stats.rounds

    @property
    def iterations(self) -> int:
        """pytest-benchmark's name for the calls per round."""
        return self.loops

    # Convenience accessors: result.median rather than result.stats.median.
    min = property(lambda self: self.stats.min)
    max = property(lambda self: self.stats.max)
    mean = property(lambda self: self.stats.mean)
    median = property(lambda self: self.stats.median)
    stddev = property(lambda self: self.stats.stddev)
    iqr = property(lambda self: self.stats.iqr)

    @property
    def clock(self) -> str | None:
        """The clock the samples were read on: ``perf`` (wall), ``process`` or
        ``thread`` (CPU time), ``custom``; None when a file does not say."""
        return clock_of(self.options)

    def clock_description(self) -> str:
        """``thread CPU time (timer auto: <why>)``, as printed with the results."""
        timer = self.options.get("timer", "perf")
        reason = self.options.get("clock_reason")
        why = f": {reason}" if reason and reason != "as asked" else ""
        return f"{clock_label(self.clock)} (timer {timer}{why})"

    def warnings(self) -> list[str]:
        """Why these results may be unreliable (empty when they look stable).

        Judged on gross times, the ones the clock saw: worst round at least 4x the best
        (timeit's rule), sd at least 10% of the mean, more than 5% Tukey outliers, and
        a net time lost in the loop's own cost.
        """
        if not self.gross and not self.samples:
            return []
        out = []
        g = self.gross_stats
        unit = choose_unit([g.min])
        if g.min > 0 and g.max >= 4 * g.min:
            out.append(f"the worst round ({format_time(g.max, unit)}) was more than 4x slower "
                       f"than the best ({format_time(g.min, unit)}): the machine was busy, "
                       "or a cache or lazy initialisation is being measured")
        if g.mean > 0 and g.stddev >= 0.10 * g.mean:
            # Judged on the rounds as timed (loop included); said of the net time too when
            # that reads differently, since the net figures are the ones printed.
            net = self.stats
            of_net = (f" ({net.stddev / net.mean:.0%} of the net time's)"
                      if self.gross and net.mean > 0 and
                      abs(net.stddev / net.mean - g.stddev / g.mean) >= 0.05 else "")
            out.append(f"the standard deviation is {g.stddev / g.mean:.0%} of the mean per "
                       f"round{of_net}: the machine is noisy (close other programs, or use "
                       "processes=)")
        outliers = g.iqr_outliers
        if outliers >= 2 and outliers > 0.05 * g.rounds:
            out.append(f"{outliers} of {g.rounds} rounds are outliers "
                       "(beyond 1.5 IQR of the quartiles)")
        if self.overhead > 0 and abs(self.stats.median) < 0.1 * self.overhead:
            out.append(f"the net time is below a tenth of the loop's own cost "
                       f"({format_time(self.overhead)} per call): it is measured "
                       "near zero and its relative precision is poor")
        ratio = self.options.get("cpu_wall_ratio")
        if self.options.get("clock") == "thread" and ratio is not None and ratio < 0.8:
            out.append(f"this thread ran for only {ratio:.0%} of the wall-clock time (median "
                       "round): the machine is busy; CPU time is reported, which leaves the "
                       "waiting out")
        if g.rounds < 5:
            out.append(f"only {g.rounds} rounds: too few for reliable statistics")
        return out

    def differences(self, then: "BenchResult") -> list[str]:
        """How this result and ``then`` (say, loaded from an earlier file) were not
        measured alike: another clock, or net against gross times. Empty if alike."""
        out = []
        if self.clock != then.clock:
            out.append(f"now {clock_label(self.clock)}, then "
                       + (clock_label(then.clock) if then.clock else "an unknown clock"))
        # pytest-benchmark and pyperf subtract nothing; hotpath says whether it did.
        now_net = self.options.get("subtract", False)
        then_net = then.options.get("subtract", False)
        if now_net != then_net:
            out.append("now " + ("net" if now_net else "gross") + ", then "
                       + ("net" if then_net else "gross") + " of the loop's own cost")
        return out

    def compare(self, baseline: "BenchResult", alpha: float = ALPHA,
                min_effect: float = MIN_EFFECT) -> Comparison:
        """How this result compares with ``baseline`` (ratio of medians, Mann–Whitney
        p-value, verdict). Needs raw samples on both sides for the p-value."""
        if self.samples and baseline.samples:
            return compare_samples(baseline.samples, self.samples, alpha, min_effect)
        b, c = baseline.stats.median, self.stats.median
        ratio = c / b if b > 0 else math.nan
        return Comparison(ratio, math.nan, alpha, min_effect, b, c)

    # ---------------------------------------------------------------- display

    def summary(self, unit: str | None = None, verbose: bool = False) -> str:
        """The timeit-style report printed by the CLI and by ``print(result)``."""
        s = self.stats
        unit = unit or choose_unit([s.median])
        f = lambda x: format_time(x, unit)  # noqa: E731
        lines = [f"{self.name}: {s.rounds} rounds x {self.loops:,} loops"]
        lines.append(f"  min {f(s.min)}  median {f(s.median)}  mean {f(s.mean)} "
                     f"± {f(s.stddev)}  IQR {f(s.iqr)}  max {f(s.max)}")
        notes = []
        if self.overhead:
            notes.append(f"loop's own cost {format_time(self.overhead, unit)} per call subtracted")
        elif self.options.get("subtract") is False:
            notes.append("gross times (loop's own cost included, as timeit)"
                         if self.source is not None else
                         "gross times (the loop's and the call's own cost included)")
        if self.options:
            notes.append("gc off" if self.options.get("disable_gc", True) else "gc on")
            if self.options.get("processes"):
                notes.append(f"{self.options['processes']} worker processes")
        if self.memory_peak is not None:
            notes.append(f"peak memory {format_bytes(self.memory_peak)} per call")
        if notes:
            lines.append("  " + "; ".join(notes))
        if self.options:
            lines.append(f"  clock: {self.clock_description()}")
        if self.counts:
            lines.append("  " + self.counts_line())
        if s.iqr_outliers:
            lines.append(f"  outliers: {s.low_outliers} low, {s.high_outliers} high "
                         "(beyond 1.5 IQR of the quartiles)")
        if verbose and self.gross:
            g = self.gross_stats
            lines.append(f"  gross: min {f(g.min)}  median {f(g.median)}  "
                         f"mean {f(g.mean)} ± {f(g.stddev)}")
            lines.append("  raw net samples: " + ", ".join(f(x) for x in self.samples[:20])
                         + (" ..." if len(self.samples) > 20 else ""))
        for w in self.warnings():
            lines.append(f"  WARNING: {w}")
        return "\n".join(lines)

    def counts_line(self) -> str:
        """``instructions 5,243 per call (cycles ..., ...; callgrind, 3 rounds x 1,000
        loops, spread 0.00%)``."""
        c = self.counts or {}
        parts = []
        for name in ("instructions", "cycles", "cache_misses", "branch_misses"):
            v = self.count(name)
            if v is not None:
                parts.append(f"{name.replace('_', ' ')} {v:,.1f}")
        xs = self.count_samples()
        med = self.instructions
        spread = ((max(xs) - min(xs)) / abs(med)) if xs and med else 0.0
        return (f"{parts[0] if parts else 'instructions ?'} per call"
                + (f" ({', '.join(parts[1:])})" if parts[1:] else "")
                + f"; {c.get('backend', '?')}, {c.get('rounds', len(xs))} rounds x "
                f"{c.get('loops', 0):,} loops, spread {spread:.3%}")

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        try:
            s = self.stats
        except ValueError:
            return f"<BenchResult {self.name!r}: no samples>"
        unit = choose_unit([s.median])
        return (f"<BenchResult {self.name!r}: median {format_time(s.median, unit)}, "
                f"mean {format_time(s.mean, unit)} ± {format_time(s.stddev, unit)}, "
                f"{s.rounds} rounds x {self.loops} loops>")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:   # IPython
        p.text(self.summary())

    # ---------------------------------------------------------------- JSON

    def to_dict(self, include_data: bool = True) -> dict:
        """This benchmark as an entry of pytest-benchmark's ``benchmarks`` list, with
        a ``"hotpath"`` object added."""
        stats = self.stats.as_dict()
        if include_data and self.samples:
            stats["data"] = list(self.samples)
        stats["iterations"] = self.loops
        hp: dict[str, Any] = {
            "overhead": self.overhead, "loops": self.loops, "memory_peak": self.memory_peak,
            "source": self.source, "async": self.is_async, "baseline": self.baseline,
            "low_outliers": self.stats.low_outliers, "high_outliers": self.stats.high_outliers,
            "warnings": self.warnings(),
        }
        if include_data and self.gross:
            hp["gross"] = list(self.gross)
        if include_data and self.wall:
            hp["wall"] = list(self.wall)
        if self.counts:
            hp["counts"] = self.counts
            hp["instructions"] = self.instructions
        return {
            "group": self.group, "name": self.name, "fullname": self.fullname or self.name,
            "params": self.params, "param": self.param, "extra_info": dict(self.extra_info),
            "options": dict(self.options), "stats": stats, "hotpath": hp,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "BenchResult":
        """Read an entry written by :meth:`to_dict` — or by pytest-benchmark (then
        there are raw samples only if it was run with ``--benchmark-save-data``)."""
        stats = d.get("stats") or {}
        hp = d.get("hotpath") or {}
        data = list(stats.get("data") or [])
        return cls(
            name=d["name"], samples=data, gross=list(hp.get("gross") or []),
            overhead=hp.get("overhead", 0.0),
            loops=hp.get("loops", stats.get("iterations", 1)),
            options=dict(d.get("options") or {}), memory_peak=hp.get("memory_peak"),
            source=hp.get("source"), group=d.get("group"), params=d.get("params"),
            param=d.get("param"), fullname=d.get("fullname"),
            extra_info=dict(d.get("extra_info") or {}), is_async=hp.get("async", False),
            baseline=hp.get("baseline", False), saved_stats=None if data else stats,
            wall=hp.get("wall"), counts=hp.get("counts"))

    def to_json(self, include_data: bool = True, indent: int | None = 2) -> str:
        """A complete hotpath bench file (pytest-benchmark's layout) holding this result."""
        from .document import document
        return json.dumps(document([self.to_dict(include_data)], kind="bench"), indent=indent)

    def save(self, path: str) -> None:
        """Write :meth:`to_json` to ``path``; read it back with ``hotpath.bench.load``."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
            fh.write("\n")
