"""The HTML pages' markup, CSS and JavaScript are package files (``report/html/``), not
Python strings: the source holds none of them, the installed package ships them, and
the pages the ``hotpath`` command writes are those files filled in, one self-contained
document each."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hotpath"
FILES = ("page.html", "base.css", "common.js",
         "report.html", "report.css", "report.js", "diff.html", "diff.css", "diff.js",
         "memory.js", "memory.css")
FIELDS = ("title", "base_css", "page_css", "extra_css", "body", "data", "common_js",
          "page_js", "extra_js")
EXTRAS = {"report": ("memory.js", "memory.css"), "diff": ()}

# What only a page's markup, stylesheet or script would hold.
_ASSET = re.compile(r"<!doctype|<script|<style|<canvas|addEventListener|getElementById"
                    r"|\bfunction\s*\w*\s*\([^)]*\)\s*\{|=>\s*\{", re.I)
# The SVG flame graph exporter's own two-line stylesheet is part of its output format,
# not of the HTML pages.
_ALLOWED = {("report/flamesvg.py", "<style")}


def _strings(tree: ast.AST):
    """Every string constant of a module except docstrings (prose may name a tag)."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if (node.body and isinstance(node.body[0], ast.Expr)
                    and isinstance(node.body[0].value, ast.Constant)):
                docs.add(id(node.body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node


def test_no_page_markup_css_or_script_in_python_source():
    assert SRC.is_dir(), SRC
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for node in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            for m in _ASSET.finditer(node.value):
                if (rel, m.group().lower()) not in _ALLOWED:
                    found.append(f"{rel}:{node.lineno}: {m.group()!r}")
    assert not found, "page assets inside Python strings:\n" + "\n".join(found)


def test_the_installed_package_ships_the_page_files(runner):
    """What ``pip install .`` (``make install``) put in site-packages, read as the
    report reads it."""
    r = runner.python("-c", "import sys; from importlib.resources import files\n"
                      "d = files('hotpath.report') / 'html'\n"
                      "for n in sys.argv[1:]: print(n, len((d / n).read_text(encoding='utf-8')))",
                      *FILES)
    assert r.returncode == 0, r.stderr
    sizes = dict(line.split() for line in r.stdout.splitlines())
    assert sorted(sizes) == sorted(FILES)
    assert all(int(n) > 0 for n in sizes.values()), sizes


def _asset(name: str) -> str:
    return (SRC / "report" / "html" / name).read_text(encoding="utf-8")


def _check_page(text: str, page: str, title: str) -> None:
    """``text`` is ``page.html`` filled with ``page``'s files, and nothing external."""
    for name in ("base.css", "common.js", f"{page}.html", f"{page}.css", f"{page}.js",
                 *EXTRAS[page]):
        assert _asset(name) in text, f"{name} is not in the {page} page"
    for other in {n for x in EXTRAS.values() for n in x} - set(EXTRAS[page]):
        assert _asset(other) not in text, f"{other} is in the {page} page"
    parts = re.split(r"\$(?:" + "|".join(FIELDS) + r")\b", _asset("page.html"))
    assert len(parts) == len(FIELDS) + 1
    head, tail = parts[0], parts[-1]
    assert text.startswith(head.replace("$$", "$")) and text.endswith(tail)
    for field in FIELDS:
        assert "$" + field not in text
    assert f"<title>{title}" in text
    assert text.count("<style>") == 1 and text.count("<script") == 2
    assert "default-src 'none'" in text           # the Content-Security-Policy
    assert not re.search(r"<[a-z][^<>]*\s(?:src|href)\s*=|url\(|@import", text, re.I)


@pytest.mark.parametrize("page", ["report", "diff"])
def test_pages_written_by_the_command_are_the_files_filled_in(runner, page):
    runner.write("prog.py", """
        def work(n):
            return sum(i * i for i in range(n))
        def main():
            for _ in range(20):
                work(5000)
        main()
    """)
    for out in ("a.hprof", "b.hprof"):
        r = runner.hotpath("run", "-q", "-o", out, "prog.py")
        assert r.returncode == 0, r.stderr
    if page == "report":
        runs = [("export", "--format", "html", "-o", "e.html", "a.hprof"),
                ("view", "--no-browser", "-o", "v.html", "a.hprof")]
        written, title = ["e.html", "v.html"], "hotpath: "
    else:
        runs = [("diff", "-o", "d.html", "a.hprof", "b.hprof")]
        written, title = ["d.html"], "hotpath diff: "
    for args in runs:
        r = runner.hotpath(*args)
        assert r.returncode == 0, r.stderr
    for name in written:
        _check_page((runner.cwd / name).read_text(encoding="utf-8"), page, title)
