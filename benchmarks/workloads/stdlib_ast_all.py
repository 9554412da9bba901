"""A path-rich real program: ``ast.parse`` + ``ast.unparse`` over the whole standard library.

Every ``.py`` file directly in the standard library's directory and its packages (tests
and site-packages left out) is parsed (``ast.parse``, in C) and turned back into source
(``ast.unparse``, a pure-Python NodeVisitor). The visitor recurses as deep as the code
nests, so the calling-context tree gets hundreds of thousands of distinct paths (about
673,000 on CPython 3.12) over a few hundred functions: what a tree costs in memory
traffic shows here, not in the per-call work. ``--quick`` takes the first 40 files.
"""
import ast
import os
import sys
import sysconfig
import warnings

ORDER = 60
NAME = "stdlib ast (all)"


def stdlib_files() -> list[str]:
    root = sysconfig.get_paths()["stdlib"]
    skip = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        out.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return out


def prepare(quick: bool):
    sources = []
    with warnings.catch_warnings():     # old escapes in a few files: SyntaxWarning
        warnings.simplefilter("ignore")
        for path in stdlib_files():
            try:
                with open(path, encoding="utf-8") as f:
                    src = f.read()
                ast.parse(src)  # keep only files this interpreter parses (no lib2to3 py2 data)
            except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
                continue
            sources.append(src)
            if quick and len(sources) == 40:
                break

    def run():
        size = 0
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10000))     # the deepest nesting unparses too
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
