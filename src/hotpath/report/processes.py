"""The process tree of a whole-program profile, as text: one line per process (pid,
command, wall time, calls and time recorded in it), children indented under their
parent, and the processes whose profile is missing with the reason."""
from __future__ import annotations

from hotpath.model import Profile
from hotpath.model.processes import ProcessInfo, process_tree, processes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

__all__ = ["format_processes", "print_processes", "process_totals"]


def process_totals(profile: Profile, p: ProcessInfo) -> tuple[int, int]:
    """(calls, ticks in top-level frames) recorded in ``p``'s threads."""
    calls = ticks = 0
    for i in p.threads:
        if i < len(profile.threads):
            t = profile.threads[i]
            calls += sum(t.calls)
            ticks += sum(t.total_ticks[c] for c in t.top_level())
    return calls, ticks


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def format_processes(profile: Profile) -> str:
    """The process tree (empty for a one-process profile)."""
    procs = processes(profile)
    if len(procs) < 2:
        return ""
    missing = [p for p in procs if p.missing]
    head = f"hotpath: {len(procs)} processes, merged in the table above"
    if missing:
        head += f"; {len(missing)} without a profile"
    out = [head, f"  {'pid':>8} {'wall s':>8} {'calls':>10} {'time s':>8}  command"]
    sec = profile.tick_seconds
    for p, depth in process_tree(procs):
        wall = p.seconds
        w = f"{wall:8.2f}" if wall is not None else f"{'':>8}"
        indent = "  " * depth + ("└ " if depth else "")
        if p.missing:
            out.append(f"  {p.pid:>8} {w} {'-':>10} {'-':>8}  {indent}{_short(p.command)}"
                       f"  [no profile: {p.reason}]")
            continue
        calls, ticks = process_totals(profile, p)
        line = f"  {p.pid:>8} {w} {calls:>10,} {ticks * sec:8.3f}  {indent}{_short(p.command)}"
        if p.reason:
            line += f"  [{p.reason}]"
        out.append(line)
    return "\n".join(out) + "\n"


def print_processes(profile: Profile, stream: IO[str]) -> None:
    text = format_processes(profile)
    if text:
        stream.write(text)
