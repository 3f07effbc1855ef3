"""The few helpers generated code calls, beside the user's own modules.

Each works on Python numbers and on NumPy arrays, and each is itself
differentiable by adcompiler (its rule is in rules/builtin.py), so generated
code can be differentiated again.
"""

import math

import numpy as np

_SCALARS = (float, int)


def square(x):
    """``x * x``: the product of a value with itself, which has its own rule."""
    return x * x


def sign(x):
    """-1, 0 or 1: the subgradient of |x| that is 0 at the kink."""
    if type(x) in _SCALARS:
        return (x > 0) - (x < 0)
    return np.sign(x)


def step(x):
    """The derivative of max(x, 0): 1 where x > 0, 0 where x < 0, and 0.5 at the tie x == 0.

    For an array with no zero entry this is the boolean mask ``x > 0``, which
    multiplies like 1 and 0 without a float array of its own.
    """
    if type(x) in _SCALARS:
        return 1.0 if x > 0 else (0.5 if x == 0 else 0.0)
    above = x > 0
    ties = x == 0
    return above + 0.5 * ties if ties.any() else above


def power_slope(a, b):
    """``b * a ** (b - 1)``, the slope of ``a ** b`` in a; 0 where b == 0, since ``a ** 0`` is
    the constant 1 even at a == 0 (where ``a ** -1`` would divide by zero)."""
    if type(b) in _SCALARS:
        return b * a ** (b - 1) if b != 0 else zeros_like(a)
    zero = np.asarray(b) == 0
    if not zero.any():
        return b * a ** (b - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = b * np.asarray(a, dtype=np.result_type(a, float)) ** (b - 1)
    return np.where(zero, 0.0, slope)


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


# -- arrays ---------------------------------------------------------------------

def unbroadcast(g, x):
    """The adjoint `g` of a broadcast result, summed back to the shape of `x`."""
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    if not shape:
        return np.sum(g)
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return np.broadcast_to(g, shape) if g.shape != shape else g


def _is_basic(index):
    """Whether an index selects each element at most once (no index arrays or masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


def _no_repeats(index):
    """A tuple index with a component of distinct integers (``x[np.arange(n), y]``):
    no element is picked twice."""
    if not isinstance(index, tuple):
        return False
    for part in index:
        part = np.asarray(part)
        if part.dtype.kind in "iu" and part.ndim == 1 and _distinct(part):
            return all(np.shape(p) == part.shape for p in index)
    return False


def _distinct(ints):
    """Whether a 1-d integer array has no repeated entry (rising ones, like np.arange, at once)."""
    return bool(np.all(ints[1:] > ints[:-1])) or len(np.unique(ints)) == len(ints)


def unindex(g, x, index):
    """The adjoint of ``x[index]``: `g` placed at `index` in zeros shaped like `x`.

    Repeated entries of an index array accumulate.
    """
    if isinstance(x, list) and len({np.shape(item) for item in x}) > 1:
        dx = np.empty(len(x), dtype=object)            # a list of pieces of different shapes
        dx[:] = [zeros_like(item) for item in x]
        dx[index] = g
        return dx
    dtype = g.dtype if type(g) is np.ndarray and g.dtype.kind == "f" else np.result_type(g, float)
    dx = np.zeros(np.shape(x), dtype=dtype)
    if _is_basic(index) or _no_repeats(index):
        dx[index] = g
    else:
        np.add.at(dx, index, g)
    return dx


def assign_index(x, index, value):
    """``x[index] = value`` as a function: a copy of `x` with the entries replaced."""
    x = np.array(x, copy=True)
    x[index] = value
    return x


def with_zeros_at(g, index):
    """A copy of the adjoint `g` with the entries at `index` set to zero (they were overwritten)."""
    g = np.array(g, copy=True)
    g[index] = 0
    return g


def astype(x, dtype):
    """``x.astype(dtype)``."""
    return np.asarray(x).astype(dtype)


def dtype_of(x):
    """``x.dtype``."""
    return np.asarray(x).dtype


def item(x):
    """``x.item()``: the single element of `x` as a Python number."""
    return np.asarray(x).item()


def unreduce(g, x, axis=None, keepdims=False):
    """The adjoint `g` of a reduction over `axis`, spread back over the shape of `x`."""
    shape = np.shape(x)
    if axis is not None and not keepdims:
        axes = axis if isinstance(axis, tuple) else (axis,)
        g = np.expand_dims(g, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(g, shape)


def reduced_count(x, axis=None):
    """How many entries of `x` a reduction over `axis` combines: the divisor of a mean."""
    shape = np.shape(x)
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


def extremum_mask(x, out, axis=None, keepdims=False):
    """Where `x` attains the max or min `out`, each tie weighted 1/(number of ties)."""
    if axis is not None and not keepdims:        # put back the reduced axes, of length 1
        axes = axis if isinstance(axis, tuple) else (axis,)
        out = np.expand_dims(out, tuple(a % np.ndim(x) for a in axes))
    hit = x == out
    return hit / np.sum(hit, axis=axis, keepdims=True)


def zeros_like(x):
    """A zero adjoint for `x`: 0.0 for a number, float zeros of its shape for an array."""
    if type(x) in _SCALARS:
        return 0.0
    if x is None:                          # a placeholder that never got a value on this path
        return 0.0
    if isinstance(x, (list, tuple)) and len({np.shape(item) for item in x}) > 1:
        zeros = np.empty(len(x), dtype=object)   # pieces of different shapes
        zeros[:] = [zeros_like(item) for item in x]
        return zeros
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.dtype(np.float64)
    return np.zeros(x.shape, dtype=dtype) if x.ndim else dtype.type(0)


def appended(xs, value):
    """``xs + [value]``: the list after ``xs.append(value)``."""
    return xs + [value]


def spread(g, xs):
    """The adjoint of ``sum(xs)`` for a list: `g` for every element, stacked."""
    return np.broadcast_to(g, np.shape(xs))


def copy_of(x):
    """A copy of an adjoint array, before part of it is accumulated into in place."""
    return np.array(x, copy=True)


def attribute(obj, name):
    """``obj.name`` for an object passed in (printed as the attribute itself)."""
    return getattr(obj, name)


def call_method(obj, *args, **kwargs):
    """Stands for ``obj.method(...)`` of an object passed in; resolved by the object's class
    when the gradient is compiled."""
    raise TypeError("call_method is resolved when the gradient is compiled")


def stop_gradient(x):
    """`x` itself, treated as a constant: no gradient flows through it."""
    return x


# helpers that read one argument only for its shape (its position), so the compiler may pass
# any value of the same shape instead
SHAPE_ONLY = {unbroadcast: 1, unreduce: 1, reduced_count: 0, zeros_like: 0}
