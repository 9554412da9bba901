"""Line plots of normalised runtime against problem size.

:func:`svg_plot` writes a self-contained SVG by hand (no dependencies, always
available); :func:`png_plot` draws the same figure with matplotlib when it is
installed. Both take the same input: named series of (x, y) points.
"""
from __future__ import annotations

import math
from typing import Sequence
from xml.sax.saxutils import escape

__all__ = ["svg_plot", "png_plot", "have_matplotlib", "nice_ticks"]

#: Colour-blind-safe palette (Okabe–Ito), first colour for the baseline.
PALETTE = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2",
           "#CC79A7", "#F0E442"]

Series = dict[str, list[tuple[float, float]]]


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 x 10^k steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(v, 12))
    return ticks


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:g}"


def _use_log_x(xs: Sequence[float]) -> bool:
    pos = [x for x in xs if x > 0]
    return len(pos) == len(xs) and len(pos) > 1 and max(pos) / min(pos) >= 20


def svg_plot(series: Series, title: str, xlabel: str, ylabel: str,
             xticklabels: Sequence[str] | None = None, reference: float | None = 1.0,
             width: int = 720, height: int = 440) -> str:
    """An SVG line chart of ``series`` (name → [(x, y), ...]). The x axis is
    logarithmic when all x are positive and span 20x or more; ``xticklabels`` puts
    labels at x = 0, 1, 2, ... instead (categorical axis). ``reference`` draws a
    dashed horizontal line (the baseline's 1.0)."""
    left, right, top, bottom = 70, 170, 40, 55
    pw, ph = width - left - right, height - top - bottom
    points = [p for pts in series.values() for p in pts if math.isfinite(p[1])]
    xs = sorted({p[0] for p in points}) or [0.0, 1.0]
    ys = [p[1] for p in points] + ([reference] if reference is not None else [])
    logx = xticklabels is None and _use_log_x(xs)
    tx = (lambda x: math.log10(x)) if logx else (lambda x: x)  # noqa: E731
    x0, x1 = tx(xs[0]), tx(xs[-1])
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    pad = (x1 - x0) * 0.04
    x0, x1 = x0 - pad, x1 + pad
    yt = nice_ticks(min(ys + [0.0]) if min(ys) < 0 else min(ys) * 0.95, max(ys) * 1.05)
    y0, y1 = (yt[0], yt[-1]) if len(yt) > 1 else (0.0, 1.0)

    def px(x: float) -> float:
        return left + (tx(x) - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="22" text-anchor="middle" font-size="15">'
           f'{escape(title)}</text>']
    # Axes, grid and tick labels.
    for y in yt:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(y):.1f}" y2="{py(y):.1f}" '
                   'stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{_fmt(y)}</text>')
    if xticklabels is not None:
        xtick = [(float(i), str(lbl)) for i, lbl in enumerate(xticklabels)]
    elif logx:
        lo, hi = math.floor(math.log10(xs[0])), math.ceil(math.log10(xs[-1]))
        decades = [10.0 ** k for k in range(lo, hi + 1) if xs[0] <= 10.0 ** k <= xs[-1]]
        xtick = [(x, _fmt(x)) for x in sorted(set(decades) | set(xs))]
    else:
        xtick = [(x, _fmt(x)) for x in xs]
    for x, lbl in xtick:
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top + ph}" y2="{top + ph + 5}" '
                   'stroke="#333"/>')
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 18}" text-anchor="middle">'
                   f'{escape(lbl)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 12}" text-anchor="middle">'
               f'{escape(xlabel + (" (log scale)" if logx else ""))}</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(ylabel)}</text>')
    if reference is not None and y0 <= reference <= y1:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(reference):.1f}" '
                   f'y2="{py(reference):.1f}" stroke="#888" stroke-dasharray="5 4"/>')
    # Series and legend.
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = [(x, y) for x, y in pts if math.isfinite(y)]
        if len(pts) > 1:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}">'
                       f'<title>{escape(name)}: {y:.3g}</title></circle>')
        ly = top + 10 + i * 20
        out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 42}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def png_plot(series: Series, path: str, title: str, xlabel: str, ylabel: str,
             xticklabels: Sequence[str] | None = None, reference: float | None = 1.0) -> None:
    """The same chart as :func:`svg_plot`, drawn with matplotlib into ``path``.
    Raises ImportError when matplotlib is not installed."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.4), dpi=100)
    try:
        xs = sorted({x for pts in series.values() for x, _ in pts})
        for i, (name, pts) in enumerate(series.items()):
            pts = [(x, y) for x, y in pts if math.isfinite(y)]
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=name,
                    color=PALETTE[i % len(PALETTE)])
        if reference is not None:
            ax.axhline(reference, color="#888", linestyle="--", linewidth=1)
        if xticklabels is not None:
            ax.set_xticks(range(len(xticklabels)), [str(s) for s in xticklabels])
        elif _use_log_x(xs):
            ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, color="#e5e5e5")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def write_plot(path: str, series: Series, title: str, xlabel: str, ylabel: str,
               xticklabels: Sequence[str] | None = None,
               reference: float | None = 1.0) -> list[str]:
    """Write the chart to ``path``: an SVG by hand, a PNG with matplotlib (ImportError
    without it), chosen by the suffix; returns the paths written."""
    if path.lower().endswith(".png"):
        png_plot(series, path, title, xlabel, ylabel, xticklabels, reference)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(svg_plot(series, title, xlabel, ylabel, xticklabels, reference))
    return [path]


def history_plot(path: str, points: dict, labels: Sequence[str]) -> list[str]:
    """Each benchmark over the commits (``labels``, oldest first), normalised to its
    first point: ``points`` maps a name to hotpath.bench.history Points."""
    index = {lab: i for i, lab in enumerate(labels)}
    series: Series = {}
    for name, pts in points.items():
        if not pts or not pts[0].value:
            continue
        first = pts[0].value
        series[name] = [(float(index[p.label]), p.value / first) for p in pts
                        if p.label in index]
    return write_plot(path, series, "Benchmarks over commits", "commit",
                      "relative to the first commit", list(labels))


def histogram_svg(samples: Sequence[float], title: str, xlabel: str, bins: int | None = None,
                  width: int = 640, height: int = 380) -> str:
    """A histogram of one benchmark's samples (counts per bin), as a self-contained SVG,
    the median marked with a dashed line."""
    xs = sorted(x for x in samples if math.isfinite(x))
    if not xs:
        xs = [0.0]
    n = len(xs)
    bins = bins or max(1, min(40, int(math.ceil(math.sqrt(n)))))
    lo, hi = xs[0], xs[-1]
    if hi <= lo:
        hi = lo + (abs(lo) * 0.01 or 1.0)
    step = (hi - lo) / bins
    counts = [0] * bins
    for x in xs:
        counts[min(bins - 1, int((x - lo) / step))] += 1
    left, right, top, bottom = 60, 20, 40, 50
    pw, ph = width - left - right, height - top - bottom
    cmax = max(counts)
    px = lambda v: left + (v - lo) / (hi - lo) * pw  # noqa: E731
    py = lambda c: top + ph - c / cmax * ph  # noqa: E731
    med = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="22" text-anchor="middle" font-size="15">'
           f'{escape(title)}</text>']
    for i, c in enumerate(counts):
        x0 = px(lo + i * step)
        out.append(f'<rect class="bin" x="{x0:.1f}" y="{py(c):.1f}" width="{pw / bins:.1f}" '
                   f'height="{top + ph - py(c):.1f}" fill="#56B4E9" stroke="#333">'
                   f'<title>{c} rounds in [{lo + i * step:.4g}, {lo + (i + 1) * step:.4g})'
                   '</title></rect>')
    for t in nice_ticks(0, cmax, 5):
        if t <= cmax:
            out.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for t in nice_ticks(lo, hi, 6):
        if lo <= t <= hi:
            out.append(f'<text x="{px(t):.1f}" y="{top + ph + 16}" text-anchor="middle">'
                       f'{_fmt(t)}</text>')
    out.append(f'<line x1="{px(med):.1f}" x2="{px(med):.1f}" y1="{top}" y2="{top + ph}" '
               'stroke="#D55E00" stroke-dasharray="5,3" stroke-width="2"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">'
               f'{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
               'text-anchor="middle">rounds</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def histogram_png(samples: Sequence[float], path: str, title: str, xlabel: str) -> None:
    """The same histogram drawn with matplotlib (ImportError without it)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    try:
        xs = [x for x in samples if math.isfinite(x)]
        ax.hist(xs, bins=max(1, min(40, int(math.ceil(math.sqrt(len(xs)))))),
                color="#56B4E9", edgecolor="#333")
        if xs:
            s = sorted(xs)
            ax.axvline(s[len(s) // 2], color="#D55E00", linestyle="--")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("rounds")
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def write_histograms(prefix: str, results: Sequence) -> list[str]:
    """One histogram per benchmark: ``PREFIX-<name>.svg``, and ``.png`` beside it when
    matplotlib is installed; returns the paths written."""
    import os
    import re

    from .stats import UNITS, choose_unit
    parent = os.path.dirname(prefix)
    if parent:
        os.makedirs(parent, exist_ok=True)
    written, seen = [], set()
    for r in results:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", r.fullname or r.name).strip("_") or "bench"
        while slug in seen:
            slug += "_"
        seen.add(slug)
        unit = choose_unit([r.stats.median])
        scale = UNITS[unit]
        xs = [x / scale for x in r.samples]
        title = f"{r.name}: {len(xs)} rounds"
        base = f"{prefix}-{slug}"
        with open(base + ".svg", "w", encoding="utf-8") as fh:
            fh.write(histogram_svg(xs, title, f"time per call ({unit})"))
        written.append(base + ".svg")
        if have_matplotlib():
            histogram_png(xs, base + ".png", title, f"time per call ({unit})")
            written.append(base + ".png")
    return written
