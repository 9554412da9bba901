"""A NumPy program whose memory goes to a few big arrays — and one cache that keeps growing.

    hotpath run --memory examples/numpy_alloc.py

The report names the lines: `make_field` allocates the big arrays (NumPy's data comes
from malloc/calloc, seen through the preload shim that `hotpath run --memory` loads),
`smooth` makes same-sized temporaries that are freed again, and `remember` is the leak:
its cache still holds every frame's summary at exit. `@profile` (a builtin under
`hotpath run`) adds memory_profiler's line-by-line table for `simulate`.
"""
import numpy as np

N = 1500            # the field is N x N float64: 18 MB per array
_cache = {}


def make_field(seed):
    rng = np.random.default_rng(seed)
    field = rng.standard_normal((N, N))          # the big array: 18 MB
    return field


def smooth(field):
    padded = np.pad(field, 1, mode="edge")       # temporary, freed on return
    return (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]) / 4.0


def remember(step, field):
    _cache[step] = field[::10, ::10].copy()      # a growing cache: the leak
    return len(_cache)


@profile  # noqa: F821 — provided by `hotpath run`
def simulate(steps=6):
    total = 0.0
    for step in range(steps):
        field = make_field(step)
        field = smooth(field)
        remember(step, field)
        total += float(field.mean())
    return total


if __name__ == "__main__":
    print(f"mean of means: {simulate() / 6:.6f}")
