"""The memory view's flame graph and temporal data (report/memflame.py) and the temporal
samples behind them (capture.memory._Temporal), from real captures."""
from __future__ import annotations

import time

import pytest

from hotpath import MemoryProfiler
from hotpath.extras import ShapeError, check_memory
from hotpath.model.memory import MemoryView
from hotpath.report.memflame import METRICS, memory_flame, memory_temporal

KEEP: list = []


def hold(n):
    KEEP.append(bytearray(n))            # still live at exit


def churn(n):
    junk = [bytearray(n) for _ in range(4)]
    return len(junk)


def work():
    for _ in range(6):
        hold(200_000)
        churn(100_000)
        time.sleep(0.02)


@pytest.fixture(scope="module")
def data():
    KEEP.clear()
    mp = MemoryProfiler(temporal=0.01)
    with mp:
        work()
    return mp.memory_data()


def test_temporal_samples_follow_the_growing_stack(data):
    tp = data["temporal"]
    check_memory(data)
    t = tp["t"]
    assert len(t) >= 3 and t == sorted(t)
    assert data["totals"]["peak_time"] in [pytest.approx(x, abs=1e-6) for x in t]
    v = MemoryView(data)
    names = [v.line_key(v.user_frame(v.stacks[s]))[2] for s in tp["stacks"]]
    held = tp["live"][names.index("hold")]
    assert held[-1] >= 6 * 200_000 and held[0] < held[-1]   # grows: bytearrays kept
    assert held == sorted(held)


def test_the_temporal_field_is_checked(data):
    bad = dict(data, temporal=dict(data["temporal"], other=[1]))
    with pytest.raises(ShapeError, match="temporal.other"):
        check_memory(bad)
    bad = dict(data, temporal=dict(data["temporal"], stacks=[10**6]))
    with pytest.raises(ShapeError, match="temporal.stacks"):
        check_memory(bad)


def _children(f):
    kids = {}
    for i, p in enumerate(f["p"]):
        if i:
            assert p < i                                   # parents first
            kids.setdefault(p, []).append(i)
    return kids


def test_flame_tree_sums_and_nests(data):
    v = MemoryView(data)
    f = memory_flame(v)
    tot = data["totals"]
    # the root holds everything the stacks hold
    assert f["alloc"][0] == sum(s.alloc_bytes for s in v.stacks) <= tot["alloc_bytes"]
    assert f["leak"][0] == sum(max(s.live_bytes, 0) for s in v.stacks)
    assert f["peakN"][0] == sum(s.peak_count for s in v.stacks)
    for p, kids in _children(f).items():
        for m in METRICS:
            assert sum(f[m][k] for k in kids) <= f[m][p]
    names = {f["frames"]["name"][k]: i for i, k in enumerate(f["fr"]) if k >= 0}
    assert f["leak"][names["hold"]] >= 6 * 200_000
    assert f["leak"][names["churn"]] < 100_000 <= f["alloc"][names["churn"]] // 24
    assert f["pruned"] == 0


def test_flame_pruning_keeps_a_tree_of_the_largest(data):
    v = MemoryView(data)
    full, small = memory_flame(v), memory_flame(v, max_nodes=8)
    assert len(small["p"]) <= 8 and small["pruned"] == len(full["p"]) - len(small["p"])
    _children(small)
    for m in METRICS:
        assert small[m][0] == full[m][0]


def test_import_machinery_can_be_left_out():
    from test_html_sections import load_real
    v = MemoryView.of(load_real("memory"))            # numpy_alloc.py imports numpy
    # unpruned, so the check is of folding alone (3.11's numpy import has more stacks than
    # the page keeps, and pruning both to MAX_NODES hid the difference)
    full = memory_flame(v, max_nodes=10**7)
    bare = memory_flame(v, max_nodes=10**7, hide_imports=True)

    def files(f):
        return {f["frames"]["files"][k] for k in f["frames"]["file"]}

    assert any("importlib._bootstrap" in x for x in files(full))
    assert not any("importlib._bootstrap" in x for x in files(bare))
    for m in METRICS:                                   # nothing lost, only frames folded
        assert bare[m][0] == full[m][0]
    names = [bare["frames"]["name"][k] for k in bare["fr"] if k >= 0]
    assert "make_field" in names and len(bare["p"]) < len(full["p"])


def test_temporal_series_are_labelled(data):
    t = memory_temporal(MemoryView(data))
    assert [s["name"] for s in t["series"]][:1] == ["hold"]
    assert len(t["other"]) == len(t["t"]) == len(t["series"][0]["live"])
    assert memory_temporal(MemoryView({k: x for k, x in data.items() if k != "temporal"})) is None
    labels = [(s["name"], s["file"], s["line"], s["native"]) for s in t["series"]]
    assert len(set(labels)) == len(labels)                      # one series per label
    assert sum(s["stacks"] for s in t["series"]) == len(data["temporal"]["stacks"])
