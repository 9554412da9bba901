"""An object-heavy simulation: the bundled example, examples/particles.py.

Classes with __slots__, attribute-heavy arithmetic, tuple returns, a generator summed
by a builtin, and a sort with a lambda key calling math.hypot.
"""
import importlib.util
import os

ORDER = 30
NAME = "particles"

_EXAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples",
                        "particles.py")


def _load_example():
    spec = importlib.util.spec_from_file_location("hotpath_example_particles", _EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(quick: bool):
    Simulation = _load_example().Simulation
    n, steps = (400, 25) if quick else (400, 250)

    def run():
        return Simulation(n).run(steps)

    run.description = f"{n} particles x {steps} steps (classes, slots, math, sort key)"
    return run
