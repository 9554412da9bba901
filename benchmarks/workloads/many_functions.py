"""500,000 distinct functions, each called 4 times (2 M calls): a program with a huge
function table.

Generated code (one module of one-line functions, as a code generator or a big test
suite makes) defines the functions; the run calls each of them in turn, four rounds. Each
call is cheap, so what a profiler pays per *distinct* function (its table, its tree's
wide node) shows, and whether that table stays in cache. ``--quick`` uses 20,000.
"""
ORDER = 70
NAME = "500k functions"


def prepare(quick: bool):
    n, rounds = (20_000, 4) if quick else (500_000, 4)
    funcs = []
    chunk = 10_000  # compile in pieces: one 500k-function module would need GBs to compile
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        # Blank lines first, so each function has its own line in one file: distinct
        # (file, line, name) labels for pstats.
        src = "\n" * start + "\n".join(f"def f{i}(x): return x" for i in range(start, stop))
        ns: dict = {}
        exec(compile(src, "<many_functions>", "exec"), ns)
        funcs.extend(ns[f"f{i}"] for i in range(start, stop))

    def run():
        total = 0
        for _ in range(rounds):
            for f in funcs:
                total += f(1)
        return total

    run.description = f"{n:,} generated functions, {rounds} rounds ({n * rounds:,} calls)"
    return run
