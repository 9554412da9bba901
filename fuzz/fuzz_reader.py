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
                {"python": "3.11"}, {"lines": {"app.py:10": [1, 2, 3]},
                                     "memory": list(range(600))}),
    ]


def seeds() -> list[bytes]:
    return [dumps(p) for p in seed_profiles()]


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
