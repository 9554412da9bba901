#!/usr/bin/env python3
"""Compare two trees written by tools/export-all.sh (BEFORE and AFTER).

    python tools/export-diff.py BEFORE AFTER

* ``AFTER/same/`` holds BEFORE's own profiles exported by the new code: every file must
  equal BEFORE's export of the same profile byte for byte, except the HTML report's
  time stamp and the .hprof inputs themselves.
* ``AFTER/runs/`` are fresh runs, whose timings differ from BEFORE's (and so does the
  shape of anything drawn or ordered by time: flame graphs, HTML, the top-20 table):
  their pstats files are compared by functions and call counts, ``hotpath report``
  (every row) with numbers masked and rows sorted, the run's stdout, its ``hotpath:``
  lines on stderr, and the export logs. The exports themselves are covered by ``same``.

Prints one line per difference and exits 1 if there is any.
"""
from __future__ import annotations

import marshal
import pathlib
import re
import sys

_STAMP = re.compile(r"generated [^<\"]*|\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?")
_NUM = re.compile(r"0x[0-9a-f]+|[-+]?\d+(\.\d+)?(e[-+]?\d+)?")
_SPACE = re.compile(r"\s+")


def _exact(p: pathlib.Path) -> bytes:
    data = p.read_bytes()
    if p.suffix == ".html":
        data = _STAMP.sub("<stamp>", data.decode("utf-8", "replace")).encode()
    return data


def _key(k: tuple) -> tuple:
    return (k[0], k[1], _NUM.sub("#", k[2]))     # reprs of C functions hold addresses


def _pstats_shape(p: pathlib.Path) -> object:
    stats = marshal.loads(p.read_bytes())
    return sorted((_key(k), cc, nc, sorted((_key(ck), c[0], c[1]) for ck, c in callers.items()))
                  for k, (cc, nc, _tt, _ct, callers) in stats.items())


def _masked(lines: list[str]) -> list[str]:
    return sorted(_SPACE.sub(" ", _NUM.sub("#", line)).strip() for line in lines)


def _loose(p: pathlib.Path) -> object:
    if p.suffix == ".pstats":
        return _pstats_shape(p)
    lines = p.read_text("utf-8", "replace").splitlines()
    if p.suffix == ".stderr":
        lines = [line for line in lines if line.startswith("hotpath")]
    return _masked(lines)


def _loose_kind(name: str) -> bool:
    return name.endswith((".pstats", ".report.txt", ".stdout", ".stderr", ".log"))


def main() -> int:
    before, after = (pathlib.Path(a) for a in sys.argv[1:3])
    bad = 0
    checked = 0
    for sub, ref, compare in (("same", "runs", _exact), ("runs", "runs", _loose)):
        for a in sorted((after / sub).glob("*")):
            if a.suffix == ".hprof" or (compare is _loose and not _loose_kind(a.name)):
                continue
            b = before / ref / a.name
            checked += 1
            if not b.exists():
                print(f"only in after: {sub}/{a.name}")
                bad += 1
            elif compare(a) != compare(b):
                print(f"differs: {sub}/{a.name}")
                bad += 1
        for b in sorted((before / ref).glob("*")):
            if b.suffix != ".hprof" and not (after / sub / b.name).exists() and \
                    not b.name.endswith((".stdout", ".stderr", ".memory.svg", ".memory.png")):
                print(f"only in before: {sub}/{b.name}")
                bad += 1
    print(f"export-diff: {checked} files compared, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
