#!/usr/bin/env python3
"""Fuzz target for the hotpath profile reader (``hotpath.fileformat.loads``).

The property: whatever the bytes, ``loads`` either returns a Profile or raises
``FormatError`` — never another exception — and a Profile it returns can be written
back and reads back equal (the reader accepts nothing the writer would refuse).

Random bytes almost always stop at a checksum, so each input is also tried with its
checksums repaired (``rechecksum``), and the plain mutator also mutates decompressed
section payloads and re-wraps them; both reach the payload decoders behind the CRCs.

Usage::

    python fuzz/fuzz_reader.py                  # plain mutation loop, 20000 inputs
    python fuzz/fuzz_reader.py -n 200000 --seed 7
    python fuzz/fuzz_reader.py --write-corpus fuzz/corpus    # seed files for atheris
    python fuzz/fuzz_reader.py --atheris fuzz/corpus [libFuzzer flags...]
"""
from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import time
import zlib

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "src"))

from hotpath import fileformat  # noqa: E402
from hotpath.fileformat import FormatError, dumps, loads  # noqa: E402
from hotpath.model import Function, Node, Profile, ThreadProfile  # noqa: E402

_SECTION = struct.Struct("<4sIQQII")


# -- seeds ------------------------------------------------------------------------------

#: A ``lines`` section as ``hotpath run --lines=auto`` writes it (docs/lines.md).
LINES = {"version": 1, "unit": 1e-9, "mode": "auto", "clock": "tsc", "samples": 9,
         "functions": [
             {"filename": "/src/app.py", "lineno": 10, "name": "main",
              "lines": [[11, 3, 120], [12, 1, 40]], "auto": None},
             {"filename": "/src/app.py", "lineno": 20, "name": "f",
              "lines": [[21, 5, 900]],
              "auto": {"chosen_at": 0.25, "samples": 4, "own_seconds": 0.01}}]}

#: A ``memory`` section as ``hotpath run --memory -f app.py:main`` writes it
#: (docs/memory.md).
MEMORY = {
    "version": 1, "mode": "exact", "sample_bytes": None, "native": True,
    "max_frames": 128, "forked": False,
    "functions": [["/src/app.py", "main", 10], ["/src/app.py", "f", 20]],
    "frames": [[0, 11], [1, 21], [0, 12]],
    "stack_fields": ["frames", "native", "truncated", "alloc_count", "alloc_bytes",
                     "free_count", "free_bytes", "peak_count", "peak_bytes"],
    "stacks": [[[1, 0], 0, 0, 10, 4096, 4, 1024, 6, 3072],
               [[2], 1, 0, 1, 1 << 20, 0, 0, 1, 1 << 20],
               [[], 0, 2, 3, 300, 3, 300, 0, 0]],
    "totals": {"alloc_count": 14, "alloc_bytes": 1053172, "free_count": 7,
               "free_bytes": 1324, "live_count": 7, "live_bytes": 1051848,
               "peak_count": 7, "peak_bytes": 1051648, "peak_time": 0.125, "samples": 0,
               "tracker_bytes": 65536, "duration": 0.5, "own_bytes": 0, "own_count": 0},
    "timeline": {"t": [0.0, 0.01, 0.02], "rss": [10 << 20, 11 << 20, 12 << 20],
                 "heap": [0, 4096, 1 << 20]},
    "lines": [{"filename": "/src/app.py", "lineno": 10, "name": "main",
               "lines": [[11, 4096, 4096, 1], [12, 1052672, 1048576, 1]]}],
}

def seed_profiles() -> list[Profile]:
    """Small profiles covering every section type, compressed and not."""
    funcs = [Function("~", 0, "<built-in method builtins.len>"),
             Function("/src/app.py", 10, "main", "main"),
             Function("/src/ünï.py", 3, "f", "Klass.f")]
    small = [Node(-1, -1), Node(1, 0, 1, 5, 40), Node(2, 1, 3, 30, 35), Node(0, 2, 3, 5, 5)]
    # Large enough that its THREAD section is zlib-compressed.
    big = [Node(-1, -1)] + [Node(i % 3, (i - 1) // 2, i, 2 * i, 3 * i)
                            for i in range(1, 400)]
    return [
        Profile(),
        Profile(funcs, [ThreadProfile(1, "MainThread", small)], 1e-9,
                {"command": ["app.py"], "mode": "function"}),
        Profile(funcs, [ThreadProfile(2**64 - 1, "T", small, truncated=True),
                        ThreadProfile(7, "worker", big)], 2.5e-10,
                {"python": "3.11"}, {"counts": {"app.py:10": [1, 2, 3]},
                                     "heap": list(range(600))}),
        Profile(funcs, [ThreadProfile(1, "MainThread", small)], 1e-9, {"mode": "lines"},
                {"lines": LINES}),
        Profile(meta={"mode": "memory"}, extra={"memory": MEMORY}),
    ]


def seeds() -> list[bytes]:
    return [dumps(p) for p in seed_profiles()]


_SEED_PROFILES = seed_profiles()


# -- structure-aware helpers -----------------------------------------------------------

def rechecksum(data: bytes) -> bytes:
    """Recompute the header and section CRCs of ``data`` as far as its structure goes,
    so that a mutation is judged by the decoders rather than stopped by a checksum."""
    out = bytearray(data)
    if len(out) >= 16:
        struct.pack_into("<I", out, 12, zlib.crc32(out[:12]))
    pos = 16
    while pos + _SECTION.size <= len(out):
        tag, flags, stored, raw, _, _ = _SECTION.unpack_from(out, pos)
        start = pos + _SECTION.size
        end = min(start + stored, len(out))
        struct.pack_into("<I", out, pos + 24, zlib.crc32(out[start:end]))
        struct.pack_into("<I", out, pos + 28, zlib.crc32(out[pos:pos + 28]))
        pos = start + stored
    return bytes(out)


def split_sections(data: bytes) -> list[tuple[bytes, int, bytes]]:
    """(tag, flags, raw payload) of each section of a valid file."""
    out = []
    pos = 16
    while pos < len(data):
        tag, flags, stored, raw, _, _ = _SECTION.unpack_from(data, pos)
        payload = data[pos + 32:pos + 32 + stored]
        if flags & 0xF == 1:
            payload = zlib.decompress(payload)
        out.append((tag, flags, payload))
        pos += 32 + stored
    return out


def join_sections(header: bytes, sections: list[tuple[bytes, int, bytes]],
                  compress: bool) -> bytes:
    """A file from sections, with sizes and CRCs made consistent."""
    parts = [header]
    for tag, flags, payload in sections:
        raw = len(payload)
        flags &= ~0xF
        if compress and raw >= 64:
            payload, flags = zlib.compress(payload, 1), flags | 1
        head = struct.pack("<4sIQQI", tag, flags, len(payload), raw, zlib.crc32(payload))
        parts += [head, struct.pack("<I", zlib.crc32(head)), payload]
    return b"".join(parts)


# -- wrong shapes behind valid checksums ------------------------------------------------
#
# The ``lines`` and ``memory`` extras are JSON the reporters index into. A file whose
# checksums are all right but whose JSON has the wrong shape (a row too short, a string
# where a number belongs, a frame index out of range) must be refused by the reader, or
# be one the reporters can show. These mutate the decoded JSON and re-encode the file
# with correct sizes and CRCs, so the decoders, not the checksums, judge them.

#: Values put in place of each JSON value: other types, edge numbers, empty containers.
REPLACEMENTS = [None, True, 0, -1, 10**6, 2**31 - 1, 2**31, 2**64, 0.5, -2.5, "", "x",
                [], [0], {}, {"a": 1}, [[0, 0]], [None] * 9]

_Path = tuple  # keys and indices from the section's root down to one value


def json_paths(value: object, path: _Path = ()) -> list[_Path]:
    """Every place in a JSON value, depth first (the root is ``()``)."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += json_paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += json_paths(v, path + (i,))
    return out


def _replaced(value: object, path: _Path, new: object, delete: bool = False) -> object:
    """A copy of ``value`` with the place at ``path`` set to ``new`` (or removed)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
    else:
        out = list(value)  # type: ignore[call-overload]
    if not rest and delete:
        del out[head]
    else:
        out[head] = _replaced(value[head], rest, new, delete)  # type: ignore[index]
    return out


def shape_variants(value: object) -> list[tuple[str, object]]:
    """Every single-place change of ``value``: each place replaced by each of
    ``REPLACEMENTS`` (when that changes it), removed, and each list grown by a copy of
    its last item; (description, changed value) pairs, deterministic."""
    out: list[tuple[str, object]] = []
    for path in json_paths(value):
        here = value
        for k in path:
            here = here[k]  # type: ignore[index]
        where = "".join(f"[{k!r}]" for k in path) or "(root)"
        for new in REPLACEMENTS:
            if type(new) is not type(here) or new != here:
                out.append((f"{where} = {new!r}", _replaced(value, path, new)))
        if path:
            out.append((f"del {where}", _replaced(value, path, None, delete=True)))
        if isinstance(here, list) and here:
            out.append((f"{where} += last item", _replaced(value, path, here + here[-1:])))
    return out


def with_extra(profile: Profile, name: str, value: object) -> bytes:
    """``profile``'s file with ``extra[name]`` replaced by ``value`` as raw JSON, valid
    checksums and all, bypassing the writer's own shape check."""
    import json
    sections = split_sections(dumps(profile))
    nb = name.encode()
    for k, (tag, flags, payload) in enumerate(sections):
        if tag == b"XTRA" and payload[4:4 + len(nb)] == nb and \
                struct.unpack_from("<I", payload)[0] == len(nb):
            body = json.dumps(value, separators=(",", ":")).encode()
            sections[k] = (tag, flags, payload[:4 + len(nb)] + body)
    return join_sections(dumps(profile)[:16], sections, compress=False)


def shape_seed_files() -> list[tuple[str, bytes]]:
    """(description, file bytes) of every shape variant of the seed ``lines`` and
    ``memory`` sections."""
    out = []
    for profile in seed_profiles():
        for name in ("lines", "memory"):
            if name in profile.extra:
                for what, value in shape_variants(profile.extra[name]):
                    out.append((f"{name}{what}", with_extra(profile, name, value)))
    return out


def mutate_json(rng: random.Random, profile: Profile, name: str) -> bytes:
    """One random shape change (1-3 places) of ``profile.extra[name]``, re-encoded."""
    value = profile.extra[name]
    for _ in range(rng.choice((1, 1, 2, 3))):
        path = rng.choice(json_paths(value))
        here = value
        for k in path:
            here = here[k]  # type: ignore[index]
        op = rng.random()
        if path and op < 0.15:
            value = _replaced(value, path, None, delete=True)
        elif isinstance(here, list) and here and op < 0.3:
            value = _replaced(value, path, here + here[-1:])
        else:
            value = _replaced(value, path, rng.choice(REPLACEMENTS))
    return with_extra(profile, name, value)


# -- the property -----------------------------------------------------------------------

def check(data: bytes) -> bool:
    """Load ``data``; True if it loaded. Raises AssertionError (or the unexpected
    exception) if the reader misbehaved."""
    try:
        profile = loads(data)
    except FormatError:
        return False
    again = loads(dumps(profile))   # anything read must be writable, and read back equal
    assert again == profile, "round trip of an accepted input changed it"
    return True


def test_one_input(data: bytes) -> None:
    """The atheris/libFuzzer entry point: the raw input, then with repaired CRCs."""
    check(data)
    check(rechecksum(data))


# -- plain mutation loop ----------------------------------------------------------------

_INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63 - 1,
                2**64 - 1]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        op = rng.randrange(7)
        if not b:
            b += rng.randbytes(rng.randrange(1, 8))
            continue
        i = rng.randrange(len(b))
        if op == 0:                                     # flip one bit
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:                                   # random byte
            b[i] = rng.randrange(256)
        elif op == 2:                                   # interesting integer
            w = rng.choice((1, 2, 4, 8))
            v = rng.choice(_INTERESTING) & ((1 << 8 * w) - 1)
            b[i:i + w] = v.to_bytes(w, "little")
        elif op == 3:                                   # delete a run
            del b[i:i + rng.randrange(1, 16)]
        elif op == 4:                                   # insert random bytes
            b[i:i] = rng.randbytes(rng.randrange(1, 16))
        elif op == 5:                                   # truncate
            del b[i:]
        else:                                           # duplicate a run
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randrange(1, 64)]
    return bytes(b)


def mutate(rng: random.Random, seed: bytes) -> bytes:
    """One test input: a whole-file mutation, CRCs repaired or not, or a mutation of one
    decompressed section payload re-wrapped into a consistent file."""
    r = rng.random()
    if r < 0.1:                                         # wrong JSON shape, valid CRCs
        profile = rng.choice([p for p in _SEED_PROFILES if "lines" in p.extra
                              or "memory" in p.extra])
        return mutate_json(rng, profile, rng.choice([n for n in ("lines", "memory")
                                                     if n in profile.extra]))
    if r < 0.3:
        return mutate_bytes(rng, seed)
    if r < 0.6:
        return rechecksum(mutate_bytes(rng, seed))
    sections = split_sections(seed)
    k = rng.randrange(len(sections))
    tag, flags, payload = sections[k]
    choice = rng.random()
    if choice < 0.8:
        sections[k] = (tag, flags, mutate_bytes(rng, payload))
    elif choice < 0.9:                                  # drop or duplicate a section
        if rng.random() < 0.5:
            del sections[k]
        else:
            sections.insert(k, sections[k])
    else:                                               # unknown section types
        sections.insert(k, (rng.choice((b"ZZZZ", b"LINE", tag)),
                            rng.choice((0, 0x10, 0x2)), rng.randbytes(rng.randrange(40))))
    return join_sections(seed[:16], sections, compress=rng.random() < 0.5)


def run(iterations: int = 20000, seed: int = 0, verbose: bool = False) -> dict[str, int]:
    """Run the bounded plain-Python mutation loop; returns counts of outcomes.

    Raises (AssertionError or the unexpected exception, with the input attached as a
    note) on the first input the reader mishandles.
    """
    rng = random.Random(seed)
    corpus = seeds()
    stats = {"inputs": 0, "loaded": 0, "rejected": 0}
    for n in range(iterations):
        data = mutate(rng, rng.choice(corpus))
        try:
            ok = check(data)
        except BaseException as e:
            if hasattr(e, "add_note"):
                e.add_note(f"fuzz input #{n} (seed {seed}): {data!r}")
            raise
        stats["inputs"] += 1
        stats["loaded" if ok else "rejected"] += 1
        if verbose and n and n % 10000 == 0:
            print(f"{n} inputs, {stats['loaded']} loaded", file=sys.stderr)
    return stats


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--atheris":
        import atheris                                  # pip install atheris
        atheris.instrument_all()                        # coverage of the loaded reader
        atheris.Setup([sys.argv[0], *argv[1:]], test_one_input)
        atheris.Fuzz()
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--iterations", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=None, help="default: time-based")
    ap.add_argument("--write-corpus", metavar="DIR",
                    help="write the seed files to DIR (for atheris/libFuzzer) and exit")
    args = ap.parse_args(argv)
    if args.write_corpus:
        os.makedirs(args.write_corpus, exist_ok=True)
        for i, data in enumerate(seeds()):
            with open(os.path.join(args.write_corpus, f"seed{i}.hprof"), "wb") as f:
                f.write(data)
        return 0
    seed = args.seed if args.seed is not None else int(time.time())
    t0 = time.perf_counter()
    stats = run(args.iterations, seed, verbose=True)
    print(f"seed {seed}: {stats['inputs']} inputs in {time.perf_counter() - t0:.1f}s, "
          f"{stats['loaded']} loaded, {stats['rejected']} rejected with FormatError, "
          f"no other exception")
    return 0


if __name__ == "__main__":
    sys.exit(main())
