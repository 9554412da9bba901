"""A static, self-contained SVG flame graph (no script, no external resources).

The threads' trees are merged into one flame tree (``base.flame_tree``; one frame per
thread under the root when there are several). The root sits at the bottom, as in
flamegraph.pl; a frame's width is its total time, children are ordered by label, and
frames narrower than ``min_width`` pixels are left out with everything above them.
Each frame carries a ``<title>`` tooltip with its total and self time and calls.
Colours: warm for project code, yellow-green for the standard library and installed
packages, blue for C functions. Every name is escaped (``base.xml_escape``).
"""
from __future__ import annotations

import zlib
from typing import Iterable

from ..model import ROOT, Profile, ThreadProfile
from ..outfile import open_output
from .base import (THREAD, FlameNode, Labeler, PathShortener, flame_tree,
                   format_seconds, xml_escape)

__all__ = ["to_svg", "write_svg"]

FRAME_H = 16
FONT = 12
CHAR_W = FONT * 0.59          # average glyph width of Verdana at FONT px
PAD = 10
TOP = 40                      # room for the title


def _colour(kind: str, name: str) -> str:
    v = zlib.crc32(name.encode("utf-8", "replace"))
    a, b = (v & 0xFF) / 255, ((v >> 8) & 0xFF) / 255
    if kind == "builtin":
        return f"rgb({int(80 + 60 * a)},{int(140 + 60 * b)},{int(200 + 55 * a)})"
    if kind == "library":
        return f"rgb({int(110 + 60 * a)},{int(185 + 40 * b)},{int(70 + 40 * a)})"
    if kind == "meta":
        return "rgb(200,200,200)"
    return f"rgb({int(205 + 50 * b)},{int(80 + 130 * a)},{int(30 + 40 * b)})"


def to_svg(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
           width: int = 1200, min_width: float = 0.1, title: str | None = None) -> str:
    """The SVG document (a string) of ``profile``'s flame graph."""
    shorten = PathShortener(profile.meta.get("cwd"))
    label = Labeler(profile, shorten)
    root = flame_tree(profile, threads, label)
    total = root.total_ticks
    scale = (width - 2 * PAD) / total if total else 0.0
    funcs = profile.functions

    def kind(node: FlameNode) -> str:
        if node.func in (ROOT, THREAD):
            return "meta"
        return shorten.kind(funcs[node.func].filename)

    # Lay out: (node, x in ticks, depth); keep frames at least min_width px wide.
    placed: list[tuple[FlameNode, int, int]] = []
    todo: list[tuple[FlameNode, int, int]] = [(root, 0, 0)]
    while todo:
        node, x, depth = todo.pop()
        placed.append((node, x, depth))
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            if child.total_ticks * scale >= min_width:
                todo.append((child, cx, depth + 1))
            cx += child.total_ticks
    max_depth = max((d for _, _, d in placed), default=0)
    height = TOP + (max_depth + 1) * FRAME_H + 2 * PAD
    sec = profile.tick_seconds

    title = title or f"Flame graph: {profile.meta.get('command') or 'hotpath profile'}"
    out = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">\n'
        f'<style>text{{font-family:Verdana,sans-serif;font-size:{FONT}px;fill:#000}}'
        f'.t{{font-size:17px;text-anchor:middle}}rect{{stroke:#fff;stroke-width:.5}}'
        f'</style>\n'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f8f8f0" stroke="none"/>\n'
        f'<text class="t" x="{width / 2:.1f}" y="24">{xml_escape(title)}</text>\n'
    ]
    for node, x, depth in placed:
        w = node.total_ticks * scale if total else width - 2 * PAD
        px = PAD + x * scale
        py = height - PAD - (depth + 1) * FRAME_H
        pct = 100.0 * node.total_ticks / total if total else 100.0
        tip = f"{node.name}\n{format_seconds(node.total_ticks * sec)} total ({pct:.2f}%)"
        if node.func not in (ROOT, THREAD):
            tip += (f", {format_seconds(node.self_ticks * sec)} self"
                    f", {node.calls:,} call{'s' if node.calls != 1 else ''}")
        out.append(f'<g><title>{xml_escape(tip)}</title><rect x="{px:.2f}" y="{py}" '
                   f'width="{w:.2f}" height="{FRAME_H - 1}" rx="2" '
                   f'fill="{_colour(kind(node), node.name)}"/>')
        fits = int((w - 6) / CHAR_W)
        if fits >= 3:
            text = node.name if len(node.name) <= fits else node.name[:fits - 2] + ".."
            out.append(f'<text x="{px + 3:.2f}" y="{py + FRAME_H - 4}">'
                       f'{xml_escape(text)}</text>')
        out.append("</g>\n")
    out.append("</svg>\n")
    return "".join(out)


def write_svg(profile: Profile, path: str) -> None:
    """Write ``profile``'s flame graph as an SVG file at ``path``."""
    with open_output(path, "w", encoding="utf-8") as f:
        f.write(to_svg(profile))
