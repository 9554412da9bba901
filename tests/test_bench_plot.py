"""The comparison plots (hotpath.bench.plot, CompareResult.plot): absolute and normalised
charts, a log y axis past 10x, error bars, readable x ticks and legends, one unit per
table. Checked on the SVG's content; the PNG is matplotlib's drawing of the same."""
from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import pytest

from hotpath.bench.compare import CompareResult
from hotpath.bench.plot import log_ticks, svg_plot, use_log_y
from hotpath.bench.result import BenchResult

NS = "{http://www.w3.org/2000/svg}"


def _cmp(times: dict[str, list[float]], sizes: list, spread: float = 0.1,
         size_name: str = "size") -> CompareResult:
    """A comparison whose cell (impl, size k) has samples around times[impl][k]."""
    rng = random.Random(7)
    results = {}
    for impl, ts in times.items():
        for s, t in zip(sizes, ts):
            samples = [t * (1 + spread * (rng.random() - 0.5)) for _ in range(21)]
            results[(impl, s)] = BenchResult(impl, samples)
    names = list(times)
    return CompareResult(names, list(sizes), names[0], results, size_name=size_name)


def _svg(path) -> ET.Element:
    return ET.parse(path).getroot()


def _charts(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{NS}svg")


def _texts(el: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in el.iter(f"{NS}text")]


def test_absolute_and_normalised_charts_with_error_bars(tmp_path):
    res = _cmp({"fast": [2e-6, 3e-6, 4e-6], "slow": [6e-6, 9e-6, 12e-6]}, [10, 100, 1000])
    res.plot(str(tmp_path / "c.svg"))
    absolute, normalised = _charts(_svg(tmp_path / "c.svg"))
    assert "Time per call" in _texts(absolute)[0] and "Normalised to fast" in _texts(normalised)[0]
    assert any(t == "time per call (us)" for t in _texts(absolute))
    # one error bar per point, spanning the cell's interquartile range
    bars = absolute.findall(f".//{NS}path[@class='errbar']")
    assert len(bars) == 6 and len(normalised.findall(f".//{NS}path[@class='errbar']")) == 6
    d = bars[0].get("d")
    lo, hi = (float(v) for v in re.match(r"M[\d.]+,([\d.]+)V([\d.]+)", d).groups())
    assert lo > hi                                      # q1 below q3 on screen
    st = res.result("fast", 10).stats
    tip = absolute.find(f".//{NS}circle/{NS}title").text
    assert f"{st.q1 * 1e6:.3g} to {st.q3 * 1e6:.3g}" in tip
    # normalised: the baseline sits at 1, slow at about 3
    ys = [c.find(f"{NS}title").text for c in normalised.iter(f"{NS}circle")]
    assert ys[0].startswith("fast: 1 ") and ys[3].startswith("slow: 3")


def test_log_y_only_past_ten_times(tmp_path):
    wide = _cmp({"a": [1e-6, 1e-4, 1e-2]}, [1, 10, 100])
    wide.plot(str(tmp_path / "w.svg"))
    absolute = _charts(_svg(tmp_path / "w.svg"))[0]
    assert any(t.endswith("(log scale)") and "time per call" in t for t in _texts(absolute))
    narrow = _cmp({"a": [1e-6, 2e-6, 5e-6]}, [1, 10, 100])
    narrow.plot(str(tmp_path / "n.svg"))
    assert not any("time per call" in t and "log" in t for t in _texts(_charts(_svg(tmp_path / "n.svg"))[0]))
    assert use_log_y([1, 11]) and not use_log_y([1, 10]) and not use_log_y([0, 100])
    assert log_ticks(3, 700) == [2, 5, 10, 20, 50, 100, 200, 500, 1000]


def test_long_names_slant_and_shorten_and_the_legend_fits(tmp_path):
    sizes = ["a_rather_long_problem_name_%d" % k for k in range(6)]
    impl = "an_implementation_with_a_very_long_descriptive_name"
    res = _cmp({"base": [1e-3] * 6, impl: [2e-3] * 6}, sizes)
    res.plot(str(tmp_path / "l.svg"))
    chart = _charts(_svg(tmp_path / "l.svg"))[1]
    ticks = chart.findall(f".//{NS}text[@class='xtick']")
    assert len(ticks) == 6
    assert all("rotate(35)" in t.get("transform") for t in ticks)
    assert ticks[0].find(f"{NS}title").text == sizes[0]               # whole, on hover
    assert len("".join(ticks[0].itertext()).replace(sizes[0], "")) <= 18
    legend = [t for t in chart.findall(f".//{NS}text[@class='legend']")]
    shown = [t.text or "".join(t.itertext())[len(t.find(f"{NS}title").text):] for t in legend]
    assert shown[1].endswith("\u2026") and len(shown[1]) == 28
    # the legend starts inside the picture and its longest entry ends inside it too
    width = float(chart.get("width"))
    x = float(legend[1].get("x"))
    assert x + 7 * 28 <= width + 1


def test_short_labels_stay_upright():
    out = svg_plot({"a": [(0.0, 1.0), (1.0, 2.0)]}, "t", "x", "y", xticklabels=["n=1", "n=2"])
    assert "rotate(35)" not in out and 'text-anchor="middle">n=1<' in out


def test_one_unit_per_table():
    res = _cmp({"a": [5e-7, 5e-3], "b": [9e-7, 2e-2]}, [1, 2])
    table = res.table_absolute()
    units = re.findall(r"\d (ns|us|ms|s)\b", table)
    assert len(units) == 8 and set(units) == {"ms"}, table       # the middle mean's unit
    assert "0.000" in table and "0.00 ms" not in table            # small ones keep 3 digits


def test_png_has_both_charts(tmp_path):
    pytest.importorskip("matplotlib")
    res = _cmp({"fast": [1e-6, 2e-5, 4e-4], "slow": [3e-6, 6e-5, 12e-4]}, ["small", "medium", "large"])
    written = res.plot(str(tmp_path / "p.svg"))
    assert written[1].endswith("p.png")
    data = (tmp_path / "p.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import struct
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (900, 880)


def test_box_plot_log_axis_and_short_names():
    from hotpath.bench.boxplot import box_svg
    rng = random.Random(3)
    long = "test_a_benchmark_with_a_remarkably_long_parametrised_name[size=100000]"
    results = [BenchResult("fast", [1e-6 * (1 + 0.1 * rng.random()) for _ in range(15)]),
               BenchResult(long, [1e-4 * (1 + 0.1 * rng.random()) for _ in range(15)])]
    root = ET.fromstring(box_svg(results, "Speed"))
    texts = _texts(root)
    assert "Duration (usec) (log scale)" in texts
    label = next(t for t in texts if t.startswith("test_a_bench"))
    assert len(label) == 22 and label.endswith("\u2026")
    assert any(long in (t.text or "") for t in root.iter(f"{NS}title"))   # whole on hover
    near = [BenchResult("a", [1e-6] * 5), BenchResult("b", [3e-6] * 5)]
    assert "Duration (usec)" in _texts(ET.fromstring(box_svg(near, "Speed")))
