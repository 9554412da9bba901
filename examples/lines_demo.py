"""A small particle simulation for ``hotpath run --lines examples/lines_demo.py``.

``@profile`` is the builtin that ``hotpath run --lines`` injects (as kernprof does); run
without hotpath, the fallback below makes it a no-op. Try also:

    hotpath run --lines=auto examples/lines_demo.py       # no decorators needed
    hotpath run -f examples/lines_demo.py:Simulator.evolve examples/lines_demo.py
"""
import math
import random

try:
    profile  # type: ignore[used-before-def]
except NameError:          # plain python: @profile does nothing
    from hotpath import profile


class Particle:
    def __init__(self, x, y, ang_vel):
        self.x = x
        self.y = y
        self.ang_vel = ang_vel


class Simulator:
    def __init__(self, particles):
        self.particles = particles

    @profile
    def evolve(self, dt):
        timestep = 0.00001
        nsteps = int(dt / timestep)

        for i in range(nsteps):
            for p in self.particles:
                norm = math.sqrt(p.x ** 2 + p.y ** 2)
                v_x = -p.y / norm
                v_y = p.x / norm

                d_x = timestep * p.ang_vel * v_x
                d_y = timestep * p.ang_vel * v_y

                p.x += d_x
                p.y += d_y


@profile
def make_particles(n, seed=1):
    rng = random.Random(seed)
    particles = []
    for _ in range(n):
        x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        particles.append(Particle(x, y, rng.uniform(-1, 1)))
    return particles


def main():
    particles = make_particles(100)
    sim = Simulator(particles)
    sim.evolve(0.01)
    print(f"final x of the first particle: {particles[0].x:.6f}")


if __name__ == "__main__":
    main()
