"""Adjoint rules for Python's operators and builtins (and the NumPy ufuncs they stand for), and
adcompiler's runtime helpers.

Each rule reads as the local derivative times the output's adjoint.
"""

import builtins
import operator

import numpy as np

from ..ir import copy_value
from ..runtime import (appended, count_equal, power_slope, safe_div, safe_log, sign, spread,
                       square, step, stop_gradient, unbroadcast)
from .registry import adjoint, nondifferentiable


@adjoint(copy_value, operator.pos, float, np.positive)
def _(out, x):
    dx += dout


@adjoint(operator.neg, np.negative)
def _(out, x):
    dx -= dout


@adjoint(operator.add, np.add)
def _(out, a, b):
    da += unbroadcast(dout, a)
    db += unbroadcast(dout, b)


@adjoint(operator.sub, np.subtract)
def _(out, a, b):
    da += unbroadcast(dout, a)
    db -= unbroadcast(dout, b)


@adjoint(operator.mul, np.multiply)
def _(out, a, b):
    da += unbroadcast(b * dout, a)
    db += unbroadcast(a * dout, b)


@adjoint(square)
def _(out, x):
    """``x * x``: one pass, not two."""
    dx += 2 * x * dout


@adjoint(operator.truediv, np.divide)
def _(out, a, b):
    da += unbroadcast(dout / b, a)
    db += unbroadcast(-a / (b * b) * dout, b)


@adjoint(operator.pow, builtins.pow)
def _(out, a, b):
    """d(a**b)/db uses safe_log(a): 0 at a == 0, where a**b is identically 0 for b > 0."""
    da += unbroadcast(power_slope(a, b) * dout, a)
    db += unbroadcast(safe_log(a) * out * dout, b)


@adjoint(operator.mod)
def _(out, a, b):
    """a % b is a - b * floor(a / b): slope 1 in a and -floor(a / b) in b between its jumps."""
    da += unbroadcast(dout, a)
    db -= unbroadcast((a // b) * dout, b)


@adjoint(builtins.abs)
def _(out, x):
    """abs at 0 takes the subgradient 0."""
    dx += sign(x) * dout


@adjoint(builtins.max)
def _(out, a, b):
    """A tie a == b splits the gradient evenly."""
    da += ((a > b) + 0.5 * (a == b)) * dout
    db += ((b > a) + 0.5 * (a == b)) * dout


@adjoint(builtins.max, builtins.min)
def _(out, *xs):
    """The gradient goes to the arguments equal to the result, split evenly among ties."""
    dxs += (xs == out) / count_equal(out, *xs) * dout


@adjoint(builtins.min)
def _(out, a, b):
    """A tie a == b splits the gradient evenly."""
    da += ((a < b) + 0.5 * (a == b)) * dout
    db += ((b < a) + 0.5 * (a == b)) * dout


@adjoint(safe_div)
def _(out, a, b):
    """Like a / b, and 0 where b == 0."""
    da += safe_div(dout, b)
    db -= safe_div(out, b) * dout


@adjoint(safe_log)
def _(out, a):
    da += safe_div(dout, a)


@adjoint(appended)
def _(out, xs, value):
    """A list's adjoint is an array: item k is the adjoint of element k."""
    dxs += dout[:-1]
    dvalue += dout[-1]


@adjoint(builtins.sum)
def _(out, xs):
    """``sum(xs)`` of a list or an array built in the function."""
    dxs += spread(dout, xs)


nondifferentiable(
    sign, step, count_equal, stop_gradient,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.not_, operator.floordiv, operator.and_, operator.or_, operator.xor,
    operator.lshift, operator.rshift, operator.invert,
    builtins.int, builtins.round, builtins.bool, builtins.len,
)
