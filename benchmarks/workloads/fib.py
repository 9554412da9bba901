"""Recursive Fibonacci: nothing but Python-to-Python calls and returns.

The densest call workload there is (one call per handful of bytecodes), so it shows a
profiler's per-event cost with nothing to hide it.
"""
ORDER = 10
NAME = "fib"


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def prepare(quick: bool):
    """A zero-argument callable doing the work (3 x fib(27), or fib(22) with --quick)."""
    n, times = (22, 1) if quick else (27, 3)

    def run():
        for _ in range(times):
            result = fib(n)
        return result

    run.description = f"recursive fib({n}), {times}x"
    return run
