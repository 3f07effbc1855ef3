"""Adjoint rules for the `math` module."""

import math

from ..runtime import power_slope, safe_div, safe_log, sign
from .registry import adjoint, nondifferentiable


@adjoint(math.exp)
def _(out, x):
    dx += out * dout


@adjoint(math.expm1)
def _(out, x):
    dx += (out + 1) * dout


@adjoint(math.log)
def _(out, x):
    dx += dout / x


@adjoint(math.log)
def _(out, x, base):
    dx += dout / (x * math.log(base))
    dbase += -out / (base * math.log(base)) * dout


@adjoint(math.log2)
def _(out, x):
    dx += dout / (x * math.log(2))


@adjoint(math.log10)
def _(out, x):
    dx += dout / (x * math.log(10))


@adjoint(math.log1p)
def _(out, x):
    dx += dout / (1 + x)


@adjoint(math.sqrt)
def _(out, x):
    dx += 0.5 / out * dout


@adjoint(math.pow)
def _(out, a, b):
    """d(a**b)/db uses safe_log(a): 0 at a == 0, where a**b is identically 0 for b > 0."""
    da += power_slope(a, b) * dout
    db += safe_log(a) * out * dout


@adjoint(math.sin)
def _(out, x):
    dx += math.cos(x) * dout


@adjoint(math.cos)
def _(out, x):
    dx += -math.sin(x) * dout


@adjoint(math.tan)
def _(out, x):
    dx += (1 + out * out) * dout


@adjoint(math.asin)
def _(out, x):
    dx += dout / math.sqrt(1 - x * x)


@adjoint(math.acos)
def _(out, x):
    dx += -dout / math.sqrt(1 - x * x)


@adjoint(math.atan)
def _(out, x):
    dx += dout / (1 + x * x)


@adjoint(math.atan2)
def _(out, y, x):
    r2 = x * x + y * y
    dy += x / r2 * dout
    dx += -y / r2 * dout


@adjoint(math.sinh)
def _(out, x):
    dx += math.cosh(x) * dout


@adjoint(math.cosh)
def _(out, x):
    dx += math.sinh(x) * dout


@adjoint(math.tanh)
def _(out, x):
    dx += (1 - out * out) * dout


@adjoint(math.asinh)
def _(out, x):
    dx += dout / math.sqrt(x * x + 1)


@adjoint(math.acosh)
def _(out, x):
    dx += dout / math.sqrt(x * x - 1)


@adjoint(math.atanh)
def _(out, x):
    dx += dout / (1 - x * x)


@adjoint(math.hypot)
def _(out, *xs):
    """At the origin the gradient is 0, the subgradient of a norm at its kink."""
    dxs += safe_div(xs, out) * dout


@adjoint(math.fabs)
def _(out, x):
    """fabs at 0 takes the subgradient 0."""
    dx += sign(x) * dout


@adjoint(math.erf)
def _(out, x):
    dx += 2 / math.sqrt(math.pi) * math.exp(-x * x) * dout


@adjoint(math.erfc)
def _(out, x):
    dx += -2 / math.sqrt(math.pi) * math.exp(-x * x) * dout


@adjoint(math.degrees)
def _(out, x):
    dx += 180 / math.pi * dout


@adjoint(math.radians)
def _(out, x):
    dx += math.pi / 180 * dout


nondifferentiable(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
                  math.isclose, math.factorial, math.gcd)
