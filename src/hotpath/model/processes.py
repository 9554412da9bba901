"""Processes: the typed model of a profile's ``extra["processes"]`` section, and the
merge of one process's profile into another's.

A profile of a whole program (``hotpath run`` following its children, or Dask workers
gathered by ``hotpath.dask``) holds the threads of every process in ``profile.threads``,
so every merged view (flat totals, edges, flame graph, exports) covers them all. The
section says which threads came from which process, and the processes whose profile is
missing::

    [{"pid": int, "ppid": int, "argv": [str, ...], "label": str,
      "start": float, "end": float | null,         # wall-clock seconds (time.time())
      "threads": [thread index, ...],               # into profile.threads
      "status": "profiled" | "missing",
      "reason": str},                               # why it is missing ("" if profiled)
     ...]

Entry 0 is the process the profile was written by (the root of the tree); a thread that
no entry lists belongs to it. ``ProcessInfo`` is one entry; ``processes(profile)`` reads
them (one implicit entry for a profile without the section), ``add_process`` merges a
child's profile in. Bottom layer: imports only the rest of the model.
"""
from __future__ import annotations

from array import array

from .calltree import ROOT, Profile, ThreadProfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ProcessInfo", "processes", "set_processes", "add_process", "threads_of",
           "process_tree"]

SECTION = "processes"


class ProcessInfo:
    """One process of a profile (see the module docstring for the fields)."""

    __slots__ = ("pid", "ppid", "argv", "label", "start", "end", "threads", "status",
                 "reason")

    def __init__(self, pid: int, ppid: int = 0, argv: list[str] | None = None,
                 label: str = "", start: float = 0.0, end: float | None = None,
                 threads: list[int] | None = None, status: str = "profiled",
                 reason: str = "") -> None:
        self.pid = pid
        self.ppid = ppid
        self.argv = list(argv or [])
        self.label = label
        self.start = start
        self.end = end
        self.threads = list(threads or [])
        self.status = status
        self.reason = reason

    @property
    def missing(self) -> bool:
        return self.status != "profiled"

    @property
    def command(self) -> str:
        """The command line, for display (the program by its base name: ``python -c …``)."""
        if self.label:
            return self.label
        if self.argv:
            return " ".join([self.argv[0].rsplit("/", 1)[-1], *self.argv[1:]])
        return f"pid {self.pid}"

    @property
    def seconds(self) -> float | None:
        return None if self.end is None or not self.start else max(self.end - self.start, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ProcessInfo:
        return cls(**{k: d[k] for k in cls.__slots__ if k in d})

    def __repr__(self) -> str:
        return f"ProcessInfo(pid={self.pid}, ppid={self.ppid}, status={self.status!r})"


def processes(profile: Profile) -> list[ProcessInfo]:
    """The processes of ``profile``: entry 0 is the writer; threads no entry lists are
    put in it. A profile without the section is one process owning every thread."""
    rows = profile.extra.get(SECTION)
    if not rows:
        meta = profile.meta
        argv = meta.get("argv") or []
        return [ProcessInfo(int(meta.get("pid", 0) or 0), 0, argv,
                            str(meta.get("command", "")), float(meta.get("start_time", 0) or 0),
                            None, list(range(len(profile.threads))))]
    out = [ProcessInfo.from_json(r) for r in rows]
    listed = {i for p in out for i in p.threads}
    rest = [i for i in range(len(profile.threads)) if i not in listed]
    if rest:
        out[0].threads = sorted(set(out[0].threads) | set(rest))
    return out


def set_processes(profile: Profile, procs: list[ProcessInfo]) -> None:
    profile.extra[SECTION] = [p.to_json() for p in procs]


def threads_of(profile: Profile, pid: int) -> list[ThreadProfile]:
    """The threads of process ``pid`` (none for an unknown pid)."""
    for p in processes(profile):
        if p.pid == pid:
            return [profile.threads[i] for i in p.threads if i < len(profile.threads)]
    return []


def process_tree(procs: list[ProcessInfo]) -> list[tuple[ProcessInfo, int]]:
    """``(process, depth)`` depth first from entry 0, children in start order; a process
    whose parent is not in the list hangs under entry 0."""
    if not procs:
        return []
    pids = {p.pid for p in procs}
    kids: dict[int, list[ProcessInfo]] = {}
    root = procs[0]
    for p in procs[1:]:
        up = p.ppid if p.ppid in pids and p.ppid != p.pid else root.pid
        kids.setdefault(up, []).append(p)
    out: list[tuple[ProcessInfo, int]] = []
    seen: set[int] = set()
    stack = [(root, 0)]
    while stack:
        p, d = stack.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        out.append((p, d))
        below = sorted(kids.get(p.pid, []), key=lambda q: (q.start, q.pid))
        stack.extend((q, d + 1) for q in reversed(below))
    out.extend((p, 1) for p in procs if id(p) not in seen)    # cycles (pid reuse)
    return out


def add_process(base: Profile, child: Profile | None, info: ProcessInfo,
                rename: bool = True) -> ProcessInfo:
    """Merge ``child`` (a profile of one process; None when it is missing) into ``base``,
    in place, as the process ``info``: its functions join the function table, its ticks
    are rescaled to ``base.tick_seconds``, its threads are appended (named
    "<name> [pid N]" with ``rename``), line timings are added up and allocations
    merged (``_merge_memory``). ``info.threads``
    is set to the new threads' indices; ``info`` is appended to the section (created
    with an entry for ``base``'s own process first) and returned."""
    procs = processes(base) if base.extra.get(SECTION) else _own_entry(base)
    info.threads = []
    if child is not None:
        index = {f.pstats_key: i for i, f in enumerate(base.functions)}
        remap = array("i", [0]) * len(child.functions)
        for k, f in enumerate(child.functions):
            j = index.get(f.pstats_key)
            if j is None:
                j = index[f.pstats_key] = len(base.functions)
                base.functions.append(f)
            remap[k] = j
        ratio = child.tick_seconds / base.tick_seconds if base.tick_seconds else 1.0
        for t in child.threads:
            func = array("i", (ROOT if f == ROOT else remap[f] for f in t.func))
            selft, total = t.self_ticks, t.total_ticks
            if abs(ratio - 1.0) > 1e-12:
                selft = array("q", (round(x * ratio) for x in selft))
                total = array("q", (round(x * ratio) for x in total))
            name = f"{t.name} [pid {info.pid}]" if rename else t.name
            info.threads.append(len(base.threads))
            base.threads.append(ThreadProfile.from_columns(
                t.thread_id, name, func, array("i", t.parent), array("q", t.calls),
                selft, total, truncated=t.truncated))
        _merge_lines(base, child)
        _merge_memory(base, child)
    procs.append(info)
    set_processes(base, procs)
    return info


def _own_entry(base: Profile) -> list[ProcessInfo]:
    meta = base.meta
    own = ProcessInfo(int(meta.get("pid", 0) or 0), int(meta.get("ppid", 0) or 0),
                      list(meta.get("argv") or []), str(meta.get("command", "")),
                      float(meta.get("start_time", 0) or 0), None,
                      list(range(len(base.threads))))
    if meta.get("start_time") and meta.get("duration") is not None:
        own.end = own.start + float(meta["duration"])
    return [own]


def _merge_lines(base: Profile, child: Profile) -> None:
    """Add ``child``'s line timings (``extra["lines"]``) to ``base``'s, function by
    function and line by line (times converted to ``base``'s unit)."""
    theirs = child.extra.get("lines")
    if not theirs or not theirs.get("functions"):
        return
    ours = base.extra.get("lines")
    if ours is None:
        base.extra["lines"] = ours = {k: v for k, v in theirs.items() if k != "functions"}
        ours["functions"] = []
    unit = ours.get("unit") or 1e-9
    scale = (theirs.get("unit") or 1e-9) / unit
    by_key = {(f["filename"], f["lineno"], f["name"]): f for f in ours.setdefault("functions", [])}
    for f in theirs["functions"]:
        key = (f["filename"], f["lineno"], f["name"])
        mine = by_key.get(key)
        if mine is None:
            mine = by_key[key] = {**f, "lines": []}
            ours["functions"].append(mine)
        rows = {r[0]: [r[0], r[1], r[2]] for r in mine["lines"]}
        for line, hits, t in f["lines"]:
            r = rows.setdefault(line, [line, 0, 0])
            r[1] += hits
            r[2] += round(t * scale)
        mine["lines"] = [rows[k] for k in sorted(rows)]


#: memory totals that add up across processes (the rest: see ``_merge_memory``)
_SUMMED = ("alloc_count", "alloc_bytes", "free_count", "free_bytes", "live_count",
           "live_bytes", "peak_count", "peak_bytes", "samples", "tracker_bytes",
           "own_bytes", "own_count", "reserved_bytes", "reserved_touched", "reserved_max",
           "reserved_count", "mappings")


def _merge_memory(base: Profile, child: Profile) -> None:
    """Add ``child``'s allocations (``extra["memory"]``, docs/memory.md) to ``base``'s:
    its functions and frames join the tables (remapped), its stacks are added to the
    equal stack of ``base`` or appended, line rows are added up, and the totals are
    summed: live bytes are what every process held at its end, and the peak is the sum
    of each process's own peak (an upper bound of the whole program's, as processes do not
    peak at the same moment; ``peak_time`` stays ``base``'s). The timeline stays
    ``base``'s own process's (the processes' clocks start apart)."""
    from .memory import stack_rows, with_stack_rows
    theirs = child.extra.get("memory")
    if not isinstance(theirs, dict):
        return
    ours = base.extra.get("memory")
    if not isinstance(ours, dict):
        ours = base.extra["memory"] = {
            k: v for k, v in theirs.items()
            if k not in ("functions", "frames", "stacks", "tree", "totals", "timeline",
                         "lines")}
        ours.update(functions=[], frames=[], stacks=[], totals={},
                    timeline={"t": [], "rss": [], "heap": [], "reserved": []})
    # The stacks are merged as rows (a stack's frames spelled out), then kept as a tree.
    ours["stacks"] = stack_rows(ours)
    theirs_stacks = stack_rows(theirs)
    funcs = ours.setdefault("functions", [])
    fidx = {tuple(f): i for i, f in enumerate(funcs)}
    fmap = []
    for f in theirs.get("functions", []):
        j = fidx.get(tuple(f))
        if j is None:
            j = fidx[tuple(f)] = len(funcs)
            funcs.append(list(f))
        fmap.append(j)
    frames = ours.setdefault("frames", [])
    widx = {(int(f[0]), int(f[1])): i for i, f in enumerate(frames)}
    wmap = []
    for func, line in theirs.get("frames", []):
        key = (fmap[int(func)], int(line))
        j = widx.get(key)
        if j is None:
            j = widx[key] = len(frames)
            frames.append([key[0], key[1]])
        wmap.append(j)
    stacks = ours.setdefault("stacks", [])
    sidx = {(tuple(st[0]), int(st[1]), int(st[2])): st for st in stacks}
    for st in theirs_stacks:
        key = (tuple(wmap[w] for w in st[0]), int(st[1]), int(st[2]))
        mine = sidx.get(key)
        if mine is None:
            mine = sidx[key] = [list(key[0]), st[1], st[2], 0, 0, 0, 0, 0, 0]
            stacks.append(mine)
        for k in range(3, 9):
            mine[k] += st[k]
    totals = ours.setdefault("totals", {})
    for k in _SUMMED:
        if k in theirs.get("totals", {}):
            totals[k] = totals.get(k, 0) + theirs["totals"][k]
    totals.setdefault("peak_time", theirs.get("totals", {}).get("peak_time", 0.0))
    totals["duration"] = max(totals.get("duration", 0.0),
                             theirs.get("totals", {}).get("duration", 0.0))
    if theirs.get("lines"):
        rows_by = {(f["filename"], f["lineno"], f["name"]): f
                   for f in ours.setdefault("lines", [])}
        for f in theirs["lines"]:
            mine = rows_by.get((f["filename"], f["lineno"], f["name"]))
            if mine is None:
                mine = rows_by[(f["filename"], f["lineno"], f["name"])] = {**f, "lines": []}
                ours["lines"].append(mine)
            rows = {r[0]: list(r) for r in mine["lines"]}
            for r in f["lines"]:
                have = rows.setdefault(r[0], [r[0]] + [0] * (len(r) - 1))
                have[1] = max(have[1], r[1])     # memory in use there: per process
                for k in range(2, len(r)):
                    have[k] += r[k]                 # increments and occurrences add up
            mine["lines"] = [rows[k] for k in sorted(rows)]
    with_stack_rows(ours, ours["stacks"])
