"""Loops and branches on worked examples: a projectile, an RNN recurrence, Horner's rule.

- examples/projectile.py: the gradient of the landing distance (a `while`
  loop) passes check_grads, and gradient ascent finds an angle below 45
  degrees that flies further than 45 degrees.
- A 200-step tanh recurrence and a degree-50 Horner evaluation (`for` loops
  that overwrite their variable) match hand-written backward passes to 1e-10
  and pass check_grads.
- Snapshots of the generated source for a branch, the recurrence and a
  `while` loop with `break`, in tests/snapshots/loop_*.py.txt.

To accept an intended change of a snapshot, run with
ADCOMPILER_UPDATE_SNAPSHOTS=1 and review the diff.
"""

import math
import os
from pathlib import Path

import numpy as np
import pytest

from adcompiler import check_grads, grad

from .example_modules import load_example


# --------------------------------------------------------------------------
# Functions whose generated source is pinned by the snapshots below. The
# snapshots name this file and these lines: keep them here, at the top.

def branch(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


def rnn(w, u, x):
    """The last state of the recurrence h <- tanh(w h + u x[t]), from h = 0."""
    h = 0.0
    for t in range(len(x)):
        h = math.tanh(w * h + u * x[t])
    return h


def exp_series(x, tol):
    """exp(x) by its Taylor series, stopping after the first term below `tol`."""
    total = 1.0
    term = 1.0
    n = 1
    while n < 100:
        term = term * x / n
        total = total + term
        if abs(term) < tol:
            break
        n = n + 1
    return total


def horner(x, c):
    """c[0] x^n + c[1] x^(n-1) + ... + c[n], by Horner's rule."""
    p = 0.0
    for a in c:
        p = p * x + a
    return p


# --------------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
SNAPSHOTS = HERE / "snapshots"

STEPS = 200
DEGREE = 50
TOLERANCE = 1e-10


@pytest.fixture(scope="module")
def projectile():
    return load_example("projectile")


def sequence(seed=0):
    return np.random.default_rng(seed).standard_normal(STEPS)


def coefficients(seed=1):
    return np.random.default_rng(seed).standard_normal(DEGREE + 1)


# --------------------------------------------------------------------------
# hand-written backward passes

def rnn_by_hand(w, u, x):
    """(d h_n / d w, d h_n / d u): forward storing every state, then backward."""
    hs = [0.0]
    for t in range(len(x)):
        hs.append(math.tanh(w * hs[t] + u * x[t]))
    dw = 0.0
    du = 0.0
    dh = 1.0                                   # d h_n / d h_n
    for t in reversed(range(len(x))):
        da = dh * (1.0 - hs[t + 1] ** 2)       # through tanh
        dw += da * hs[t]
        du += da * x[t]
        dh = da * w                            # on to the previous state
    return dw, du


def horner_by_hand(x, c):
    """(dp/dx, dp/dc): forward storing every partial value, then backward."""
    ps = []
    p = 0.0
    for a in c:
        ps.append(p)
        p = p * x + a
    dx = 0.0
    dc = np.zeros(len(c))
    dp = 1.0
    for i in reversed(range(len(c))):
        dc[i] = dp                             # p_i+1 = p_i * x + c[i]
        dx += dp * ps[i]
        dp = dp * x
    return dx, dc


# --------------------------------------------------------------------------
# the projectile

PROJECTILE_POINTS = [
    (30.0, math.radians(60.0), 0.013, 0.01),
    (25.0, math.radians(35.0), 0.02, 0.01),
]


@pytest.mark.parametrize("args", PROJECTILE_POINTS, ids=["60deg", "35deg"])
def test_projectile_gradient_passes_check_grads(projectile, args):
    # central differences are only meaningful where the number of steps stays put
    assert projectile.same_steps_nearby(*args)
    assert 200 < projectile.steps_taken(*args) < 1000
    check_grads(projectile.landing_distance, args, wrt=("speed", "angle"))
    d_speed, d_angle = projectile.d_landing(*args)
    assert type(d_speed) is float and type(d_angle) is float
    assert d_speed > 0


def test_projectile_trajectory_is_the_same_integration(projectile):
    args = PROJECTILE_POINTS[0]
    xs, ys = projectile.trajectory(*args)
    assert ys[-2] >= 0 > ys[-1]
    landing = xs[-2] + (xs[-1] - xs[-2]) * ys[-2] / (ys[-2] - ys[-1])
    assert landing == pytest.approx(projectile.landing_distance(*args), rel=1e-12)


def test_projectile_distance_is_continuous_across_a_trip_count_switch(projectile):
    speed, _, k, dt = PROJECTILE_POINTS[0]
    lo, hi = math.radians(50.0), math.radians(50.5)
    n_lo = projectile.steps_taken(speed, lo, k, dt)
    assert projectile.steps_taken(speed, hi, k, dt) != n_lo
    for _ in range(60):                        # bisect to the switch
        mid = 0.5 * (lo + hi)
        if projectile.steps_taken(speed, mid, k, dt) == n_lo:
            lo = mid
        else:
            hi = mid
    assert projectile.steps_taken(speed, hi, k, dt) != n_lo
    before = projectile.landing_distance(speed, lo, k, dt)
    after = projectile.landing_distance(speed, hi, k, dt)
    assert before == pytest.approx(after, abs=1e-9)


def test_projectile_optimiser_beats_45_degrees(projectile):
    history = projectile.optimise_angle()
    angle, distance = history[-1]
    speed, k, dt = projectile.SPEED, projectile.K, projectile.DT
    range_45 = projectile.landing_distance(speed, math.radians(45.0), k, dt)
    assert math.degrees(angle) < 45.0
    assert distance > range_45
    assert distance == pytest.approx(projectile.landing_distance(speed, angle, k, dt))
    # ascent: never much worse than the iterate before (the slope jumps a little
    # at trip-count switches, so allow for tiny dips near the top)
    ranges = [r for _, r in history]
    assert all(b > a - 1e-4 for a, b in zip(ranges, ranges[1:]))


# --------------------------------------------------------------------------
# the tanh recurrence

@pytest.mark.parametrize("w, u", [(0.8, 0.5), (-1.3, 0.9)])
def test_rnn_matches_hand_written(w, u):
    x = sequence()
    dw, du = grad(rnn, wrt=("w", "u"))(w, u, x)
    hw, hu = rnn_by_hand(w, u, x)
    assert dw == pytest.approx(hw, rel=TOLERANCE, abs=TOLERANCE)
    assert du == pytest.approx(hu, rel=TOLERANCE, abs=TOLERANCE)


def test_rnn_passes_check_grads():
    check_grads(rnn, (0.8, 0.5, sequence()), wrt=("w", "u"))


def test_rnn_leaves_its_input_alone():
    x = sequence()
    before = x.copy()
    grad(rnn, wrt=("w", "u"))(0.8, 0.5, x)
    assert np.array_equal(x, before)


# --------------------------------------------------------------------------
# Horner's rule

@pytest.mark.parametrize("x", [0.9, -1.1])
def test_horner_matches_hand_written(x):
    c = coefficients()
    dx, dc = grad(horner, wrt=("x", "c"))(x, c)
    hx, hc = horner_by_hand(x, c)
    assert dx == pytest.approx(hx, rel=TOLERANCE, abs=TOLERANCE)
    assert dc.shape == c.shape and dc.dtype == np.float64
    np.testing.assert_allclose(dc, hc, rtol=TOLERANCE, atol=TOLERANCE)
    # dp/dc is the column of powers of x, highest first
    np.testing.assert_allclose(dc, x ** np.arange(DEGREE, -1, -1.0), rtol=1e-12)


def test_horner_gradient_wrt_x_alone():
    c = coefficients()
    dx = grad(horner, wrt="x")(0.9, c)
    assert dx == pytest.approx(horner_by_hand(0.9, c)[0], rel=TOLERANCE, abs=TOLERANCE)


def test_horner_passes_check_grads():
    check_grads(horner, (0.9, coefficients()), wrt=("x", "c"))


# --------------------------------------------------------------------------
# the while loop with break

def test_exp_series_gradient_is_the_shorter_series():
    dx = grad(exp_series)(1.3, 1e-12)
    assert dx == pytest.approx(math.exp(1.3), rel=1e-11)
    check_grads(exp_series, (1.3, 1e-12), wrt="x")
    check_grads(exp_series, (-2.2, 1e-12), wrt="x")


# --------------------------------------------------------------------------
# snapshots of the generated source

def _snapshot_cases():
    x = sequence()
    return {
        "loop_branch": (branch, 0, (1.5,), lambda g: g.source),
        "loop_rnn": (rnn, ("w", "u"), (0.8, 0.5, x), lambda g: g.source),
        # the variant a call with an array sequence runs
        "loop_rnn_array": (rnn, ("w", "u"), (0.8, 0.5, x),
                           lambda g: g.source_for(0.8, 0.5, x)),
        "loop_while_break": (exp_series, "x", (1.3, 1e-12), lambda g: g.source),
    }


@pytest.mark.parametrize("name", sorted(_snapshot_cases()))
def test_generated_source_matches_snapshot(name):
    fn, wrt, args, source_of = _snapshot_cases()[name]
    source = source_of(grad(fn, wrt=wrt))
    path = SNAPSHOTS / f"{name}.py.txt"
    if os.environ.get("ADCOMPILER_UPDATE_SNAPSHOTS"):
        path.write_text(source)
    assert path.exists(), f"no snapshot yet: run with ADCOMPILER_UPDATE_SNAPSHOTS=1 to create {path}"
    assert source == path.read_text()
    check_grads(fn, args, wrt=wrt)          # the pinned source is also right


def test_branch_takes_both_ways():
    g = grad(branch)
    assert g(1.5) == 3.0
    assert g(-0.7) == -1.0
    check_grads(branch, (-0.7,))
