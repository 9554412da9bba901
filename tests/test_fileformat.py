"""Tests for the profile file format (src/hotpath/fileformat.py, docs/format.md).

Round trips of every shape of profile, the documented byte layout (checked with a small
independent encoder written from docs/format.md), and the reader's behaviour on damaged
and foreign input: it must raise FormatError and nothing else.
"""
from __future__ import annotations

import cProfile
import gzip
import importlib.util
import io
import json
import os
import pathlib
import random
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hotpath
from hotpath import fileformat
from hotpath.fileformat import FormatError, dumps, loads, read, write
from hotpath.model import ROOT, TRUNCATED_NAME, Function, Node, Profile, ThreadProfile

REPO = pathlib.Path(__file__).resolve().parent.parent


# -- helpers ----------------------------------------------------------------------------

LEN = Function("~", 0, "<built-in method builtins.len>")
MAIN = Function("/src/app.py", 10, "main", "main")
WORK = Function("/src/app.py", 20, "work", "Worker.work")


def small_profile() -> Profile:
    """Two threads, a builtin, a truncated tree, extras."""
    t1 = ThreadProfile(140_000_000_001, "MainThread", [
        Node(ROOT, -1), Node(1, 0, 1, 10, 100), Node(2, 1, 4, 60, 80),
        Node(0, 2, 4, 20, 20), Node(0, 1, 1, 10, 10)])
    t2 = ThreadProfile(7, "worker-1", [Node(ROOT, -1), Node(2, 0, 2, 5, 5)], truncated=True)
    return Profile(functions=[LEN, MAIN, WORK], threads=[t1, t2], tick_seconds=1e-9,
                   meta={"command": ["app.py", "--fast"], "python": "3.11.7",
                         "timer": "tsc", "start": 1700000000.25, "duration": 1.5,
                         "mode": "function"},
                   extra={"lines": {"/src/app.py": [[10, 3, 120], [11, 3, 40]]}})


def roundtrip(p: Profile) -> Profile:
    q = loads(dumps(p))
    assert q == p
    return q


def chain(n: int, nfuncs: int = 3) -> list[Node]:
    return [Node(ROOT, -1)] + [Node(i % nfuncs, i - 1, 1, i, 2 * i) for i in range(1, n)]


# An independent encoder, written from docs/format.md, for crafting files the real
# encoder refuses to produce (bad trees, future versions, unknown sections).

def spec_header(major: int = 1, minor: int = 0) -> bytes:
    head = b"HOTPATH\0" + struct.pack("<HH", major, minor)
    return head + struct.pack("<I", zlib.crc32(head))


def spec_section(tag: bytes, payload: bytes, flags: int = 0x10,
                 compress: bool = False, raw_len: int | None = None) -> bytes:
    raw = len(payload) if raw_len is None else raw_len
    if compress:
        payload, flags = zlib.compress(payload), flags | 1
    head = struct.pack("<4sIQQI", tag, flags, len(payload), raw, zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def spec_meta(meta: dict | None = None, tick: float = 1e-9) -> bytes:
    return json.dumps({"tick_seconds": tick, "meta": meta or {}}).encode()


def spec_functions(funcs: list[Function]) -> bytes:
    strings: list[str] = []
    recs = []
    for f in funcs:
        idx = []
        for s in (f.filename, f.name, f.qualname):
            if s not in strings:
                strings.append(s)
            idx.append(strings.index(s))
        recs.append(struct.pack("<4I", *idx, f.lineno))
    enc = [s.encode() for s in strings]
    return (struct.pack("<II", len(strings), len(funcs))
            + b"".join(struct.pack("<I", len(e)) for e in enc) + b"".join(enc)
            + b"".join(recs))


def spec_thread(nodes: list[tuple[int, int, int, int, int]], tid: int = 1,
                name: str = "T", flags: int = 0, widths=(4, 4, 8, 8, 8),
                count: int | None = None) -> bytes:
    nb = name.encode()
    out = [struct.pack("<QII", tid, flags, len(nb)), nb,
           struct.pack("<Q5B", len(nodes) if count is None else count, *widths)]
    for c, w in enumerate(widths):                  # func, parent signed; counters not
        out += [n[c].to_bytes(w, "little", signed=c < 2) for n in nodes]
    return b"".join(out)


def spec_file(*sections: bytes, end_count: int | None = None, major: int = 1,
              minor: int = 0) -> bytes:
    n = len(sections) if end_count is None else end_count
    return (spec_header(major, minor) + b"".join(sections)
            + spec_section(b"END\0", struct.pack("<I", n)))


def minimal(*extra_sections: bytes, funcs=(MAIN,), nodes=((-1, -1, 0, 0, 0),),
            **kw) -> bytes:
    return spec_file(spec_section(b"META", spec_meta()),
                     spec_section(b"FUNC", spec_functions(list(funcs))),
                     spec_section(b"THRD", spec_thread(list(nodes))),
                     *extra_sections, **kw)


def rejects(data: bytes, *fragments: str) -> FormatError:
    with pytest.raises(FormatError) as info:
        loads(data)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))
    return info.value


# -- round trips --------------------------------------------------------------------------

def test_empty_profile():
    q = roundtrip(Profile())
    assert q.functions == [] and q.threads == [] and q.extra == {} and q.meta == {}


def test_small_profile_roundtrip():
    q = roundtrip(small_profile())
    assert [t.truncated for t in q.threads] == [False, True]
    assert q.threads[0].thread_id == 140_000_000_001
    assert q.functions[0].is_builtin and q.functions[0].pstats_key == (
        "~", 0, "<built-in method builtins.len>")
    # Derived views survive too.
    p = small_profile()
    assert q.function_stats() == p.function_stats()
    assert q.edge_stats() == p.edge_stats()


def test_root_only_threads_and_no_functions():
    roundtrip(Profile(threads=[ThreadProfile(0, "", [Node(ROOT, -1)]),
                               ThreadProfile(2**64 - 1, "x", [Node(ROOT, -1)])]))


def test_unicode_and_odd_names():
    funcs = [
        Function("/home/ü/プロジェクト/main.py", 1, "函数", "Klasse.函数"),
        Function("~", 0, "<built-in method builtins.print>"),
        Function("~", 0, "<method 'append' of 'list' objects>"),
        Function("<string>", 1, "<module>"),
        Function("/tmp/\udcff\udcfe.py", 3, "f"),     # undecodable bytes (surrogateescape)
        Function("a\0b", 2**32 - 1, "emoji 🐍", "tab\tnew\nline"),
        Function("", 0, "", ""),
        Function("~", 0, TRUNCATED_NAME),
    ]
    nodes = [Node(ROOT, -1)] + [Node(i, 0, 1, 1, 1) for i in range(len(funcs))]
    p = Profile(funcs, [ThreadProfile(1, "Thread-1 (wörker) 🧵", nodes)],
                meta={"command": ["ñ.py", "\udcff"], "note": "日本"},
                extra={"ключ": {"é": "\udcfe"}})
    roundtrip(p)


def test_extra_sections_and_meta_values():
    extra = {
        # free-form (only "lines" and "memory" have a layout: test_extra_shapes.py)
        "counts": {"/src/app.py:10": [1, 2, 3], "t": [0.5, 1e-300, -2.5e300]},
        "heap": {"peak": 2**70, "timeline": [[0.0, 1024], [0.5, 4096]]},
        "samples": [],
        "flag": True,
        "nothing": None,
        "": "empty name",
    }
    meta = {"command": ["-c", "pass"], "duration": 0.0, "nested": {"a": [{"b": None}]}}
    q = roundtrip(Profile(meta=meta, extra=extra, tick_seconds=3.3e-10))
    assert list(q.extra) == list(extra)                 # order is kept
    assert q.tick_seconds == 3.3e-10


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 256, 2**15 - 1, 2**15, 2**16,
                                   2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1])
def test_column_width_boundaries(value):
    nodes = [Node(ROOT, -1), Node(0, 0, value, value, value), Node(0, 1, 0, 0, value)]
    roundtrip(Profile([MAIN], [ThreadProfile(value, "t", nodes)]))


def test_many_functions_wide_indices():
    funcs = [Function(f"/m{i % 7}.py", i, f"f{i}") for i in range(70_000)]
    nodes = [Node(ROOT, -1)] + [Node(i, 0, 1, 1, 1) for i in range(70_000)]
    roundtrip(Profile(funcs, [ThreadProfile(1, "T", nodes)]))


def test_large_node_count():
    rng = random.Random(5)
    n = 250_000
    nodes = [Node(ROOT, -1)] + [
        Node(rng.randrange(50), rng.randrange(max(0, i - 30), i), rng.randrange(1, 9),
             rng.randrange(10**6), rng.randrange(10**9)) for i in range(1, n)]
    funcs = [Function(f"/x/{i % 5}.py", i, f"f{i}") for i in range(50)]
    p = Profile(funcs, [ThreadProfile(1, "Main", nodes),
                        ThreadProfile(2, "Deep", chain(50_000))])
    data = dumps(p)
    assert len(data) < n * 20                          # packed, not JSON
    assert loads(data) == p


def test_several_threads_keep_order():
    threads = [ThreadProfile(100 - i, f"t{i}", chain(i + 1)) for i in range(20)]
    q = roundtrip(Profile([MAIN, WORK, LEN], threads))
    assert [t.name for t in q.threads] == [f"t{i}" for i in range(20)]


# -- files, streams, atomic writes ---------------------------------------------------------

def test_write_read_path(tmp_path):
    p = small_profile()
    for target in (tmp_path / "a.hprof", str(tmp_path / "b.hprof")):
        write(p, target)
        assert read(target) == p
    assert sorted(os.listdir(tmp_path)) == ["a.hprof", "b.hprof"]   # no temp files left


def test_write_read_file_objects(tmp_path):
    p = small_profile()
    buf = io.BytesIO()
    write(p, buf)
    assert buf.getvalue() == dumps(p)
    buf.seek(0)
    assert read(buf) == p
    with open(tmp_path / "x.hprof", "wb") as f:
        write(p, f)
    with open(tmp_path / "x.hprof", "rb") as f:
        assert read(f) == p


def test_public_aliases(tmp_path):
    # hotpath.load reads hotpath's files as fileformat.read does (and pstats files too,
    # tests/test_pstats_files.py), from a path or an open binary file
    from hotpath.profile_files import load_profile
    assert hotpath.load is load_profile and hotpath.save is write
    p = small_profile()
    write(p, tmp_path / "x.hprof")
    assert hotpath.load(tmp_path / "x.hprof") == p == read(tmp_path / "x.hprof")
    with open(tmp_path / "x.hprof", "rb") as f:
        assert hotpath.load(f) == p
    assert hotpath.FormatError is FormatError


def test_write_replaces_existing_file(tmp_path):
    target = tmp_path / "p.hprof"
    target.write_bytes(b"old contents")
    write(small_profile(), target)
    assert read(target) == small_profile()


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "p.hprof"
    write(Profile(), target)
    before = target.read_bytes()
    bad = small_profile()
    bad.threads[0].nodes[2].parent = 3                 # a parent after its child
    with pytest.raises(ValueError, match="parent"):
        write(bad, target)

    def boom(*args):
        raise OSError("disk on fire")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        write(small_profile(), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.hprof"]


def test_write_permissions_follow_umask(tmp_path):
    target = tmp_path / "p.hprof"
    write(Profile(), target)
    old = os.umask(0)
    os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o666 & ~old


def test_read_rejects_foreign_file_after_header_only():
    class Counting(io.BytesIO):
        consumed = 0

        def read(self, n=-1):
            out = super().read(n)
            self.consumed += len(out)
            return out
    f = Counting(b"x" * 1_000_000)
    with pytest.raises(FormatError, match="bad magic"):
        read(f)
    assert f.consumed <= 16


def test_text_mode_stream_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="binary"):
        read(io.StringIO("HOTPATH"))


def test_missing_file_is_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        read(tmp_path / "nope.hprof")


def test_error_names_the_file(tmp_path):
    target = tmp_path / "bad.hprof"
    target.write_bytes(dumps(small_profile())[:-3])
    with pytest.raises(FormatError) as info:
        read(target)
    e = info.value
    assert str(e).startswith(f"{target}: truncated file")
    assert e.path == str(target) and isinstance(e.offset, int)


# -- the documented layout --------------------------------------------------------------

def test_header_and_section_layout():
    data = dumps(small_profile())
    assert data[:8] == b"HOTPATH\0"
    assert struct.unpack_from("<HH", data, 8) == (fileformat.FORMAT_MAJOR,
                                                  fileformat.FORMAT_MINOR) == (1, 1)
    assert struct.unpack_from("<I", data, 12)[0] == zlib.crc32(data[:12])
    pos, tags = 16, []
    while pos < len(data):
        tag, flags, stored, raw, crc, hcrc = struct.unpack_from("<4sIQQII", data, pos)
        assert hcrc == zlib.crc32(data[pos:pos + 28])
        payload = data[pos + 32:pos + 32 + stored]
        assert crc == zlib.crc32(payload)
        if flags & 0xF == 1:
            payload = zlib.decompress(payload)
        assert len(payload) == raw
        tags.append((tag, flags & 0x10))
        pos += 32 + stored
    assert pos == len(data)
    assert tags == [(b"META", 0x10), (b"FUNC", 0x10), (b"THRD", 0x10), (b"THRD", 0x10),
                    (b"XTRA", 0), (b"END\0", 0x10)]
    assert payload == struct.pack("<I", 5)            # END counts the sections before it


def test_spec_encoder_files_read_back():
    """Files built only from docs/format.md read as the model says."""
    nodes = [(-1, -1, 0, 0, 0), (0, 0, 3, 7, 9), (1, 1, 2**64 - 1, 0, 1)]
    for widths in [(4, 4, 8, 8, 8), (1, 1, 8, 1, 1), (8, 2, 8, 4, 2)]:
        data = spec_file(spec_section(b"META", spec_meta({"mode": "x"}, 2e-9)),
                         spec_section(b"FUNC", spec_functions([MAIN, WORK])),
                         spec_section(b"THRD", spec_thread(nodes, 9, "w", 1, widths),
                                      compress=True),
                         spec_section(b"XTRA", struct.pack("<I", 1) + b"k[1]", flags=0))
        p = loads(data)
        assert p.functions == [MAIN, WORK]
        assert p.threads == [ThreadProfile(9, "w", [Node(*n) for n in nodes], True)]
        assert p.meta == {"mode": "x"} and p.tick_seconds == 2e-9 and p.extra == {"k": [1]}


def test_docs_describe_every_section():
    doc = (REPO / "docs" / "format.md").read_text(encoding="utf-8")
    for tag in (b"META", b"FUNC", b"THRD", b"XTRA", b"END\0"):
        assert f"`{tag.decode().rstrip(chr(0))}" in doc
    assert "HOTPATH\\0" in doc and "little-endian" in doc


# -- versions and extensibility -----------------------------------------------------------

def test_future_major_version_rejected():
    e = rejects(spec_file(major=2, minor=3), "newer hotpath", "2.3", "1.x")
    assert "upgrade" in str(e)


def test_version_zero_rejected():
    rejects(spec_file(major=0), "unsupported format version 0.0")


def test_newer_minor_version_and_unknown_sections_are_read():
    data = minimal(spec_section(b"LINE", b"\x00\x01garbage the reader never parses", 0),
                   spec_section(b"ZZZZ", b"x" * 5000, 0, compress=True),
                   spec_section(b"MEMR", b"abc", flags=0x7),   # unknown compression
                   minor=9)
    p = loads(data)
    assert p.functions == [MAIN] and len(p.threads) == 1


def test_unknown_required_section_rejected():
    rejects(minimal(spec_section(b"LINE", b"", flags=0x10)),
            "section b'LINE'", "required but unknown")


def test_unknown_compression_on_known_section_rejected():
    rejects(minimal(spec_section(b"XTRA", struct.pack("<I", 1) + b"k1", flags=0x2)),
            "compression method 2")


# -- foreign and damaged input ------------------------------------------------------------

def test_empty_file():
    rejects(b"", "empty file")


def test_bad_magic():
    rejects(b"HOTPATH\x01" + bytes(40), "not a hotpath profile (bad magic)")
    rejects(b"\x00" * 100, "bad magic")


def test_pstats_file(tmp_path):
    prof = cProfile.Profile()
    prof.enable()
    sorted(range(100))
    prof.disable()
    path = tmp_path / "out.pstats"
    prof.dump_stats(path)
    with pytest.raises(FormatError, match=r"bad magic.*pstats"):
        read(path)


@pytest.mark.parametrize("data, hint", [
    (b"def main():\n    pass\n", "text file"),
    (b'{"shared": {"frames": []}}', "JSON file"),
    (gzip.compress(b"HOTPATH\0", mtime=0), "gzip"),
    (bytes(range(256)), ""),
])
def test_other_file_types(data, hint):
    rejects(data, "bad magic", hint)


def test_every_truncation_is_rejected():
    data = dumps(small_profile())
    for n in range(len(data)):
        e = rejects(data[:n])
        assert ("truncated" in str(e)) or n == 0, (n, str(e))
    # A compressed (large) profile too, at a coarser step.
    big = dumps(Profile([MAIN], [ThreadProfile(1, "T", chain(3000, 1))]))
    for n in range(0, len(big), 7):
        rejects(big[:n])


def test_every_byte_change_is_detected():
    """Checksums cover every byte, so any single changed byte must be rejected."""
    data = dumps(small_profile())
    for i in range(len(data)):
        for x in (0x01, 0x80, 0xFF):
            b = bytearray(data)
            b[i] ^= x
            with pytest.raises(FormatError):
                loads(bytes(b))


def test_trailing_data_and_missing_end():
    data = dumps(small_profile())
    rejects(data + b"\0", "trailing data")
    rejects(data + data, "trailing data")
    rejects(data[:-36], "truncated", "without an END section")    # END is 32 + 4 bytes
    rejects(spec_file(end_count=7), "bad END section")


@pytest.mark.parametrize("case, data, fragment", [
    ("no META", spec_file(spec_section(b"FUNC", spec_functions([]))), "no META"),
    ("no FUNC", spec_file(spec_section(b"META", spec_meta())), "no FUNCTIONS"),
    ("two META", spec_file(spec_section(b"META", spec_meta()),
                           spec_section(b"META", spec_meta()),
                           spec_section(b"FUNC", spec_functions([]))),
     "more than one META"),
    ("THRD first", spec_file(spec_section(b"META", spec_meta()),
                             spec_section(b"THRD", spec_thread([(-1, -1, 0, 0, 0)])),
                             spec_section(b"FUNC", spec_functions([]))),
     "before the FUNCTIONS"),
    ("dup extra", minimal(spec_section(b"XTRA", struct.pack("<I", 1) + b"k1", 0),
                          spec_section(b"XTRA", struct.pack("<I", 1) + b"k2", 0)),
     "more than one EXTRA section named 'k'"),
])
def test_section_structure_rules(case, data, fragment):
    rejects(data, fragment)


@pytest.mark.parametrize("nodes, fragment", [
    ([(0, -1, 0, 0, 0)], "node 0 is not a root"),
    ([(-1, 0, 0, 0, 0)], "node 0 is not a root"),
    ([(-1, -1, 0, 0, 0), (1, 0, 0, 0, 0)], "node 1 has function 1, outside"),
    ([(-1, -1, 0, 0, 0), (-1, 0, 0, 0, 0)], "node 1 has function -1"),
    ([(-1, -1, 0, 0, 0), (0, 1, 0, 0, 0)], "node 1 has parent 1"),
    ([(-1, -1, 0, 0, 0), (0, 0, 0, 0, 0), (0, 5, 0, 0, 0)], "node 2 has parent 5"),
    ([(-1, -1, 0, 0, 0), (0, -1, 0, 0, 0)], "node 1 has parent -1"),
    ([], "no nodes"),
])
def test_invalid_trees_rejected(nodes, fragment):
    rejects(minimal(nodes=nodes), fragment)


def test_sizes_checked_before_allocating():
    # A node count of 2**60 must not be believed (no MemoryError, no huge array).
    rejects(minimal(spec_section(b"THRD", spec_thread([(-1, -1, 0, 0, 0)], count=2**60))),
            "need", "bytes of columns")
    rejects(minimal(spec_section(b"THRD", spec_thread([(-1, -1, 0, 0, 0)],
                                                      widths=(3, 4, 8, 8, 8)))),
            "bad column widths")
    huge_strings = struct.pack("<II", 2**32 - 1, 2**32 - 1)
    rejects(spec_file(spec_section(b"META", spec_meta()),
                      spec_section(b"FUNC", huge_strings)), "do not fit")
    # A compressed section claiming an implausible uncompressed size.
    rejects(minimal(spec_section(b"XTRA", b"\0" * 100, 0, compress=True, raw_len=2**62)),
            "implausible uncompressed size")
    # ... or a size that differs from what the data decompresses to.
    rejects(minimal(spec_section(b"XTRA", struct.pack("<I", 1) + b"k" + b"1" * 99, 0,
                                 compress=True, raw_len=50)), "does not decode to")
    # A stored section whose raw size differs from its stored size.
    rejects(minimal(spec_section(b"XTRA", struct.pack("<I", 1) + b"k1", 0, raw_len=9)),
            "stored and raw sizes differ")
    # A section length pointing far beyond the end of the file.
    head = struct.pack("<4sIQQI", b"XTRA", 0, 2**63, 2**63, 0)
    rejects(spec_header() + head + struct.pack("<I", zlib.crc32(head)),
            f"section EXTRA ends at byte {48 + 2**63}")


def test_string_table_checks():
    body = spec_functions([MAIN])
    rejects(spec_file(spec_section(b"META", spec_meta()),
                      spec_section(b"FUNC", body[:8] + struct.pack("<I", 99) + body[12:])),
            "string lengths add up to")
    bad_idx = body[:-16] + struct.pack("<4I", 0, 9, 0, 1)
    rejects(spec_file(spec_section(b"META", spec_meta()), spec_section(b"FUNC", bad_idx)),
            "refers to a string beyond")
    bad_utf8 = struct.pack("<III", 1, 0, 2) + b"\xff\xfe"
    rejects(spec_file(spec_section(b"META", spec_meta()), spec_section(b"FUNC", bad_utf8)),
            "invalid UTF-8")


@pytest.mark.parametrize("payload, fragment", [
    (b"[1, 2]", "not a JSON object"),
    (b'{"meta": {}}', "tick_seconds"),
    (b'{"tick_seconds": 0, "meta": {}}', "tick_seconds"),
    (b'{"tick_seconds": -1e-9, "meta": {}}', "tick_seconds"),
    (b'{"tick_seconds": 1e999, "meta": {}}', "invalid JSON"),
    (b'{"tick_seconds": NaN, "meta": {}}', "invalid JSON"),
    (b'{"tick_seconds": ' + b"9" * 400 + b', "meta": {}}', "tick_seconds"),
    (b'{"tick_seconds": true, "meta": {}}', "tick_seconds"),
    (b'{"tick_seconds": 1e-9, "meta": []}', "'meta' must be a JSON object"),
    (b'{"tick_seconds": 1e-9, "meta": {}', "invalid JSON"),
    (b"\xff\xfe{}", "invalid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    (b'{"tick_seconds": 1e-9, "meta": {"n": ' + b"1" * 5000 + b"}}", "invalid JSON"),
])
def test_bad_meta_rejected(payload, fragment):
    rejects(spec_file(spec_section(b"META", payload),
                      spec_section(b"FUNC", spec_functions([]))), fragment)


def test_meta_unknown_keys_ignored():
    data = spec_file(spec_section(b"META", b'{"tick_seconds": 1, "meta": {}, "new": 1}'),
                     spec_section(b"FUNC", spec_functions([])))
    assert loads(data).tick_seconds == 1.0


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes(data):
    try:
        loads(data)
    except FormatError:
        pass


@given(st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_byte_changes(data):
    """Several random byte changes: FormatError or (if undetectable) a valid profile."""
    base = bytearray(dumps(small_profile()))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(base) - 1))
        base[i] = data.draw(st.integers(0, 255))
    try:
        p = loads(bytes(base))
    except FormatError:
        return
    assert loads(dumps(p)) == p


def test_fuzz_target_runs():
    """The fuzz script's plain mutation loop (checksums repaired, payloads mutated)."""
    spec = importlib.util.spec_from_file_location("fuzz_reader",
                                                  REPO / "fuzz" / "fuzz_reader.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    stats = mod.run(iterations=3000, seed=1234)
    assert stats["inputs"] == 3000 and stats["rejected"] > 0 and stats["loaded"] > 0


# -- the writer refuses profiles it could not read back -----------------------------------

def _with(mutate) -> Profile:
    p = small_profile()
    mutate(p)
    return p


@pytest.mark.parametrize("mutate, exc, fragment", [
    (lambda p: setattr(p.threads[0].nodes[3], "parent", 3), ValueError, "parent 3"),
    (lambda p: setattr(p.threads[0].nodes[3], "parent", -1), ValueError, "parent -1"),
    (lambda p: setattr(p.threads[0].nodes[1], "func", 3), ValueError, "func 3"),
    (lambda p: setattr(p.threads[0].nodes[1], "func", ROOT), ValueError, "func -1"),
    (lambda p: setattr(p.threads[0].nodes[0], "func", 0), ValueError, "node 0 must be"),
    (lambda p: setattr(p.threads[0].nodes[1], "calls", -1), ValueError, "calls"),
    (lambda p: setattr(p.threads[0].nodes[1], "self_ticks", 2**64), ValueError, "self_t"),
    (lambda p: setattr(p.threads[0].nodes[1], "total_ticks", 1.5), ValueError, "total_t"),
    (lambda p: setattr(p.threads[0], "nodes", []), ValueError, "root"),
    (lambda p: setattr(p.threads[0], "thread_id", -1), ValueError, "thread_id"),
    (lambda p: setattr(p.threads[0], "name", None), TypeError, "name"),
    (lambda p: p.functions.append(Function("f", -1, "g")), ValueError, "lineno"),
    (lambda p: p.functions.append(Function(None, 1, "g")), TypeError, "filename"),
    (lambda p: setattr(p, "tick_seconds", 0.0), ValueError, "tick_seconds"),
    (lambda p: setattr(p, "tick_seconds", float("nan")), ValueError, "tick_seconds"),
    (lambda p: p.meta.update(when=object()), TypeError, "profile.meta"),
    (lambda p: p.meta.update(x=float("inf")), ValueError, "profile.meta"),
    (lambda p: p.extra.update(lines={10: 1}), TypeError, "dict key 10"),
    (lambda p: p.extra.update({3: "x"}), TypeError, "keys must be str"),
])
def test_writer_validates(mutate, exc, fragment):
    with pytest.raises(exc, match=fragment.replace("(", r"\(")):
        dumps(_with(mutate))


# -- property: any valid profile round-trips ----------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**80, 2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                               inner, max_size=4),
    max_leaves=12)
_count = st.integers(0, 2**64 - 1) | st.integers(0, 300)


@st.composite
def profiles(draw) -> Profile:
    text = st.text(max_size=10)
    funcs = draw(st.lists(st.builds(Function, text, st.integers(0, 2**32 - 1), text, text),
                          max_size=6))
    threads = []
    for _ in range(draw(st.integers(0, 3))):
        nodes = [Node(ROOT, -1)]
        if funcs:
            for i in range(1, draw(st.integers(1, 40))):
                nodes.append(Node(draw(st.integers(0, len(funcs) - 1)),
                                  draw(st.integers(0, i - 1)),
                                  draw(_count), draw(_count), draw(_count)))
        threads.append(ThreadProfile(draw(st.integers(0, 2**64 - 1)), draw(text), nodes,
                                     draw(st.booleans())))
    tick = draw(st.floats(min_value=1e-300, max_value=1e300))
    return Profile(funcs, threads, tick, draw(st.dictionaries(st.text(max_size=8), _json,
                                                              max_size=5)),
                   draw(st.dictionaries(st.text(max_size=8), _json, max_size=4)))


@given(profiles())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_roundtrip(p):
    data = dumps(p)
    assert loads(data) == p
    buf = io.BytesIO()
    write(p, buf)
    assert buf.getvalue() == data                       # deterministic encoding


@given(profiles(), st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_truncation(p, data):
    blob = dumps(p)
    n = data.draw(st.integers(0, len(blob) - 1))
    rejects(blob[:n])


# -- integer columns of an extra (XCOL, format 1.1) --------------------------------------

def test_extra_columns_round_trip_at_their_narrowest_width():
    from array import array
    p = small_profile()
    cols = {"small": array("q", [0, 1, 255]), "neg": array("q", [-1, 5, -70000]),
            "big": array("Q", [2**64 - 1, 0]), "empty": array("i")}
    p.extra["free"] = {"json": [1, 2], "cols": dict(cols), "top": array("i", [7])}
    q = loads(dumps(p))
    back = q.extra["free"]
    assert back["json"] == [1, 2] and back["top"] == array("i", [7])
    for k, a in cols.items():
        assert list(back["cols"][k]) == list(a), k
    assert [back["cols"][k].itemsize for k in ("small", "neg", "big")] == [1, 4, 8]
    # the columns are an XCOL section right after their XTRA, marked REQUIRED
    data = dumps(p)
    pos, tags = 16, []
    while pos < len(data):
        tag, flags, stored = struct.unpack_from("<4sIQ", data, pos)
        tags.append((tag, bool(flags & 0x10)))
        pos += 32 + stored
    assert tags[-3:] == [(b"XTRA", False), (b"XCOL", True), (b"END\0", True)]


@pytest.mark.parametrize("value, error", [
    ({"a/b": __import__("array").array("i", [1])}, ValueError),
    ({"a/b": {"c": __import__("array").array("i", [1])}}, ValueError),
    ({"f": __import__("array").array("d", [1.0])}, TypeError),
])
def test_extra_columns_the_reader_could_not_place_are_refused(value, error):
    p = small_profile()
    p.extra["free"] = value
    with pytest.raises(error):
        dumps(p)
