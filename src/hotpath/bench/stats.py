"""Statistics of benchmark samples, and the significance test between two of them.

Everything here is a pure function of the samples (one float per round: seconds per
call), so it is tested against known samples, never against the clock.

* :class:`Stats` — min, max, mean, standard deviation, median, quartiles, IQR and
  outliers, with pytest-benchmark's field names (``as_dict``) so saved files read the
  same. Quartiles use linear interpolation between order statistics (NumPy's default,
  ``statistics.quantiles(method="inclusive")``); outliers are Tukey's (beyond 1.5 IQR
  from the quartiles).
* :func:`mann_whitney_u` — the Mann–Whitney U (Wilcoxon rank-sum) test: exact for small
  samples without ties, normal approximation with tie and continuity correction
  otherwise. It assumes nothing about the shape of the distributions, which matters:
  timings are skewed and heavy-tailed, so a t-test's normality assumption is wrong.
* :func:`compare_samples` — the verdict used everywhere a difference is reported:
  ratio of medians, p-value, and "faster" / "slower" / "same".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = ["Stats", "MannWhitney", "Comparison", "mann_whitney_u", "compare_samples",
           "quantile", "format_time", "choose_unit", "UNITS"]

#: Display units, as ``python -m timeit -u`` names them, in seconds.
UNITS = {"nsec": 1e-9, "usec": 1e-6, "msec": 1e-3, "sec": 1.0}
_UNIT_LABEL = {"nsec": "ns", "usec": "us", "msec": "ms", "sec": "s"}


def quantile(sorted_data: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) of already sorted data, by linear interpolation."""
    n = len(sorted_data)
    if n == 0:
        raise ValueError("quantile of no data")
    if n == 1:
        return float(sorted_data[0])
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_data[lo] + (sorted_data[hi] - sorted_data[lo]) * frac)


@dataclass(frozen=True)
class Stats:
    """Summary statistics of one benchmark's samples (seconds per call, one per round)."""

    min: float
    max: float
    mean: float
    stddev: float
    median: float
    q1: float
    q3: float
    rounds: int
    total: float
    #: Tukey outliers: samples below ``q1 - 1.5 iqr`` / above ``q3 + 1.5 iqr``.
    low_outliers: int
    high_outliers: int
    #: Samples outside mean ± one standard deviation (pytest-benchmark reports this).
    stddev_outliers: int
    #: Lowest / highest sample within the Tukey fences.
    ld15iqr: float
    hd15iqr: float

    @classmethod
    def from_samples(cls, samples: Iterable[float]) -> "Stats":
        data = sorted(float(x) for x in samples)
        n = len(data)
        if n == 0:
            raise ValueError("no samples")
        mean = math.fsum(data) / n
        if n > 1:
            var = math.fsum((x - mean) ** 2 for x in data) / (n - 1)
            sd = math.sqrt(var)
        else:
            sd = 0.0
        q1, median, q3 = quantile(data, 0.25), quantile(data, 0.5), quantile(data, 0.75)
        iqr = q3 - q1
        lo_fence, hi_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
        inside = [x for x in data if lo_fence <= x <= hi_fence] or data
        return cls(
            min=data[0], max=data[-1], mean=mean, stddev=sd, median=median, q1=q1, q3=q3,
            rounds=n, total=math.fsum(data),
            low_outliers=sum(1 for x in data if x < lo_fence),
            high_outliers=sum(1 for x in data if x > hi_fence),
            stddev_outliers=sum(1 for x in data if x < mean - sd or x > mean + sd),
            ld15iqr=inside[0], hd15iqr=inside[-1],
        )

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def iqr_outliers(self) -> int:
        return self.low_outliers + self.high_outliers

    @property
    def outliers(self) -> str:
        """pytest-benchmark's outlier field: ``"<stddev outliers>;<iqr outliers>"``."""
        return f"{self.stddev_outliers};{self.iqr_outliers}"

    @property
    def ops(self) -> float:
        """Calls per second at the mean (0 when the mean is not positive)."""
        return 1.0 / self.mean if self.mean > 0 else 0.0

    @property
    def cv(self) -> float:
        """Coefficient of variation, sd / mean (inf when the mean is not positive)."""
        return self.stddev / self.mean if self.mean > 0 else math.inf

    def as_dict(self) -> dict:
        """The fields of pytest-benchmark's ``stats`` object, same names and meaning."""
        return {
            "min": self.min, "max": self.max, "mean": self.mean, "stddev": self.stddev,
            "rounds": self.rounds, "median": self.median, "iqr": self.iqr,
            "q1": self.q1, "q3": self.q3, "iqr_outliers": self.iqr_outliers,
            "stddev_outliers": self.stddev_outliers, "outliers": self.outliers,
            "ld15iqr": self.ld15iqr, "hd15iqr": self.hd15iqr, "ops": self.ops,
            "total": self.total,
        }


# ----------------------------------------------------------------- Mann–Whitney U


@dataclass(frozen=True)
class MannWhitney:
    """Result of :func:`mann_whitney_u`. ``u`` is the statistic of the first sample."""

    u: float
    p_value: float
    method: str          # "exact" or "normal"
    #: Probability that a random draw from x exceeds one from y (ties count half):
    #: 0.5 means no difference, 1.0 means x is always larger.
    effect: float


def _rank(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) of values, and the sizes of tie groups (> 1)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = r
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _u_distribution(m: int, n: int) -> list[int]:
    """Number of arrangements giving each U = 0..m*n, for samples of m and n without
    ties: the coefficients of the Gaussian binomial [m+n choose m] in q."""
    size = m * n + 1
    poly = [0] * size
    poly[0] = 1
    # prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), multiplying then dividing term by term.
    for i in range(1, m + 1):
        k = n + i
        for d in range(size - 1, k - 1, -1):      # multiply by (1 - q^k)
            poly[d] -= poly[d - k]
        for d in range(i, size):                   # divide by (1 - q^i)
            poly[d] += poly[d - i]
    return poly


_EXACT_MAX_CELLS = 2500   # m * n up to which the exact distribution is used (no ties)


def mann_whitney_u(x: Sequence[float], y: Sequence[float],
                   alternative: str = "two-sided") -> MannWhitney:
    """Mann–Whitney U test of x against y.

    ``alternative``: ``"two-sided"`` (the distributions differ), ``"greater"`` (x tends
    to be larger than y) or ``"less"``. Exact p-values when there are no ties and
    ``len(x) * len(y) <= 2500``; otherwise the normal approximation with tie correction
    and continuity correction (as ``scipy.stats.mannwhitneyu(method="asymptotic")``).
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', not {alternative!r}")
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        raise ValueError("both samples need at least one value")
    ranks, ties = _rank([float(v) for v in x] + [float(v) for v in y])
    r1 = math.fsum(ranks[:m])
    u1 = r1 - m * (m + 1) / 2
    mn = m * n
    effect = u1 / mn
    if not ties and mn <= _EXACT_MAX_CELLS:
        dist = _u_distribution(m, n)
        total = sum(dist)
        k = int(round(u1))
        p_le = sum(dist[: k + 1]) / total
        p_ge = sum(dist[k:]) / total
        if alternative == "greater":
            p = p_ge
        elif alternative == "less":
            p = p_le
        else:
            p = min(1.0, 2 * min(p_le, p_ge))
        return MannWhitney(u1, p, "exact", effect)
    mu = mn / 2
    big_n = m + n
    tie_term = sum(t ** 3 - t for t in ties) / (big_n * (big_n - 1))
    var = mn / 12 * ((big_n + 1) - tie_term)
    if var <= 0:                     # every value equal: no evidence either way
        return MannWhitney(u1, 1.0, "normal", effect)
    sd = math.sqrt(var)
    if alternative == "greater":
        z = (u1 - mu - 0.5) / sd
        p = 0.5 * math.erfc(z / math.sqrt(2))
    elif alternative == "less":
        z = (u1 - mu + 0.5) / sd
        p = 0.5 * math.erfc(-z / math.sqrt(2))
    else:
        z = (abs(u1 - mu) - 0.5) / sd
        p = min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))
    return MannWhitney(u1, p, "normal", effect)


# ------------------------------------------------------------------- comparisons

#: Default significance level. A difference is reported as real when the two-sided
#: Mann–Whitney p-value is below it *and* the medians differ by at least MIN_EFFECT.
ALPHA = 0.01
#: Smallest relative difference of medians ever reported as real: differences below
#: it are within what the same benchmark shows run twice on a quiet machine.
MIN_EFFECT = 0.02


@dataclass(frozen=True)
class Comparison:
    """How a candidate's samples compare with a baseline's."""

    ratio: float          # median(candidate) / median(baseline); < 1 means faster
    p_value: float        # two-sided Mann–Whitney U
    alpha: float
    min_effect: float
    baseline_median: float
    candidate_median: float

    @property
    def significant(self) -> bool:
        """True when the difference is real: p < alpha and |ratio - 1| >= min_effect."""
        return self.p_value < self.alpha and abs(self.ratio - 1.0) >= self.min_effect

    @property
    def verdict(self) -> str:
        """``"faster"``, ``"slower"``, ``"same"`` (not significantly different), or
        ``"unknown"`` when there were no raw samples to test."""
        if math.isnan(self.p_value):
            return "unknown"
        if not self.significant:
            return "same"
        return "slower" if self.ratio > 1 else "faster"

    @property
    def change(self) -> float:
        """Relative change of the median, e.g. +0.10 for 10% slower."""
        return self.ratio - 1.0

    def describe(self) -> str:
        """E.g. ``"1.10x slower (p=3.2e-08)"`` or ``"1.01x, same (p=0.41)"``."""
        p = format_p(self.p_value)
        if self.verdict == "unknown":
            return f"{self.ratio:.2f}x (no raw samples: significance unknown)"
        if self.verdict == "slower":
            return f"{self.ratio:.2f}x slower ({p})"
        if self.verdict == "faster":
            return f"{1 / self.ratio:.2f}x faster ({p})" if self.ratio > 0 else f"faster ({p})"
        return f"{self.ratio:.2f}x, same ({p})"

    def as_dict(self) -> dict:
        return {"ratio": self.ratio, "p_value": self.p_value, "alpha": self.alpha,
                "min_effect": self.min_effect, "significant": self.significant,
                "verdict": self.verdict}


def compare_samples(baseline: Sequence[float], candidate: Sequence[float],
                    alpha: float = ALPHA, min_effect: float = MIN_EFFECT) -> Comparison:
    """Compare candidate samples with baseline samples (both seconds per call)."""
    b = Stats.from_samples(baseline)
    c = Stats.from_samples(candidate)
    if b.median > 0:
        ratio = c.median / b.median
    else:
        ratio = math.inf if c.median > 0 else 1.0
    p = mann_whitney_u(candidate, baseline).p_value
    return Comparison(ratio, p, alpha, min_effect, b.median, c.median)


def format_p(p: float) -> str:
    if p < 1e-4:
        return f"p={p:.1e}"
    return f"p={p:.4f}" if p < 0.01 else f"p={p:.2f}"


# -------------------------------------------------------------------- formatting


def choose_unit(values: Iterable[float]) -> str:
    """The timeit unit (``nsec`` .. ``sec``) that shows the smallest |value| >= 1."""
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if not finite:
        return "nsec"
    smallest = min(finite)
    for unit in ("sec", "msec", "usec", "nsec"):
        if smallest >= UNITS[unit]:
            return unit
    return "nsec"


def format_time(seconds: float, unit: str | None = None, precision: int = 3) -> str:
    """A time with its unit and ``precision`` significant digits (never fewer integer
    digits), e.g. ``format_time(4.13e-08) == "41.3 ns"``, ``format_time(2e-6, "nsec")
    == "2000 ns"``."""
    if not math.isfinite(seconds):
        return str(seconds)
    unit = unit or choose_unit([seconds])
    value = seconds / UNITS[unit]
    mag = abs(value)
    int_digits = len(str(int(mag))) if mag >= 1 else 1
    decimals = max(0, precision - int_digits)
    return f"{value:.{decimals}f} {_UNIT_LABEL[unit]}"
