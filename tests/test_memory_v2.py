"""The memory section's version 2 (the stacks as a tree, packed in the file's XCOL section)
against version 1 (stacks as rows, as hotpath wrote them before): the C path that builds
it (``MemTracker.snapshot_columns`` + ``MemTracker.shape``) against the Python code of
version 1 on the same capture, every report on both layouts, a file written by the
version 1 writer, and damaged files."""
from __future__ import annotations

import io
import json
import os
import threading
from array import array

import pytest

import memory_v1_ref
from hotpath import MemoryProfiler, fileformat
from hotpath.capture.memory import memory_data
from hotpath.extras import ShapeError, check_memory
from hotpath.model import Profile
from hotpath.model.memory import (SECTION_VERSION, MemoryView, is_tree_section, stack_rows,
                                  with_stack_rows)
from hotpath.report.memdiff import format_memory_diff
from hotpath.report.memflame import memory_flame, memory_temporal
from hotpath.report.memory import print_memory

DATA = os.path.join(os.path.dirname(__file__), "data")
KEEP: list = []


def leaf(n):
    return [0] * n


def rec(d, n):
    if d == 0:
        return leaf(n)
    x = bytearray(n * (d % 3))
    return rec(d - 1, n) + [len(x)]


def thread_work():
    for i in range(50):
        KEEP.append(str(i) * 50)


def workload():
    for i in range(200):
        KEEP.append(rec(i % 9, 10 + i % 13))
        if i % 50 == 0:
            t = threading.Thread(target=thread_work)
            t.start()
            t.join()
    KEEP.append(bytearray(200_000))
    del KEEP[:100]


def enter():                       # the "entry" frame, as session.program._enter_program
    workload()


@pytest.fixture(scope="module")
def capture():
    KEEP.clear()
    mp = MemoryProfiler(temporal=0.002)
    mp.runcall(enter)              # hotpath's own frames (the run mixin) are in the stacks
    return mp


def rows(rs):
    return sorted([list(r.key), r.alloc_bytes, r.alloc_count, r.free_bytes, r.free_count,
                   r.peak_bytes, r.native_bytes] for r in rs)


def reports(p: Profile) -> dict:
    """Every memory report's numbers (text report, tables, flame graph, temporal view,
    diff) for a profile, as JSON-able values."""
    v = MemoryView.of(p)
    out = io.StringIO()
    print_memory(p, stream=out, limit=1000)
    return json.loads(json.dumps({
        "text": out.getvalue(),
        "by_line": rows(v.by_line()), "by_line_user": rows(v.by_line(user=True)),
        "by_function": rows(v.by_function()), "inclusive": rows(v.by_function(inclusive=True)),
        "leaks": [[[list(v.line_key(f)) for f in s.frames], s.native, s.truncated,
                   s.live_bytes, s.live_count, s.peak_bytes]
                  for s in v.leaks(min_bytes=0, imports=True)],
        "flame": memory_flame(v), "flame_noimp": memory_flame(v, hide_imports=True),
        "temporal": memory_temporal(v),
        "diff": format_memory_diff(p, p, limit=None),
    }, sort_keys=True, default=str))


def as_profile(section: dict) -> Profile:
    return Profile(functions=[], threads=[], tick_seconds=1e-9,
                   meta={"cwd": os.path.dirname(__file__)}, extra={"memory": section})


def v1_of(section: dict) -> dict:
    """The same section in version 1's layout (rows)."""
    out = {k: v for k, v in section.items() if k not in ("tree", "stacks")}
    out.update(version=1, stack_fields=memory_v1_ref.STACK_FIELDS, stacks=stack_rows(section))
    return out


@pytest.mark.parametrize("entry", [False, True])
@pytest.mark.parametrize("trim", [(), (os.path.dirname(threading.__file__) + os.sep,)])
def test_the_c_path_makes_what_version_1_made(capture, entry, trim):
    """On one capture, the C path and version 1's Python give the same functions, frames
    (same numbering), stacks (same order and counters), totals and temporal samples."""
    tr = capture._tracker
    code = enter.__code__ if entry else None
    samples = capture._temporal.samples
    assert len(samples) >= 2
    new = memory_data(tr.snapshot_columns(), trim=trim, entry=code, temporal=samples)
    old = memory_v1_ref.memory_data(tr.snapshot(), trim=trim, entry=code, temporal=samples)
    assert new["version"] == SECTION_VERSION == 2 and is_tree_section(new)
    check_memory(new)
    assert len(old["stacks"]) > 40 and old["totals"]["own_count"] > 0
    assert new["functions"] == old["functions"]
    assert new["frames"] == old["frames"]
    assert stack_rows(new) == old["stacks"]
    for k in set(old["totals"]) - {"duration", "tracker_bytes"}:
        assert new["totals"][k] == old["totals"][k], k
    assert new["temporal"] == old["temporal"]
    assert new["timeline"] == old["timeline"]
    # the tree holds each path once: fewer nodes than the rows' frame ids
    assert len(new["tree"]["parent"]) < sum(len(s[0]) for s in old["stacks"])


def test_the_snapshot_forms_agree(capture):
    """memory_data from snapshot() (tuples per node) and snapshot_columns() is the same."""
    tr = capture._tracker
    a = memory_data(tr.snapshot(), entry=enter.__code__)
    b = memory_data(tr.snapshot_columns(), entry=enter.__code__)
    a["totals"].pop("duration"), b["totals"].pop("duration")
    assert a == b


def test_every_report_is_the_same_on_both_layouts(capture):
    new = capture.memory_data(entry=enter.__code__)
    assert reports(as_profile(new)) == reports(as_profile(v1_of(new)))


def test_reports_after_the_file_are_the_same(capture, tmp_path):
    """Written and read back (packed columns), a section reports what it did in memory;
    the columns come back at their narrowest widths."""
    p = as_profile(capture.memory_data(entry=enter.__code__))
    path = str(tmp_path / "m.hprof")
    fileformat.write(p, path)
    q = fileformat.read(path)
    mem = q.extra["memory"]
    assert isinstance(mem["tree"]["parent"], array) and mem["stacks"]["native"].itemsize == 1
    assert stack_rows(mem) == stack_rows(p.extra["memory"])
    assert reports(q) == reports(p)


def test_a_version_1_file_still_reads_with_the_same_reports():
    """tests/data/memory_v1.hprof was written by hotpath before version 2 (`hotpath run
    --memory` on a small program); memory_v1.expected.json is what that hotpath's reports
    said about it. Read now, every report says the same."""
    p = fileformat.read(os.path.join(DATA, "memory_v1.hprof"))
    mem = p.extra["memory"]
    assert mem["version"] == 1 and isinstance(mem["stacks"], list)
    with open(os.path.join(DATA, "memory_v1.expected.json")) as f:
        expected = json.load(f)
    got = reports(p)
    for k in expected:
        assert got[k] == expected[k], k
    # and converted to version 2, the same again
    q = as_profile(with_stack_rows(dict(mem), list(mem["stacks"])))
    q.meta = p.meta
    assert is_tree_section(q.extra["memory"])
    assert reports(q) == got


def _bad_file(section: dict, monkeypatch) -> bytes:
    """A file whose memory section the writer would refuse (its check skipped)."""
    with monkeypatch.context() as m:
        m.setattr(fileformat, "check_extra", lambda name, value: None)
        return fileformat.dumps(as_profile(section))


@pytest.mark.parametrize("damage, message", [
    (lambda d: d["tree"]["parent"].__setitem__(-1, len(d["tree"]["parent"])),
     "tree.parent"),
    (lambda d: d["tree"]["frame"].__setitem__(1, 10**6), "tree.frame"),
    (lambda d: d["stacks"]["node"].__setitem__(0, 10**6), "stacks.node"),
    (lambda d: d["stacks"]["truncated"].__setitem__(0, 7), "stacks.truncated"),
    (lambda d: d["stacks"]["alloc_bytes"].pop(), "stacks.alloc_bytes"),
    (lambda d: d["stacks"].pop("free_count"), "free_count"),
    (lambda d: d["stacks"]["peak_bytes"].__setitem__(0, -1), "stacks.peak_bytes"),
    (lambda d: d["stacks"].__setitem__("free_bytes", array("Q", [2**64 - 1] * len(
        d["stacks"]["free_bytes"]))), "stacks.free_bytes"),
])
def test_a_damaged_tree_gives_one_clear_error(capture, monkeypatch, damage, message):
    d = capture.memory_data(entry=enter.__code__)
    damage(d)
    with pytest.raises(ShapeError, match=message):
        fileformat.dumps(as_profile(d))              # the writer refuses it ...
    data = _bad_file(d, monkeypatch)
    with pytest.raises(fileformat.FormatError, match=f"EXTRA 'memory'.*{message}"):
        fileformat.loads(data)                       # ... and the reader rejects it


def test_damaged_columns_give_one_clear_error(capture):
    data = fileformat.dumps(as_profile(capture.memory_data()))
    for cut in (len(data) // 2, len(data) - 40):
        with pytest.raises(fileformat.FormatError):
            fileformat.loads(data[:cut])
    # an XCOL section that does not follow its EXTRA: taken out, the JSON part alone
    # is rejected (its stacks have no columns), never half-read
    with pytest.raises(fileformat.FormatError, match="memory"):
        fileformat.loads(_without_section(data, b"XCOL"))


def _without_section(data: bytes, tag: bytes) -> bytes:
    """The file without its sections of ``tag`` (END's count fixed)."""
    import struct
    import zlib
    pos, out, count = 16, [data[:16]], 0
    while True:
        head = data[pos:pos + 32]
        t, _flags, stored = struct.unpack_from("<4sIQ", head)
        if t == b"END\0":
            break
        if t != tag:
            out.append(data[pos:pos + 32 + stored])
            count += 1
        pos += 32 + stored
    payload = struct.pack("<I", count)
    h = struct.pack("<4sIQQI", b"END\0", 0x10, 4, 4, zlib.crc32(payload))
    out.append(h + struct.pack("<I", zlib.crc32(h)) + payload)
    return b"".join(out)


def _hotpath(*args: str, cwd: str | None = None):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "hotpath", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_hotpath_report_reads_a_version_1_file():
    """The command the user runs, on the file the version 1 hotpath wrote: the report's
    head (totals, then the top lines) as that hotpath printed it."""
    r = _hotpath("report", os.path.join(DATA, "memory_v1.hprof"))
    assert r.returncode == 0, r.stderr
    with open(os.path.join(DATA, "memory_v1.expected.json")) as f:
        expected = json.load(f)["text"].splitlines()
    got = r.stdout.splitlines()
    start = got.index(expected[0])
    assert got[start:start + 12] == expected[:12]


def test_hotpath_report_on_damaged_columns_is_one_error(capture, tmp_path, monkeypatch):
    d = capture.memory_data()
    d["tree"]["parent"][-1] = len(d["tree"]["parent"])
    path = tmp_path / "bad.hprof"
    path.write_bytes(_bad_file(d, monkeypatch))
    r = _hotpath("report", str(path))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "tree.parent" in r.stderr and len(r.stderr.strip().splitlines()) == 1
