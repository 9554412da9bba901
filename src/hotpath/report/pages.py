"""The HTML pages (the report of ``html.py``, the diff of ``diff.py``), filled from the
package files in ``report/html/``: one self-contained document each, nothing external.

The files (installed as package data; read with ``importlib.resources``):

* ``page.html`` — the one ``string.Template`` of both pages: the head (the
  Content-Security-Policy allows nothing external), the header's title, metadata and
  warning, the page's ``$body``, the tooltip, the footer, the data block and the script.
  Its fields are ``$title`` (escaped), ``$base_css``, ``$page_css`` and ``$extra_css``,
  ``$body``, ``$data`` (JSON made safe by ``html.json_for_script``), ``$common_js``,
  ``$page_js`` and ``$extra_js``;
  only this file is a template, so the CSS, JS and markup it receives need no escaping
  of ``$`` or braces.
* ``<page>.html`` — the page's own markup, from its controls inside ``<header>`` to the
  end of ``<main>`` (for ``report``: tabs, controls, the profile, source and memory views);
  it includes the flame graph section and the function table that ``common.js`` drives.
* ``base.css`` (header, controls, flame graph, table, tooltip, footer) and ``<page>.css``.
* ``common.js``, ``<page>.js`` and the page's extras (``EXTRAS``): one strict-mode
  closure (``page.html``), then ``init()``; an error it throws is left in
  ``body[data-error]``.
* ``EXTRAS``: more assets of a page, each a ``<name>.js`` and ``<name>.css`` added after
  the page's own, in order: the report's ``hot`` (the hot-path view and the toggles that
  hide library frames; its functions are called from ``report.js``: ``initHot``,
  ``showHot``, ``hideFrames``, ``keepRow``, ``kindOf``, ``legend``) and ``memory`` (the
  allocation flame graph and temporal view of the memory view, which builds its own
  markup and is called from ``report.js``).

``common.js`` holds the page-independent machinery: reading the data block, formatting,
the ``el`` element helper, the canvas flame graph (layout, drawing, hit-testing, zoom,
breadcrumbs, the tooltip), search, and the sortable function table. It calls back into
the page for what differs, which each ``<page>.js`` defines:

* ``S`` — the state: ``tree`` (from ``layout``), ``zoom``, ``match``, ``focusFunc``,
  ``sortKey``, ``sortDesc``, ``limit`` (``render`` adds ``visible``, ``drawn``, ``layout``);
* ``frameLook(i, f, w, dim)`` — how to paint node ``i``: ``{fill, alpha, outline,
  textAlpha, ink}``;
* ``showTip(i, ev)``, ``runDetail(run)`` (an extra tooltip line for a block of frames too
  narrow to draw, or null), ``frameClicked(i)`` (after the click zoomed);
* ``matchSummary()`` — ``[text, value]`` of what the search matched;
* ``KEYS`` (sort keys of the table), ``tableRows()`` (the functions it may list),
  ``tableRow(f)`` (one ``<tr>``), and ``init()``.

Every piece of profile text reaches the page through ``textContent`` (``el``), never
``innerHTML``. A new page is three files here (``<page>.html``, ``.css``, ``.js``) and a
call to ``render``.
"""
from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template

__all__ = ["render"]

PAGES = ("report", "diff")
#: page → the names of its extra assets (``<name>.js`` and ``<name>.css``), in order
EXTRAS = {"report": ("hot", "memory"), "diff": ()}


@cache
def _read(name: str) -> str:
    """The text of ``report/html/<name>`` (read once per process)."""
    return (files(__package__) / "html" / name).read_text(encoding="utf-8")


def render(page: str, title: str, data: str) -> str:
    """The whole document of ``page`` (one of ``PAGES``) titled ``title`` (already
    escaped), with ``data`` (safe JSON text, see ``html.json_for_script``) as its data."""
    if page not in PAGES:
        raise ValueError(f"no HTML page {page!r}")
    return Template(_read("page.html")).substitute(
        title=title,
        base_css=_read("base.css"),
        page_css=_read(f"{page}.css"),
        body=_read(f"{page}.html"),
        data=data,
        common_js=_read("common.js"),
        page_js=_read(f"{page}.js"),
        extra_css="".join(_read(f"{x}.css") for x in EXTRAS[page]),
        extra_js="\n".join(_read(f"{x}.js") for x in EXTRAS[page]),
    )
