"""The import structure of src/hotpath (Python): no circles, and layers pointing one way.

Walks every module's source with ``ast`` (imports inside functions included: a circle
through a function-level import is still a circle in the design), builds the import
graph between hotpath's own modules and checks:

* no import circle, of any length;
* the layers ``cli → session → capture → report → model``: a module never imports one
  from a higher layer, and ``model`` imports nothing of hotpath's but itself.

Reads the source tree (not the installed package), so it needs no build.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "hotpath"

LAYERS = ["model", "report", "capture", "session", "cli"]     # bottom to top


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """module → the hotpath modules it imports (packages' ``__init__`` included)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node)
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                # importing a.b.c imports a and a.b first: the nearest module that exists
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                # a package the importer lives in is already initialised when it runs:
                # importing it (``from hotpath import fileformat``) runs nothing
                if not t.startswith("hotpath") or t == mod or mod.startswith(t + "."):
                    continue
                graph[mod].add(t)
                # ... and runs the __init__ of each package on the way, except the
                # importer's own packages (already initialised when it runs)
                parent = t.rpartition(".")[0]
                while parent and not (mod == parent or mod.startswith(parent + ".")):
                    graph[mod].add(parent)
                    parent = parent.rpartition(".")[0]
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _layer(mod: str) -> int | None:
    parts = mod.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_graph_sees_the_known_imports():
    """The walker finds top-level, relative and function-level imports (else the checks
    below would pass on an empty graph)."""
    g = import_graph()
    assert "hotpath.model.calltree" in g["hotpath.model"]                  # relative
    assert "hotpath.session.program" in g["hotpath.session.modes"]         # relative, from .x
    assert "hotpath.report.text" in g["hotpath.session.functions"]         # in a function
    assert "hotpath.capture.functions" in g["hotpath.session.functions"]   # absolute
    assert len(g) > 50


def test_cycle_finder_finds_a_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(g) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    cycles = _cycles(import_graph())
    assert not cycles, "import circles in src/hotpath:\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_layers_point_down():
    bad = []
    for mod, targets in import_graph().items():
        here = _layer(mod)
        if here is None:
            continue
        for t in sorted(targets):
            there = _layer(t)
            if there is not None and there > here:
                bad.append(f"{mod} ({LAYERS[here]}) imports {t} ({LAYERS[there]})")
            if here == 0 and there != 0:
                bad.append(f"{mod} (model) imports {t}: the model imports only itself")
    assert not bad, "imports against the layers cli → session → capture → report → " \
                    "model:\n" + "\n".join(bad)


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_exists(layer):
    assert (PKG / layer / "__init__.py").exists()
