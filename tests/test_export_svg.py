"""Static SVG flame graph: well-formed XML, names escaped, widths from the tree."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from export_profiles import EVIL_NAME, build, deep_profile, sample_profile, wide_profile
from hotpath.model import Function
from hotpath.report.flamesvg import to_svg, write_svg

NS = "{http://www.w3.org/2000/svg}"


def _frames(svg: str) -> list[tuple[str, float, str]]:
    """(tooltip, rect width, drawn text) for every frame group."""
    root = ET.fromstring(svg.encode("utf-8"))
    out = []
    for g in root.iter(NS + "g"):
        text = g.find(NS + "text")
        out.append((g.find(NS + "title").text, float(g.find(NS + "rect").get("width")),
                    text.text if text is not None else ""))
    return out


def test_well_formed_and_escaped(tmp_path):
    path = tmp_path / "f.svg"
    write_svg(sample_profile(), str(path))
    raw = path.read_text(encoding="utf-8")
    ET.parse(path)                                          # well-formed
    assert "<script" not in raw                             # nothing injected
    assert "&lt;script&gt;" in raw
    tips = [t for t, _, _ in _frames(raw)]
    assert any(t.startswith(EVIL_NAME + " (/tmp/a&b/\"q'<x>;y.py:1)\n") for t in tips)
    assert any(t.startswith("Ünï.héllo_π (app.py:40)") for t in tips)


def test_widths_follow_times():
    frames = _frames(to_svg(sample_profile(), width=1220))
    by_tip = {t.split("\n")[0]: w for t, w, _ in frames}
    full = 1200.0                                           # width minus padding
    assert by_tip["all"] == full
    total = 130 + 9 + 45                                    # both threads, in ticks
    assert abs(by_tip["worker (app.py:70)"] - full * 45 / total) < 0.01
    assert abs(by_tip["MainThread"] - full * 139 / total) < 0.01
    tip = next(t for t, _, _ in frames if t.startswith("main (app.py:10)"))
    assert "130 µs total" in tip and "50 µs self" in tip and "1 call" in tip


def test_unwritable_characters_are_replaced():
    prof = build([Function("x.py", 1, "bad\x00\x1b\ud800name")], [(1, "T", [(0, 1, 5, [])])])
    frames = _frames(to_svg(prof))
    assert frames[1][0].startswith("bad\ufffd\ufffd\ufffdname")


def test_narrow_frames_are_left_out():
    svg = to_svg(wide_profile(5000), min_width=0.5)
    ET.fromstring(svg.encode("utf-8"))
    drawn = _frames(svg)
    assert 1 < len(drawn) < 5000
    assert all(w >= 0.5 for _, w, _ in drawn)


def test_deep_and_empty():
    frames = _frames(to_svg(deep_profile(2000)))
    assert len(frames) == 2001
    empty = _frames(to_svg(build([], [])))
    assert [t.split("\n")[0] for t, _, _ in empty] == ["all"]
