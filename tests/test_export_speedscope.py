"""speedscope export: valid against speedscope's schema; events replay to the tree."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from export_profiles import EVIL_NAME, build, deep_profile, sample_profile
from hotpath.report.speedscope import to_speedscope, write_speedscope

SCHEMA = Path(__file__).parent / "data" / "speedscope-file-format-schema.json"


def _validate(doc) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))


def _replay(profile_doc) -> tuple[Counter, int]:
    """Replay events as speedscope does; return self time per frame and the end."""
    stack: list[tuple[int, float]] = []
    self_time: Counter = Counter()
    last = profile_doc["startValue"]
    for ev in profile_doc["events"]:
        assert ev["at"] >= last, "events must not go back in time"
        if stack:
            self_time[stack[-1][0]] += ev["at"] - last
        last = ev["at"]
        if ev["type"] == "O":
            stack.append((ev["frame"], ev["at"]))
        else:
            assert stack and stack[-1][0] == ev["frame"], "close must match the open frame"
            stack.pop()
    assert not stack
    assert last <= profile_doc["endValue"]
    return self_time, last


@pytest.mark.parametrize("mode", ["evented", "sampled"])
def test_schema_valid(mode):
    _validate(to_speedscope(sample_profile(), mode=mode))
    _validate(to_speedscope(build([], []), mode=mode))


def test_evented_replays_to_self_times():
    prof = sample_profile()
    doc = to_speedscope(prof)
    assert len(doc["profiles"]) == 2
    frames = doc["shared"]["frames"]
    ns = prof.tick_seconds * 1e9
    for t, p in zip(prof.threads, doc["profiles"]):
        assert p["unit"] == "nanoseconds"
        self_time, end = _replay(p)
        by_name = Counter()
        for fr, v in self_time.items():
            by_name[frames[fr]["name"]] += v
        want = Counter()
        for i, s in prof.function_stats([t]).items():
            want[prof.functions[i].display_name] += round(s.self_ticks * ns)
        assert +by_name == +want
        assert end == round(sum(n.self_ticks for n in t.nodes) * ns)


def test_sampled_weights_are_self_times():
    prof = sample_profile()
    doc = to_speedscope(prof, mode="sampled")
    frames = doc["shared"]["frames"]
    main = doc["profiles"][0]
    assert len(main["samples"]) == len(main["weights"])
    got = Counter()
    for stack, w in zip(main["samples"], main["weights"]):
        got[frames[stack[-1]]["name"]] += w
    assert got["fib"] == 25_000 and got["main"] == 50_000
    assert main["endValue"] == sum(main["weights"])
    # the deepest fib sample sits under main → fib → fib → fib
    names = [[frames[i]["name"] for i in s] for s in main["samples"]]
    assert ["main", "fib", "fib", "fib"] in names


def test_frames_and_metadata(tmp_path):
    path = tmp_path / "p.speedscope.json"
    write_speedscope(sample_profile(), str(path))
    doc = json.loads(path.read_text(encoding="utf-8"))
    _validate(doc)
    frames = doc["shared"]["frames"]
    names = {f["name"] for f in frames}
    assert EVIL_NAME in names and "Ünï.héllo_π" in names
    builtin = next(f for f in frames if f["name"] == "<built-in method builtins.len>")
    assert "file" not in builtin
    fib = next(f for f in frames if f["name"] == "fib")
    assert fib["file"] == "/home/u/proj/app.py" and fib["line"] == 20
    assert doc["profiles"][1]["name"] == "worker-1 (tid 1002)"
    assert doc["exporter"].startswith("hotpath")
    assert doc["activeProfileIndex"] == 0


def test_deep_recursion_evented():
    doc = to_speedscope(deep_profile(20_000))
    p = doc["profiles"][0]
    assert len(p["events"]) == 40_000
    _replay(p)


def test_unknown_mode():
    with pytest.raises(ValueError, match="evented"):
        to_speedscope(sample_profile(), mode="bogus")
