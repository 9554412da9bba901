"""``hotpath view FILE``: the HTML report, opened in a browser."""
from __future__ import annotations

import argparse
import os
import sys

from .common import UserError, load_profile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the command to ``hotpath``'s parser."""
    vp = sub.add_parser("view", help="write the HTML report of a profile and open it in a browser",
                        description="Write the self-contained HTML report of a profile "
                                    "file and open it in a browser (or print its path).")
    vp.add_argument("file")
    vp.add_argument("-o", "--output", metavar="OUT.html",
                    help="where to write the report (default: FILE with .html)")
    vp.add_argument("--no-browser", action="store_true",
                    help="only write the report and print its path")
    vp.add_argument("--focus", action="append", default=[], metavar="PKG",
                    help="count package PKG as your code in the hot-path view (repeatable)")
    vp.set_defaults(func=run)


def _browser_available() -> bool:
    """Whether ``webbrowser`` can show a page to a person here: a browser the user chose
    ($BROWSER), or a desktop session (not a console browser on a bare terminal)."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(opts: argparse.Namespace) -> int:
    from hotpath.progress import note, progress
    from hotpath.report.html import write_html
    out = opts.output or os.path.splitext(opts.file)[0] + ".html"
    if os.path.realpath(out) == os.path.realpath(opts.file):   # a link to the profile too
        raise UserError(f"refusing to overwrite the profile {opts.file!r}; choose -o OUT.html")
    with progress("writing the HTML report"):
        note("reading the profile")
        data = load_profile(opts.file)
        note("building the page")
        try:
            write_html(data, out, focus=opts.focus)
        except OSError as e:
            raise UserError(f"cannot write {out!r}: {e.strerror or e}") from None
    path = os.path.abspath(out)
    if not opts.no_browser and _browser_available():
        import pathlib
        import webbrowser
        try:
            opened = webbrowser.open(pathlib.Path(path).as_uri(), new=2)
        except Exception:          # webbrowser.Error, or a browser that failed to start
            opened = False
        if opened:
            sys.stderr.write(f"hotpath: opened {path} in a browser\n")
            return 0
    sys.stdout.write(f"hotpath: report written to {path}\n")
    return 0
