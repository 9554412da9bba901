"""Shared reporter helpers: path shortening, labels, rounding, escaping, widths."""
from __future__ import annotations

import sysconfig
import xml.etree.ElementTree as ET

import pytest

from export_profiles import build, sample_profile
from hotpath.model import Function, Node, Profile, ThreadProfile
from hotpath.report.base import (THREAD, Labeler, PathShortener, Rounder, flame_tree,
                                 format_seconds, node_spans, xml_escape)


@pytest.mark.parametrize("path,short,kind", [
    ("~", "~", "builtin"),
    ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>", "other"),
    ("/home/u/proj/pkg/app.py", "pkg/app.py", "project"),
    ("examples/particles.py", "examples/particles.py", "project"),
    ("/venv/lib/python3.12/site-packages/numpy/core/_methods.py", "numpy/core/_methods.py", "library"),
    ("/home/u/proj/.venv/lib/python3.13/dist-packages/a/b.py", "a/b.py", "library"),
    ("/opt/py/lib/python3.9/json/decoder.py", "json/decoder.py", "library"),
    ("C:\\Python311\\Lib\\json\\decoder.py", "json\\decoder.py", "library"),
    ("/srv/other/x.py", "/srv/other/x.py", "other"),
])
def test_path_shortening(path, short, kind):
    s = PathShortener("/home/u/proj")
    assert (s(path), s.kind(path)) == (short, kind)


def test_this_interpreters_stdlib_is_library():
    path = sysconfig.get_paths()["stdlib"] + "/json/decoder.py"
    s = PathShortener()
    assert (s(path), s.kind(path)) == ("json/decoder.py", "library")


def test_labels():
    prof = sample_profile()
    label = Labeler(prof, forbid=";")
    assert label(0) == "main (app.py:10)"
    assert label(2) == "<built-in method builtins.len>"
    assert label(6).endswith("(/tmp/a&b/\"q'<x>,y.py:1)")
    assert Labeler(prof, with_location=False)(7) == "Ünï.héllo_π"


def test_rounder_keeps_the_sum():
    r = Rounder(0.37)
    values = [r.take(x) for x in [1, 2, 3, 5, 8, 13, 21, 34] * 50]
    assert sum(values) == round(sum([1, 2, 3, 5, 8, 13, 21, 34] * 50) * 0.37)
    assert all(abs(v - x * 0.37) <= 1 for v, x in zip(values, [1, 2, 3, 5, 8, 13, 21, 34] * 50))


def test_xml_escape_always_well_formed():
    nasty = "<a href='x'>&amp;\"\x00\x07\x1f\ud800\ufffe</a>]]>"
    doc = f'<r a="{xml_escape(nasty)}">{xml_escape(nasty)}</r>'
    el = ET.fromstring(doc.encode("utf-8"))
    assert el.text == el.get("a")
    assert el.text.startswith("<a href='x'>&amp;\"\ufffd")


def test_format_seconds():
    assert format_seconds(0.0000123) == "12.3 µs"
    assert format_seconds(1.5) == "1.5 s"
    assert format_seconds(250) == "250 s"
    assert format_seconds(0.002) == "2 ms"
    assert format_seconds(3e-9) == "3 ns"


def test_node_spans_repair_inconsistent_totals():
    t = ThreadProfile(1, "T")
    t.nodes += [Node(0, 0, 1, 2, 3), Node(0, 1, 1, 5, 5)]   # child wider than parent
    assert node_spans(t) == [7, 7, 5]


def test_flame_tree_merges_threads_or_splits_them():
    prof = sample_profile()
    split = flame_tree(prof)
    assert [c.func for c in split.children.values()] == [THREAD, THREAD]
    assert split.total_ticks == 184
    merged = flame_tree(prof, split_threads=False)
    assert set(merged.children) == {0, 9, 12}
    fib = merged.children[0].children[1]
    assert (fib.calls, fib.self_ticks, fib.total_ticks) == (1, 10, 26)


def test_empty_profile_tree():
    assert flame_tree(Profile()).total_ticks == 0
    assert flame_tree(build([Function("a.py", 1, "f")], [(1, "T", [])])).children == {}


def test_node_spans_fit_an_approximated_tree_instead_of_widening_it():
    t = ThreadProfile(1, "T")
    t.nodes += [Node(0, 0, 1, 2, 4), Node(0, 1, 1, 1, 6), Node(0, 2, 1, 3, 3)]
    assert node_spans(t) == [8, 8, 6, 3]         # measured: parents widened
    t.approximated = True
    assert node_spans(t) == [4, 4, 3, 1]         # estimated: children scaled to fit
