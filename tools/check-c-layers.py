#!/usr/bin/env python3
"""Check the C sources' layers: no include circle, and includes point one way.

    tools/check-c-layers.py [SRC]      (SRC: the folder holding hotpath/; default src)

Reads every `#include "..."` of the C files under hotpath/_core/, hotpath/_timing/ and
hotpath/_preload/ and fails (exit 1, one line per problem) when:
  - an include names no file (a bare name is looked up beside the including file, a path
    such as "common/compat.h" under _core/, then under hotpath/ for "_preload/preload.h");
  - a folder includes one it may not: common/ includes only itself; func/, line/, mem/ and
    sample/ include themselves and common/ (mem/ also _preload/preload.h, the shim's contract);
    _timing/ includes itself and common/; _preload/ only itself;
  - two units include each other, directly or round a circle (a unit is a .c file with
    its .h: x.c including y.h and y.c including x.h is the circle linesampler.c and
    lineprof.c once made).
Exit 2 when SRC has no hotpath/_core.
"""
import re
import sys
from pathlib import Path

ALLOWED = {
    "common": {"common"},
    "func": {"func", "common"},
    "line": {"line", "common"},
    "mem": {"mem", "common", "_preload"},
    "sample": {"sample", "common"},
    "_timing": {"_timing", "common"},
    "_preload": {"_preload"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folders(src: Path) -> dict[str, Path]:
    pkg = src / "hotpath"
    out = {d.name: d for d in sorted((pkg / "_core").iterdir()) if d.is_dir()}
    for name in ("_timing", "_preload"):
        if (pkg / name).is_dir():
            out[name] = pkg / name
    return out


def check(src: Path) -> list[str]:
    pkg = src / "hotpath"
    core = pkg / "_core"
    dirs = folders(src)
    where = {path: name for name, path in dirs.items()}
    problems = []
    deps: dict[Path, set[Path]] = {}       # unit (path without suffix) -> units it includes

    for name, folder in dirs.items():
        if name not in ALLOWED:
            problems.append(f"{folder.relative_to(src)}: a folder the layer rules do not "
                            "know (add it to ALLOWED in tools/check-c-layers.py)")
            continue
        for f in sorted(folder.glob("*.[ch]")):
            unit = f.with_suffix("")
            deps.setdefault(unit, set())
            for inc in INCLUDE.findall(f.read_text()):
                target = next((c for c in ((f.parent / inc) if "/" not in inc else None,
                                           core / inc, pkg / inc) if c and c.is_file()), None)
                rel = f.relative_to(src)
                if target is None:
                    problems.append(f'{rel}: #include "{inc}" names no file')
                    continue
                to = where.get(target.parent)
                if to not in ALLOWED[name]:
                    problems.append(f'{rel}: #include "{inc}": {name}/ may not include '
                                    f"{to}/ (allowed: {', '.join(sorted(ALLOWED[name]))})")
                if target.with_suffix("") != unit:
                    deps[unit].add(target.with_suffix(""))

    # circles between units (iterative DFS; each circle reported once, from its start)
    state: dict[Path, int] = {}
    for start in sorted(deps):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(deps[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                circle = path[path.index(nxt):] + [nxt]
                problems.append("include circle: " + " -> ".join(
                    str(u.relative_to(src)) for u in circle))
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(deps.get(nxt, ())))))
    return problems


def main(argv: list[str]) -> int:
    src = Path(argv[1] if len(argv) > 1 else "src")
    if not (src / "hotpath" / "_core").is_dir():
        print(f"check-c-layers: {src}/hotpath/_core is not a folder", file=sys.stderr)
        return 2
    problems = check(src)
    for p in problems:
        print(p)
    if not problems:
        print("check-c-layers: no include circle; every include points down a layer")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
