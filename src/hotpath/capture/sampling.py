"""``hotpath.Sampler``: the sampling profiler (the C core's ``sample/``).

A background thread takes the GIL every ``1/rate`` seconds and reads every thread's
Python stack; each sample adds to that thread's calling-context tree. The trees are the
function profiler's shape, so every report, export, ``view`` and ``diff`` reads them, with
two differences the profile's meta states (``meta["sampled"]``, and a note the reports
print): a node's ``calls`` is the number of samples with that path on the stack, and its
times are *estimates* — each sample stands for the wall time since the previous one
(``clock="wall"``) or for the thread's own CPU time since its previous sample
(``clock="cpu"``: threads off the CPU are not counted).

Rate: no thread is made to wait. When the main thread holds the GIL (a program running
Python), it takes the sample itself, at its next eval-breaker check, from a pending call
the sampler thread posts (no thread switch); otherwise the sampler thread takes the GIL,
asking its holder to drop it at once rather than after the switch interval
(``sys.setswitchinterval`` is left alone). The rate reached is in
``meta["sampling"]["effective_hz"]``.

    with hotpath.Sampler() as s:
        work()
    s.snapshot()            # a hotpath.model.Profile
"""
from __future__ import annotations

import os

from hotpath import _core

from ._runmixin import RunMixin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from hotpath.model import Profile as ProfileData

__all__ = ["Sampler", "parse_rate", "DEFAULT_RATE"]

DEFAULT_RATE = 1000.0


def parse_rate(text: str | float | int) -> float:
    """Samples per second from ``1000``, ``100``, ``10k``, ``2.5k``, ``1khz``, ``200hz``;
    ValueError for anything else or outside 1 Hz..100 kHz."""
    if isinstance(text, (int, float)):
        rate = float(text)
    else:
        t = text.strip().lower().removesuffix("hz")
        scale = 1000.0 if t.endswith("k") else 1.0
        try:
            rate = float(t.removesuffix("k")) * scale
        except ValueError:
            raise ValueError(f"sample rate {text!r}: give samples per second, e.g. "
                             "100, 1000 or 10k") from None
    if not 1.0 <= rate <= 100_000.0:
        raise ValueError(f"sample rate {text!r}: choose between 1 and 100k per second")
    return rate


class Sampler(RunMixin):
    """Sampler(rate=1000, clock="wall", max_nodes=1 << 20)

    Samples every thread's Python stack ``rate`` times a second from a background thread
    (start/stop, ``with``, run/runctx/runcall). ``clock="cpu"`` counts a thread only
    while it uses CPU. One sampler runs at a time (RuntimeError otherwise).
    """

    def __init__(self, rate: float | str = DEFAULT_RATE, clock: str = "wall",
                 max_nodes: int = 1 << 20) -> None:
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock {clock!r}: choose wall or cpu")
        self.rate = parse_rate(rate)
        self.clock = clock
        self._c = _core.Sampler(1.0 / self.rate, clock == "cpu", max_nodes)

    @property
    def running(self) -> bool:
        return self._c.running

    def start(self) -> None:
        """Start sampling. RuntimeError when a sampler is already running."""
        self._c.start()
        _live.add(self)

    def stop(self) -> None:
        """Stop sampling (joins the sampler thread)."""
        self._c.stop()
        _live.discard(self)

    def clear(self) -> None:
        """Forget every sample (when stopped)."""
        self._c.clear()

    _run_on = start
    _run_off = stop

    def raw_snapshot(self) -> dict[str, Any]:
        """The C snapshot dict (see capture/functions.py for its layout)."""
        return self._c.snapshot()

    def snapshot(self, meta: dict[str, Any] | None = None,
                 exclude_threads: tuple[int, ...] = ()) -> ProfileData:
        """Everything sampled so far as a ``hotpath.model.Profile`` (estimated times),
        without the threads whose ``threading.get_ident()`` is in ``exclude_threads``."""
        snap = self._c.snapshot()
        snap["threads"] = [t for t in snap["threads"] if t["ident"] not in exclude_threads]
        return profile_from_samples(snap, self.rate, self.clock, meta)


def profile_from_samples(snap: dict[str, Any], rate: float, clock: str,
                         meta: dict[str, Any] | None = None) -> ProfileData:
    """The model profile of a sampler snapshot, with the sampling facts in its meta."""
    from .functions import profile_from_snapshot
    profile = profile_from_snapshot(snap)
    secs = snap["enabled_seconds"]
    samples = sum(t["samples"] for t in snap["threads"])
    threads = {str(t["ident"]): {"samples": t["samples"], "gil_samples": t["gil_samples"]}
               for t in snap["threads"]}
    sampling = {"rate_hz": rate, "clock": clock, "ticks": snap["ticks"],
                "main_ticks": snap.get("main_ticks", 0),
                # samples of the GIL's holder taken as its stack was when asked for
                # (common/stackpeek.h); of those, the ones whose stack had moved on
                "peeked": snap.get("peeked", 0), "peek_moved": snap.get("peek_moved", 0),
                "peek_lost": snap.get("peek_lost", 0),
                "samples": samples,
                "effective_hz": round(snap["ticks"] / secs, 1) if secs > 0 else 0.0,
                "threads": threads}
    what = "CPU time" if clock == "cpu" else "wall time"
    note = (f"sampled: times are estimates ({what}, {samples:,} samples at "
            f"{sampling['effective_hz']:g} Hz of {rate:g} requested); ncalls counts samples")
    gil = [f"{th.name} {100.0 * threads[str(th.thread_id)]['gil_samples'] / n:.0f}%"
           for th in profile.threads
           if (n := threads.get(str(th.thread_id), {}).get("samples", 0))]
    notes = [note]
    if gil:
        notes.append("held the GIL in: " + ", ".join(gil) + " of their samples")
    profile.meta.update({"sampled": True, "sampling": sampling, "notes": notes})
    if meta:
        profile.meta.update(meta)
    return profile


# -- fork: the sampler thread does not exist in a child ------------------------------------

_live: set[Sampler] = set()


def _after_fork_in_child() -> None:
    for s in list(_live):
        s._c._atfork_child()
    _live.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
