"""Functions of the user's own, in a module of their own, for tests/test_calls.py.

Calls from a test module into these exercise callees defined in another file.
The two-function program at the end is pinned by a snapshot
(tests/snapshots/two_functions.py.txt): its line numbers appear in the
generated source, so edit above it with care (or regenerate the snapshot).
"""

import math

import numpy as np


def softplus(x):
    return math.log1p(math.exp(x))


def scaled(x, a=2.0, *, b=1.0):
    """An affine map with a positional default and a keyword-only default."""
    return a * x + b


def sum_and_product(a, b):
    return a + b, a * b


def poly(x):
    """A helper calling a helper calling a helper."""
    return softplus(x) * scaled(x, 0.5) + cube(x)


def cube(x):
    return x * x * x


class Affine:
    """A model holding constants; its methods take the parameters to differentiate."""

    def __init__(self, scale, shift):
        self.scale = scale
        self.shift = shift

    def predict(self, w, x):
        return self.scale * math.tanh(w * x) + self.shift

    def loss(self, w, x, y):
        return (self.predict(w, x) - y) ** 2


class ArrayModel:
    """A linear model on arrays with a constant feature scaling and offset."""

    def __init__(self, scale, offset):
        self.scale = scale            # an array of shape (D,)
        self.offset = offset          # a float

    def predict(self, w, X):
        return np.tanh((X * self.scale) @ w + self.offset)


GLOBAL_AFFINE = Affine(1.5, -0.25)


# --------------------------------------------------------------------------
# the two-function program of the snapshot

def squash(z):
    return 1.0 / (1.0 + math.exp(-z))


def log_loss(w, b, x, y):
    p = squash(w * x + b)
    return -(y * math.log(p) + (1.0 - y) * math.log(1.0 - p))
