"""The rules in adcompiler/rules/numpy_shapes.py: NumPy shape functions, arrays
built from active values, and the functions whose output is a constant.

Most shape functions are linear maps that move or copy entries. Their exact
adjoint is found here without NumPy's help: the function is applied to an
array of entry numbers, and each entry of the upstream gradient `w` is added
onto the entry it came from (`moved_adjoint`). Permutations and reshapes must
match it exactly; copies up to the order of summation. Every rule is also
checked against central finite differences, in float64 and float32 (where the
gradient must stay float32).
"""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adcompiler import check_grads, grad
from adcompiler.rules import registry
from adcompiler.rules.numpy_shapes import (concatenate_like, pad_values_grad, unconcatenate,
                                           unpad, unrepeat, untile)

rule = settings(max_examples=20, deadline=None)
DTYPES = st.sampled_from([np.float64, np.float32])
W3 = np.array([0.5, -1.0, 2.0])
TOLERANCE = {np.float64: dict(rtol=1e-6, atol=1e-8), np.float32: dict(rtol=1e-2, atol=1e-3)}


@functools.lru_cache(maxsize=None)
def compiled(f, wrt):
    """grad(f, wrt), built once per test function (grad() reads the source)."""
    return grad(f, wrt=wrt)


def gradient(f, *args, wrt=(0,)):
    g = compiled(f, wrt)(*args)
    return g[0] if len(wrt) == 1 else g


def check(f, *args, wrt=(0,), dtype=np.float64):
    check_grads(f, args, wrt=wrt, grad_fn=compiled(f, wrt), **TOLERANCE[dtype])


def random(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(dtype)


def moved_adjoint(op, *shapes):
    """The adjoint of `op`, a function that only moves and copies entries, for the
    upstream gradient `w`: returned as a function of `w`, one array per input.

    `op` is applied to arrays of entry numbers (negative numbers mark entries
    that come from no input, such as constant padding).
    """
    sizes = [int(np.prod(s)) for s in shapes]
    starts = np.cumsum([0] + sizes)
    ids = [np.arange(lo, lo + n).reshape(s) for lo, n, s in zip(starts, sizes, shapes)]
    moved = np.asarray(op(*ids))

    def adjoint(w):
        assert w.shape == moved.shape
        total = np.zeros(starts[-1], dtype=np.float64)
        keep = moved >= 0
        np.add.at(total, moved[keep], w[keep].astype(np.float64))
        return [total[lo:lo + n].reshape(s).astype(w.dtype)
                for lo, n, s in zip(starts, sizes, shapes)]
    return adjoint, moved.shape


def assert_gradient(got, want, exact):
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        rtol = 1e-5 if np.asarray(want).dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def check_moved(f, op, x, *params, exact=True, dtype=np.float64):
    """f(x, w, *params) = sum(op(x, *params) * w): its gradient against moved_adjoint,
    and against finite differences."""
    x = x.astype(dtype)
    adjoint, out_shape = moved_adjoint(lambda i: op(i, *params), x.shape)
    w = random(out_shape, dtype, seed=1)
    assert_gradient(gradient(f, x, w, *params), adjoint(w)[0], exact)
    check(f, x, w, *params, dtype=dtype)


# -- strategies ------------------------------------------------------------------------

def shapes(min_dims=1, max_dims=3, max_side=4, min_side=1):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def shape_and_axis(draw, min_dims=1, max_dims=3):
    shape = draw(shapes(min_dims, max_dims))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@st.composite
def permutations(draw):
    shape = draw(shapes(1, 4, max_side=3))
    perm = draw(st.permutations(range(len(shape))))
    signs = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
    axes = tuple(a - len(shape) if neg else a for a, neg in zip(perm, signs))
    return shape, axes


@st.composite
def reshapes(draw):
    shape = draw(shapes(1, 4, max_side=3))
    size = int(np.prod(shape))
    factors = [n for n in range(1, size + 1) if size % n == 0]
    first = draw(st.sampled_from(factors))
    target = draw(st.sampled_from([(size,), (first, size // first), (first, -1), (-1,),
                                   (1, size, 1), (size // first, 1, first)]))
    return shape, target


# ====================================================== rearranging entries

def reshape_to(x, w, shape):
    return np.sum(np.reshape(x, shape) * w)


@rule
@given(reshapes(), DTYPES)
def test_reshape(case, dtype):
    shape, target = case
    check_moved(reshape_to, np.reshape, random(shape), target, dtype=dtype)


def reshape_numbers(x, w):
    return np.sum(x.reshape(3, 4) * w)


def reshape_tuple(x, w):
    return np.sum(x.reshape((3, 4)) * w)


def reshape_minus_one(x, w):
    return np.sum(x.reshape(-1) * w)


def reshape_function(x, w):
    return np.sum(np.reshape(x, (4, -1)) * w)


def reshape_keyword(x, w):
    return np.sum(np.reshape(x, shape=(2, 6)) * w)


def ravel_method(x, w):
    return np.sum(x.ravel() * w)


def ravel_function(x, w):
    return np.sum(np.ravel(x) * w)


def flatten_method(x, w):
    return np.sum(x.flatten() * w)


@pytest.mark.parametrize("f, op", [
    (reshape_numbers, lambda i: i.reshape(3, 4)),
    (reshape_tuple, lambda i: i.reshape(3, 4)),
    (reshape_minus_one, np.ravel),
    (reshape_function, lambda i: i.reshape(4, 3)),
    (reshape_keyword, lambda i: i.reshape(2, 6)),
    (ravel_method, np.ravel), (ravel_function, np.ravel), (flatten_method, np.ravel),
])
@pytest.mark.parametrize("shape", [(12,), (2, 6), (2, 3, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reshape_spellings(f, op, shape, dtype):
    check_moved(f, op, random(shape), dtype=dtype)


def transpose_axes(x, w, axes):
    return np.sum(np.transpose(x, axes) * w)


@rule
@given(permutations(), DTYPES)
def test_transpose_axes(case, dtype):
    shape, axes = case
    check_moved(transpose_axes, np.transpose, random(shape), axes, dtype=dtype)


def transpose_plain(x, w):
    return np.sum(np.transpose(x) * w)


def transpose_attribute(x, w):
    return np.sum(x.T * w)


def transpose_method(x, w):
    return np.sum(x.transpose() * w)


def transpose_method_numbers(x, w):
    return np.sum(x.transpose(1, 0, 2) * w)


def transpose_method_tuple(x, w):
    return np.sum(x.transpose((2, 0, 1)) * w)


def transpose_keyword(x, w):
    return np.sum(np.transpose(x, axes=(1, 2, 0)) * w)


def transpose_negative(x, w):
    return np.sum(np.transpose(x, (-1, 0, -2)) * w)


@pytest.mark.parametrize("f, op", [
    (transpose_plain, np.transpose), (transpose_attribute, np.transpose),
    (transpose_method, np.transpose),
    (transpose_method_numbers, lambda i: i.transpose(1, 0, 2)),
    (transpose_method_tuple, lambda i: i.transpose(2, 0, 1)),
    (transpose_keyword, lambda i: i.transpose(1, 2, 0)),
    (transpose_negative, lambda i: i.transpose(2, 0, 1)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transpose_spellings(f, op, dtype):
    check_moved(f, op, random((2, 3, 4)), dtype=dtype)


def test_transpose_of_a_matrix_by_attribute():
    check_moved(transpose_attribute, np.transpose, random((3, 5)))


def swap(x, w, axis1, axis2):
    return np.sum(np.swapaxes(x, axis1, axis2) * w)


def swap_method(x, w):
    return np.sum(x.swapaxes(0, -1) * w)


@rule
@given(st.data(), DTYPES)
def test_swapaxes(data, dtype):
    shape, axis1 = data.draw(shape_and_axis())
    axis2 = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_moved(swap, np.swapaxes, random(shape), axis1, axis2, dtype=dtype)


def test_swapaxes_method():
    check_moved(swap_method, lambda i: np.swapaxes(i, 0, -1), random((2, 3, 4)))


def move(x, w, source, destination):
    return np.sum(np.moveaxis(x, source, destination) * w)


@rule
@given(st.data(), DTYPES)
def test_moveaxis(data, dtype):
    shape = data.draw(shapes(1, 4, max_side=3))
    n = len(shape)
    count = data.draw(st.integers(1, n))
    source = data.draw(st.permutations(range(n)))[:count]
    destination = data.draw(st.permutations(range(-n, 0)))[:count]
    if count == 1 and data.draw(st.booleans()):
        source, destination = source[0], destination[0]
    else:
        source, destination = tuple(source), tuple(destination)
    check_moved(move, np.moveaxis, random(shape), source, destination, dtype=dtype)


def expand(x, w, axis):
    return np.sum(np.expand_dims(x, axis) * w)


@rule
@given(st.data(), DTYPES)
def test_expand_dims(data, dtype):
    shape = data.draw(shapes(0, 3))
    new = data.draw(st.integers(1, 2))
    n = len(shape) + new
    axes = data.draw(st.permutations(range(n)))[:new]
    axis = axes[0] - n if new == 1 else tuple(axes)
    check_moved(expand, np.expand_dims, random(shape), axis, dtype=dtype)


def squeeze_all(x, w):
    return np.sum(np.squeeze(x) * w)


def squeeze_method(x, w):
    return np.sum(x.squeeze() * w)


def squeeze_axis(x, w, axis):
    return np.sum(np.squeeze(x, axis=axis) * w)


@rule
@given(shapes(1, 4, max_side=3), st.data(), DTYPES)
def test_squeeze(shape, data, dtype):
    x = random(shape)
    check_moved(squeeze_all, np.squeeze, x, dtype=dtype)
    check_moved(squeeze_method, np.squeeze, x, dtype=dtype)
    ones = [i for i, n in enumerate(shape) if n == 1]
    if ones:
        axis = data.draw(st.sampled_from(ones))
        axis = data.draw(st.sampled_from([axis, axis - len(shape), (axis,)]))
        check_moved(squeeze_axis, lambda i, a: np.squeeze(i, axis=a), x, axis, dtype=dtype)


def at_least_1d(x, w):
    return np.sum(np.atleast_1d(x) * w)


def at_least_2d(x, w):
    return np.sum(np.atleast_2d(x) * w)


def at_least_3d(x, w):
    return np.sum(np.atleast_3d(x) * w)


@pytest.mark.parametrize("f, op", [(at_least_1d, np.atleast_1d), (at_least_2d, np.atleast_2d),
                                   (at_least_3d, np.atleast_3d)])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_atleast(f, op, shape, dtype):
    check_moved(f, op, random(shape), dtype=dtype)


def test_atleast_of_a_python_float():
    assert gradient(at_least_2d, 1.5, np.array([[3.0]])) == 3.0
    check(at_least_1d, 1.5, np.array([3.0]))


def flip(x, w, axis):
    return np.sum(np.flip(x, axis) * w)


def flip_all(x, w):
    return np.sum(np.flip(x) * w)


def flip_lr(x, w):
    return np.sum(np.fliplr(x) * w)


def flip_ud(x, w):
    return np.sum(np.flipud(x) * w)


@rule
@given(st.data(), DTYPES)
def test_flip(data, dtype):
    shape, axis = data.draw(shape_and_axis())
    axis = data.draw(st.sampled_from([axis, None, (axis,), tuple(range(len(shape)))]))
    x = random(shape)
    check_moved(flip, np.flip, x, axis, dtype=dtype)
    check_moved(flip_all, np.flip, x, dtype=dtype)
    if len(shape) >= 2:
        check_moved(flip_lr, np.fliplr, x, dtype=dtype)
    check_moved(flip_ud, np.flipud, x, dtype=dtype)


def rotate(x, w, k):
    return np.sum(np.rot90(x, k) * w)


def rotate_axes(x, w, k, axes):
    return np.sum(np.rot90(x, k, axes) * w)


def rotate_once(x, w):
    return np.sum(np.rot90(x) * w)


@rule
@given(shapes(2, 3), st.integers(-3, 5), DTYPES)
def test_rot90(shape, k, dtype):
    x = random(shape)
    check_moved(rotate, np.rot90, x, k, dtype=dtype)
    check_moved(rotate_axes, np.rot90, x, k, (-1, 0), dtype=dtype)
    check_moved(rotate_once, np.rot90, x, dtype=dtype)


def roll(x, w, shift, axis):
    return np.sum(np.roll(x, shift, axis) * w)


def roll_flat(x, w, shift):
    return np.sum(np.roll(x, shift) * w)


@rule
@given(st.data(), st.integers(-5, 5), DTYPES)
def test_roll(data, shift, dtype):
    shape, axis = data.draw(shape_and_axis())
    x = random(shape)
    check_moved(roll, np.roll, x, shift, axis, dtype=dtype)
    check_moved(roll, np.roll, x, (shift, 1), (axis, 0), dtype=dtype)
    check_moved(roll_flat, np.roll, x, shift, dtype=dtype)


# ========================================================= copying entries

def broadcast(x, w, shape):
    return np.sum(np.broadcast_to(x, shape) * w)


@rule
@given(st.data(), DTYPES)
def test_broadcast_to(data, dtype):
    target = data.draw(shapes(1, 3))
    lead = data.draw(st.integers(0, len(target)))
    shape = tuple(data.draw(st.sampled_from([1, n])) for n in target[lead:])
    check_moved(broadcast, np.broadcast_to, random(shape), target, exact=False, dtype=dtype)


def test_broadcast_to_from_a_scalar():
    w = random((2, 3))
    assert gradient(broadcast, 1.5, w, (2, 3)) == pytest.approx(np.sum(w))
    check(broadcast, 1.5, w, (2, 3))


def tile(x, w, reps):
    return np.sum(np.tile(x, reps) * w)


@rule
@given(shapes(0, 3), st.one_of(st.integers(0, 3), shapes(0, 4, max_side=3, min_side=0)),
       DTYPES)
def test_tile(shape, reps, dtype):
    check_moved(tile, np.tile, random(shape), reps, exact=False, dtype=dtype)


def repeat(x, w, repeats, axis):
    return np.sum(np.repeat(x, repeats, axis) * w)


def repeat_flat(x, w, repeats):
    return np.sum(np.repeat(x, repeats) * w)


def repeat_method(x, w):
    return np.sum(x.repeat(3) * w)


def repeat_method_axis(x, w):
    return np.sum(x.repeat(2, axis=-1) * w)


@rule
@given(st.data(), DTYPES)
def test_repeat(data, dtype):
    shape, axis = data.draw(shape_and_axis(0 + 1))
    x = random(shape)
    scalar = data.draw(st.integers(0, 3))
    many = tuple(data.draw(st.lists(st.integers(0, 3), min_size=shape[axis],
                                    max_size=shape[axis])))
    check_moved(repeat, np.repeat, x, scalar, axis, exact=False, dtype=dtype)
    check_moved(repeat, np.repeat, x, many, axis, exact=False, dtype=dtype)
    check_moved(repeat, np.repeat, x, [scalar], axis, exact=False, dtype=dtype)
    check_moved(repeat_flat, np.repeat, x, scalar, exact=False, dtype=dtype)
    flat = tuple(data.draw(st.lists(st.integers(0, 2), min_size=x.size, max_size=x.size)))
    check_moved(repeat_flat, np.repeat, x, flat, exact=False, dtype=dtype)
    check_moved(repeat_method, lambda i: i.repeat(3), x, exact=False, dtype=dtype)
    check_moved(repeat_method_axis, lambda i: i.repeat(2, axis=-1), x, exact=False, dtype=dtype)


def test_repeat_of_a_python_float():
    w = random((4,))
    assert gradient(repeat_flat, 1.5, w, 4) == pytest.approx(np.sum(w))


def pad(x, w, pad_width):
    return np.sum(np.pad(x, pad_width) * w)


def pad_mode(x, w, pad_width, mode):
    return np.sum(np.pad(x, pad_width, mode=mode) * w)


def pad_with(x, c, w, pad_width):
    return np.sum(np.pad(x, pad_width, constant_values=c) * w)


def pad_with_pair(x, a, b, w):
    return np.sum(np.pad(x, 1, "constant", constant_values=(a, b)) * w)


@st.composite
def pad_widths(draw, ndim):
    width = st.integers(0, 3)
    form = draw(st.sampled_from(["int", "pair", "per-axis"]))
    if form == "int":
        return draw(width)
    if form == "pair":
        return (draw(width), draw(width))
    return tuple((draw(width), draw(width)) for _ in range(ndim))


def padded_with(x, pad_width, mode):
    """np.pad of an array of entry numbers, the constant entries marked -1."""
    if mode == "constant":
        return np.pad(x, pad_width, constant_values=-1)
    return np.pad(x, pad_width, mode=mode)


@rule
@given(st.data(), DTYPES)
def test_pad(data, dtype):
    shape = data.draw(shapes(1, 3))
    width = data.draw(pad_widths(len(shape)))
    x = random(shape)
    check_moved(pad, lambda i, p: padded_with(i, p, "constant"), x, width, dtype=dtype)
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    check_moved(pad_mode, padded_with, x, width, mode, exact=False, dtype=dtype)


@rule
@given(st.data(), DTYPES)
def test_pad_constant_values(data, dtype):
    shape = data.draw(shapes(1, 3))
    ndim = len(shape)
    width = data.draw(pad_widths(ndim))
    c_shape = data.draw(st.sampled_from([(), (1,), (2,), (ndim, 2), (ndim, 1), (1, 2)]))
    x, c = random(shape, dtype), random(c_shape, dtype, seed=2)
    w = random(np.pad(x, width).shape, dtype, seed=3)
    dx, dc = gradient(pad_with, x, c, w, width, wrt=(0, 1))
    assert dx.dtype == dc.dtype == dtype and np.shape(dc) == c_shape
    if dtype == np.float64:
        check(pad_with, x, c, w, width, wrt=(0, 1))
    else:   # the padded array is float32 whatever c is: finite differences in c are too coarse
        check(pad_with, x, c, w, width, dtype=dtype)
        wide = gradient(pad_with, *(v.astype(np.float64) for v in (x, c, w)), width, wrt=(0, 1))
        np.testing.assert_allclose(dc, wide[1], rtol=1e-5, atol=1e-5)
    # each entry of w goes either to an entry of x or to one of the values
    assert np.sum(dx) + np.sum(dc) == pytest.approx(np.sum(w), rel=1e-4, abs=1e-4)


def test_pad_constant_values_scalar_and_pair():
    x, w = random((2, 3)), random((5, 6), seed=1)
    dx, dc = gradient(pad_with, x, 0.5, w, ((1, 2), (0, 3)), wrt=(0, 1))
    assert dc == pytest.approx(np.sum(w) - np.sum(w[1:3, 0:3]))
    np.testing.assert_array_equal(dx, w[1:3, 0:3])
    w = random((4, 5), seed=2)
    check(pad_with_pair, x, 0.5, -1.5, w, wrt=(0, 1, 2))
    _, da, db = gradient(pad_with_pair, x, 0.5, -1.5, w, wrt=(0, 1, 2))
    # NumPy pads axis 0 first (across the columns of x), then axis 1 (across all rows)
    before = np.zeros((4, 5), bool)
    before[0, 1:4] = True
    before[:, 0] = True
    after = np.zeros((4, 5), bool)
    after[3, 1:4] = True
    after[:, 4] = True
    assert da == pytest.approx(np.sum(w[before])) and db == pytest.approx(np.sum(w[after]))


@pytest.mark.parametrize("mode", ["linear_ramp", "mean", "maximum", "median", "minimum"])
def test_pad_modes_that_are_not_copies_raise(mode):
    x = random((3, 4))
    with pytest.raises(NotImplementedError, match=mode):
        gradient(pad_mode, x, random(np.pad(x, 1, mode=mode).shape), 1, mode)


# ====================================================== joining and splitting

def join(a, b, w, axis):
    return np.sum(np.concatenate([a, b], axis=axis) * w)


def join3(a, b, c, w, axis):
    return np.sum(np.concatenate((a, b, c), axis) * w)


def join_default(a, b, w):
    return np.sum(np.concatenate([a, b]) * w)


def join_constant(a, b, w):
    return np.sum(np.concatenate([a, 2.0 * b]) * w)


def check_joined(f, op, arrays, *params, exact=True, dtype=np.float64, wrt=None):
    arrays = [a.astype(dtype) for a in arrays]
    wrt = wrt or tuple(range(len(arrays)))
    adjoint, out_shape = moved_adjoint(lambda *ids: op(list(ids), *params),
                                       *[a.shape for a in arrays])
    w = random(out_shape, dtype, seed=1)
    got = gradient(f, *arrays, w, *params, wrt=wrt)
    got = got if isinstance(got, tuple) else (got,)
    for g, want in zip(got, adjoint(w)):
        assert_gradient(g, want, exact)
    check(f, *arrays, w, *params, wrt=wrt, dtype=dtype)


@st.composite
def joinable(draw, count, min_dims=1):
    shape, axis = draw(shape_and_axis(min_dims))
    sides = [draw(st.integers(1, 4)) for _ in range(count)]
    shapes_ = [shape[:axis % len(shape)] + (n,) + shape[axis % len(shape) + 1:] for n in sides]
    axis = draw(st.sampled_from([axis, None]))
    if axis is None:
        shapes_ = [draw(shapes(1, 3)) for _ in range(count)]
    return [random(s, seed=k) for k, s in enumerate(shapes_)], axis


@rule
@given(joinable(2), DTYPES)
def test_concatenate(case, dtype):
    arrays, axis = case
    check_joined(join, np.concatenate, arrays, axis, dtype=dtype)


@rule
@given(joinable(3), DTYPES)
def test_concatenate_three(case, dtype):
    arrays, axis = case
    check_joined(join3, np.concatenate, arrays, axis, dtype=dtype)


def test_concatenate_default_axis_and_constant_factor():
    a, b = random((2, 3)), random((4, 3), seed=1)
    check_joined(join_default, np.concatenate, [a, b])
    w = random((6, 3), seed=2)
    da, db = gradient(join_constant, a, b, w, wrt=(0, 1))
    np.testing.assert_array_equal(da, w[:2])
    np.testing.assert_array_equal(db, 2.0 * w[2:])


def join_repeated(a, w):
    return np.sum(np.concatenate([a, a, 2 * a]) * w)


def array_repeated(a, b):
    return np.sum(np.array([a, b, a]) * W3)


def test_an_array_listed_twice():
    a, w = random((2,)), random((6,), seed=1)
    np.testing.assert_allclose(gradient(join_repeated, a, w), w[:2] + w[2:4] + 2 * w[4:])
    check(join_repeated, a, w)
    assert gradient(array_repeated, 1.0, 2.0, wrt=(0, 1)) == (W3[0] + W3[2], W3[1])


def join_with_constant(a, w, c):
    return np.sum(np.concatenate([c, a], axis=1) * w)


def test_concatenate_with_a_constant_array():
    a, c, w = random((2, 3)), random((2, 2), seed=1), random((2, 5), seed=2)
    np.testing.assert_array_equal(gradient(join_with_constant, a, w, c), w[:, 2:])


def stacked(a, b, w, axis):
    return np.sum(np.stack([a, b], axis=axis) * w)


def stacked_scalars(a, b, c, w):
    return np.sum(np.stack((a, b, c)) * w)


@rule
@given(shape_and_axis(0 + 1), st.booleans(), DTYPES)
def test_stack(case, last, dtype):
    shape, axis = case
    axis = -1 if last else axis
    a, b = random(shape), random(shape, seed=1)
    check_joined(stacked, np.stack, [a, b], axis, dtype=dtype)


def test_stack_of_scalars():
    w = random((3,))
    assert gradient(stacked_scalars, 1.0, 2.0, 3.0, w, wrt=(0, 1, 2)) == tuple(w)


def v_stacked(a, b, w):
    return np.sum(np.vstack([a, b]) * w)


def h_stacked(a, b, w):
    return np.sum(np.hstack((a, b)) * w)


def column_stacked(a, b, w):
    return np.sum(np.column_stack([a, b]) * w)


def d_stacked(a, b, w):
    return np.sum(np.dstack([a, b]) * w)


@pytest.mark.parametrize("f, op, shapes_", [
    (v_stacked, np.vstack, [(3,), (3,)]), (v_stacked, np.vstack, [(3,), (2, 3)]),
    (v_stacked, np.vstack, [(2, 3), (4, 3)]), (v_stacked, np.vstack, [(), ()]),
    (h_stacked, np.hstack, [(3,), (2,)]), (h_stacked, np.hstack, [(), (2,)]),
    (h_stacked, np.hstack, [(2, 3), (2, 1)]), (h_stacked, np.hstack, [(2, 3, 2), (2, 1, 2)]),
    (column_stacked, np.column_stack, [(3,), (3,)]),
    (column_stacked, np.column_stack, [(3, 2), (3,)]),
    (d_stacked, np.dstack, [(3,), (3,)]), (d_stacked, np.dstack, [(2, 3), (2, 3, 2)]),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vstack_hstack(f, op, shapes_, dtype):
    arrays = [random(s, seed=k) for k, s in enumerate(shapes_)]
    check_joined(f, op, arrays, dtype=dtype)


def split_parts(x, w0, w2, axis):
    parts = np.split(x, 3, axis=axis)
    return np.sum(parts[0] * w0) + np.sum(parts[2] * w2)


@rule
@given(shape_and_axis(), DTYPES)
def test_split_indexed(case, dtype):
    shape, axis = case
    shape = shape[:axis % len(shape)] + (3 * shape[axis],) + shape[axis % len(shape) + 1:]
    x = random(shape, dtype)
    parts = np.split(x, 3, axis=axis)
    w0, w2 = random(parts[0].shape, dtype, seed=1), random(parts[2].shape, dtype, seed=2)
    want = np.concatenate([w0, np.zeros_like(w0), w2], axis=axis)
    assert_gradient(gradient(split_parts, x, w0, w2, axis), want, exact=True)
    check(split_parts, x, w0, w2, axis, dtype=dtype)


def split_join(x, w, axis):
    return np.sum(np.concatenate(np.split(x, 2, axis=axis), axis=axis) * w)


def split_stack(x, w):
    return np.sum(np.stack(np.split(x, 3)) * w)


def array_split_parts(x, w):
    parts = np.array_split(x, 2, axis=1)
    return np.sum(parts[1] * w)


def hsplit_parts(x, w):
    parts = np.hsplit(x, 2)
    return np.sum(parts[1] * w)


def vsplit_parts(x, w):
    parts = np.vsplit(x, [2])
    return np.sum(parts[0] * w)


def dsplit_parts(x, w):
    parts = np.dsplit(x, 2)
    return np.sum(parts[0] * w)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_split_forms(dtype):
    x = random((4, 6), dtype)
    check_moved(split_join, lambda i, a: i, x, 1, dtype=dtype)
    check_moved(split_stack, lambda i: np.stack(np.split(i, 3)), random((6, 2)), dtype=dtype)
    check_moved(array_split_parts, lambda i: np.array_split(i, 2, axis=1)[1], x, dtype=dtype)
    check_moved(hsplit_parts, lambda i: np.hsplit(i, 2)[1], x, dtype=dtype)
    check_moved(hsplit_parts, lambda i: np.hsplit(i, 2)[1], random((6,)), dtype=dtype)
    check_moved(vsplit_parts, lambda i: np.vsplit(i, [2])[0], x, dtype=dtype)
    check_moved(dsplit_parts, lambda i: np.dsplit(i, 2)[0], random((2, 3, 4)), dtype=dtype)


def split_joined_twice(x, w, sections):
    parts = np.split(x, sections, axis=1)
    return np.sum(np.concatenate(parts, axis=1) * w) + np.sum(np.hstack(parts) ** 2)


@pytest.mark.parametrize("sections", [2, [1], [1, 1, 3]])
def test_split_pieces_joined_twice(sections):
    """The adjoints of the list `parts` add piece by piece, equal pieces or not."""
    x, w = random((2, 4)), random((2, 4), seed=1)
    np.testing.assert_allclose(gradient(split_joined_twice, x, w, sections), w + 2 * x)
    check(split_joined_twice, x, w, sections)


def split_unpacked(x, w):
    a, b, c = np.split(x, 3)
    return np.sum(a * w) + np.sum(c)


def test_split_unpacked():
    check(split_unpacked, random((6,)), random((2,), seed=1))


def split_unequal(x, w):
    parts = np.split(x, [2, 5])
    return np.sum(parts[0] * w) + np.sum(parts[2] ** 2)


def test_split_unequal_pieces():
    check(split_unequal, random((7,)), random((2,), seed=1))


# ===================================================== arrays from active values

def array_of_scalars(a, b, c):
    return np.sum(np.array([a, b, c]) * W3)


def array_with_a_constant(a, b):
    return np.sum(np.array([a, 1.5, b]) ** 2)


def asarray_of_scalars(a, b, c):
    return np.sum(np.asarray((a, b, c)) * W3)


def array_of_arrays(x, y, w):
    return np.sum(np.array([x, y]) * w)


def array_of_arrays_tuple(x, y, w):
    return np.sum(np.array((y, x, y)) * w)


def asarray_of_arrays(x, y, w):
    return np.sum(np.asarray([x, y]) * w)


def array_of_one(x, w):
    return np.sum(np.array(x) * w)


def asarray_of_one(x, w):
    return np.sum(np.asarray(x) * w)


def array_float32(x, w):
    return np.sum(np.array(x, dtype=np.float32) * w)


def array_ndmin(x, w):
    return np.sum(np.array(x, ndmin=3) * w)


def array_of_scalars_ndmin(a, b, w):
    return np.sum(np.array([a, b], ndmin=2) * w)


@rule
@given(st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2))
def test_array_of_scalars(a, b, c):
    assert gradient(array_of_scalars, a, b, c, wrt=(0, 1, 2)) == tuple(W3)
    assert gradient(asarray_of_scalars, a, b, c, wrt=(0, 1, 2)) == tuple(W3)
    assert gradient(array_with_a_constant, a, b, wrt=(0, 1)) == pytest.approx((2 * a, 2 * b))
    check(array_of_scalars, a, b, c, wrt=(0, 1, 2))
    check(array_with_a_constant, a, b, wrt=(0, 1))


@rule
@given(shapes(0, 3), DTYPES)
def test_array_of_arrays(shape, dtype):
    x, y = random(shape, dtype), random(shape, dtype, seed=1)
    w = random((2,) + shape, dtype, seed=2)
    for f in (array_of_arrays, asarray_of_arrays):
        dx, dy = gradient(f, x, y, w, wrt=(0, 1))
        assert_gradient(dx, w[0], exact=True)
        assert_gradient(dy, w[1], exact=True)
        check(f, x, y, w, wrt=(0, 1), dtype=dtype)
    w3 = random((3,) + shape, dtype, seed=3)
    dx, dy = gradient(array_of_arrays_tuple, x, y, w3, wrt=(0, 1))
    assert_gradient(dx, w3[1], exact=True)
    assert_gradient(dy, w3[0] + w3[2], exact=False)


@rule
@given(shapes(0, 3), DTYPES)
def test_array_of_one_array(shape, dtype):
    x, w = random(shape, dtype), random(shape, dtype, seed=1)
    check_moved(array_of_one, np.array, x, dtype=dtype)
    check_moved(asarray_of_one, np.asarray, x, dtype=dtype)
    check_moved(array_ndmin, lambda i: np.array(i, ndmin=3), x, dtype=dtype)
    dx = gradient(array_float32, x, w.astype(np.float32))
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, w.astype(np.float32))


def test_array_of_scalars_ndmin():
    w = random((1, 2))
    assert gradient(array_of_scalars_ndmin, 1.0, 2.0, w, wrt=(0, 1)) == tuple(w[0])


def array_nested(a, b, c, d):
    return np.sum(np.array([[a, b], [c, d]]) * np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_array_of_nested_lists():
    assert gradient(array_nested, 1.0, 2.0, 3.0, 4.0, wrt=(0, 1, 2, 3)) == (1.0, 2.0, 3.0, 4.0)


def cast_to_32(x, w):
    return np.sum(x.astype(np.float32) * w)


def cast_to_64(x, w):
    return np.sum(x.astype(np.float64) ** 2 * w)


def copy_function(x, w):
    return np.sum(np.copy(x) * w)


def copy_method(x, w):
    return np.sum(x.copy() * w)


@rule
@given(shapes(0, 3))
def test_astype(shape):
    x, w = random(shape), random(shape, np.float32, seed=1)
    dx = gradient(cast_to_32, x, w)
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, w)
    x32 = random(shape, np.float32)
    dx = gradient(cast_to_64, x32, random(shape, seed=1))
    assert dx.dtype == np.float32
    # f is float32 whatever x is: a finite difference needs a step larger than its rounding
    check_grads(cast_to_32, (x, w), wrt=0, rtol=1e-3, atol=1e-3, step=1e-2)
    check(cast_to_64, x32, random(shape, seed=1), dtype=np.float32)


@rule
@given(shapes(0, 3), DTYPES)
def test_copy(shape, dtype):
    x = random(shape)
    check_moved(copy_function, np.copy, x, dtype=dtype)
    check_moved(copy_method, np.copy, x, dtype=dtype)


def clip_method(x):
    return np.sum(x.clip(-0.5, 0.5) ** 2)


def clip_function(x):
    return np.sum(np.clip(x, -0.5, 0.5) ** 2)


def test_clip_method_routes_to_np_clip():
    if not registry.has_rule(np.clip):
        pytest.skip("np.clip has no rule yet")
    x = np.array([-1.2, -0.3, 0.1, 0.45, 0.9])
    np.testing.assert_array_equal(gradient(clip_method, x), gradient(clip_function, x))
    check(clip_method, x)


# ==================================== creation functions with active arguments

def full(c, w):
    return np.sum(np.full((2, 3), c) * w)


def full_like(x, c, w):
    return np.sum(np.full_like(x, c) * w) + np.sum(x)


def spaced(a, b, w, num, endpoint):
    return np.sum(np.linspace(a, b, num, endpoint=endpoint) * w)


def spaced_arrays(a, b, w, axis):
    return np.sum(np.linspace(a, b, 4, axis=axis) * w)


@rule
@given(st.floats(-2, 2), DTYPES)
def test_full_with_an_active_fill_value(c, dtype):
    w = random((2, 3), dtype)
    assert gradient(full, c, w) == pytest.approx(np.sum(w), rel=1e-6)
    check(full, c, w, dtype=dtype)
    row = random((3,), dtype, seed=1)
    assert_gradient(gradient(full, row, w), np.sum(w, axis=0), exact=False)
    dx, dc = gradient(full_like, random((2, 3), dtype), c, w, wrt=(0, 1))
    assert_gradient(dx, np.ones((2, 3), dtype), exact=True)
    assert dc == pytest.approx(np.sum(w), rel=1e-6)


@rule
@given(st.floats(-2, 2), st.floats(-2, 2), st.integers(1, 6), st.booleans(), DTYPES)
def test_linspace_with_active_ends(a, b, num, endpoint, dtype):
    w = random((num,), dtype)
    check(spaced, a, b, w, num, endpoint, wrt=(0, 1), dtype=dtype)
    da, db = gradient(spaced, a, b, w, num, endpoint, wrt=(0, 1))
    t = np.arange(num) / max(num - 1 if endpoint else num, 1)
    assert da == pytest.approx(np.sum((1 - t) * w), abs=1e-5)
    assert db == pytest.approx(np.sum(t * w), abs=1e-5)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_linspace_with_array_ends(axis):
    a, b = random((3,)), random((2, 1), seed=1)
    w = random(np.linspace(a, b, 4, axis=axis).shape, seed=2)
    check(spaced_arrays, a, b, w, axis, wrt=(0, 1))


# ====================================== the helpers' own rules (second order)

def of_unconcatenate(g, w0, w1, axis):
    parts = unconcatenate(g, [w0, w1], axis)
    return np.sum(parts[0] * w0) + np.sum(parts[1] ** 2)


def of_concatenate_like(p, q, g, w, axis):
    return np.sum(concatenate_like([p, q], g, axis) * w)


def of_untile(g, x, reps, w):
    return np.sum(untile(g, x, reps) * w)


def of_unrepeat(g, x, repeats, axis, w):
    return np.sum(unrepeat(g, x, repeats, axis) * w)


def of_unpad(g, x, pad_width, mode, w):
    return np.sum(unpad(g, x, pad_width, mode) * w)


def of_pad_values_grad(g, x, pad_width, w):
    return np.sum(pad_values_grad(g, x, pad_width) * w)


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_unconcatenate_and_concatenate_like(axis):
    w0, w1 = random((2, 3)), random((2, 3), seed=1)
    g = np.concatenate([w0, w1], axis=axis) * 1.5
    check(of_unconcatenate, g, w0, w1, axis)
    p, q = random((2, 2)), random((2, 1), seed=2)
    joined = np.concatenate([p, q], axis=1)
    check(of_concatenate_like, p, q, joined, random(joined.shape, seed=3), 1, wrt=(0, 1))


def test_untile_unrepeat():
    x = random((2, 3))
    g = random(np.tile(x, (2, 1, 2)).shape, seed=1)
    check(of_untile, g, x, (2, 1, 2), random((2, 3), seed=2))
    for repeats, axis in [(2, 1), ((1, 0, 3), 1), (2, None), (tuple(range(6)), None)]:
        g = random(np.repeat(x, repeats, axis).shape, seed=3)
        check(of_unrepeat, g, x, repeats, axis, random(x.shape, seed=4))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_unpad_and_pad_values_grad(mode):
    x = random((3, 4))
    width = ((1, 2), (3, 0))
    g = random(np.pad(x, width).shape, seed=1)
    check(of_unpad, g, x, width, mode, random(x.shape, seed=2))
    check(of_pad_values_grad, g, x, width, random((2, 2), seed=3))


# ========================================= constants: usable, and no gradient

def uses_sign(x):
    return np.sum(x * np.sign(x))


def uses_argmax(x):
    return x[np.argmax(x)]


def uses_argmax_method(x):
    return x[x.argmax()] * 2.0


def uses_argmin(x):
    return x[np.argmin(x)]


def uses_argsort(x, w):
    return np.sum(x[np.argsort(x)] * w)


def uses_floor(x):
    return np.sum(x * np.floor(x))


def uses_ceil(x):
    return np.sum(x * np.ceil(x))


def uses_round(x):
    return np.sum(x * np.round(x)) + np.sum(x * np.around(x)) + np.sum(x * x.round())


def uses_sizes(x):
    return np.sum(x) * x.shape[0] + np.sum(x) * np.size(x) + np.sum(x) * np.ndim(x) \
        + np.sum(x) * np.shape(x)[-1] + np.sum(x) * x.size + x.ndim * np.sum(x)


def uses_predicates(x):
    return np.sum(x * np.isfinite(x)) + np.sum(x * (1 - np.isnan(x))) \
        + np.sum(x * (1 - np.isinf(x)))


def uses_comparisons(x):
    return np.sum(x * np.greater(x, 0)) + np.sum(x * np.less_equal(x, 0.5)) \
        + np.sum(x * np.greater_equal(x, 0.25)) + np.sum(x * np.less(x, 1)) \
        + np.sum(x * np.equal(x, 1)) + np.sum(x * np.not_equal(x, 1)) + np.sum(x * (x > 0))


def uses_creation(x):
    n = x.shape[0]
    return np.sum(x * np.ones(x.shape)) + np.sum(x * np.zeros(n)) + np.sum(x * np.ones_like(x)) \
        + np.sum(x * np.zeros_like(x)) + np.sum(x * np.full(x.shape, 2.0)) \
        + np.sum(np.eye(n) * x) + np.sum(x * np.arange(n)) + np.sum(x * np.linspace(0, 1, n)) \
        + np.sum(x * np.full_like(x, 3.0))


@rule
@given(st.lists(st.floats(0.1, 2).filter(lambda v: abs(v - round(v)) > 0.01)
                .flatmap(lambda v: st.sampled_from([v, -v])), min_size=1, max_size=6,
                unique_by=abs), DTYPES)
def test_constants_contribute_no_gradient(values, dtype):
    x = np.array(values, dtype)
    n = len(values)

    def same(f, want):
        got = gradient(f, x)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)

    same(uses_sign, np.sign(x))
    same(uses_argmax, np.eye(n)[np.argmax(x)])
    same(uses_argmax_method, 2 * np.eye(n)[np.argmax(x)])
    same(uses_argmin, np.eye(n)[np.argmin(x)])
    w = random((n,), dtype)
    dx = gradient(uses_argsort, x, w)
    want = np.zeros(n, dtype)
    want[np.argsort(x)] = w
    np.testing.assert_array_equal(dx, want)
    same(uses_floor, np.floor(x))
    same(uses_ceil, np.ceil(x))
    same(uses_round, 3 * np.round(x))
    same(uses_sizes, np.full(n, 3.0 * n + 2.0 + n))
    same(uses_predicates, np.full(n, 3.0))
    want = sum(np.asarray(m, float) for m in
               [x > 0, x <= 0.5, x >= 0.25, x < 1, x == 1, x != 1, x > 0])
    same(uses_comparisons, want)
    same(uses_creation, 1 + 0 + 1 + 0 + 2 + 1 + np.arange(n) + np.linspace(0, 1, n) + 3)
    check(uses_sign, x, dtype=dtype)
    check(uses_floor, x, dtype=dtype)


@pytest.mark.parametrize("prim", [
    np.argmax, np.argmin, np.argsort, np.sign, np.floor, np.ceil, np.round, np.around, np.shape,
    np.size, np.ndim, np.isnan, np.isfinite, np.isinf, np.greater, np.greater_equal, np.less,
    np.less_equal, np.equal, np.not_equal, np.zeros, np.ones, np.zeros_like, np.ones_like,
    np.eye, np.fix, np.count_nonzero, np.searchsorted, np.isclose,
])
def test_marked_as_constant(prim):
    assert registry.is_constant(prim)


# ================================================================ found elsewhere

def slice_two_axes(x):
    return np.sum(x[1:, 0])


def test_index_with_a_slice_in_a_tuple():
    check(slice_two_axes, random((3, 4)))


def arange_from_active(x):
    return np.sum(np.arange(x, 10.0, 2.0) ** 2) + np.sum(np.arange(0.0, 3.0, x))


def test_arange_moves_with_its_start_and_step():
    check_grads(arange_from_active, (1.3,))          # away from a change in the length
