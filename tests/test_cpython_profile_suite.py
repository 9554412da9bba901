"""CPython's own cProfile tests, from the running interpreter's test package, run with
``hotpath.Profile`` as the profiler class and ``hotpath.cprofile`` as the module.

The test classes move between versions (3.15 renamed cProfile to ``profiling.tracing``
and moved its tests to ``test.test_profiling``); the cases below are those that exercise
the profiler class, the module's ``run``/``runctx`` and its command line. Cases about
``_lsprof`` internals belong to cProfile, not to a drop-in, and are not run here.
"""
from __future__ import annotations

import importlib
import inspect
import re
import types
import unittest

import pytest

import hotpath
import hotpath.cprofile

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
    # the module under test is hotpath.cprofile (ProfileTest.profilermodule)
    "test_run",
    "test_runctx",
    "test_run_with_sort_by_values",
    "test_run_profile_as_module",                   # python -m hotpath.cprofile -m ...
    "test_output_file_when_changing_directory",     # -o resolved before the script's chdir
]

# TestCommandLine runs "python -m cProfile ..." by name; these run "-m hotpath.cprofile".
COMMAND_LINE_CASES = [
    "test_sort",                                    # -s with a bad key: optparse's error
    "test_profile_script_importing_main",           # the script sees itself as __main__
    "test_process_spawn_pickle",                    # multiprocessing from a profiled script
    "test_process_forkserver_pickle",
]


def _cpython_test_module():
    for name in ("test.test_profiling.test_tracing_profiler", "test.test_cprofile"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    pytest.skip("this interpreter ships no test package (Debian: libpython3.X-testsuite)")


def _cpython_case_class() -> type[unittest.TestCase]:
    return _cpython_test_module().CProfileTest


def _squeeze(text: str) -> str:
    return re.sub(r" {2,}", "  ", text)


def _hotpath_case_class() -> type[unittest.TestCase]:
    base = _cpython_case_class()

    class HotpathCProfileTest(base):  # type: ignore[misc, valid-type]
        """pstats pads the name column of print_callers/print_callees to the longest name
        in the table, and hotpath's own `disable` entry has a longer type name than
        _lsprof's; so runs of spaces are compared as one. Every other character must match."""

        profilerclass = hotpath.Profile
        profilermodule = hotpath.cprofile

        def get_expected_output(self):
            return {k: _squeeze(v) for k, v in super().get_expected_output().items()}

        @classmethod
        def do_profiling(cls):
            first, *tables = super().do_profiling()
            return [first, *(_squeeze(t) for t in tables)]

    return HotpathCProfileTest


def _hotpath_command_line_class() -> type[unittest.TestCase]:
    """CPython's TestCommandLine with every "-m cProfile" it runs made "-m hotpath.cprofile":
    its methods rebound to a copy of their module's globals whose script helpers
    substitute the module name (the tests' own code is unchanged)."""
    module = _cpython_test_module()
    base = module.TestCommandLine

    def substituted(helper):
        def run(*args, **env):
            return helper(*("hotpath.cprofile" if a == "cProfile" else a for a in args), **env)
        return run

    namespace = dict(vars(module))
    for name in ("assert_python_ok", "assert_python_failure"):
        if hasattr(module, name):
            namespace[name] = substituted(getattr(module, name))
    methods = {}
    for name, value in vars(base).items():
        if inspect.isfunction(value):
            f = types.FunctionType(value.__code__, namespace, name, value.__defaults__,
                                   value.__closure__)
            f.__dict__.update(value.__dict__)       # unittest.skip* markers
            methods[name] = f
    return type("HotpathTestCommandLine", (base,), methods)


def _run_case(cls: type[unittest.TestCase], case: str) -> None:
    result = unittest.TestResult()
    cls(case).run(result)
    problems = [text for _, text in result.errors + result.failures]
    assert not problems, "\n".join(problems)
    if result.skipped:
        pytest.skip(f"CPython's test skips itself here: {result.skipped[0][1]}")
    assert result.testsRun == 1


@pytest.mark.parametrize("case", COMMAND_LINE_CASES)
def test_cpython_cprofile_command_line_case(case: str) -> None:
    cls = _hotpath_command_line_class()
    if not hasattr(cls, case):
        pytest.skip(f"{case} is not in this version's test package")
    _run_case(cls, case)


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
