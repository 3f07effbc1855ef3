"""Functions whose generated gradient source is pinned by tests/test_snapshots.py."""
import math


def logistic_loss(w, b, x, y):
    """Cross-entropy of a one-feature logistic regression."""
    z = w * x + b
    p = 1.0 / (1.0 + math.exp(-z))
    loss = -(y * math.log(p) + (1 - y) * math.log(1 - p))
    return loss


def spring_energy(x, y, k):
    """A point on a spring anchored at (1, 0), with versioned reassignment and fan-out."""
    r = math.hypot(x - 1.0, y)
    stretch = r - 0.5
    energy = 0.5 * k * stretch ** 2
    energy += k * math.atan2(y, x)
    energy = energy / (1 + r)
    return energy
