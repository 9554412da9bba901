"""The ``benchmark`` fixture as an alias of ``hotpath_benchmark``.

Registered as a plugin by :mod:`hotpath.bench.pytest_plugin` only when pytest-benchmark
is not active (or disabled with ``-p no:benchmark``), so it never competes with
pytest-benchmark's fixture of the same name.
"""
import pytest


@pytest.fixture
def benchmark(hotpath_benchmark):
    """hotpath's benchmark fixture, under pytest-benchmark's name (see hotpath_benchmark)."""
    return hotpath_benchmark
