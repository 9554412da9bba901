"""The worker process that hotpath.bench.counts starts under callgrind: it rebuilds each
benchmark target from its spec (hotpath.bench.counts.spec_for) and counts it with
counting switched on only inside the timed region. Its own module, so that the counting
code (imported by the runner) does not import the runner back.

    python -m hotpath.bench.countworker SPEC.pickle OUT.json
"""
from __future__ import annotations

import json
import pickle
import sys

from .counts import count_target
from .runner import Options, Timed


def timed_from_spec(spec: dict):
    opts = Options(**spec["options"])
    if spec.get("stmt") is not None:
        return Timed(spec["stmt"], setup=spec.get("setup") or "pass", options=opts,
                     name=spec.get("name"))
    return Timed(spec["func"], spec.get("args", ()), spec.get("kwargs") or {}, options=opts,
                 name=spec.get("name"))


def main(spec_path: str, out_path: str) -> int:
    with open(spec_path, "rb") as fh:
        specs = pickle.load(fh)
    out = []
    for spec in specs:
        t = timed_from_spec(spec)
        out.append(count_target(t, spec["loops"], how="callgrind"))
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
