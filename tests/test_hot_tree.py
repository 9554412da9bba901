"""The hot path through the user's code (report/hottree.py, the terminal tree in
report/text.py, ``--focus``) and the one "your code" decision (model/usercode.py) that
it shares with the memory model."""
from __future__ import annotations

import re

import pytest

from export_profiles import build, sample_profile
from hotpath.model import Function
from hotpath.model.memory import MemoryView
from hotpath.model.usercode import UserCode
from hotpath.report.hottree import FOLD, FUNC, LINE, THREAD, hot_tree
from hotpath.report.text import format_hot_tree

PROJ = "/home/u/proj"
SITE = "/venv/lib/python3.12/site-packages"
STD = "/usr/lib/python3.12"

FUNCS = [
    Function(f"{PROJ}/app.py", 1, "main", "main"),                                   # 0
    Function(f"{SITE}/sympy/core/basic.py", 10, "simplify", "simplify"),             # 1
    Function(f"{SITE}/sympy/core/expr.py", 20, "walk", "Expr.walk"),                 # 2
    Function("~", 0, "<built-in method builtins.sorted>"),                           # 3
    Function(f"{PROJ}/app.py", 30, "key", "key"),                                    # 4
    Function("<frozen importlib._bootstrap>", 1165, "_find_and_load", "_find_and_load"),  # 5
    Function(f"{STD}/importlib/_bootstrap_external.py", 99, "exec_module", "exec_module"),  # 6
    Function(f"{PROJ}/helpers.py", 1, "<module>", "<module>"),                       # 7
    Function(f"{PROJ}/app.py", 40, "leaf", "leaf"),                                  # 8
    Function(f"{STD}/json/decoder.py", 332, "decode", "JSONDecoder.decode"),         # 9
]


def folded_profile():
    """main -> simplify -> walk -> sorted -> key (a callback of the user's, twice: from
    two library paths), an import of a module of the user's, and a json decode."""
    tree = [
        (0, 1, 5, [
            (1, 2, 3, [
                (2, 4, 7, [(3, 4, 2, [(4, 8, 10, [])])]),
                (3, 1, 1, [(4, 2, 6, [(8, 2, 4, [])])]),
            ]),
            (5, 1, 2, [(6, 1, 1, [(7, 1, 3, [])])]),
            (9, 1, 20, []),
        ]),
    ]
    return build(FUNCS, [(1, "MainThread", tree)], meta={"command": "app.py", "cwd": PROJ})


def _name(p, node):
    return p.functions[node.func].display_name


def test_library_frames_fold_into_one_node_with_counts_and_packages():
    p = folded_profile()
    t = hot_tree(p)
    main = t.root.children[0]
    assert main.kind == FUNC and _name(p, main) == "main" and main.calls == 1
    kinds = [(c.kind, _name(p, c)) for c in main.children]
    # children heaviest first: sympy's fold (43), json's (20), the import's (7)
    assert kinds == [(FOLD, "simplify"), (FOLD, "JSONDecoder.decode"), (FOLD, "_find_and_load")]
    sym = main.children[0]
    # simplify, walk and sorted: three functions hidden, their own time is the fold's self
    assert sorted(sym.hidden) == [1, 2, 3] and sym.self_ticks == 3 + 7 + 2 + 1
    assert sym.total_ticks == 3 + 7 + 2 + 10 + 1 + 6 + 4 and sym.calls == 2
    assert t.packages(sym) == ["sympy", "<built-in>"]        # by hidden own time
    # the user's callback, reached through two library paths, is one row under the fold
    assert [(c.kind, _name(p, c), c.calls, c.total_ticks) for c in sym.children] == [
        (FUNC, "key", 10, 20)]
    assert [_name(p, c) for c in sym.children[0].children] == ["leaf"]
    imp = main.children[2]
    assert t.packages(imp) == ["importlib"] and len(imp.hidden) == 2
    assert [_name(p, c) for c in imp.children] == ["<module>"]
    # nothing is counted twice: the children's totals and the self time add up
    assert main.self_ticks + sum(c.total_ticks for c in main.children) == main.total_ticks
    assert t.total_ticks == p.total_ticks()


def test_hottest_path_goes_down_the_heaviest_child_while_it_outweighs_own_time():
    p = folded_profile()
    t = hot_tree(p)
    assert [(n.kind, _name(p, n)) for n in t.hot_path[1:]] == [
        (FUNC, "main"), (FOLD, "simplify"), (FUNC, "key")]
    # key's own 16 ticks outweigh leaf's 4: the path stops at key
    assert all(n.hot for n in t.hot_path) and not t.root.children[0].children[1].hot
    # the sample: main's own 50 ticks outweigh every child
    s = hot_tree(sample_profile())
    assert [n.kind for n in s.hot_path] == ["root", THREAD, FUNC]
    assert s.profile.functions[s.hot_path[-1].func].name == "main"


def test_focus_makes_a_package_yours():
    p = folded_profile()
    t = hot_tree(p, focus=["sympy"])
    main = t.root.children[0]
    simplify = main.children[0]
    assert simplify.kind == FUNC and _name(p, simplify) == "simplify"
    assert [(c.kind, _name(p, c)) for c in simplify.children] == [(FUNC, "Expr.walk"),
                                                                  (FOLD, "<built-in method builtins.sorted>")]
    # a dotted focus counts a subpackage only; frozen modules can be focused too
    t2 = hot_tree(p, focus=["sympy.core.expr", "importlib"])
    kinds = {_name(p, n): n.kind for n, _ in t2.walk() if n.kind != THREAD and n.func >= 0}
    assert kinds["simplify"] == FOLD and kinds["Expr.walk"] == FUNC
    assert kinds["_find_and_load"] == FUNC and kinds["exec_module"] == FUNC


def test_no_fold_without_user_code_above_it_is_merged_wrongly_across_threads():
    t = hot_tree(sample_profile())
    threads = [c for c in t.root.children if c.kind == THREAD]
    assert [c.name for c in threads] == ["MainThread", "worker-1 (tid 1002)"]
    assert sum(c.total_ticks for c in threads) == t.total_ticks
    # numpy's _sum at the top of MainThread: a fold of one frame
    top = [c for c in threads[0].children if c.kind == FOLD]
    assert len(top) == 1 and t.packages(top[0]) == ["numpy"] and top[0].calls == 3


def test_line_leaf_is_the_costliest_line_of_the_last_function_with_line_data():
    p = folded_profile()
    p.extra["lines"] = {"version": 1, "unit": 1e-6, "mode": "explicit", "functions": [
        {"filename": f"{PROJ}/app.py", "lineno": 30, "name": "key",
         "lines": [[31, 10, 2], [32, 10, 9], [33, 5, 9]]},
        {"filename": f"{PROJ}/app.py", "lineno": 1, "name": "main",
         "lines": [[2, 1, 30]]},
    ]}
    t = hot_tree(p)
    leaf = t.hot_path[-1]
    assert leaf.kind == LINE and leaf.line == 32 and leaf.hits == 10      # ties: the first
    assert _name(p, t.hot_path[-2]) == "key"
    assert leaf.line_seconds == pytest.approx(9e-6) and leaf.total_ticks == 9
    # main has line data too, but the leaf goes to the deepest function on the path
    assert not any(c.kind == LINE for c in t.root.children[0].children)


def test_user_code_decision_is_shared_with_the_memory_model():
    files = [f"{PROJ}/app.py", f"{SITE}/sympy/core/basic.py", f"{STD}/json/decoder.py",
             "<frozen importlib._bootstrap>", "<frozen runpy>", "<string>", "~",
             f"{STD}/importlib/_bootstrap.py"]
    data = {"functions": [[f, "fn", 1] for f in files], "frames": [[i, 1] for i in range(len(files))],
            "stacks": [], "totals": {}}
    for focus in ((), ("sympy",), ("json", "runpy")):
        u = UserCode(PROJ, focus)
        v = MemoryView(data, PROJ, focus=focus)
        assert [v.is_user(i) for i in range(len(files))] == [u.is_user(f) for f in files]
    u = UserCode(PROJ)
    assert [u.is_user(f) for f in files] == [True, False, False, False, False, True, False, False]
    assert [u.package(f) for f in files[1:5]] == ["sympy", "json", "importlib", "runpy"]
    assert [u.is_import(f) for f in files] == [False] * 3 + [True, False, False, False, True]
    assert UserCode(PROJ, ["sympy"]).is_user(files[1])


def test_cost_one_decision_per_file_on_a_large_tree():
    """A 200,000-node tree over 2,000 functions in 40 files: the user's-code decision is
    made once per file, and the tree's rows never outnumber the nodes."""
    funcs = [Function(f"{PROJ if k % 2 else SITE}/m{k % 40}.py", k, f"f{k}", f"f{k}")
             for k in range(2000)]
    frames = []
    for k in range(400):
        frames.append((k % 2000, 1, 1, [((k * 7 + j) % 2000, 1, 1, [((k * 13 + j * 3) % 2000, 1, 1, [
            ((k + j + m) % 2000, 1, 1, []) for m in range(120)])]) for j in range(4)]))
    p = build(funcs, [(1, "MainThread", frames)], meta={"cwd": PROJ})
    assert len(p.threads[0].func) > 190_000
    t = hot_tree(p)
    assert t.user.checks == 40
    assert sum(1 for _ in t.walk()) < len(p.threads[0].func)
    assert t.total_ticks == p.total_ticks()


# -- the terminal tree ------------------------------------------------------------------------

def test_text_tree_folds_and_marks_the_hot_path():
    p = folded_profile()
    text = format_hot_tree(p, min_share=0)
    lines = text.splitlines()
    assert lines[0].startswith("hot path (your code;")
    assert re.split(r"\s+", lines[1].strip()) == ["total", "share", "self", "calls", "path"]
    body = "\n".join(lines[2:])
    assert "3 frames hidden (sympy, <built-in>), via simplify" in body
    assert "2 frames hidden (importlib), via _find_and_load" in body
    assert "1 frame hidden (json), via JSONDecoder.decode" in body
    # rows are aligned: the numbers end where the header's "path" starts, on every row
    at = lines[1].index("path")
    for ln in lines[2:]:
        assert re.fullmatch(r" *[\d.]+ [µmn]?s +[\d.]+% +([\d.]+ [µmn]?s)? +[\d,]+  ", ln[:at]), ln
        assert ln[at] != " " or ln[at:].lstrip().startswith(("key", "leaf", "3 ", "2 ", "1 ", "<"))
    key = next(ln for ln in lines if ln.lstrip().endswith("key (app.py:30)"))
    main = next(ln for ln in lines if ln.lstrip().endswith("main (app.py:1)"))
    assert key.index("key") > main.index("main")                    # indented under it
    assert key.split()[0:2] == ["20", "µs"] and key.split()[5] == "10"   # total, calls
    assert format_hot_tree(p, focus=["json"]).count("JSONDecoder.decode (") == 1


def test_text_tree_collapses_recursion_and_long_paths():
    funcs = [Function(f"{PROJ}/r.py", k, f"f{k}", f"f{k}") for k in range(30)] + [
        Function(f"{PROJ}/r.py", 100, "fib", "fib")]
    deep: tuple = (30, 1, 50, [])
    for _ in range(20):                                # fib recursing 21 levels
        deep = (30, 1, 1, [deep])
    chain = deep
    for k in reversed(range(30)):                      # 30 distinct functions above it
        chain = (k, 1, 1, [chain])
    p = build(funcs, [(1, "MainThread", [chain])], meta={"cwd": PROJ})
    text = format_hot_tree(p)
    assert "fib (r.py:100)  (recursive, 21 levels)" in text
    assert text.count("fib (") == 1
    assert re.search(r"\.\.\. \d+ more levels: f3 \(r\.py:3\) > \.\.\. > f\d+ \(r\.py:\d+\)", text)
    assert len(text.splitlines()) <= 2 + 14 + 2


def test_cli_run_and_report_print_the_tree(runner):
    runner.write("prog.py", """
        import json

        def parse(blob):
            return json.loads(blob)

        def work():
            blob = json.dumps([{"k": i, "v": [i] * 20} for i in range(3000)])
            for _ in range(15):
                parse(blob)

        work()
    """)
    res = runner.hotpath("run", "-o", "p.hprof", "prog.py")
    assert res.returncode == 0, res.stderr
    tree = res.stderr[res.stderr.index("hot path ("):]
    rows = [ln for ln in tree.splitlines()[2:] if ln.strip()]
    names = [ln.split("  ")[-1].strip() for ln in rows]
    assert names[0].startswith("<module> (prog.py:")
    assert any(n.startswith("work (prog.py:7)") for n in names)
    assert any(n.startswith("parse (prog.py:4)") for n in names)
    hidden = next(n for n in names if "hidden (json" in n)
    assert "via loads" in hidden
    # report prints it too, and --focus json opens json up
    rep = runner.hotpath("report", "p.hprof", "--focus", "json")
    assert rep.returncode == 0, rep.stderr
    tree = rep.stdout[rep.stdout.index("hot path ("):]           # (the table lists loads too)
    assert "yours too: json" in tree and "loads (json/__init__.py:" in tree
    plain = runner.hotpath("report", "p.hprof")
    tree = plain.stdout[plain.stdout.index("hot path ("):]
    assert "hidden (json" in tree and "loads (json/__init__.py:" not in tree
    # run --focus is the same option
    res2 = runner.hotpath("run", "--focus", "json", "-o", "q.hprof", "prog.py")
    assert res2.returncode == 0
    assert "loads (json/__init__.py:" in res2.stderr[res2.stderr.index("hot path ("):]
    # view --focus writes a page that counts json as the user's
    v = runner.hotpath("view", "--no-browser", "--focus", "json", "-o", "p.html", "p.hprof")
    assert v.returncode == 0, v.stderr
    html = (runner.cwd / "p.html").read_text(encoding="utf-8")
    assert '"focus":["json"]' in html


def test_text_tree_suggests_focus_when_nothing_is_the_users():
    funcs = [Function(f"{SITE}/docutils/core.py", 1, "publish", "publish"),
             Function(f"{SITE}/docutils/nodes.py", 5, "walk", "Node.walk"),
             Function("~", 0, "<built-in method builtins.len>")]
    p = build(funcs, [(1, "MainThread", [(0, 1, 5, [(1, 9, 30, [(2, 9, 1, [])])])])],
              meta={"cwd": PROJ})
    text = format_hot_tree(p)
    assert "3 frames hidden (docutils, <built-in>), via publish" in text
    assert "note: none of the time is in your code; --focus docutils" in text
    focused = format_hot_tree(p, focus=["docutils"])
    assert "note:" not in focused and "Node.walk (docutils/nodes.py:5)" in focused
