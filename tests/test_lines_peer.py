"""hotpath.LineProfiler side by side with line_profiler on the same functions.

Hits must be identical (line_profiler is the reference for how multi-line statements,
several statements on a line, loops, yields and raises are counted); times are never
asserted on, except one share comparison with an overwhelming margin.
"""
from __future__ import annotations

import asyncio
import functools
import importlib
import sys
import textwrap
import threading

import pytest

from hotpath import LineProfiler

line_profiler = pytest.importorskip("line_profiler")

MONITORING = sys.version_info >= (3, 12)


# -- workloads (keep them deterministic) ------------------------------------------------

def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0: total += i; total -= 1  # noqa: E701,E702  (odd lines on purpose)
        else:
            total += (i *
                      2)
        while total > 1000:
            total -= 1000
    data = [x * 2 for x in range(n)]
    return (total
            + len(data))


def gen(n):
    for i in range(n):
        x = yield i
        if x:
            yield x


def use_gen():
    out = list(gen(5))
    g = gen(10)
    next(g)
    out.append(g.send(7))
    next(g)
    g.close()
    return out


async def coro(n):
    total = 0
    for i in range(n):
        await asyncio.sleep(0)
        total += i
    return total


async def agen(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def async_main():
    a = await coro(5)
    b = [x async for x in agen(4)]
    c = await asyncio.gather(coro(3), coro(4))
    return a, b, c


def run_async():
    return asyncio.run(async_main())


class Shape:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h

    @staticmethod
    def unit():
        s = Shape(1, 1)
        return s

    @classmethod
    def square(cls, n):
        return cls(n,
                   n)

    @property
    def perimeter(self):
        p = 2 * (self.w + self.h)
        return p


def use_methods():
    out = 0
    for i in range(5):
        s = Shape.square(i)
        out += s.area() + s.perimeter
        out += Shape.unit().area()
    return out


def make_counter():
    count = 0

    def bump(k):
        nonlocal count
        for _ in range(k):
            count += 1
        return count
    return bump


bump = make_counter()


def use_closure():
    # a fresh counter per run, sharing bump's code object
    fresh = type(bump)(bump.__code__, bump.__globals__, "bump", None,
                       (type(bump.__closure__[0])(0),))
    return [fresh(i) for i in range(4)]


def deco(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        r = f(*a, **k)
        return r
    return wrapper


@deco
def decorated(n):
    s = 0
    for i in range(n):
        s += i
    return s


def use_decorated():
    return [decorated(i) for i in range(6)]


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)


def use_recursion():
    return fib(12), is_even(15)


def raiser(i):
    x = i * 2
    if i % 2:
        raise ValueError(i)
    return x


def catcher(n):
    caught = 0
    for i in range(n):
        try:
            raiser(i)
            caught -= 1
        except ValueError:
            caught += 1
        finally:
            caught += 0
    try:
        {}["missing"]
    except KeyError:
        caught += 10
    return caught


def use_raise():
    return catcher(7)


# -- helpers --------------------------------------------------------------------------------

def _run_line_profiler(funcs, run):
    lp = line_profiler.LineProfiler()
    for f in funcs:
        lp.add_callable(f)
    lp.enable_by_count()
    try:
        result = run()
    finally:
        lp.disable_by_count()
    return result, lp.get_stats()


def _run_hotpath(funcs, run):
    lp = LineProfiler()
    for f in funcs:
        lp.add_function(f)
    lp.enable_by_count()
    try:
        result = run()
    finally:
        lp.disable_by_count()
    return result, lp.get_stats()


def _hits(stats, by_name=False):
    out = {}
    for (fn, first, name), rows in stats.timings.items():
        key = name if by_name else (fn, first, name)
        out[key] = [(ln - first if by_name else ln, h) for ln, h, _ in rows]
    return out


def _same_hits(funcs, run, by_name=False):
    r1, ref = _run_line_profiler(funcs, run)
    r2, mine = _run_hotpath(funcs, run)
    assert r1 == r2
    ref_hits, my_hits = _hits(ref, by_name), _hits(mine, by_name)
    assert any(ref_hits.values()), "line_profiler recorded nothing: bad test"
    for key, rows in ref_hits.items():
        assert my_hits.get(key) == rows, f"{key}: line_profiler {rows} hotpath {my_hits.get(key)}"
    return mine


# -- the side-by-side cases ------------------------------------------------------------------

def test_loops_multiline_and_several_statements_per_line():
    _same_hits([loops], lambda: loops(50))


def test_generators_send_and_close():
    _same_hits([gen], use_gen)


def test_async_functions_and_async_generators():
    _same_hits([coro, agen], run_async)


def test_methods_static_class_and_property():
    _same_hits([Shape.__init__, Shape.area, Shape.unit, Shape.square, Shape.perimeter],
               use_methods)


def test_closure():
    _same_hits([bump], use_closure)


@pytest.mark.filterwarnings("ignore:Adding a function with a `.__wrapped__`")
def test_decorated_function_wrapper_and_wrapped():
    _same_hits([decorated, decorated.__wrapped__], use_decorated)


def test_recursion_direct_and_mutual():
    _same_hits([fib, is_even, is_odd], use_recursion)


def test_lines_that_raise_caught_and_propagating():
    _same_hits([raiser, catcher], use_raise)


MODULE_SRC = '''
def work(n):
    acc = []
    for i in range(n):
        acc.append(i * i)
    return helper(acc)


def helper(acc):
    total = 0
    for x in acc:
        total += x
    return total


class Thing:
    def go(self, n):
        return [work(i) for i in range(n)]
'''


def test_module_imported_after_profiling_started(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    results = []
    for tool, name in (("line_profiler", "late_mod_a"), ("hotpath", "late_mod_b")):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE_SRC))
        lp = line_profiler.LineProfiler() if tool == "line_profiler" else LineProfiler()
        lp.enable_by_count()
        try:
            mod = importlib.import_module(name)      # imported while profiling
            added = lp.add_module(mod)
            mod.Thing().go(6)
        finally:
            lp.disable_by_count()
        assert added >= 3
        results.append(_hits(lp.get_stats(), by_name=True))
    ref, mine = results
    assert ref and ref == {k: v for k, v in mine.items() if k in ref}


def threaded(n):
    s = 0
    for i in range(n):
        s += i
    return s


def test_one_function_from_several_threads():
    n, k = 200, 4
    barrier = threading.Barrier(k)

    def body():
        barrier.wait()
        for _ in range(3):
            threaded(n)

    def run():
        ts = [threading.Thread(target=body) for _ in range(k)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    _, mine = _run_hotpath([threaded], run)
    first = threaded.__code__.co_firstlineno
    hits = dict((ln - first, h) for ln, h, _ in mine.timings[
        (threaded.__code__.co_filename, first, "threaded")])
    calls = 3 * k
    assert hits == {1: calls, 2: calls * (n + 1), 3: calls * n, 4: calls}
    if MONITORING:   # line_profiler's legacy tracer (3.11) sees only the enabling thread
        _same_hits([threaded], run)


def test_time_shares_close_on_a_dominant_line():
    def heavy():
        a = 1
        b = sum(range(400_000))
        c = a + b
        return c

    shares = []
    for runner in (_run_line_profiler, _run_hotpath):
        _, stats = runner([heavy], heavy)
        rows = next(iter(stats.timings.values()))
        total = sum(t for _, _, t in rows)
        line2 = heavy.__code__.co_firstlineno + 2
        shares.append(sum(t for ln, _, t in rows if ln == line2) / total)
    assert all(s > 0.8 for s in shares), shares


def test_hotpath_and_line_profiler_timings_have_the_same_keys():
    _, ref = _run_line_profiler([loops, gen], lambda: loops(5))
    _, mine = _run_hotpath([loops, gen], lambda: loops(5))
    assert set(ref.timings) == set(mine.timings)
    assert mine.unit == 1e-9
