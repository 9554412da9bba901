"""The process tree of a whole-program profile: one row per process (pid, command, its
span against the run, calls and time recorded in it, and the time it spent waiting on
its children), children under their parent, and the processes whose profile is missing
with the reason. ``process_rows`` is the one analysis; the text here and the HTML
report's Processes view both show it."""
from __future__ import annotations

import os

from hotpath.model import Profile
from hotpath.model.processes import ProcessInfo, process_tree, processes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = ["format_processes", "print_processes", "process_totals", "process_rows",
           "WAITS"]

#: The calls in which a process waits for its child processes (or for work they do):
#: (file, ending with; qualified name), and C functions by name. Only the outermost such
#: call of a stack counts (``subprocess.run`` -> ``Popen.communicate`` -> ``Popen.wait``
#: is one wait).
WAITS: tuple[tuple[str, str], ...] = (
    ("subprocess.py", "Popen.wait"), ("subprocess.py", "Popen.communicate"),
    ("subprocess.py", "run"), ("subprocess.py", "call"), ("subprocess.py", "check_call"),
    ("subprocess.py", "check_output"),
    ("multiprocessing/pool.py", "Pool.map"), ("multiprocessing/pool.py", "Pool.starmap"),
    ("multiprocessing/pool.py", "ApplyResult.get"), ("multiprocessing/pool.py", "ApplyResult.wait"),
    ("multiprocessing/pool.py", "IMapIterator.next"), ("multiprocessing/pool.py", "Pool.join"),
    ("multiprocessing/process.py", "BaseProcess.join"),
    ("concurrent/futures/_base.py", "Future.result"), ("concurrent/futures/_base.py", "wait"),
    ("concurrent/futures/_base.py", "as_completed"),
    ("concurrent/futures/_base.py", "Executor.map.<locals>.result_iterator"),
    ("concurrent/futures/process.py", "ProcessPoolExecutor.shutdown"),
    ("distributed/client.py", "Client.gather"), ("distributed/client.py", "Future.result"),
    ("distributed/client.py", "Client.get"), ("distributed/client.py", "wait"),
)
_C_WAITS = ("posix.waitpid", "posix.wait", "posix.wait4", "posix.waitid")


def process_totals(profile: Profile, p: ProcessInfo) -> tuple[int, int]:
    """(calls, ticks in top-level frames) recorded in ``p``'s threads."""
    calls = ticks = 0
    for i in p.threads:
        if i < len(profile.threads):
            t = profile.threads[i]
            calls += sum(t.calls)
            ticks += sum(t.total_ticks[c] for c in t.top_level())
    return calls, ticks


def _wait_functions(profile: Profile) -> dict[int, str]:
    """Function index -> its display name, for the functions in ``WAITS``."""
    by_name: dict[str, list[tuple[str, str]]] = {}
    for tail, qual in WAITS:
        # a module-level function is shown with its module: subprocess.run
        shown = qual if "." in qual else f"{tail[:-3].replace('/', '.').replace('._base', '')}.{qual}"
        by_name.setdefault(qual, []).append((os.sep + tail.replace("/", os.sep), shown))
    out = {}
    for i, f in enumerate(profile.functions):
        if f.is_builtin:
            name = f.name.removeprefix("<built-in method ").rstrip(">")
            if name in _C_WAITS:
                out[i] = name
            continue
        for tail, shown in by_name.get(f.qualname or f.name, ()):
            if f.filename.endswith(tail):
                out[i] = shown
                break
    return out


def child_waits(profile: Profile, p: ProcessInfo,
                waits: dict[int, str] | None = None) -> tuple[int, dict[str, int]]:
    """Ticks ``p``'s threads spent in calls that wait on child processes (outermost
    calls only), and the same per waiting function."""
    if waits is None:
        waits = _wait_functions(profile)
    total = 0
    per: dict[str, int] = {}
    if not waits:
        return 0, per
    for i in p.threads:
        if i >= len(profile.threads):
            continue
        func, parent, _, _, ticks = profile.threads[i].columns()
        inside = [False] * len(func)       # under a wait call already (parents come first)
        for n in range(1, len(func)):
            up = parent[n]
            if inside[up]:
                inside[n] = True
                continue
            name = waits.get(func[n])
            if name is not None:
                inside[n] = True
                total += ticks[n]
                per[name] = per.get(name, 0) + ticks[n]
    return total, per


def process_rows(profile: Profile) -> list[dict[str, Any]]:
    """One row per process, in tree order: ``proc`` (ProcessInfo), ``depth``, ``calls``,
    ``seconds`` (time recorded in its threads), ``begin``/``end`` (seconds from the
    first process's start; None when unknown), ``waited`` (seconds in calls that wait on
    its children; None for a process without children) and ``waits`` ([(function,
    seconds)], largest first). Empty for a one-process profile."""
    procs = processes(profile)
    if len(procs) < 2:
        return []
    sec = profile.tick_seconds
    tree = process_tree(procs)
    parents = {p.ppid for p in procs[1:]} | {procs[0].pid}
    origin = min((p.start for p in procs if p.start), default=0.0)
    waits = _wait_functions(profile)
    rows = []
    for p, depth in tree:
        calls, ticks = process_totals(profile, p)
        row: dict[str, Any] = {"proc": p, "depth": depth, "calls": calls,
                               "seconds": ticks * sec, "begin": None, "end": None,
                               "waited": None, "waits": []}
        if p.start and origin:
            row["begin"] = p.start - origin
            if p.end is not None:
                row["end"] = p.end - origin
        if p.pid in parents and not p.missing and p.threads:
            w, per = child_waits(profile, p, waits)
            row["waited"] = w * sec
            row["waits"] = sorted(((k, v * sec) for k, v in per.items()),
                                  key=lambda kv: -kv[1])
        rows.append(row)
    return rows


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _span(row: dict[str, Any]) -> str:
    if row["begin"] is None:
        return ""
    end = f"{row['end']:.2f}" if row["end"] is not None else "?"
    return f"{row['begin']:.2f}–{end}"


def format_processes(profile: Profile) -> str:
    """The process tree (empty for a one-process profile), and where each parent
    waited on its children."""
    rows = process_rows(profile)
    if not rows:
        return ""
    missing = [r for r in rows if r["proc"].missing]
    head = f"hotpath: {len(rows)} processes, merged in the table above"
    if missing:
        head += f"; {len(missing)} without a profile"
    out = [head, f"  {'pid':>8} {'span s':>13} {'calls':>10} {'time s':>8} {'waited s':>8}"
                 f"  command"]
    notes = []
    for r in rows:
        p = r["proc"]
        indent = "  " * r["depth"] + ("└ " if r["depth"] else "")
        if p.missing:
            out.append(f"  {p.pid:>8} {_span(r):>13} {'-':>10} {'-':>8} {'':>8}  "
                       f"{indent}{_short(p.command)}  [no profile: {p.reason}]")
            continue
        waited = f"{r['waited']:8.3f}" if r["waited"] is not None else f"{'':>8}"
        line = (f"  {p.pid:>8} {_span(r):>13} {r['calls']:>10,} {r['seconds']:8.3f} "
                f"{waited}  {indent}{_short(p.command)}")
        if p.reason:
            line += f"  [{p.reason}]"
        out.append(line)
        if r["waits"]:
            wall = p.seconds
            share = f" ({r['waited'] / wall:.0%} of its run)" if wall else ""
            top = ", ".join(f"{k} {v:.3f} s" for k, v in r["waits"][:4])
            notes.append(f"  pid {p.pid} waited on its children {r['waited']:.3f} s"
                         f"{share}: {top}")
    out.append("  (span: seconds from the first process's start; waited: time in calls "
               "that wait on child processes)")
    out.extend(notes)
    return "\n".join(out) + "\n"


def print_processes(profile: Profile, stream: IO[str]) -> None:
    text = format_processes(profile)
    if text:
        stream.write(text)
