"""hotpath: a performance toolkit for Python with a C core.

Public API (imported lazily, so ``import hotpath`` stays cheap and the pure-Python parts
work without the compiled core):

* ``Profile`` — a drop-in for ``cProfile.Profile``
* ``LineProfiler``, ``profile`` — line timings with line_profiler's API and kernprof's table
* ``Sampler`` — the sampling profiler (every thread's stack, 1 kHz, estimated times)
* ``MemoryProfiler``, ``memit`` — allocations per line and function, peak, leaks; %memit
* ``load(path)`` / ``save(profile, path)`` — read and write hotpath profile files
* ``bench``, ``compare`` — benchmarks with honest statistics
* ``%load_ext hotpath`` — IPython/Jupyter magics (``hotpath.ipython``; needs IPython)

PYTEST_DONT_REWRITE: under ``hotpath run -m pytest`` this package is imported before
pytest loads its plugin (the ``pytest11`` entry point); the marker keeps pytest from
warning that it cannot rewrite asserts in it (it has no test asserts to rewrite).
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Profile": ("hotpath.capture.functions", "Profile"),
    "ProfilerActiveError": ("hotpath.capture.functions", "ProfilerActiveError"),
    "LineProfiler": ("hotpath.capture.lines", "LineProfiler"),
    "profile": ("hotpath.capture.lines", "profile"),
    "load": ("hotpath.profile_files", "load_profile"),  # hotpath files and pstats files
    "save": ("hotpath.fileformat", "write"),
    "FormatError": ("hotpath.fileformat", "FormatError"),
    "MemoryProfiler": ("hotpath.capture.memory", "MemoryProfiler"),
    "memit": ("hotpath.capture.memory", "memit"),
    "MemLineProfiler": ("hotpath.capture.memory", "MemLineProfiler"),
    "bench": ("hotpath.bench", "bench"),
    "compare": ("hotpath.bench", "compare"),
    "Sampler": ("hotpath.capture.sampling", "Sampler"),
    "run": ("hotpath.cprofile", "run"),          # cProfile.run with hotpath's Profile
    "runctx": ("hotpath.cprofile", "runctx"),    # cProfile.runctx likewise
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'hotpath' has no attribute {name!r}") from None
    # __import__ rather than importlib: importing importlib costs more than hotpath itself.
    value = getattr(__import__(module, fromlist=[attr]), attr)
    globals()[name] = value
    return value


def load_ipython_extension(ip) -> None:
    """``%load_ext hotpath``: %hprun, %lprun, %mprun, %memit, %hbench (hotpath.ipython)."""
    from hotpath.ipython import load_ipython_extension as load
    load(ip)
