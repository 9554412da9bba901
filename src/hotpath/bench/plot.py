"""Line plots of runtime against problem size: absolute and normalised.

:func:`svg_plot` writes a self-contained SVG chart by hand (no dependencies, always
available) and :func:`svg_figure` stacks several into one file; :func:`png_plot` draws
the same with matplotlib when it is installed. Both take the same input: named series of
(x, y) points, or (x, y, low, high) with error bars. A y axis whose values span more
than 10x is logarithmic; long category labels are slanted and shortened; the legend is
as wide as its longest name.
"""
from __future__ import annotations

import math
from typing import Sequence
from xml.sax.saxutils import escape

__all__ = ["svg_plot", "svg_figure", "png_plot", "have_matplotlib", "nice_ticks", "use_log_y",
           "log_ticks"]

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


def use_log_y(values: Sequence[float]) -> bool:
    """A log y axis when every value is positive and they span more than 10x."""
    vals = [v for v in values if math.isfinite(v)]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) > 10


def log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks of a log axis covering [lo, hi]: 1, 2, 5 x 10^k (1 x 10^k only when the
    range spans more than three decades)."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = (1,) if b - a > 3 else (1, 2, 5)
    ticks = [m * 10.0 ** k for k in range(a, b + 1) for m in steps]
    inside = [t for t in ticks if lo <= t <= hi]
    below = [t for t in ticks if t < lo]
    above = [t for t in ticks if t > hi]
    return ([below[-1]] if below else []) + inside + ([above[0]] if above else [])


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:max(chars - 1, 1)] + "\u2026"


#: a point: (x, y), or (x, y, low, high) with an error bar from low to high
Point = tuple


def svg_plot(series: Series, title: str, xlabel: str, ylabel: str,
             xticklabels: Sequence[str] | None = None, reference: float | None = 1.0,
             width: int = 720, height: int = 440, logy: bool | None = None,
             standalone: bool = True) -> str:
    """An SVG line chart of ``series`` (name → [(x, y) or (x, y, low, high), ...]; the
    4-tuples draw error bars). The x axis is logarithmic when all x are positive and
    span 20x or more; ``xticklabels`` puts labels at x = 0, 1, 2, ... instead (a
    categorical axis; long labels are slanted and shortened, whole in a tooltip). The y
    axis is logarithmic when ``logy``, or by default when the values span more than 10x
    (``use_log_y``). ``reference`` draws a dashed horizontal line (the baseline's 1.0).
    The legend's width follows the longest name (shortened past 28 characters).
    ``standalone=False`` leaves out the XML namespace, for ``svg_figure``."""
    names = [str(n) for n in series]
    longest = max((len(n) for n in names), default=4)
    legend_w = 50 + 7 * min(longest, 28)
    labels = [str(x) for x in xticklabels] if xticklabels is not None else []
    slant = any(len(x) > 8 for x in labels) or len(labels) * 60 > width - 70 - legend_w
    left, right, top = 70, legend_w, 40
    bottom = 45 + (int(6.2 * min(max((len(x) for x in labels), default=0), 18) * 0.6)
                   if slant else 0)
    pw, ph = width - left - right, height - top - bottom
    points = [p for pts in series.values() for p in pts if math.isfinite(p[1])]
    xs = sorted({p[0] for p in points}) or [0.0, 1.0]
    ys = [v for p in points for v in p[1:] if math.isfinite(v)]
    if reference is not None:
        ys.append(reference)
    if not ys:
        ys = [0.0, 1.0]
    if logy is None:
        logy = use_log_y(ys)
    elif logy and min(ys) <= 0:
        logy = False
    logx = xticklabels is None and _use_log_x(xs)
    tx = (lambda x: math.log10(x)) if logx else (lambda x: x)  # noqa: E731
    x0, x1 = tx(xs[0]), tx(xs[-1])
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    pad = (x1 - x0) * 0.04
    x0, x1 = x0 - pad, x1 + pad
    if logy:
        yt = log_ticks(min(ys), max(ys))
        ty = math.log10
    else:
        yt = nice_ticks(min(ys + [0.0]) if min(ys) < 0 else min(ys) * 0.95, max(ys) * 1.05)
        ty = float
    y0, y1 = (ty(yt[0]), ty(yt[-1])) if len(yt) > 1 else (0.0, 1.0)

    def px(x: float) -> float:
        return left + (tx(x) - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + (1 - (ty(y) - y0) / (y1 - y0)) * ph

    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out = [f'<svg{ns} width="{width}" height="{height}" '
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
        xtick = [(float(i), lbl) for i, lbl in enumerate(labels)]
    elif logx:
        lo, hi = math.floor(math.log10(xs[0])), math.ceil(math.log10(xs[-1]))
        decades = [10.0 ** k for k in range(lo, hi + 1) if xs[0] <= 10.0 ** k <= xs[-1]]
        xtick = [(x, _fmt(x)) for x in sorted(set(decades) | set(xs))]
    else:
        xtick = [(x, _fmt(x)) for x in xs]
    for x, lbl in xtick:
        out.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top + ph}" y2="{top + ph + 5}" '
                   'stroke="#333"/>')
        if slant:
            out.append(f'<text class="xtick" transform="translate({px(x):.1f} {top + ph + 14}) '
                       f'rotate(35)"><title>{escape(lbl)}</title>{escape(_short(lbl, 18))}</text>')
        else:
            out.append(f'<text class="xtick" x="{px(x):.1f}" y="{top + ph + 18}" '
                       f'text-anchor="middle">{escape(lbl)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">'
               f'{escape(xlabel + (" (log scale)" if logx else ""))}</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(ylabel + (" (log scale)" if logy else ""))}</text>')
    if reference is not None and yt and yt[0] <= reference <= yt[-1]:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(reference):.1f}" '
                   f'y2="{py(reference):.1f}" stroke="#888" stroke-dasharray="5 4"/>')
    # Series, error bars and legend.
    for i, (name, pts) in enumerate(series.items()):
        name = str(name)
        colour = PALETTE[i % len(PALETTE)]
        pts = [p for p in pts if math.isfinite(p[1])]
        if len(pts) > 1:
            path = " ".join(f"{px(p[0]):.1f},{py(p[1]):.1f}" for p in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in pts:
            x, y = p[0], p[1]
            bar = ""
            if len(p) == 4 and math.isfinite(p[2]) and math.isfinite(p[3]) and (
                    not logy or p[2] > 0):
                lo_, hi_ = py(p[2]), py(p[3])
                cx = px(x)
                out.append(f'<path class="errbar" d="M{cx:.1f},{lo_:.1f}V{hi_:.1f}'
                           f'M{cx - 4:.1f},{lo_:.1f}h8M{cx - 4:.1f},{hi_:.1f}h8" '
                           f'stroke="{colour}" stroke-width="1.2" fill="none"/>')
                bar = f" ({p[2]:.3g} to {p[3]:.3g})"
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}">'
                       f'<title>{escape(name)}: {y:.3g}{bar}</title></circle>')
        ly = top + 10 + i * 20
        out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text class="legend" x="{left + pw + 42}" y="{ly + 4}"><title>'
                   f'{escape(name)}</title>{escape(_short(name, 28))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_figure(charts: Sequence[str], width: int = 720, height: int = 440) -> str:
    """One SVG of ``charts`` (``svg_plot(..., standalone=False)`` outputs of the given
    size) stacked top to bottom."""
    total = height * len(charts)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" '
           f'viewBox="0 0 {width} {total}">']
    for k, chart in enumerate(charts):
        out.append(chart.replace("<svg ", f'<svg y="{k * height}" ', 1))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def png_plot(series: Series | Sequence[tuple[Series, dict]], path: str, title: str = "",
             xlabel: str = "", ylabel: str = "", xticklabels: Sequence[str] | None = None,
             reference: float | None = 1.0) -> None:
    """The same chart as :func:`svg_plot` (error bars, log axes, slanted long labels),
    drawn with matplotlib into ``path``; or several stacked, given as a list of
    (series, keyword arguments of svg_plot). Raises ImportError without matplotlib."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    charts = (list(series) if isinstance(series, (list, tuple)) else
              [(series, dict(title=title, xlabel=xlabel, ylabel=ylabel,
                             xticklabels=xticklabels, reference=reference))])
    fig, axes = plt.subplots(len(charts), 1, figsize=(9.0, 4.4 * len(charts)), dpi=100,
                             squeeze=False)
    try:
        for ax, (ser, kw) in zip(axes[:, 0], charts):
            _png_axes(ax, ser, **kw)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def _png_axes(ax, series: Series, title: str, xlabel: str, ylabel: str,
              xticklabels: Sequence[str] | None = None, reference: float | None = 1.0,
              logy: bool | None = None) -> None:
    xs = sorted({p[0] for pts in series.values() for p in pts})
    ys = [v for pts in series.values() for p in pts for v in p[1:] if math.isfinite(v)]
    if logy is None:
        logy = use_log_y(ys + ([reference] if reference is not None else []))
    for i, (name, pts) in enumerate(series.items()):
        pts = [p for p in pts if math.isfinite(p[1])]
        colour = PALETTE[i % len(PALETTE)]
        x = [p[0] for p in pts]
        y = [p[1] for p in pts]
        if pts and all(len(p) == 4 for p in pts):
            err = [[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]]
            ax.errorbar(x, y, yerr=err, marker="o", label=_short(str(name), 28), color=colour,
                        capsize=3)
        else:
            ax.plot(x, y, marker="o", label=_short(str(name), 28), color=colour)
    if reference is not None:
        ax.axhline(reference, color="#888", linestyle="--", linewidth=1)
    if xticklabels is not None:
        labels = [_short(str(s), 18) for s in xticklabels]
        slant = any(len(s) > 8 for s in labels)
        ax.set_xticks(range(len(labels)), labels, rotation=35 if slant else 0,
                      ha="right" if slant else "center")
    elif _use_log_x(xs):
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if logy else ""))
    ax.grid(True, color="#e5e5e5")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


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
