"""An object-heavy simulation: particles around attractors (as examples/particles.py).

Classes with __slots__, attribute-heavy arithmetic, tuple returns, a generator summed
by a builtin, and a sort with a lambda key calling math.hypot.
"""
import math
import random

ORDER = 30
NAME = "particles"


class Particle:
    __slots__ = ("x", "y", "vx", "vy", "mass")

    def __init__(self, x, y, vx, vy, mass=1.0):
        self.x, self.y, self.vx, self.vy, self.mass = x, y, vx, vy, mass

    def kinetic_energy(self):
        return 0.5 * self.mass * (self.vx * self.vx + self.vy * self.vy)

    def distance_to(self, x, y):
        return math.hypot(self.x - x, self.y - y)


class Attractor:
    def __init__(self, x, y, strength):
        self.x, self.y, self.strength = x, y, strength

    def force_on(self, p):
        dx, dy = self.x - p.x, self.y - p.y
        r2 = dx * dx + dy * dy + 0.01
        f = self.strength / (r2 * math.sqrt(r2))
        return f * dx, f * dy


class Simulation:
    def __init__(self, n_particles, seed=1):
        rng = random.Random(seed)
        self.particles = [Particle(rng.uniform(-1, 1), rng.uniform(-1, 1),
                                   rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1))
                          for _ in range(n_particles)]
        self.attractors = [Attractor(0.5, 0.0, 0.02), Attractor(-0.5, 0.0, 0.02),
                           Attractor(0.0, 0.7, 0.01)]
        self.energy_log = []

    def evolve(self, dt):
        for p in self.particles:
            ax = ay = 0.0
            for a in self.attractors:
                fx, fy = a.force_on(p)
                ax += fx
                ay += fy
            p.vx += ax * dt
            p.vy += ay * dt
            p.x += p.vx * dt
            p.y += p.vy * dt

    def total_energy(self):
        return sum(p.kinetic_energy() for p in self.particles)

    def closest(self, k):
        return sorted(self.particles, key=lambda p: p.distance_to(0.0, 0.0))[:k]

    def run(self, steps, dt=0.01):
        for step in range(steps):
            self.evolve(dt)
            if step % 10 == 0:
                self.energy_log.append(self.total_energy())
                self.closest(5)
        return self.energy_log[-1]


def prepare(quick: bool):
    n, steps = (400, 25) if quick else (400, 250)

    def run():
        return Simulation(n).run(steps)

    run.description = f"{n} particles x {steps} steps (classes, slots, math, sort key)"
    return run
