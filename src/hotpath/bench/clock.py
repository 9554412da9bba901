"""Which clock a benchmark reads, chosen once per comparison and always said.

Every cell of one comparison (``hotpath.compare``, several ``hotpath bench``
statements, the sizes of a ``--sizes`` run) is timed on **one** clock: a ratio of a
CPU time to a wall-clock time means nothing, and a verdict built on one is wrong
("the same function is 2.7x faster than itself"). The choice is made before the
measured rounds, recorded in every result (``options["clock"]``,
``options["clock_reason"]``), printed with the results and saved with them.

``timer="auto"`` (the default) probes each target for a few rounds on the wall clock,
the thread's CPU clock and the process's CPU clock at once, and counts the thread's
voluntary context switches (Linux ``RUSAGE_THREAD``):

* the thread's **CPU time** when every target runs on its own thread without waiting:
  then the gap between wall and CPU time is other programs holding the CPU, which
  says nothing about the code, however busy the machine;
* the **wall clock** when any target waits — it sleeps, blocks on I/O, a lock or other
  threads (voluntary switches in every probe round, and no round near full CPU use),
  or has other threads of the process do the work (process CPU time well above the
  thread's) — or when any target is ``async def`` (the event loop waits). The reason
  names the target.

A named timer (``"perf"``, ``"process"``, ``"thread"``) or a callable is used as asked.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

try:                                    # Linux: the calling thread's own counters
    import resource
    _RUSAGE_THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)
except ImportError:                     # pragma: no cover - not POSIX
    resource = None                     # type: ignore[assignment]
    _RUSAGE_THREAD = None

__all__ = ["ClockChoice", "Probe", "choose", "label", "LABELS", "CPU_RATIO", "probe_round"]

#: What each clock name means, as printed.
LABELS = {"perf": "wall clock", "process": "process CPU time", "thread": "thread CPU time",
          "custom": "custom timer"}

#: A round in which the thread was on the CPU for at least this fraction of the wall
#: time did not wait: the code runs on this thread.
CPU_RATIO = 0.9
#: Other threads of the process doing at least this fraction of the thread's CPU time
#: during a probe means the code hands work to them.
OTHER_THREADS = 0.25


def label(clock: str | None) -> str:
    """``"thread CPU time"`` for ``"thread"``, and so on."""
    return LABELS.get(clock or "perf", str(clock))


def voluntary_switches() -> int | None:
    """The calling thread's voluntary context switches so far (None where unknown)."""
    if _RUSAGE_THREAD is None:
        return None
    return resource.getrusage(_RUSAGE_THREAD).ru_nvcsw


@dataclass
class Probe:
    """Probe rounds of one target: per round, wall, thread-CPU and process-CPU
    nanoseconds and the thread's voluntary context switches (None where unknown)."""

    wall: list[int] = field(default_factory=list)
    cpu: list[int] = field(default_factory=list)
    process: list[int] = field(default_factory=list)
    switches: list[int | None] = field(default_factory=list)

    def add(self, wall: int, cpu: int, process: int, switches: int | None) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.process.append(process)
        self.switches.append(switches)

    def best_ratio(self) -> float:
        """The highest CPU / wall ratio of any round (1.0 when nothing was timed)."""
        ratios = [c / w for w, c in zip(self.wall, self.cpu) if w > 0]
        return max(ratios) if ratios else 1.0

    def waits(self) -> str | None:
        """Why this code waits (sleep, I/O, locks), or None when it does not."""
        if not self.wall or self.best_ratio() >= CPU_RATIO:
            return None
        known = [s for s in self.switches if s is not None]
        if len(known) == len(self.switches):
            if min(known) == 0:
                return None          # some round never blocked: the gap was other programs
            return (f"it waits: {min(known)}+ voluntary context switches per round, on the "
                    f"CPU at most {self.best_ratio():.0%} of the time")
        return f"on the CPU at most {self.best_ratio():.0%} of the time"

    def other_threads(self) -> str | None:
        """Why this code seems to run on other threads of the process, or None."""
        cpu, proc = sum(self.cpu), sum(self.process)
        if cpu > 0 and proc - cpu > OTHER_THREADS * cpu:
            return f"other threads of the process worked {(proc - cpu) / cpu:.0%} as long"
        return None


def probe_round(run: Any) -> tuple[int, int, int, int | None]:
    """Call ``run()`` — a C round timed on the wall and thread clocks, returning
    ``(wall_ns, cpu_ns)`` — and add what the process's CPU clock and the thread's
    context-switch counter saw. Returns (wall, cpu, process, switches)."""
    s0 = voluntary_switches()
    p0 = time.process_time_ns()
    wall, cpu = run()
    p1 = time.process_time_ns()
    s1 = voluntary_switches()
    return wall, cpu, p1 - p0, (s1 - s0 if s0 is not None and s1 is not None else None)


@dataclass(frozen=True)
class ClockChoice:
    """The one clock of a comparison. ``timer`` is what was asked (``"auto"``, a clock
    name, or a callable's name), ``clock`` what is read (``perf`` / ``process`` /
    ``thread`` / ``custom``), ``reason`` why, in words."""

    clock: str
    timer: str
    reason: str

    @property
    def label(self) -> str:
        return label(self.clock)

    def describe(self) -> str:
        """``thread CPU time (timer auto: ...)``: what is printed with results."""
        return f"{self.label} (timer {self.timer}: {self.reason})"

    def as_dict(self) -> dict:
        return {"clock": self.clock, "timer": self.timer, "reason": self.reason}


def fixed(timer: str, clock: str) -> ClockChoice:
    """The choice for a timer the user named."""
    return ClockChoice(clock, timer, "as asked")


def choose(targets: Sequence[tuple[str, Probe | None]]) -> ClockChoice:
    """timer="auto": one clock for every target. Each target is (name, probe), the
    probe None for an ``async def`` target (timed on the wall clock)."""
    for name, probe in targets:
        if probe is None:
            return ClockChoice("perf", "auto", f"{name} is async; the event loop may wait")
    for name, probe in targets:
        why = probe.waits() or probe.other_threads()
        if why:
            return ClockChoice("perf", "auto", f"{name}: {why}")
    return ClockChoice("thread", "auto", "the code runs on this thread without waiting")


def median(values: Sequence[float]) -> float:
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
