"""A box plot of benchmarks as a self-contained SVG (``--benchmark-histogram``).

pytest-benchmark draws its "histogram" with pygal as one Tukey box per benchmark (min,
Q1 - 1.5 IQR, Q1, median, Q3, Q3 + 1.5 IQR, max); this draws the same boxes by hand, with
no dependency. File names follow pytest-benchmark: ``PREFIX-<group>.svg``, or
``PREFIX.svg`` for benchmarks without a group.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

import math

from .plot import _short, log_ticks, nice_ticks, use_log_y
from .result import BenchResult
from .stats import choose_unit

__all__ = ["box_svg", "histogram_path", "write_histogram"]

_SCALE = {"nsec": 1e9, "usec": 1e6, "msec": 1e3, "sec": 1.0}


def histogram_path(prefix: str, group: str | None) -> Path:
    """pytest-benchmark's name: ``prefix-<slugified group>.svg`` or ``prefix.svg``."""
    if not group:
        return Path(f"{prefix}.svg")
    for c in "\\/:*?<>| ":
        group = group.replace(c, "_").replace("__", "_")
    return Path(f"{prefix}-{group}.svg")


def box_svg(results: Sequence[BenchResult], title: str, width: int = 720,
            height: int = 420) -> str:
    unit = choose_unit([r.stats.median for r in results if r.stats.median > 0])
    k = _SCALE[unit]
    boxes = []
    for r in results:
        s = r.stats
        boxes.append((r.name, [v * k for v in (s.min, max(s.ld15iqr, s.min), s.q1, s.median,
                                               s.q3, min(s.hd15iqr, s.max), s.max)], s.rounds))
    lo = min(b[1][0] for b in boxes)
    hi = max(b[1][-1] for b in boxes)
    logy = use_log_y([lo, hi])                 # boxes more than 10x apart: a log axis
    ticks = (log_ticks(lo, hi) if logy else nice_ticks(lo, hi)) or [lo, hi]
    ty = math.log10 if logy else float
    y0, y1 = ty(ticks[0]), ty(ticks[-1]) if ticks[-1] > ticks[0] else ty(ticks[0]) + 1
    left, right, top, bottom = 80, 20, 40, 110
    pw, ph = width - left - right, height - top - bottom
    py = lambda v: top + (1 - (ty(v) - y0) / (y1 - y0)) * ph  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="22" text-anchor="middle" font-size="15">'
           f'{escape(title)}</text>']
    for t in ticks:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                   'stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">Duration ({unit}){" (log scale)" if logy else ""}</text>')
    slot = pw / max(len(boxes), 1)
    for i, (name, (mn, lw, q1, med, q3, hw, mx), rounds) in enumerate(boxes):
        cx = left + slot * (i + 0.5)
        w = min(slot * 0.5, 60)
        out.append(f'<g><title>{escape(name)} - {rounds} rounds: min {mn:.4g}, Q1 {q1:.4g}, '
                   f'median {med:.4g}, Q3 {q3:.4g}, max {mx:.4g} {unit}</title>')
        out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{py(hw):.1f}" y2="{py(lw):.1f}" '
                   'stroke="#333"/>')
        out.append(f'<rect x="{cx - w / 2:.1f}" y="{py(q3):.1f}" width="{w:.1f}" '
                   f'height="{max(py(q1) - py(q3), 0.5):.1f}" fill="#56B4E9" stroke="#333"/>')
        out.append(f'<line x1="{cx - w / 2:.1f}" x2="{cx + w / 2:.1f}" y1="{py(med):.1f}" '
                   f'y2="{py(med):.1f}" stroke="#000" stroke-width="2"/>')
        for v in (mn, mx):
            out.append(f'<circle cx="{cx:.1f}" cy="{py(v):.1f}" r="2.5" fill="#333"/>')
        out.append(f'<text transform="translate({cx:.1f} {top + ph + 12}) rotate(40)">'
                   f'{escape(_short(name, 22))}</text></g>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_histogram(prefix: str, group: str | None, results: Sequence[BenchResult]) -> Path:
    path = histogram_path(prefix, group)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    title = "Speed" + (f" of {group}" if group else "")
    path.write_text(box_svg(results, title), encoding="utf-8")
    return path
