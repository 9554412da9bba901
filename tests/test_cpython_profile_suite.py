"""CPython's own cProfile tests, from the running interpreter's test package, run with
``hotpath.Profile`` as the profiler class.

The test classes move between versions (3.15 renamed cProfile to ``profiling.tracing``
and moved its tests to ``test.test_profiling``); the cases below are those that exercise
the profiler class itself. Cases about ``_lsprof`` internals or the cProfile module's
command line belong to cProfile, not to a drop-in class, and are not run here.
"""
from __future__ import annotations

import importlib
import inspect
import re
import unittest

import pytest

import hotpath

CASES = [
    "test_cprofile",                 # golden pstats output of test.profilee under a fake timer
    "test_calling_conventions",      # builtins called every way C allows
    "test_profile_enable_disable",
    "test_profile_as_context_manager",
    "test_second_profiler",
    "test_throw",
    "test_clear_with_nested_calls",
    "test_bad_descriptor",
    "test_evil_external_timer",
    "test_external_timer_result_reentry",
    "test_external_timer_reinitializes_profiler",
    "test_enable_in_external_timer",
]


def _cpython_case_class() -> type[unittest.TestCase]:
    for name in ("test.test_profiling.test_tracing_profiler", "test.test_cprofile"):
        try:
            return importlib.import_module(name).CProfileTest
        except ImportError:
            continue
    pytest.skip("this interpreter ships no test package (Debian: libpython3.X-testsuite)")


def _squeeze(text: str) -> str:
    return re.sub(r" {2,}", "  ", text)


def _hotpath_case_class() -> type[unittest.TestCase]:
    base = _cpython_case_class()

    class HotpathCProfileTest(base):  # type: ignore[misc, valid-type]
        """pstats pads the name column of print_callers/print_callees to the longest name
        in the table, and hotpath's own `disable` entry has a longer type name than
        _lsprof's; so runs of spaces are compared as one. Every other character must match."""

        profilerclass = hotpath.Profile

        def get_expected_output(self):
            return {k: _squeeze(v) for k, v in super().get_expected_output().items()}

        @classmethod
        def do_profiling(cls):
            first, *tables = super().do_profiling()
            return [first, *(_squeeze(t) for t in tables)]

    return HotpathCProfileTest


@pytest.mark.parametrize("case", CASES)
def test_cpython_cprofile_case(case: str) -> None:
    cls = _hotpath_case_class()
    if not hasattr(cls, case):
        pytest.skip(f"{case} is not in this version's test package")
    if "PROFILER_ID" in inspect.getsource(getattr(cls, case)):
        # From 3.14 these assert cProfile's own registration: the sys.monitoring tool at
        # PROFILER_ID is named "cProfile", and a second profiler gets "tool 2 is already
        # in use". hotpath takes a free tool id so it records beside cProfile (see
        # test_profile_cprofile.py for enable/disable, context manager, two profilers).
        pytest.skip(f"{case} asserts cProfile's own sys.monitoring tool id on this version")
    result = unittest.TestResult()
    cls(case).run(result)
    problems = [text for _, text in result.errors + result.failures]
    assert not problems, "\n".join(problems)
    assert result.testsRun == 1 and not result.skipped, result.skipped
