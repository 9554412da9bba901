"""hotpath holds no reference to the code objects it profiles.

Generated code that a program drops is freed while it runs under ``hotpath run`` (the
profile keeps each function's name, file and line), a freed object's address reused by a
new one is a new function, and a run's peak memory stays within the bound
docs/profiling.md states however many functions the program creates.
"""
from __future__ import annotations

import os
import sys
from collections import Counter

import hotpath
from hotpath import Profile

# Peak RSS (KiB) of one command, measured in a wrapper so that RUSAGE_CHILDREN sees it alone.
PEAK = ("import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")

GENERATE = """
import sys

def run_one(i):
    ns = {}
    exec(f"def gen_{i}(x):\\n    return x + {i}\\n", ns)
    ns[f"gen_{i}"](1)

for i in range(int(sys.argv[1])):
    run_one(i)
"""

# docs/profiling.md: `hotpath run` adds a fixed ~10 MB (its own modules, the report);
# the capture itself stays under ~2 KB per call-tree node, names included.
FIXED_KB = 10 * 1024
PER_NODE_KB = 2
SLACK_KB = 4 * 1024      # allocator arenas, page granularity


def _peak_kb(runner, *cmd: str) -> int:
    r = runner.python("-c", PEAK, sys.executable, *cmd)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def test_memory_bound_holds_for_generated_functions(runner):
    """200k generated functions under --max-nodes 1000: hotpath's share of the peak is the
    documented constant, and does not grow with the number of functions (it was 400 MB
    when every code object seen was kept)."""
    runner.write("gen.py", GENERATE)
    extra = {}
    for n in (50_000, 200_000):
        plain = _peak_kb(runner, "gen.py", str(n))
        profiled = _peak_kb(runner, "-m", "hotpath", "run", "-q", "--max-nodes", "1000",
                            "-o", f"gen{n}.hprof", "gen.py", str(n))
        extra[n] = profiled - plain
    if "libasan" not in os.environ.get("LD_PRELOAD", ""):
        # (under AddressSanitizer the fixed share includes its shadow memory)
        assert extra[200_000] <= FIXED_KB + 1000 * PER_NODE_KB + SLACK_KB, extra
    assert extra[200_000] - extra[50_000] <= 4 * 1024, extra
    data = hotpath.load(str(runner.cwd / "gen200000.hprof"))
    assert any(t.truncated for t in data.threads)


FREED = """
import gc, sys, weakref

class Marker:
    '''Rides in a code object's co_consts: it dies when the code object does.'''

ns = {}
exec(compile("def generated_once(x):\\n    return x + 1\\n", "<generated>", "exec"), ns)
f = ns.pop("generated_once")
f.__code__ = f.__code__.replace(co_consts=f.__code__.co_consts + (Marker(),))
marker = weakref.ref(f.__code__.co_consts[-1])
before = sys.getrefcount(f.__code__)
f(1)
print("references to the code: before", before, "after a profiled call", sys.getrefcount(f.__code__))
del f
gc.collect()
print("code freed:", marker() is None)
"""


def test_profiled_code_object_is_freed_while_profiling(runner):
    """A profiled call adds no reference to its code object, and once the program drops
    the function its code object is freed before the run ends; the profile still names it."""
    runner.write("freed.py", FREED)
    plain = runner.python("freed.py")
    prof = runner.hotpath("run", "-q", "-o", "freed.hprof", "freed.py")
    assert prof.returncode == plain.returncode == 0, prof.stderr
    assert prof.stdout == plain.stdout
    assert "code freed: True" in prof.stdout
    data = hotpath.load(str(runner.cwd / "freed.hprof"))
    stats = data.function_stats()
    [(fid, s)] = [(i, s) for i, s in stats.items() if data.functions[i].name == "generated_once"]
    assert data.functions[fid].filename == "<generated>" and data.functions[fid].lineno == 1
    assert s.calls == 1


REUSE = """
import sys
addresses = set()

def driver(n):
    for i in range(n):
        ns = {}
        exec(f"def g{i}(x):\\n    return x + {i}\\n", ns)
        f = ns.pop(f"g{i}")
        addresses.add(id(f.__code__))
        f(1)
        del f

driver(int(sys.argv[1]))
print(len(addresses))
"""


def test_reused_addresses_are_new_functions(runner):
    """Code objects freed during the run leave their addresses to new ones: each new
    function still gets its own row, with its own single call."""
    n = 3000
    runner.write("reuse.py", REUSE)
    prof = runner.hotpath("run", "-q", "-o", "reuse.hprof", "reuse.py", str(n))
    assert prof.returncode == 0, prof.stderr
    assert int(prof.stdout) < n          # the allocator did reuse addresses
    data = hotpath.load(str(runner.cwd / "reuse.hprof"))
    calls = Counter()
    for i, s in data.function_stats().items():
        f = data.functions[i]
        if f.filename == "<string>" and f.name.startswith("g"):
            calls[f.name] += s.calls
    assert len(calls) == n and set(calls.values()) == {1}


def test_two_profilers_both_hear_of_freed_code():
    """Two live profilers that saw the same code objects both forget them when freed."""
    profs = [Profile(builtins=False), Profile(builtins=False)]
    n = 500
    for i in range(n):
        ns: dict = {}
        exec(f"def h{i}():\n    return {i}\n", ns)
        f = ns.pop(f"h{i}")
        for p in profs:
            p.enable()
            f()
            p.disable()
        del f
    for p in profs:
        data = p.snapshot()
        calls = Counter()
        for i, s in data.function_stats().items():
            if data.functions[i].name.startswith("h"):
                calls[data.functions[i].name] += s.calls
        assert len(calls) == n and set(calls.values()) == {1}


def test_getstats_names_freed_code():
    """getstats() rows for freed code carry its identity where cProfile reads it."""
    import cProfile
    p = Profile(builtins=False)
    ns: dict = {}
    exec(compile("def short_lived():\n    return 1\n", "<gen>", "exec"), ns)
    f = ns.pop("short_lived")
    p.enable()
    f()
    p.disable()
    del f
    [entry] = [e for e in p.getstats() if getattr(e.code, "co_name", "") == "short_lived"]
    assert type(entry.code).__name__ == "FreedCode"
    # cProfile.label reads these attributes (3.15 moved it to profiling.tracing; the
    # cProfile wrapper no longer exports it)
    label = getattr(cProfile, "label", None) or __import__("profiling.tracing").tracing.label
    assert label(entry.code) == ("<gen>", 1, "short_lived")
    assert entry.callcount == 1
