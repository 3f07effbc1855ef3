"""The few helpers generated code calls, beside the user's own modules.

Each works on Python numbers and on NumPy arrays, and each is itself
differentiable by adcompiler (its rule is in rules/builtin.py), so generated
code can be differentiated again.
"""

import math

import numpy as np

_SCALARS = (float, int)


def sign(x):
    """-1, 0 or 1: the subgradient of |x| that is 0 at the kink."""
    if type(x) in _SCALARS:
        return (x > 0) - (x < 0)
    return np.sign(x)


def safe_div(a, b):
    """a / b, and 0 where b == 0 (the subgradient at a norm's kink)."""
    if type(b) in _SCALARS:
        return a / b if b else 0.0 * a
    b = np.asarray(b)
    zero = b == 0
    return np.where(zero, 0.0, a / np.where(zero, 1.0, b))


def safe_log(a):
    """log(a) for a > 0 and 0 at a == 0, where it only ever multiplies a zero power;
    NaN for a < 0, where a ** b is not differentiable in b."""
    if type(a) in _SCALARS:
        return math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
    a = np.asarray(a, dtype=float) if not np.issubdtype(np.asarray(a).dtype, np.floating) else np.asarray(a)
    positive = a > 0
    return np.where(positive, np.log(np.where(positive, a, 1)), np.where(a == 0, 0.0, np.nan))


def count_equal(value, *xs):
    """How many of xs equal value: the number of ways a max or min is tied."""
    return sum(x == value for x in xs)


def must_be_scalar(value):
    """Raise a TypeError unless `value` is a single real number."""
    shape = getattr(value, "shape", ())
    if shape != () and getattr(value, "size", 0) != 1 or isinstance(value, (tuple, list)):
        shape = shape if not isinstance(value, (tuple, list)) else f"a {type(value).__name__} of {len(value)}"
        raise TypeError(f"the function must return a scalar to be differentiated; it returned "
                        f"a value of shape {shape}")
