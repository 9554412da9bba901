"""A real program we did not write: the standard library's ``ast.unparse``.

Parses a few standard-library modules (``ast.parse``, in C) and turns the trees back into
source with ``ast.unparse`` (pure Python: a NodeVisitor with generators, context
managers, isinstance checks and string building), the work behind code formatters and
code generators.
"""
import ast
import difflib
import inspect
import string
import textwrap

ORDER = 50
NAME = "stdlib ast"


def prepare(quick: bool):
    modules = [textwrap] if quick else [textwrap, string, difflib, inspect]
    sources = []
    for mod in modules:
        with open(mod.__file__, encoding="utf-8") as f:
            sources.append(f.read())

    def run():
        size = 0
        for src in sources:
            size += len(ast.unparse(ast.parse(src)))
        return size

    names = ", ".join(m.__name__ for m in modules)
    run.description = f"ast.parse + ast.unparse of {names}.py"
    return run
