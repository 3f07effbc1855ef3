"""Adjoint rules for NumPy's elementwise functions (ufuncs, `np.where`, `np.clip`).

Each rule is the local derivative times the output's adjoint; binary rules
undo broadcasting with `unbroadcast` (dropped where the shapes are known to
agree). Constants such as ln 2 are Python floats (`math.log(2)`), so float32
inputs are not promoted to float64.

`np.negative`, `np.positive`, `np.add`, `np.subtract`, `np.multiply`,
`np.divide` (also `np.true_divide`: the same object), `np.exp`, `np.log`,
`np.maximum` and `np.minimum` are in rules/numpy.py. In NumPy 2, `np.abs` is
`np.absolute`, `np.pow` is `np.power`, and `np.asin`, `np.atan2`, ... are the
`np.arcsin`, `np.arctan2`, ... objects, so each has one registration here.

Policy at points where a function is not differentiable (never NaN from a rule):
- abs, fabs at 0: the subgradient 0.
- fmax, fmin at a tie a == b: the gradient splits evenly, like maximum/minimum;
  where one argument is NaN, the other (the result) takes the whole gradient.
- hypot at the origin: 0, the subgradient of a norm at its kink.
- arctan2 at the origin (where it jumps): 0.
- clip: as ``np.minimum(np.maximum(a, a_min), a_max)``, which it is exactly
  (also for a_min > a_max), with the tie rule of each: strictly inside
  the bounds `a` takes the whole gradient, strictly outside the bound it
  crosses does; where `a` equals a bound, they share it evenly, consistent
  with maximum and minimum. A bound given as None has no gradient and no ties.
- where: the condition is a constant (its derivative is 0 almost everywhere).
"""

import math

import numpy as np

from ..runtime import power_slope, safe_div, safe_log, unbroadcast
from .registry import adjoint


# -- exponentials and logarithms ----------------------------------------------------

@adjoint(np.expm1)
def _(out, x):
    dx += (out + 1) * dout


@adjoint(np.exp2)
def _(out, x):
    dx += out * math.log(2) * dout


@adjoint(np.log1p)
def _(out, x):
    dx += dout / (1 + x)


@adjoint(np.log2)
def _(out, x):
    dx += dout / (x * math.log(2))


@adjoint(np.log10)
def _(out, x):
    dx += dout / (x * math.log(10))


@adjoint(np.logaddexp)
def _(out, a, b):
    """log(e**a + e**b): each argument's weight exp(a - out) is its softmax share."""
    da += unbroadcast(np.exp(a - out) * dout, a)
    db += unbroadcast(np.exp(b - out) * dout, b)


@adjoint(np.logaddexp2)
def _(out, a, b):
    """log2(2**a + 2**b): each argument's weight 2**(a - out) is its share."""
    da += unbroadcast(np.exp2(a - out) * dout, a)
    db += unbroadcast(np.exp2(b - out) * dout, b)


# -- powers and roots ------------------------------------------------------------------

@adjoint(np.sqrt)
def _(out, x):
    dx += 0.5 / out * dout


@adjoint(np.cbrt)
def _(out, x):
    dx += dout / (3 * out * out)


@adjoint(np.square)
def _(out, x):
    dx += 2 * x * dout


@adjoint(np.reciprocal)
def _(out, x):
    dx += -out * out * dout


@adjoint(np.power)
def _(out, a, b):
    """d(a**b)/db uses safe_log(a): 0 at a == 0, where a**b is identically 0 for b > 0
    (NaN for a < 0, where a**b is not defined for the b nearby)."""
    da += unbroadcast(power_slope(a, b) * dout, a)
    db += unbroadcast(safe_log(a) * out * dout, b)


# -- absolute values, extrema --------------------------------------------------------

@adjoint(np.absolute, np.fabs)
def _(out, x):
    """abs at 0 takes the subgradient 0."""
    dx += np.sign(x) * dout


@adjoint(np.fmax)
def _(out, a, b):
    """Ties a == b split the gradient evenly; against a NaN the other argument takes it all."""
    da += unbroadcast(((a > b) + 0.5 * (a == b) + np.isnan(b)) * dout, a)
    db += unbroadcast(((b > a) + 0.5 * (a == b) + np.isnan(a)) * dout, b)


@adjoint(np.fmin)
def _(out, a, b):
    """Ties a == b split the gradient evenly; against a NaN the other argument takes it all."""
    da += unbroadcast(((a < b) + 0.5 * (a == b) + np.isnan(b)) * dout, a)
    db += unbroadcast(((b < a) + 0.5 * (a == b) + np.isnan(a)) * dout, b)


# -- trigonometric and hyperbolic ----------------------------------------------------

@adjoint(np.sin)
def _(out, x):
    dx += np.cos(x) * dout


@adjoint(np.cos)
def _(out, x):
    dx += -np.sin(x) * dout


@adjoint(np.tan)
def _(out, x):
    dx += (1 + out * out) * dout


@adjoint(np.arcsin)
def _(out, x):
    dx += dout / np.sqrt(1 - x * x)


@adjoint(np.arccos)
def _(out, x):
    dx += -dout / np.sqrt(1 - x * x)


@adjoint(np.arctan)
def _(out, x):
    dx += dout / (1 + x * x)


@adjoint(np.arctan2)
def _(out, y, x):
    """At the origin, where arctan2 jumps, the gradient is 0."""
    r2 = x * x + y * y
    dy += unbroadcast(safe_div(x, r2) * dout, y)
    dx += unbroadcast(safe_div(-y, r2) * dout, x)


@adjoint(np.hypot)
def _(out, a, b):
    """At the origin the gradient is 0, the subgradient of a norm at its kink."""
    da += unbroadcast(safe_div(a, out) * dout, a)
    db += unbroadcast(safe_div(b, out) * dout, b)


@adjoint(np.sinh)
def _(out, x):
    dx += np.cosh(x) * dout


@adjoint(np.cosh)
def _(out, x):
    dx += np.sinh(x) * dout


@adjoint(np.tanh)
def _(out, x):
    dx += (1 - out * out) * dout


@adjoint(np.arcsinh)
def _(out, x):
    dx += dout / np.sqrt(x * x + 1)


@adjoint(np.arccosh)
def _(out, x):
    dx += dout / np.sqrt(x * x - 1)


@adjoint(np.arctanh)
def _(out, x):
    dx += dout / (1 - x * x)


@adjoint(np.sinc)
def _(out, x):
    """sinc(x) = sin(pi x) / (pi x) has the derivative (cos(pi x) - sinc(x)) / x, 0 at
    x == 0. For |x| < 0.03 that quotient cancels, and its Taylor series in u = (pi x)**2,
    -pi**2 x / 3 * (1 - u/10 + u**2/280 - u**3/15120), is used instead."""
    u = (np.pi * x) ** 2
    series = -np.pi * np.pi / 3 * x * (1 - u / 10 * (1 - u / 28 * (1 - u / 54)))
    quotient = safe_div(np.cos(np.pi * x) - out, x)
    dx += np.where(np.abs(x) < 0.03, series, quotient) * dout


# -- selection ---------------------------------------------------------------------------

@adjoint(np.where)
def _(out, condition, x, y):
    """The condition is a constant: x takes the gradient where it holds, y elsewhere."""
    dx += unbroadcast(np.where(condition, dout, 0), x)
    dy += unbroadcast(np.where(condition, 0, dout), y)


def bound_or_inf(bound, inf):
    """A bound of `np.clip`, or `inf` (plus or minus infinity) for a missing bound (None)."""
    return inf if bound is None else bound


@adjoint(bound_or_inf)
def _(out, bound, inf):
    dbound += dout


@adjoint(np.clip)
def _(out, a, a_min, a_max):
    """clip(a, lo, hi) is minimum(maximum(a, lo), hi), also for lo > hi: strictly inside
    the bounds `a` takes the gradient, outside them the bound it hits; ties split
    evenly, as in maximum and minimum (a == lo < hi: 1/2 each; a == lo == hi: 1/4 to a,
    1/4 to lo, 1/2 to hi)."""
    lo = bound_or_inf(a_min, -math.inf)
    hi = bound_or_inf(a_max, math.inf)
    above_lo = (a > lo) + 0.5 * (a == lo)
    below_hi = (a < hi) + 0.5 * (a == hi)
    da += unbroadcast(above_lo * below_hi * dout, a)
    lo_below_hi = (lo < hi) + 0.5 * (lo == hi)
    da_min += unbroadcast((1 - above_lo) * lo_below_hi * dout, a_min)
    low = np.maximum(a, lo)
    da_max += unbroadcast(((hi < low) + 0.5 * (hi == low)) * dout, a_max)


@adjoint(np.clip)
def _(out, a, *, min=None, max=None):
    """np.clip(a, min=..., max=...), NumPy 2's spelling: as above."""
    lo = bound_or_inf(min, -math.inf)
    hi = bound_or_inf(max, math.inf)
    above_lo = (a > lo) + 0.5 * (a == lo)
    below_hi = (a < hi) + 0.5 * (a == hi)
    da += unbroadcast(above_lo * below_hi * dout, a)
    lo_below_hi = (lo < hi) + 0.5 * (lo == hi)
    dmin += unbroadcast((1 - above_lo) * lo_below_hi * dout, min)
    low = np.maximum(a, lo)
    dmax += unbroadcast(((hi < low) + 0.5 * (hi == low)) * dout, max)
