"""The call-path-rich program of issue 13: ``ast.parse`` + ``ast.unparse`` over the whole
standard library.

Every ``.py`` file under the standard library's directory (tests, ``site-packages`` and
files that do not parse on this Python left out) is parsed and turned back into source.
``ast.unparse`` is a recursive NodeVisitor, so the calling-context tree holds one path per
distinct nesting of syntax: about 670,000 distinct paths over some 340 functions on 3.12,
which is what makes everything after capture (snapshot, model, save, report, export) cost
something. ``--quick`` takes every 25th file.
"""
import ast
import os
import sys
import warnings

ORDER = 60
NAME = "stdlib unparse all"


def _files(quick: bool) -> list[str]:
    root = os.path.dirname(ast.__file__)
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in ("test", "tests", "site-packages",
                                                       "idle_test", "__pycache__"))
        out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
    return out[::25] if quick else out


def prepare(quick: bool):
    sources = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in _files(quick):
            try:
                with open(path, encoding="utf-8") as f:
                    src = f.read()
                ast.parse(src)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            sources.append(src)

    def run():
        size = 0
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10000))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for src in sources:
                    size += len(ast.unparse(ast.parse(src)))
        finally:
            sys.setrecursionlimit(limit)
        return size

    run.description = f"ast.parse + ast.unparse of {len(sources)} standard-library files"
    return run
