"""hotpath.bench statistics, significance test, gates and formatting — on known samples.

Reference values come from NumPy (quartiles: linear interpolation, ``np.percentile``
default) and SciPy (``scipy.stats.mannwhitneyu``), computed once and written here.
"""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpath.bench.gate import Gate
from hotpath.bench.result import BenchResult
from hotpath.bench.stats import (Comparison, Stats, _u_distribution, choose_unit,
                                 compare_samples, format_time, mann_whitney_u, quantile)

SAMPLE = [2.1, 3.4, 1.9, 5.6, 2.2, 2.0, 9.9, 2.3, 2.4, 2.2, 2.6]


def test_stats_of_known_sample():
    s = Stats.from_samples(SAMPLE)
    assert s.rounds == 11
    assert s.min == 1.9 and s.max == 9.9
    assert s.mean == pytest.approx(3.3272727272727276)
    assert s.stddev == pytest.approx(2.42202019359497)          # n - 1 denominator
    assert (s.q1, s.median, s.q3) == pytest.approx((2.15, 2.3, 3.0))  # np.percentile
    assert s.iqr == pytest.approx(0.85)
    # Tukey fences: 2.15 - 1.275 = 0.875, 3.0 + 1.275 = 4.275 -> 5.6 and 9.9 are high.
    assert (s.low_outliers, s.high_outliers, s.iqr_outliers) == (0, 2, 2)
    assert s.ld15iqr == 1.9 and s.hd15iqr == 3.4
    # mean ± sd = [0.905, 5.749]: only 9.9 is outside.
    assert s.stddev_outliers == 1
    assert s.outliers == "1;2"
    assert s.total == pytest.approx(sum(SAMPLE))
    assert s.ops == pytest.approx(1 / s.mean)


def test_stats_as_dict_has_pytest_benchmark_fields():
    d = Stats.from_samples(SAMPLE).as_dict()
    assert set(d) == {"min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3",
                      "iqr_outliers", "stddev_outliers", "outliers", "ld15iqr", "hd15iqr",
                      "ops", "total"}


def test_stats_single_sample_and_empty():
    s = Stats.from_samples([4.0])
    assert (s.min, s.median, s.mean, s.stddev, s.iqr) == (4.0, 4.0, 4.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        Stats.from_samples([])


def test_quantile_interpolates():
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([1, 2, 3, 4], 0.25) == 1.75
    assert quantile([7], 0.9) == 7


X = [1.83, 1.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28]


@pytest.mark.parametrize("alternative, p", [("two-sided", 0.03146853146853147),
                                            ("greater", 0.015734265734265736),
                                            ("less", 0.9877828054298643)])
def test_mann_whitney_exact_matches_scipy(alternative, p):
    r = mann_whitney_u(X, Y, alternative)
    assert r.method == "exact"
    assert r.u == 65.0
    assert r.p_value == pytest.approx(p, rel=1e-12)
    assert r.effect == pytest.approx(65 / 81)


A = [3, 4, 4, 5, 5, 5, 6, 7, 7, 8, 9, 9, 10, 11, 12, 12, 13]
B = [5, 6, 6, 7, 8, 8, 9, 10, 10, 11, 12, 13, 13, 14, 15, 16, 16, 18, 19]


@pytest.mark.parametrize("alternative, p", [("two-sided", 0.009180434599847766),
                                            ("greater", 0.9958182565180127),
                                            ("less", 0.004590217299923883)])
def test_mann_whitney_with_ties_matches_scipy_asymptotic(alternative, p):
    r = mann_whitney_u(A, B, alternative)
    assert r.method == "normal"
    assert r.u == 79.0
    assert r.p_value == pytest.approx(p, rel=1e-9)


def test_u_distribution_is_the_gaussian_binomial():
    # m = 2, n = 2: U in 0..4 with counts 1, 1, 2, 1, 1 (6 = C(4, 2) arrangements).
    assert _u_distribution(2, 2) == [1, 1, 2, 1, 1]
    d = _u_distribution(5, 7)
    assert sum(d) == math.comb(12, 5)
    assert d == d[::-1]                      # symmetric


def test_mann_whitney_identical_values_is_no_evidence():
    r = mann_whitney_u([1.0] * 30, [1.0] * 30)
    assert r.p_value == 1.0


def test_mann_whitney_rejects_bad_input():
    with pytest.raises(ValueError):
        mann_whitney_u([], [1.0])
    with pytest.raises(ValueError):
        mann_whitney_u([1.0], [2.0], alternative="bigger")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=12),
       st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=12))
def test_mann_whitney_symmetry(x, y):
    a, b = mann_whitney_u(x, y), mann_whitney_u(y, x)
    assert a.u + b.u == pytest.approx(len(x) * len(y))
    assert a.p_value == pytest.approx(b.p_value)
    assert 0.0 <= a.p_value <= 1.0


def test_compare_samples_verdicts():
    base = [1.00, 1.01, 0.99, 1.02, 1.00, 0.98, 1.01, 1.00, 0.99, 1.00] * 3
    slower = [x * 1.10 for x in base]
    c = compare_samples(base, slower)
    assert c.ratio == pytest.approx(1.10)
    assert c.significant and c.verdict == "slower"
    assert c.describe().startswith("1.10x slower (p=")
    faster = compare_samples(base, [x * 0.5 for x in base])
    assert faster.verdict == "faster" and faster.describe().startswith("2.00x faster")
    same = compare_samples(base, list(reversed(base)))
    assert same.verdict == "same" and not same.significant


def test_compare_requires_a_minimum_effect():
    # Perfectly separated but only 1% apart: significant p, yet below MIN_EFFECT.
    base = [1.0 + i * 1e-5 for i in range(30)]
    cand = [x * 1.01 + 0.001 for x in base]
    c = compare_samples(base, cand, min_effect=0.02)
    assert c.p_value < 1e-6
    assert c.verdict == "same"
    assert compare_samples(base, cand, min_effect=0.0).verdict == "slower"


def test_comparison_without_samples_is_unknown():
    c = Comparison(1.2, math.nan, 0.01, 0.02, 1.0, 1.2)
    assert c.verdict == "unknown" and not c.significant
    assert "unknown" in c.describe()


@pytest.mark.parametrize("seconds, unit, text", [
    (4.13e-8, None, "41.3 ns"), (2e-6, "nsec", "2000 ns"), (-1.2e-9, None, "-1.20 ns"),
    (0.5, None, "500 ms"), (1.234e-6, None, "1.23 us"), (12.0, "sec", "12.0 s"),
])
def test_format_time(seconds, unit, text):
    assert format_time(seconds, unit) == text


def test_choose_unit():
    assert choose_unit([3e-9, 5e-6]) == "nsec"
    assert choose_unit([2e-6, 5e-3]) == "usec"
    assert choose_unit([0.0]) == "nsec"


@pytest.mark.parametrize("expr, stat, threshold, percent", [
    ("median:5%", "median", 0.05, True), ("mean:0.001", "mean", 0.001, False),
    ("min:20us", "min", 20e-6, False), (" max : 10 % ", "max", 0.10, True),
])
def test_gate_parse(expr, stat, threshold, percent):
    g = Gate.parse(expr)
    assert (g.stat, g.percent) == (stat, percent)
    assert g.threshold == pytest.approx(threshold)


@pytest.mark.parametrize("expr", ["median", "speed:5%", "median:-1%", "median:abc"])
def test_gate_parse_rejects(expr):
    with pytest.raises(ValueError):
        Gate.parse(expr)


def _result(name, samples):
    return BenchResult(name=name, samples=list(samples), gross=list(samples))


def test_gate_needs_both_excess_and_significance():
    base = [1.0 + 0.001 * (i % 7) for i in range(40)]
    gate = Gate.parse("median:5%")
    assert gate.check(_result("b", [x * 1.10 for x in base]), _result("b", base)).failed
    ok = gate.check(_result("b", [x * 1.02 for x in base]), _result("b", base))
    assert not ok.failed and ok.message.endswith("ok")
    # 10% slower on the median, but two overlapping noisy samples: not significant.
    noisy_old = [1.0, 3.0, 1.1, 2.9, 1.2, 2.8]
    noisy_new = [1.15, 1.25, 1.3, 3.1, 3.2, 2.95]   # median +6%, p = 0.31
    out = gate.check(_result("n", noisy_new), _result("n", noisy_old))
    assert not out.failed and "not significant" in out.message


def test_gate_without_samples_uses_threshold_only():
    old = BenchResult(name="x", samples=[], saved_stats=Stats.from_samples([1.0, 1.0]).as_dict())
    new = _result("x", [1.2, 1.2, 1.2])
    out = Gate.parse("mean:5%").check(new, old)
    assert out.failed and "no raw samples" in out.message
