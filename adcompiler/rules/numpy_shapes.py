"""Adjoint rules for NumPy's shape functions, arrays built from active values,
and the functions whose output is a constant.

A function that only moves entries around has the inverse move as its
adjoint: the transpose by the inverse permutation, the flip by the same flip,
a reshape back to the input's shape. A function that copies entries (tile,
repeat, broadcast_to, pad) sums the adjoints of the copies back onto the
entry they came from. A function that joins arrays (concatenate, stack)
cuts its adjoint back into one piece per array; one that splits an array
joins the pieces' adjoints again.

The helpers below are called by the generated code; each has its own rule, so
generated code stays differentiable.
"""

import numpy as np

from ..runtime import unbroadcast
from .registry import adjoint, nondifferentiable


# -- helpers ----------------------------------------------------------------------------

def unconcatenate(g, arrays, axis=0):
    """The adjoint `g` of joining `arrays` along `axis` (None: joined flat), cut into
    one piece per array, each shaped like its array.

    Each array's share of the joined axis is its size over the size of the rest of
    `g`, so this also undoes vstack, hstack, dstack and column_stack, which first
    promote their 0-d and 1-D arrays. The pieces come as one array stacking them
    when they have one shape, else as a 1-d object array of them: either way,
    item k is piece k and ``+`` adds piece by piece, as the adjoint of a list must.
    """
    g = np.asarray(g)
    if axis is None:
        g, axis = np.ravel(g), 0
    rest = max(g.size // max(g.shape[axis], 1), 1)
    counts = [np.size(a) // rest for a in arrays]
    pieces = [np.reshape(p, np.shape(a))
              for p, a in zip(np.split(g, np.cumsum(counts)[:-1], axis=axis), arrays)]
    return _pieces_array(pieces)


def _pieces_array(pieces):
    """A list of arrays as one array: stacked when they share a shape, else a 1-d object array."""
    if len({np.shape(p) for p in pieces}) <= 1:
        return np.stack(pieces) if pieces else np.zeros(0)
    result = np.empty(len(pieces), dtype=object)
    for k, piece in enumerate(pieces):
        result[k] = piece
    return result


def concatenate_like(pieces, g, axis=0):
    """`pieces` (one per array, each shaped like it) joined along `axis` into an array
    shaped like `g`: the inverse of `unconcatenate(g, pieces, axis)`."""
    shape = np.shape(g)
    if axis is None:
        return np.reshape(np.concatenate([np.ravel(p) for p in pieces]), shape)
    axis = axis % len(shape)
    rest = max(int(np.prod(shape)) // max(shape[axis], 1), 1)
    blocks = [np.reshape(p, shape[:axis] + (np.size(p) // rest,) + shape[axis + 1:])
              for p in pieces]
    return np.concatenate(blocks, axis=axis)


def untile(g, x, reps):
    """The adjoint `g` of ``np.tile(x, reps)``: the tiles summed onto one copy of `x`."""
    shape = np.shape(x)
    reps = tuple(np.ravel(reps))
    ndim = max(len(shape), len(reps))
    tile_shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    g = np.reshape(g, [n for pair in zip(reps, tile_shape) for n in pair])
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * ndim, 2))), shape)


def unrepeat(g, x, repeats, axis=None):
    """The adjoint `g` of ``np.repeat(x, repeats, axis)``: the copies of each entry summed."""
    shape = np.shape(x)
    g = np.asarray(g)
    if axis is None:
        return np.reshape(_sum_copies(g, int(np.prod(shape)), repeats, 0), shape)
    return _sum_copies(g, shape[axis], repeats, axis % len(shape))


def _sum_copies(g, n, repeats, axis):
    """Sum the runs of `g` along `axis` made by repeating each of n entries `repeats` times."""
    if np.size(repeats) == 1:
        runs = np.reshape(g, g.shape[:axis] + (n, int(np.ravel(repeats)[0])) + g.shape[axis + 1:])
        return np.sum(runs, axis=axis + 1)
    owner = np.repeat(np.arange(n), repeats)
    total = np.zeros((n,) + g.shape[:axis] + g.shape[axis + 1:], dtype=g.dtype)
    np.add.at(total, owner, np.moveaxis(g, axis, 0))
    return np.moveaxis(total, 0, axis)


_COPYING_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def unpad(g, x, pad_width, mode="constant"):
    """The adjoint `g` of ``np.pad(x, pad_width, mode)`` summed back onto the entries of `x`.

    In the constant mode that is the middle block of `g`; in the modes that pad
    with copies of entries of `x` (edge, reflect, symmetric, wrap) each copy
    adds its adjoint to the entry it copies. Other modes raise.
    """
    shape = np.shape(x)
    widths = np.broadcast_to(pad_width, (len(shape), 2))
    if mode == "constant":
        return np.asarray(g)[tuple(slice(before, before + n)
                                   for (before, _), n in zip(widths, shape))]
    if mode not in _COPYING_PAD_MODES:
        raise NotImplementedError(
            f"the gradient of np.pad with mode={mode!r} is not implemented; the modes "
            f"'constant', {', '.join(repr(m) for m in _COPYING_PAD_MODES)} are")
    source = np.pad(np.reshape(np.arange(np.size(x)), shape), pad_width, mode)
    total = np.bincount(np.ravel(source), weights=np.ravel(g), minlength=np.size(x))
    return np.reshape(total, shape).astype(np.result_type(g, np.float16))


def pad_values_grad(g, x, pad_width):
    """The adjoint `g` of ``np.pad(x, pad_width, constant_values=c)`` with respect to c,
    as an (ndim, 2) array: the sum of `g` over the entries each (before, after) value fills.

    NumPy pads one axis after the other, so the corners belong to the later axis.
    """
    g = np.asarray(g)
    shape = np.shape(x)
    ndim = len(shape)
    widths = np.broadcast_to(pad_width, (ndim, 2))
    middle = [slice(before, before + n) for (before, _), n in zip(widths, shape)]
    sums = np.zeros((ndim, 2), dtype=np.result_type(g, np.float16))
    for i, (before, _) in enumerate(widths):
        sides = (slice(0, before), slice(before + shape[i], None))
        for side, part in enumerate(sides):
            index = tuple(slice(None) if j < i else part if j == i else middle[j]
                          for j in range(ndim))
            sums[i, side] = np.sum(g[index])
    return sums


# -- rearranging entries --------------------------------------------------------------

@adjoint(np.transpose)
def _(out, a, axes):
    """The inverse permutation undoes the transpose (negative axes counted from the end)."""
    da += np.transpose(dout, np.argsort(np.mod(axes, np.ndim(a))))


@adjoint(np.swapaxes)
def _(out, a, axis1, axis2):
    da += np.swapaxes(dout, axis1, axis2)


@adjoint(np.moveaxis)
def _(out, a, source, destination):
    da += np.moveaxis(dout, destination, source)


@adjoint(np.expand_dims)
def _(out, a, axis):
    da += np.reshape(dout, np.shape(a))


@adjoint(np.squeeze)
def _(out, a, axis=None):
    da += np.reshape(dout, np.shape(a))


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def _(out, ary):
    """One array only: with several the result is a list."""
    dary += np.reshape(dout, np.shape(ary))


@adjoint(np.flip)
def _(out, m, axis=None):
    dm += np.flip(dout, axis)


@adjoint(np.fliplr)
def _(out, m):
    dm += np.fliplr(dout)


@adjoint(np.flipud)
def _(out, m):
    dm += np.flipud(dout)


@adjoint(np.rot90)
def _(out, m, k=1):
    dm += np.rot90(dout, -k)


@adjoint(np.rot90)
def _(out, m, k, axes):
    dm += np.rot90(dout, -k, axes)


@adjoint(np.roll)
def _(out, a, shift, axis=None):
    da += np.roll(dout, np.negative(shift), axis)


# -- copying entries ---------------------------------------------------------------------

@adjoint(np.broadcast_to)
def _(out, array, shape, subok=False):
    darray += unbroadcast(dout, array)


@adjoint(np.tile)
def _(out, A, reps):
    dA += untile(dout, A, reps)


@adjoint(np.repeat)
def _(out, a, repeats, axis=None):
    da += unrepeat(dout, a, repeats, axis)


@adjoint(np.pad)
def _(out, array, pad_width, mode="constant", constant_values=0):
    """Modes that pad with constants or with copies of entries (edge, reflect,
    symmetric, wrap); the others raise at the first call."""
    darray += unpad(dout, array, pad_width, mode)
    dconstant_values += unbroadcast(pad_values_grad(dout, array, pad_width), constant_values)


# -- joining and splitting ------------------------------------------------------------

@adjoint(np.concatenate)
def _(out, arrays, axis=0, dtype=None, casting="same_kind"):
    darrays += unconcatenate(dout, arrays, axis)


@adjoint(np.stack)
def _(out, arrays, axis=0, dtype=None, casting="same_kind"):
    darrays += np.moveaxis(dout, axis, 0)


@adjoint(np.vstack)
def _(out, tup, dtype=None, casting="same_kind"):
    dtup += unconcatenate(dout, tup, 0)


@adjoint(np.hstack)
def _(out, tup, dtype=None, casting="same_kind"):
    """1-D arrays are joined along axis 0, the others along axis 1."""
    dtup += unconcatenate(dout, tup, 0 if np.ndim(out) == 1 else 1)


@adjoint(np.column_stack)
def _(out, tup):
    dtup += unconcatenate(dout, tup, 1)


@adjoint(np.dstack)
def _(out, tup):
    dtup += unconcatenate(dout, tup, 2)


@adjoint(np.split, np.array_split)
def _(out, ary, indices_or_sections, axis=0):
    """`dout` holds one adjoint per piece: a list, or an array stacking equal pieces."""
    dary += np.concatenate(dout, axis)


@adjoint(np.vsplit)
def _(out, ary, indices_or_sections):
    dary += np.concatenate(dout, 0)


@adjoint(np.hsplit)
def _(out, ary, indices_or_sections):
    dary += np.concatenate(dout, 1 if np.ndim(ary) > 1 else 0)


@adjoint(np.dsplit)
def _(out, ary, indices_or_sections):
    dary += np.concatenate(dout, 2)


# -- arrays from active values ----------------------------------------------------------

@adjoint(np.array)
def _(out, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, like=None):
    """From a list of numbers or of equally shaped arrays, each gets its slice of the adjoint."""
    dobject += np.reshape(dout, np.shape(object))


@adjoint(np.array)
def _(out, object, dtype=None, copy=True, order="K", subok=False, like=None):
    """From a list of numbers or of equally shaped arrays, each gets its slice of the adjoint."""
    dobject += dout


@adjoint(np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray)
def _(out, a, dtype=None, order=None, device=None, copy=None, like=None):
    """From a list of numbers or of equally shaped arrays, each gets its slice of the adjoint."""
    da += dout


@adjoint(np.full)
def _(out, shape, fill_value, dtype=None, order="C", device=None, like=None):
    dfill_value += unbroadcast(dout, fill_value)


@adjoint(np.full_like)
def _(out, a, fill_value, dtype=None, order="K", subok=True, shape=None, device=None):
    """Only the fill value reaches the result; `a` gives its shape."""
    dfill_value += unbroadcast(dout, fill_value)


@adjoint(np.linspace)
def _(out, start, stop, num=50, endpoint=True, dtype=None, axis=0, device=None):
    """out = (1 - t) * start + t * stop, with t running from 0 towards 1 along `axis`."""
    t = np.linspace(0 * start, 0 * stop + 1.0, num, endpoint=endpoint, axis=axis)
    dstart += unbroadcast(np.sum((1 - t) * dout, axis=axis), start)
    dstop += unbroadcast(np.sum(t * dout, axis=axis), stop)


@adjoint(np.linspace, when=lambda start, stop: start.scalar and stop.scalar)
def _(out, start, stop, num=50, endpoint=True, dtype=None, axis=0, device=None):
    """out = (1 - t) * start + t * stop, with t running from 0 towards 1."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    dstart += np.sum((1 - t) * dout)
    dstop += np.sum(t * dout)


# -- the helpers' own rules (so generated code can be differentiated again) ----------

@adjoint(unconcatenate)
def _(out, g, arrays, axis=0):
    dg += concatenate_like(dout, g, axis)


@adjoint(concatenate_like)
def _(out, pieces, g, axis=0):
    dpieces += unconcatenate(dout, pieces, axis)


@adjoint(untile)
def _(out, g, x, reps):
    dg += np.tile(dout, reps)


@adjoint(unrepeat)
def _(out, g, x, repeats, axis=None):
    dg += np.repeat(dout, repeats, axis)


@adjoint(unpad)
def _(out, g, x, pad_width, mode="constant"):
    dg += np.pad(dout, pad_width, mode)


@adjoint(pad_values_grad)
def _(out, g, x, pad_width):
    dg += np.pad(np.zeros(np.shape(x), dtype=np.result_type(dout)), pad_width,
                 constant_values=dout)


# -- constants --------------------------------------------------------------------------

nondifferentiable(
    np.around, np.fix, np.signbit, np.isposinf, np.isneginf, np.isclose, np.allclose,
    np.array_equal, np.array_equiv, np.logical_xor, np.argwhere, np.flatnonzero,
    np.count_nonzero, np.searchsorted, np.digitize, np.argpartition, np.lexsort,
    np.floor_divide, np.tri, np.indices, np.unravel_index, np.ravel_multi_index,
)
