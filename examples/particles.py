"""A small particle simulation: the bundled example for `make run`.

Particles orbit a set of attractors; each step integrates velocities and positions,
keeps an energy log and sorts particles by distance. Pure Python, object-heavy, with a
mix of method calls and builtins — the kind of program people bring to a profiler.

    python examples/particles.py [steps] [particles]
"""
import math
import random
import sys


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


def main(argv):
    steps = int(argv[1]) if len(argv) > 1 else 200
    n = int(argv[2]) if len(argv) > 2 else 400
    sim = Simulation(n)
    energy = sim.run(steps)
    print(f"{n} particles, {steps} steps: final kinetic energy {energy:.6f}")


if __name__ == "__main__":
    main(sys.argv)
