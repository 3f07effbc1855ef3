"""Adjoint rules for NumPy reductions and cumulative functions: prod, var, std,
cumsum, cumprod and np.linalg.norm.

`np.sum`, `np.mean` and `np.max`/`np.min`/`np.amax`/`np.amin` are in
rules/numpy.py. A reduction over `axis` (None, an int, a negative int or a
tuple) is undone by `unreduce(dout, a, axis, keepdims)`, which spreads the
adjoint back over the shape of `a`. The array methods (`x.prod()`,
`x.var(axis=0)`, `x.cumsum()`, ...) are staged as these functions.

`keepdims` and `ddof` are keyword-only in the rules: a call passing NumPy's
`dtype` or `out` positionally binds to no rule and is refused, not misread.

Policy at points where a function is not differentiable (never NaN from a rule):
- std where all the entries reduced are equal (std == 0): the gradient is 0,
  the subgradient of a norm at its kink (std is a scaled norm of a - mean).
- norm of the zero vector (or matrix): the gradient is 0.
"""

import numpy as np

from ..errors import DifferentiationError
from ..runtime import reduced_count, safe_div, unreduce
from .registry import adjoint, nondifferentiable


# -- helpers ------------------------------------------------------------------------------

def reverse_cumsum(g, axis=None):
    """The sums of `g` from each position to the end along `axis`: the adjoint of
    ``np.cumsum(x, axis)``. With `axis` None, `g` is flat (as cumsum's result is)."""
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@adjoint(reverse_cumsum)
def _(out, g, axis=None):
    dg += np.reshape(np.cumsum(dout, axis), np.shape(g))


def euclidean_norm_axes(x, ord=None, axis=None):
    """The `axis` argument of ``np.linalg.norm(x, ord, axis)``, once it is checked to be
    the Euclidean norm of vectors or the Frobenius norm of matrices (the norms with a
    rule); any other `ord` raises DifferentiationError."""
    if ord is None:
        return axis
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        vector = True
    else:
        vector = isinstance(axis, (int, np.integer)) or axis is None and np.ndim(x) == 1
    if vector and ord == 2 or not vector and isinstance(ord, str) and ord == "fro":
        return axis
    what = "vectors" if vector else "matrices"
    raise DifferentiationError(
        f"np.linalg.norm with ord={ord!r} of {what} has no adjoint rule",
        construct="np.linalg.norm",
        hint="rules exist for the Euclidean norm of vectors (ord=None or 2) and the "
             "Frobenius norm of matrices (ord=None or 'fro'); write another norm out, e.g. "
             "np.sum(np.abs(x)) for ord=1, or register a rule with adcompiler.adjoint")


nondifferentiable(euclidean_norm_axes)


# -- products -------------------------------------------------------------------------

@adjoint(np.prod)
def _(out, a, axis=None, *, keepdims=False):
    """Each entry's derivative is the product of the others, computed without dividing
    by a zero: with no zero in its slice it is prod / a; with exactly one zero, the
    zero entry gets the product of the rest and the others 0; with two or more, all 0."""
    zero = a == 0
    nonzero = np.where(zero, 1, a)
    rest = np.prod(nonzero, axis, keepdims=True)
    zeros = np.sum(zero, axis, keepdims=True)
    others = np.where(zero, rest * (zeros == 1), rest / nonzero * (zeros == 0))
    da += others * unreduce(dout, a, axis, keepdims)


@adjoint(np.cumsum)
def _(out, a, axis=None):
    """Each entry reaches the sums at its position and after it (with `axis` None, in
    the flattened order)."""
    da += np.reshape(reverse_cumsum(dout, axis), np.shape(a))


@adjoint(np.cumprod)
def _(out, a, axis=None):
    """Exact where `a` holds zeros, without dividing by one: before the first zero of
    a slice, entry j gets the sum over i >= j of dout_i * out_i / a_j (out_i is 0 from
    that zero on); the first zero gets the sum over i >= j of dout_i times the running
    product that leaves it out; entries after the first zero get 0."""
    x = np.reshape(a, np.shape(out))
    zero = x == 0
    zeros_so_far = np.cumsum(zero, axis)
    first_zero = zero & (zeros_so_far == 1)
    before = zeros_so_far == 0
    skipped = np.cumprod(np.where(first_zero, 1, x), axis)
    at_zero = reverse_cumsum(skipped * dout, axis)
    before_zero = before * reverse_cumsum(out * dout, axis) / np.where(before, x, 1)
    da += np.reshape(np.where(first_zero, at_zero, before_zero), np.shape(a))


# -- moments ---------------------------------------------------------------------------

@adjoint(np.var)
def _(out, a, axis=None, *, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis, keepdims=True)
    da += 2 / (reduced_count(a, axis) - ddof) * centered * unreduce(dout, a, axis, keepdims)


@adjoint(np.var)
def _(out, a, axis=None, *, correction=0, keepdims=False):
    """np.var(a, correction=...), NumPy 2's name for ddof."""
    centered = a - np.mean(a, axis, keepdims=True)
    da += 2 / (reduced_count(a, axis) - correction) * centered * unreduce(dout, a, axis, keepdims)


@adjoint(np.var)
def _(out, a, axis=None, *, keepdims=False):
    centered = a - np.mean(a, axis, keepdims=True)
    da += 2 / reduced_count(a, axis) * centered * unreduce(dout, a, axis, keepdims)


@adjoint(np.std)
def _(out, a, axis=None, *, ddof=0, keepdims=False):
    """Where std == 0 (all the entries reduced are equal) the gradient is 0."""
    centered = a - np.mean(a, axis, keepdims=True)
    scale = (reduced_count(a, axis) - ddof) * unreduce(out, a, axis, keepdims)
    da += safe_div(centered, scale) * unreduce(dout, a, axis, keepdims)


@adjoint(np.std)
def _(out, a, axis=None, *, correction=0, keepdims=False):
    """np.std(a, correction=...), NumPy 2's name for ddof; 0 where std == 0."""
    centered = a - np.mean(a, axis, keepdims=True)
    scale = (reduced_count(a, axis) - correction) * unreduce(out, a, axis, keepdims)
    da += safe_div(centered, scale) * unreduce(dout, a, axis, keepdims)


@adjoint(np.std)
def _(out, a, axis=None, *, keepdims=False):
    """Where std == 0 (all the entries reduced are equal) the gradient is 0."""
    centered = a - np.mean(a, axis, keepdims=True)
    scale = reduced_count(a, axis) * unreduce(out, a, axis, keepdims)
    da += safe_div(centered, scale) * unreduce(dout, a, axis, keepdims)


# -- norms -------------------------------------------------------------------------------

@adjoint(np.linalg.norm)
def _(out, x, ord=None, axis=None, keepdims=False):
    """x / norm for the Euclidean norm of vectors and the Frobenius norm of matrices
    (other ords are refused when called); 0 at the zero vector, the subgradient at
    the kink."""
    axes = euclidean_norm_axes(x, ord, axis)
    dx += safe_div(x, unreduce(out, x, axes, keepdims)) * unreduce(dout, x, axes, keepdims)


@adjoint(np.linalg.norm)
def _(out, x, *, axis=None, keepdims=False):
    """Without `ord` the norm is Euclidean (Frobenius for matrices): x / norm, and 0 at
    the zero vector."""
    dx += safe_div(x, unreduce(out, x, axis, keepdims)) * unreduce(dout, x, axis, keepdims)
