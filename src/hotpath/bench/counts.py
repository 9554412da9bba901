"""Instruction counts of a benchmark: the measure a noisy machine cannot move.

``measure="instructions"`` counts what one call of the target executes — only the
target: the counting covers ``hp_timing_counted_region`` in ``hotpath._timing``, a C
function that holds nothing but the call loop, and the same loop around the
reference (an empty function of the same shape) is counted too and subtracted, as
the timer subtracts the loop's own time.

Three ways to count, chosen by :func:`backend`:

``perf``       hardware counters (``perf_event_open``): instructions, and cycles, cache
               misses and branch misses where the CPU gives them; in this process.
``callgrind``  this process already runs under callgrind as :func:`valgrind_command`
               starts it (``HOTPATH_CALLGRIND_OUT`` set): counting is toggled on in the
               region only (``--toggle-collect``) and each region ends in a dump
               (``--dump-after``) whose total is read back at once.
``valgrind``   neither: the targets are measured by a worker process started under
               callgrind (:func:`count_in_valgrind`): statements as they are, callables
               by reference (a module-level function, picklable arguments). Debian's
               package is ``valgrind``.

``HOTPATH_COUNTER=valgrind`` chooses callgrind even where perf events work (its counts
are exact; the PMU's count a few interrupts' worth of noise).
"""
from __future__ import annotations

import errno
import json
import math
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any, Sequence

from hotpath import _timing

__all__ = ["backend", "CountsUnavailable", "count_target", "count_in_valgrind",
           "measure_counts", "valgrind_command", "COUNTERS"]

#: Set for a process running under callgrind as valgrind_command starts it: the
#: --callgrind-out-file prefix, whose numbered dumps are the regions' counts.
OUT_ENV = "HOTPATH_CALLGRIND_OUT"
#: Set for the pytest re-run under callgrind: where its session writes the counts.
COUNTS_ONLY_ENV = "HOTPATH_COUNTS_ONLY"
#: "perf" or "valgrind": force a backend.
CHOICE_ENV = "HOTPATH_COUNTER"
COUNTERS = ("instructions", "cycles", "cache_misses", "branch_misses")
#: Rounds counted per target (counts hardly vary: three give a median and a spread).
ROUNDS = 3
#: A region never loops more than this (callgrind runs code ~50x slower).
MAX_LOOPS = 1 << 15
#: Instructions a counted round aims at: the loop count is the power of two nearest
#: to this over the per-call count of a probe round, so it does not move with the load
#: (as a timed calibration would) and neither do per-call counts that amortise
#: something (a list's growth) over the loop.
TARGET = 2_000_000
PROBE_LOOPS = 8


class CountsUnavailable(RuntimeError):
    """Neither perf events nor valgrind can count instructions here."""


def perf_problem() -> str | None:
    """None when perf events count instructions here, else why not."""
    code = _timing.perf_status()
    if code == 0:
        return None
    why = {errno.ENOENT: "no hardware counters (a VM without a PMU?)",
           errno.EOPNOTSUPP: "not supported by this CPU or VM",
           errno.EACCES: "not allowed (kernel.perf_event_paranoid)",
           errno.EPERM: "not allowed (kernel.perf_event_paranoid)",
           errno.ENOSYS: "not Linux"}.get(code, os.strerror(code) if code > 0 else "unknown")
    return f"perf_event_open: {why}"


def valgrind_path() -> str | None:
    return shutil.which("valgrind")


def backend() -> str:
    """``perf``, ``callgrind`` (in-process, under callgrind) or ``valgrind`` (a worker
    under callgrind); raises CountsUnavailable with the reason when none works."""
    if os.environ.get(OUT_ENV):
        return "callgrind"
    forced = os.environ.get(CHOICE_ENV, "").strip().lower()
    problem = perf_problem()
    if forced != "valgrind" and problem is None:
        return "perf"
    if valgrind_path():
        return "valgrind"
    raise CountsUnavailable(
        "instruction counts need hardware counters or valgrind: " + (problem or
        "HOTPATH_COUNTER=valgrind") + "; and valgrind is not installed (Debian: "
        "apt-get install valgrind)")


# ------------------------------------------------------------------- callgrind dumps


class _Dumps:
    """The numbered dumps of this process's callgrind run, read in order."""

    next = 1          # the number callgrind gives this process's next dump

    @classmethod
    def total(cls) -> int:
        """The instructions of the region that just ended (its dump's total)."""
        path = f"{os.environ[OUT_ENV]}.{cls.next}"
        cls.next += 1
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            os.unlink(path)
        except OSError as exc:
            raise CountsUnavailable(f"callgrind wrote no dump for the region ({exc}); is it "
                                    f"running with --dump-after={_timing.REGION_SYMBOL}?") from None
        return parse_total(text)


def parse_total(text: str) -> int:
    """The Ir total of a callgrind output file (its ``totals:`` or ``summary:`` line)."""
    for key in ("totals:", "summary:"):
        for line in text.splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    raise ValueError("not a callgrind output file (no totals: line)")


def _count_once(func, n: int, args: tuple, kwargs: dict, gc: bool, how: str) -> dict:
    if how == "perf":
        return _timing.count(func, n, args, kwargs, gc, True)
    _timing.count(func, n, args, kwargs, gc, False)
    return {"instructions": _Dumps.total()}


# ------------------------------------------------------------------- counting


def count_target(t: Any, loops: int | None = None, rounds: int = ROUNDS,
                 how: str | None = None) -> dict:
    """Count a :class:`~hotpath.bench.runner.Timed` in this process (backend perf or
    callgrind): ``rounds`` rounds of ``loops`` calls (None: from a probe round, see
    TARGET), each followed by the same round of its reference. Returns per-call samples
    for each counter, net of the reference when the target subtracts, plus ``loops``,
    ``backend`` and ``overhead`` (the reference's per-call counts)."""
    how = how or backend()
    if how == "valgrind":
        raise CountsUnavailable("count_target runs in-process only (perf or callgrind)")
    subtract = t.options.subtract
    gc = t.options.gc
    samples: dict[str, list[float]] = {}
    overhead: dict[str, list[float]] = {}
    try:
        # Warm-up, uncounted: the interpreter specialises in the first calls.
        for reference in ((False, True) if subtract else (False,)):
            func, n, args, kwargs = t.count_call(reference, PROBE_LOOPS)
            _timing.run(func, n, args, kwargs, _timing.CLOCK_PERF, gc)
        # A probe round, counted and thrown away: it sets the loop count, and the heap
        # (allocator pools, free lists) settles only once a counted round has run.
        func, n, args, kwargs = t.count_call(False, PROBE_LOOPS)
        per_call = max(1.0, _count_once(func, n, args, kwargs, gc, how)["instructions"]
                       / PROBE_LOOPS)
        if loops is None:
            loops = 1 << max(0, round(math.log2(max(1.0, TARGET / per_call))))
        loops = max(1, min(int(loops), MAX_LOOPS))
        for i in range(rounds + 1):
            func, n, args, kwargs = t.count_call(False, loops)
            gross = _count_once(func, n, args, kwargs, t.options.gc, how)
            ref: dict = {}
            if subtract:
                func, n, args, kwargs = t.count_call(True, loops)
                ref = _count_once(func, n, args, kwargs, t.options.gc, how)
            if i == 0:
                continue
            for k, v in gross.items():
                base = ref.get(k, 0)
                samples.setdefault(k, []).append((v - base) / loops)
                overhead.setdefault(k, []).append(base / loops)
    finally:
        t.close()
    return {"backend": "perf" if how == "perf" else "callgrind", "loops": loops,
            "rounds": rounds, "samples": samples,
            "overhead": {k: statistics.median(v) for k, v in overhead.items()}}


def valgrind_command(out_prefix: str) -> list[str]:
    """callgrind counting only inside the region, one dump at the end of each."""
    region = _timing.REGION_SYMBOL
    return [valgrind_path() or "valgrind", "--tool=callgrind", "--collect-atstart=no",
            f"--toggle-collect={region}", f"--dump-after={region}",
            f"--callgrind-out-file={out_prefix}", "--log-file=" + out_prefix + ".log"]


def worker_env(out_prefix: str) -> dict:
    env = dict(os.environ)
    env[OUT_ENV] = out_prefix
    env.setdefault("PYTHONHASHSEED", "0")        # the same dict layouts, run after run
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def count_in_valgrind(specs: Sequence[dict], timeout: float | None = None) -> list[dict]:
    """Count targets in one worker under callgrind. Each spec: ``stmt`` and ``setup``
    (a statement), or ``func``, ``args``, ``kwargs`` (a callable, sent by reference);
    ``options`` (Options fields) and ``loops``. Returns count_target's dicts in order."""
    try:
        payload = pickle.dumps(list(specs))
    except Exception as exc:
        raise ValueError("instruction counts under valgrind need a target a worker process "
                         "can import: a module-level function with picklable arguments, or "
                         f"a statement string ({exc})") from None
    with tempfile.TemporaryDirectory(prefix="hotpath-cg-") as tmp:
        spec_path = os.path.join(tmp, "spec.pickle")
        out_path = os.path.join(tmp, "counts.json")
        prefix = os.path.join(tmp, "cg.out")
        with open(spec_path, "wb") as fh:
            fh.write(payload)
        cmd = valgrind_command(prefix) + [sys.executable, "-m", "hotpath.bench.countworker",
                                          spec_path, out_path]
        proc = subprocess.run(cmd, env=worker_env(prefix), capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(out_path):
            tail = (proc.stderr or "").strip().splitlines()[-6:]
            raise RuntimeError("counting under valgrind failed (exit "
                               f"{proc.returncode}): " + " | ".join(tail))
        with open(out_path, encoding="utf-8") as fh:
            return json.load(fh)


def spec_for(t: Any, loops: int) -> dict:
    """What count_in_valgrind needs to rebuild ``t`` in the worker."""
    opts = {k: v for k, v in vars(t.options).items() if k != "timer"}
    opts["processes"] = 0
    spec = {"options": opts, "loops": loops, "name": t.name}
    if t.source is not None:
        spec.update(stmt=t.source, setup=t.setup)
    else:
        spec.update(func=t.func, args=t.args, kwargs=t.kwargs)
    return spec


def measure_counts(targets: Sequence[Any], loops: Sequence[int | None] | None = None
                   ) -> list[dict]:
    """Counts of each Timed target, here or in a valgrind worker (one for all); loop
    counts None (the default) come from a probe round each."""
    loops = list(loops) if loops is not None else [None] * len(targets)
    how = backend()
    if how == "valgrind":
        return count_in_valgrind([spec_for(t, n) for t, n in zip(targets, loops)])
    return [count_target(t, n, how=how) for t, n in zip(targets, loops)]


def write_counts_only(counts: dict) -> None:
    """The pytest re-run under callgrind: write {benchmark full name: counts}."""
    with open(os.environ[COUNTS_ONLY_ENV], "w", encoding="utf-8") as fh:
        json.dump(counts, fh)


def count_tests_in_valgrind(nodeids: Sequence[str], rootdir: str,
                            extra_args: Sequence[str] = (),
                            timeout: float | None = None) -> dict:
    """Run the tests ``nodeids`` once more, under callgrind, where the benchmark fixture
    only counts (COUNTS_ONLY_ENV); returns {benchmark full name: counts}. Any callable
    a test benchmarks is counted as it is: nothing is pickled."""
    with tempfile.TemporaryDirectory(prefix="hotpath-cg-") as tmp:
        prefix = os.path.join(tmp, "cg.out")
        out_path = os.path.join(tmp, "counts.json")
        env = worker_env(prefix)
        env[COUNTS_ONLY_ENV] = out_path
        cmd = valgrind_command(prefix) + [
            sys.executable, "-m", "pytest", "-q", "-p", "hotpath", "-p", "no:cacheprovider",
            # Plugins a counting run has no use for, slow to import under valgrind.
            "-p", "no:xdist", "-p", "no:hypothesispytest", "-p", "no:timeout",
            "--hotpath-measure=instructions", "--rootdir", rootdir, *extra_args,
            *dict.fromkeys(nodeids)]
        proc = subprocess.run(cmd, cwd=rootdir, env=env, capture_output=True, text=True,
                              timeout=timeout)
        if not os.path.exists(out_path):
            tail = ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[-6:]
            raise RuntimeError(f"the re-run under valgrind counted nothing (exit "
                               f"{proc.returncode}): " + " | ".join(tail))
        with open(out_path, encoding="utf-8") as fh:
            return json.load(fh)
