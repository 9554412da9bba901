"""hotpath.bench — benchmarks with calibrated loops and honest statistics.

* :func:`bench` — time a callable or a statement; returns a :class:`BenchResult`
  (statistics, raw samples, ``to_json()``), printing nothing.
* :func:`compare` — several implementations x problem sizes, interleaved, with tables
  of mean ± sd, normalised to a baseline, a significance test per comparison and a plot.
* :func:`load` — read back a file saved by ``BenchResult.save``, ``CompareResult.save``,
  ``hotpath bench --save``, the pytest plugin or pytest-benchmark.

The command line is ``hotpath bench`` (:mod:`hotpath.bench.cli`); the pytest fixture is
in :mod:`hotpath.bench.pytest_plugin`. See docs/bench.md.

``hotpath.bench`` is at once this package and the function: the module itself is
callable, so ``hotpath.bench(fn)`` works whichever of the two an import bound first.
"""
from __future__ import annotations

import sys
import types

from .compare import CompareResult, compare
from .jsonio import load, load_results
from .result import BenchResult
from .runner import Options, bench
from .stats import Comparison, Stats, compare_samples, mann_whitney_u

__all__ = ["bench", "compare", "load", "load_results", "BenchResult", "CompareResult",
           "Comparison", "Options", "Stats", "compare_samples", "mann_whitney_u"]


class _CallableModule(types.ModuleType):
    """``import hotpath.bench`` binds this package as ``hotpath.bench``; calling it
    runs :func:`bench`, so ``hotpath.bench(fn)`` works either way."""

    def __call__(self, *args, **kwargs):
        return bench(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
