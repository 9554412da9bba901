"""pstats export: same dictionary as cProfile's create_stats, readable by pstats."""
from __future__ import annotations

import cProfile
import io
import marshal
import pstats
import subprocess
import sys

import pytest

from export_profiles import build, sample_profile
from hotpath.model import Function
from hotpath.report.pstats import to_pstats_dict, write_pstats

# -- a program run under cProfile with a deterministic clock ---------------------------
# The functions advance CLOCK inline (no calls), so every time below is exact.

CLOCK = [0]


def _leaf():
    CLOCK[0] += 3


def _rec(n):
    CLOCK[0] += 2
    if n:
        _rec(n - 1)
    else:
        _leaf()


def _key(x):
    CLOCK[0] += 1
    return x


def _main():
    CLOCK[0] += 1
    _rec(2)
    sorted([3, 1, 2], key=_key)
    _leaf()


def _fkey(f) -> tuple[str, int, str]:
    return f.__code__.co_filename, f.__code__.co_firstlineno, f.__code__.co_name


def _cprofile_stats() -> dict:
    CLOCK[0] = 0
    pr = cProfile.Profile(lambda: CLOCK[0], 0.001)
    pr.enable()
    _main()
    pr.disable()
    pr.create_stats()
    return pr.stats


def _hand_built(sorted_label: str):
    funcs = [Function(*_fkey(f)) for f in (_main, _rec, _leaf, _key)]
    funcs.append(Function("~", 0, sorted_label))
    main, rec, leaf, key, srt = range(5)
    tree = [(main, 1, 1, [
        (rec, 1, 2, [(rec, 1, 2, [(rec, 1, 2, [(leaf, 1, 3, [])])])]),
        (srt, 1, 0, [(key, 3, 3, [])]),
        (leaf, 1, 3, []),
    ])]
    return build(funcs, [(1, "MainThread", tree)], tick_seconds=0.001)


def test_same_dict_as_cprofile_create_stats():
    theirs = _cprofile_stats()
    sorted_keys = [k for k in theirs if "sorted" in k[2]]
    assert len(sorted_keys) == 1
    ours = to_pstats_dict(_hand_built(sorted_keys[0][2]))
    extra = set(theirs) - set(ours)
    # cProfile also records the call to its own disable() (a top-level C call).
    assert all("disable" in k[2] for k in extra), extra
    for k in extra:
        del theirs[k]
    assert ours == theirs


def test_hand_computed_values():
    ours = to_pstats_dict(_hand_built("<built-in method builtins.sorted>"))
    rec, leaf, main = _fkey(_rec), _fkey(_leaf), _fkey(_main)
    # rec: 3 calls, 1 primitive; tottime 6 ticks; cumtime 9 (outermost call only).
    cc, nc, tt, ct, callers = ours[rec]
    assert (cc, nc) == (1, 3)
    assert tt == pytest.approx(0.006) and ct == pytest.approx(0.009)
    assert callers[main] == (1, 1, pytest.approx(0.002), pytest.approx(0.009))
    assert callers[rec] == (2, 1, pytest.approx(0.004), pytest.approx(0.007))
    cc, nc, tt, ct, callers = ours[leaf]
    assert (cc, nc) == (2, 2) and tt == pytest.approx(0.006)
    assert set(callers) == {rec, main}
    assert ours[main][4] == {}                   # top level: no callers


def test_round_trip_through_pstats(tmp_path):
    prof = sample_profile()
    path = tmp_path / "out.prof"
    write_pstats(prof, str(path))
    with open(path, "rb") as f:
        assert marshal.load(f) == to_pstats_dict(prof)
    st = pstats.Stats(str(path), stream=io.StringIO())
    assert st.stats == to_pstats_dict(prof)
    fstats = prof.function_stats()
    assert st.total_calls == sum(s.calls for s in fstats.values())
    assert st.prim_calls == sum(s.primitive_calls for s in fstats.values())
    assert st.total_tt == pytest.approx(
        sum(s.self_ticks for s in fstats.values()) * prof.tick_seconds)
    # The printing paths (they index the tuples) must not choke on anything.
    st.sort_stats("cumulative").print_stats()
    st.print_callers()
    st.print_callees()
    out = st.stream.getvalue()
    assert "fib" in out and "héllo_π" in out


def test_merges_functions_sharing_a_key():
    funcs = [Function("a.py", 1, "<lambda>"), Function("a.py", 1, "<lambda>"),
             Function("a.py", 9, "main")]
    prof = build(funcs, [(1, "MainThread", [(2, 1, 1, [(0, 2, 3, []), (1, 1, 4, [])])])],
                 tick_seconds=1.0)
    d = to_pstats_dict(prof)
    assert d[("a.py", 1, "<lambda>")] == (3, 3, 7.0, 7.0, {("a.py", 9, "main"): (3, 3, 7.0, 7.0)})


def test_python_m_pstats_reads_it(tmp_path):
    path = tmp_path / "out.prof"
    write_pstats(sample_profile(), str(path))
    r = subprocess.run([sys.executable, "-m", "pstats", str(path)],
                       input="sort tottime\nstats 5\nquit\n", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "function calls" in r.stdout and "worker" in r.stdout
