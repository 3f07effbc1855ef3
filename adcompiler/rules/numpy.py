"""Adjoint rules for NumPy: elementwise functions, reductions, products and shapes.

Broadcasting is undone by `unbroadcast` (dropped where shapes are known to
agree); reductions are undone by `unreduce`.
"""

import operator

import numpy as np

from ..runtime import (assign_index, astype, extremum_mask, item, reduced_count, step, unbroadcast,
                       unindex, unreduce, with_zeros_at, dtype_of)
from .registry import adjoint, nondifferentiable


# -- elementwise ------------------------------------------------------------------

@adjoint(np.exp)
def _(out, x):
    dx += out * dout


@adjoint(np.log)
def _(out, x):
    dx += dout / x


@adjoint(np.maximum)
def _(out, a, b):
    """Ties a == b split the gradient evenly: step(a - b) is 1, 0.5 or 0."""
    da += unbroadcast(step(a - b) * dout, a)
    db += unbroadcast(step(b - a) * dout, b)


@adjoint(np.minimum)
def _(out, a, b):
    """Ties a == b split the gradient evenly: step(b - a) is 1, 0.5 or 0."""
    da += unbroadcast(step(b - a) * dout, a)
    db += unbroadcast(step(a - b) * dout, b)


# -- reductions ---------------------------------------------------------------------

@adjoint(np.sum)
def _(out, a, axis=None, *, keepdims=False):
    da += unreduce(dout, a, axis, keepdims)


@adjoint(np.mean)
def _(out, a, axis=None, *, keepdims=False):
    da += unreduce(dout, a, axis, keepdims) / reduced_count(a, axis)


@adjoint(np.max, np.min, np.amax, np.amin)
def _(out, a, axis=None, *, keepdims=False):
    """The gradient goes to the entries equal to the result, split evenly among ties."""
    da += extremum_mask(a, out, axis, keepdims) * unreduce(dout, a, axis, keepdims)


# -- products -------------------------------------------------------------------------

PRODUCTS = (np.dot, np.matmul, operator.matmul)


@adjoint(*PRODUCTS, when=lambda a, b: a.ndim == 2 and b.ndim == 2)
def _(out, a, b):
    da += dout.dot(b.T)
    db += a.T.dot(dout)


@adjoint(*PRODUCTS, when=lambda a, b: a.ndim == 2 and b.ndim == 1)
def _(out, a, b):
    da += np.outer(dout, b)
    db += a.T.dot(dout)


@adjoint(*PRODUCTS, when=lambda a, b: a.ndim == 1 and b.ndim == 2)
def _(out, a, b):
    da += b.dot(dout)
    db += np.outer(a, dout)


@adjoint(*PRODUCTS, when=lambda a, b: a.ndim == 1 and b.ndim == 1)
def _(out, a, b):
    da += dout * b
    db += dout * a


# -- shapes and copies ------------------------------------------------------------

@adjoint(np.transpose)
def _(out, a):
    da += dout.T


@adjoint(np.reshape)
def _(out, a, shape):
    da += np.reshape(dout, np.shape(a))


@adjoint(np.ravel)
def _(out, a):
    da += np.reshape(dout, np.shape(a))


@adjoint(np.copy)
def _(out, a):
    da += dout


@adjoint(astype)
def _(out, x, dtype):
    dx += astype(dout, dtype_of(x))


@adjoint(item)
def _(out, x):
    dx += np.full(np.shape(x), dout)


@adjoint(np.asarray, np.array)
def _(out, a):
    """From a list of numbers or arrays: each gets its slice of the adjoint."""
    da += dout


# -- indexing ----------------------------------------------------------------------

@adjoint(operator.getitem)
def _(out, x, index):
    """Repeated entries of an index array accumulate."""
    dx += unindex(dout, x, index)


@adjoint(operator.getitem, when=lambda x, index: index.scalar or index.token == "basic index")
def _(out, x, index):
    """An index of numbers and slices: the adjoint accumulates in place, like dx[i] += g."""
    dx[index] += dout


@adjoint(assign_index)
def _(out, x, index, value):
    """The entries overwritten get no gradient from the old array."""
    dx += with_zeros_at(dout, index)
    dvalue += unbroadcast(dout[index], value)


@adjoint(np.arange)
def _(out, stop):
    """The values 0, 1, 2, ... do not move with `stop` (only how many there are)."""
    dstop += 0 * dout


@adjoint(np.arange)
def _(out, start, stop):
    dstart += np.sum(dout)
    dstop += 0 * dout


@adjoint(np.arange)
def _(out, start, stop, step):
    dstart += np.sum(dout)
    dstop += 0 * dout
    dstep += np.sum(np.arange(len(out)) * dout)


nondifferentiable(
    np.shape, np.ndim, np.size, dtype_of, np.argmax, np.argmin, np.argsort, np.sign,
    np.floor, np.ceil, np.round, np.rint, np.trunc, np.isnan, np.isinf, np.isfinite,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.all, np.any, np.nonzero,
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like,
    np.eye, np.identity,
)
