"""The best launch angle of a projectile with air drag, by gradient ascent.

A ball leaves the ground at speed `speed` and angle `angle` (radians) and
flies under gravity and quadratic air drag:

    dv/dt = -g e_y - k |v| v,        dr/dt = v

`landing_distance` integrates this with semi-implicit Euler steps of `dt`
seconds (the velocity first, then the position with the new velocity) in a
`while` loop that runs until the ball is below the ground, a few hundred
steps, and returns how far it flew. It is written forward only; `grad` turns
it into a function returning d distance / d speed and d distance / d angle.

Without drag the best angle is 45 degrees. Drag takes more from the long,
high flights, so the best angle is lower; gradient ascent on the angle finds it.

Run it from the repository root:

    python examples/projectile.py                 # check, optimise, print progress
    python examples/projectile.py --plot out.png  # also plot a few trajectories (matplotlib)
"""

import argparse
import math

from adcompiler import check_grads, grad, value_and_grad

G = 9.81                # gravity, m/s^2

# The default problem: a football kicked hard. k = rho * c_d * area / (2 * mass)
# for air (1.2 kg/m^3), c_d = 0.25, a 22 cm ball of 430 g: about 0.013 per metre.
SPEED = 30.0            # launch speed, m/s
K = 0.013               # drag coefficient, 1/m
DT = 0.01               # time step, s

# Gradient ascent on the angle (radians). Near the best angle the slope of the
# range falls by about 160 m/rad per radian, so a rate of 0.003 rad per (m/rad)
# closes about half of the remaining gap in each step.
START_ANGLE = math.radians(60.0)
LEARNING_RATE = 0.003
MAX_STEPS = 40
TOLERANCE = 1e-5        # stop when a step moves the angle by less than this (radians)


def landing_distance(speed, angle, k, dt):
    """Horizontal distance (m) from the launch point to where the ball lands."""
    vx = speed * math.cos(angle)
    vy = speed * math.sin(angle)
    x = 0.0
    y = 0.0
    x_before = x
    y_before = y
    while y >= 0.0:
        x_before = x
        y_before = y
        v = math.hypot(vx, vy)
        vx = vx - dt * k * v * vx
        vy = vy - dt * (G + k * v * vy)
        x = x + dt * vx
        y = y + dt * vy
    # The last step went from (x_before, y_before >= 0) to (x, y < 0): follow
    # it in a straight line down to y = 0.
    return x_before + (x - x_before) * y_before / (y_before - y)


# d landing_distance / d speed and d landing_distance / d angle.
#
# The number of steps the while loop takes is a whole number: it changes only
# in jumps as the inputs change, and has no derivative. What `grad` gives is
# the derivative of the path taken: the same number of steps, each step
# differentiated. That is the true derivative of the computed distance as long
# as small changes of the inputs keep the same number of steps.
#
# At a change of the number of steps (a "trip-count switch") the ball's last
# point sits exactly on the ground. Returning that last x as it is would make
# the distance jump by a whole step (about vx * dt = 0.1 m) there. The linear
# interpolation to y = 0 lands both paths on the same point, so the distance
# is continuous; between switches it is smooth, and at a switch only its slope
# changes, by a few percent (the last step's direction changes a little).
# Gradient ascent copes (see `optimise_angle`); a finite-difference check must
# not straddle a switch, which `same_steps_nearby` makes sure of.
d_landing = grad(landing_distance, wrt=("speed", "angle"))

# The optimiser needs the distance and its slope in the angle: one forward sweep.
distance_and_slope = value_and_grad(landing_distance, wrt="angle")


def trajectory(speed, angle, k, dt):
    """The points (xs, ys) the loop of `landing_distance` visits, for plots and counts.

    The same steps as `landing_distance`, recording every position; the last
    point is below the ground. Plain Python: it is never differentiated.
    """
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    xs, ys = [0.0], [0.0]
    while ys[-1] >= 0.0:
        v = math.hypot(vx, vy)
        vx = vx - dt * k * v * vx
        vy = vy - dt * (G + k * v * vy)
        xs.append(xs[-1] + dt * vx)
        ys.append(ys[-1] + dt * vy)
    return xs, ys


def steps_taken(speed, angle, k, dt):
    return len(trajectory(speed, angle, k, dt)[0]) - 1


def same_steps_nearby(speed, angle, k, dt, h=1e-4):
    """Whether speed and angle can each move by a relative `h` (over ten times a
    finite-difference step) without changing the number of steps."""
    n = steps_taken(speed, angle, k, dt)
    for s, a in ((speed * (1 - h), angle), (speed * (1 + h), angle),
                 (speed, angle * (1 - h)), (speed, angle * (1 + h))):
        if steps_taken(s, a, k, dt) != n:
            return False
    return True


def optimise_angle(speed=SPEED, k=K, dt=DT, angle=START_ANGLE, rate=LEARNING_RATE,
                   max_steps=MAX_STEPS, tolerance=TOLERANCE, report=None):
    """Gradient ascent on the launch angle; returns the list of (angle, range) iterates.

    The slope jumps a little at each trip-count switch, so near the top it
    need not shrink smoothly to zero, and a fixed rate can keep hopping over
    the top. Each time the slope changes sign, the rate is halved.
    `report(i, angle, distance, slope)` is called for each iterate when given.
    """
    history = []
    previous_slope = 0.0
    for i in range(max_steps + 1):
        distance, slope = distance_and_slope(speed, angle, k, dt)
        history.append((angle, distance))
        if report is not None:
            report(i, angle, distance, slope)
        if slope * previous_slope < 0:
            rate = rate / 2
        previous_slope = slope
        step = rate * slope
        if abs(step) < tolerance or i == max_steps:
            break
        angle = angle + step
    return history


def print_iterate(i, angle, distance, slope):
    print(f"{i:4d} {math.degrees(angle):11.4f} {distance:11.6f} {slope:15.6f}")


def plot(history, speed, k, dt, path):
    """Save the trajectories of a few iterates to `path`; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    picks = sorted({0, 1, 2, 4, len(history) - 1} & set(range(len(history))))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i in picks:
        angle, distance = history[i]
        xs, ys = trajectory(speed, angle, k, dt)
        xs[-1] = distance                   # end on the ground, as landing_distance does
        ys[-1] = 0.0
        ax.plot(xs, ys, label=f"iterate {i}: {math.degrees(angle):.2f} deg, {distance:.2f} m")
    xs, ys = trajectory(speed, math.radians(45.0), k, dt)
    ax.plot(xs[:-1], ys[:-1], "k--", linewidth=0.8, label="45 deg")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_ylim(bottom=0.0)
    ax.set_aspect("equal")
    ax.set_title(f"Projectile with drag: v0 = {speed:g} m/s, k = {k:g} /m, dt = {dt:g} s")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", metavar="PATH", help="save a plot of a few trajectories")
    args = parser.parse_args(argv)

    speed, k, dt = SPEED, K, DT
    print(f"Projectile with quadratic drag: speed {speed} m/s, k {k} /m, dt {dt} s\n")

    # Check the compiled gradient against finite differences once, at the start
    # angle, where the number of steps does not change nearby (see d_landing).
    angle = START_ANGLE
    assert same_steps_nearby(speed, angle, k, dt), "check point too close to a switch"
    check_grads(landing_distance, (speed, angle, k, dt), wrt=("speed", "angle"))
    d_speed, d_angle = d_landing(speed, angle, k, dt)
    distance, steps = landing_distance(speed, angle, k, dt), steps_taken(speed, angle, k, dt)
    print(f"At {math.degrees(angle):.1f} deg the ball flies {distance:.4f} m in {steps} steps")
    print(f"  d distance / d speed = {d_speed:.6f} m per m/s")
    print(f"  d distance / d angle = {d_angle:.6f} m per radian")
    print("  check_grads: passed (agrees with central finite differences)\n")

    print("Gradient ascent on the angle")
    print(f"{'step':>4} {'angle (deg)':>11} {'range (m)':>11} {'d range/d angle':>15}")
    history = optimise_angle(speed, k, dt, angle, report=print_iterate)

    best_angle, best_range = history[-1]
    range_45 = landing_distance(speed, math.radians(45.0), k, dt)
    print()
    print(f"Best angle: {math.degrees(best_angle):.2f} deg, range {best_range:.4f} m")
    print(f"At 45 deg:  range {range_45:.4f} m (drag favours the lower angle)")

    if args.plot:
        if plot(history, speed, k, dt, args.plot):
            print(f"\nSaved the trajectories of a few iterates to {args.plot}")
        else:
            print("\nmatplotlib is not installed: no plot")


if __name__ == "__main__":
    main()
