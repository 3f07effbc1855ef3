"""NumPy reductions: adcompiler/rules/numpy_reductions.py (prod, var, std, cumsum,
cumprod, np.linalg.norm) and the reductions of adcompiler/rules/numpy.py (sum,
mean, max, min, amax, amin), as functions and as array methods.

Each is checked on hypothesis-drawn arrays (1 to 3 dimensions, sides 1 to 4) and
axes (None, an int, a negative int, a tuple), with and without keepdims, against
central finite differences, and with float32 inputs (float32 gradients, float32
tolerance). Axes are passed both as run-time arguments and as literals in the
source. Zeros in prod and cumprod are checked exactly: both are linear in each
entry, so the derivative by x_i is f(x_i = 1) - f(x_i = 0). Ties of max/min, std
of equal entries and the norm of zero are checked with exact values.
"""

import functools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adcompiler import DifferentiationError, check_grads, grad, registry

rule = settings(max_examples=25, deadline=None)
few = settings(max_examples=10, deadline=None)

F32 = dict(rtol=1e-2, atol=1e-3)


@functools.lru_cache(maxsize=None)
def compiled(f, wrt):
    """grad(f, wrt=wrt), built once per test function (grad() re-reads the source)."""
    return grad(f, wrt=wrt)


def check(f, args, wrt=0, **tol):
    check_grads(f, args, wrt=wrt, grad_fn=compiled(f, wrt), **tol)


def gradient(f, args, wrt=0):
    return compiled(f, wrt)(*args)


# -- strategies ------------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


@st.composite
def axes(draw, ndim, tuples=True):
    """None, an int axis (maybe negative) or a tuple of axes (maybe negative, maybe empty)."""
    options = [st.none(), st.integers(-ndim, ndim - 1)]
    if tuples:
        options.append(hnp.valid_tuple_axes(ndim))
    return draw(st.one_of(*options))


def values(draw, shape, kind, dtype=np.float64):
    """Entries for a reduction: 'smooth' in [-2, 2]; 'prod' of size 0.5..1.5, either sign;
    'spread' with entries >= 0.1 apart (std, norm away from their kinks); 'distinct'
    >= 1 apart (max, min away from ties); 'zeros' from a few values, zeros included."""
    size = int(np.prod(shape))
    if kind == "smooth":
        x = draw(hnp.arrays(np.float64, shape, elements=floats(-2, 2)))
    elif kind == "prod":
        x = draw(hnp.arrays(np.float64, shape, elements=floats(0.5, 1.5)))
        x = x * draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    elif kind == "spread":
        order = np.array(draw(st.permutations(range(size))), dtype=float).reshape(shape)
        x = 0.25 * order + draw(hnp.arrays(np.float64, shape, elements=floats(0, 0.1))) - 0.5
    elif kind == "distinct":
        order = np.array(draw(st.permutations(range(size))), dtype=float).reshape(shape)
        x = order + draw(hnp.arrays(np.float64, shape, elements=floats(0, 0.5))) - size / 2
    else:
        x = draw(hnp.arrays(np.float64, shape,
                            elements=st.sampled_from([0.0, 0.0, -1.5, 0.7, 1.25, 2.0, -0.5])))
    return np.asarray(x, dtype=dtype)


def weights_like(draw, out):
    return np.asarray(draw(hnp.arrays(np.float64, np.shape(out), elements=floats(-2, 2))))


# -- the functions: reductions with the axis as a run-time argument --------------------

def f_sum(x, w, axis, keepdims): return np.sum(np.sum(x, axis=axis, keepdims=keepdims) * w)
def f_mean(x, w, axis, keepdims): return np.sum(np.mean(x, axis=axis, keepdims=keepdims) * w)
def f_prod(x, w, axis, keepdims): return np.sum(np.prod(x, axis=axis, keepdims=keepdims) * w)
def f_max(x, w, axis, keepdims): return np.sum(np.max(x, axis=axis, keepdims=keepdims) * w)
def f_min(x, w, axis, keepdims): return np.sum(np.min(x, axis=axis, keepdims=keepdims) * w)
def f_amax(x, w, axis, keepdims): return np.sum(np.amax(x, axis=axis, keepdims=keepdims) * w)
def f_amin(x, w, axis, keepdims): return np.sum(np.amin(x, axis=axis, keepdims=keepdims) * w)
def f_var(x, w, axis, keepdims): return np.sum(np.var(x, axis=axis, keepdims=keepdims) * w)
def f_std(x, w, axis, keepdims): return np.sum(np.std(x, axis=axis, keepdims=keepdims) * w)
def f_norm(x, w, axis, keepdims):
    return np.sum(np.linalg.norm(x, axis=axis, keepdims=keepdims) * w)


def f_var_ddof(x, w, axis, keepdims, ddof):
    return np.sum(np.var(x, axis=axis, ddof=ddof, keepdims=keepdims) * w)


def f_std_ddof(x, w, axis, keepdims, ddof):
    return np.sum(np.std(x, axis=axis, ddof=ddof, keepdims=keepdims) * w)


def f_cumsum(x, w, axis): return np.sum(np.cumsum(x, axis=axis) * w)
def f_cumprod(x, w, axis): return np.sum(np.cumprod(x, axis=axis) * w)


# name: (function, kind of values, NumPy's reduction)
REDUCTIONS = {
    "sum": (f_sum, "smooth", np.sum),
    "mean": (f_mean, "smooth", np.mean),
    "prod": (f_prod, "prod", np.prod),
    "max": (f_max, "distinct", np.max),
    "min": (f_min, "distinct", np.min),
    "amax": (f_amax, "distinct", np.amax),
    "amin": (f_amin, "distinct", np.amin),
    "var": (f_var, "smooth", np.var),
    "std": (f_std, "spread", np.std),
}


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axis = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axis]))


def test_every_reduction_has_a_rule():
    for prim in (np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.var, np.std,
                 np.cumsum, np.cumprod, np.linalg.norm):
        assert registry.has_rule(prim), prim


@pytest.mark.parametrize("name", REDUCTIONS)
@rule
@given(data=st.data())
def test_reduction(name, data):
    f, kind, reduce = REDUCTIONS[name]
    shape = data.draw(shapes)
    x = values(data.draw, shape, kind)
    axis = data.draw(axes(len(shape)))
    if name in ("max", "min", "amax", "amin", "std"):
        assume(axis != () and _count(shape, axis) > 1 or name in ("max", "min", "amax", "amin"))
    keepdims = data.draw(st.booleans())
    w = weights_like(data.draw, reduce(x, axis=axis, keepdims=keepdims))
    check(f, (x, w, axis, keepdims))
    assert gradient(f, (x, w, axis, keepdims)).shape == shape


@pytest.mark.parametrize("name", REDUCTIONS)
@few
@given(data=st.data())
def test_reduction_float32(name, data):
    f, kind, reduce = REDUCTIONS[name]
    shape = data.draw(shapes)
    x = values(data.draw, shape, kind, dtype=np.float32)
    axis = data.draw(axes(len(shape)))
    if name == "std":
        assume(axis != () and _count(shape, axis) > 1)
    keepdims = data.draw(st.booleans())
    w = weights_like(data.draw, reduce(x, axis=axis, keepdims=keepdims)).astype(np.float32)
    g = gradient(f, (x, w, axis, keepdims))
    assert g.dtype == np.float32 and g.shape == shape
    check(f, (x, w, axis, keepdims), **F32)


@pytest.mark.parametrize("f, reduce, kind", [(f_var_ddof, np.var, "smooth"),
                                             (f_std_ddof, np.std, "spread")])
@rule
@given(data=st.data())
def test_var_std_ddof(f, reduce, kind, data):
    shape = data.draw(shapes)
    x = values(data.draw, shape, kind)
    axis = data.draw(axes(len(shape)))
    ddof = data.draw(st.sampled_from([0, 1, 2]))
    assume(_count(shape, axis) - ddof > 0 and (kind == "smooth" or _count(shape, axis) > 1))
    keepdims = data.draw(st.booleans())
    w = weights_like(data.draw, reduce(x, axis=axis, ddof=ddof, keepdims=keepdims))
    check(f, (x, w, axis, keepdims, ddof))
    x32 = x.astype(np.float32)
    g = gradient(f, (x32, w.astype(np.float32), axis, keepdims, ddof))
    assert g.dtype == np.float32
    check(f, (x32, w.astype(np.float32), axis, keepdims, ddof), **F32)


@pytest.mark.parametrize("f, accumulate", [(f_cumsum, np.cumsum), (f_cumprod, np.cumprod)])
@rule
@given(data=st.data())
def test_cumulative(f, accumulate, data):
    shape = data.draw(shapes)
    x = values(data.draw, shape, "prod")
    axis = data.draw(axes(len(shape), tuples=False))
    w = weights_like(data.draw, accumulate(x, axis=axis))
    check(f, (x, w, axis))
    g = gradient(f, (x, w, axis))
    assert g.shape == shape
    g32 = gradient(f, (x.astype(np.float32), w.astype(np.float32), axis))
    assert g32.dtype == np.float32
    check(f, (x.astype(np.float32), w.astype(np.float32), axis), **F32)


# -- zeros in products: exact ------------------------------------------------------------

def multilinear_gradient(f, x, *rest):
    """The gradient of f, linear in each entry of x: f(x_i = 1) - f(x_i = 0)."""
    g = np.empty_like(x)
    for i in np.ndindex(x.shape):
        one, zero = x.copy(), x.copy()
        one[i], zero[i] = 1.0, 0.0
        g[i] = f(one, *rest) - f(zero, *rest)
    return g


@rule
@given(data=st.data())
def test_prod_with_zeros_is_exact(data):
    shape = data.draw(shapes)
    x = values(data.draw, shape, "zeros")
    axis = data.draw(axes(len(shape)))
    keepdims = data.draw(st.booleans())
    w = weights_like(data.draw, np.prod(x, axis=axis, keepdims=keepdims))
    g = gradient(f_prod, (x, w, axis, keepdims))
    np.testing.assert_allclose(g, multilinear_gradient(f_prod, x, w, axis, keepdims),
                               rtol=1e-12, atol=1e-12)


@rule
@given(data=st.data())
def test_cumprod_with_zeros_is_exact(data):
    shape = data.draw(shapes)
    x = values(data.draw, shape, "zeros")
    axis = data.draw(axes(len(shape), tuples=False))
    w = weights_like(data.draw, np.cumprod(x, axis=axis))
    g = gradient(f_cumprod, (x, w, axis))
    np.testing.assert_allclose(g, multilinear_gradient(f_cumprod, x, w, axis),
                               rtol=1e-12, atol=1e-12)


def prod_all(x): return np.prod(x)
def cumprod_sum(x): return np.sum(np.cumprod(x) * np.array([1.0, 2.0, 3.0, 4.0]))


def test_prod_zero_cases():
    np.testing.assert_array_equal(gradient(prod_all, (np.array([2.0, 3.0, 4.0]),)), [12.0, 8.0, 6.0])
    np.testing.assert_array_equal(gradient(prod_all, (np.array([2.0, 0.0, 4.0]),)), [0.0, 8.0, 0.0])
    np.testing.assert_array_equal(gradient(prod_all, (np.array([0.0, 3.0, 0.0]),)), [0.0, 0.0, 0.0])
    g32 = gradient(prod_all, (np.array([2.0, 0.0, 4.0], np.float32),))
    assert g32.dtype == np.float32
    np.testing.assert_array_equal(g32, [0.0, 8.0, 0.0])


def test_cumprod_zero_cases():
    # out = [x0, x0 x1, x0 x1 x2, x0 x1 x2 x3], weights 1, 2, 3, 4
    x = np.array([2.0, 0.0, 3.0, 0.0])
    # d/dx0 = 1 (others vanish); d/dx1 = 2*2 + 3*2*3 + 0; d/dx2 = 0; d/dx3 = 0
    np.testing.assert_array_equal(gradient(cumprod_sum, (x,)), [1.0, 22.0, 0.0, 0.0])
    x = np.array([0.0, 2.0, 3.0, 5.0])
    np.testing.assert_array_equal(gradient(cumprod_sum, (x,)), [1 + 4 + 18 + 120, 0, 0, 0])


# -- std, norm at their kinks ----------------------------------------------------------

def std_rows(x): return np.sum(np.std(x, axis=1))
def var_rows(x): return np.sum(np.var(x, axis=1, ddof=1))
def norm_all(x): return np.linalg.norm(x)
def norm_rows(x): return np.sum(np.linalg.norm(x, axis=1))


def test_std_of_equal_entries_is_zero():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    g = gradient(std_rows, (x,))
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(g[1], np.array([-1.0, 0.0, 1.0]) / (3 * np.std([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(gradient(var_rows, (x,))[0], [0.0, 0.0, 0.0])


def test_norm_of_zero_is_zero():
    np.testing.assert_array_equal(gradient(norm_all, (np.zeros((2, 3)),)), np.zeros((2, 3)))
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_array_equal(gradient(norm_rows, (x,)), [[0.0, 0.0], [0.6, 0.8]])
    g32 = gradient(norm_rows, (x.astype(np.float32),))
    assert g32.dtype == np.float32


@rule
@given(data=st.data())
def test_norm_axes(data):
    shape = data.draw(shapes)
    x = values(data.draw, shape, "spread")
    # an int axis: vector norms; two axes: Frobenius norms; None: the norm of the flattened x
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               hnp.valid_tuple_axes(len(shape), min_size=2, max_size=2)
                               if len(shape) >= 2 else st.none()))
    keepdims = data.draw(st.booleans())
    w = weights_like(data.draw, np.linalg.norm(x, axis=axis, keepdims=keepdims))
    check(f_norm, (x, w, axis, keepdims))
    g32 = gradient(f_norm, (x.astype(np.float32), w.astype(np.float32), axis, keepdims))
    assert g32.dtype == np.float32
    check(f_norm, (x.astype(np.float32), w.astype(np.float32), axis, keepdims), **F32)


def norm_vector_ord2(v): return np.linalg.norm(v, 2)
def norm_rows_ord2(x): return np.sum(np.linalg.norm(x, ord=2, axis=-1, keepdims=True))
def norm_fro(x): return np.linalg.norm(x, "fro")
def norm_fro_axes(x): return np.sum(np.linalg.norm(x, "fro", axis=(0, 2)) ** 2)
def norm_none(x): return np.sum(np.linalg.norm(x, None, 1))
def norm_ord1(v): return np.linalg.norm(v, 1)
def norm_matrix_ord2(x): return np.linalg.norm(x, 2)
def norm_nuc(x): return np.linalg.norm(x, "nuc")
def norm_inf_rows(x): return np.sum(np.linalg.norm(x, np.inf, axis=1))


def test_norm_ords():
    rng = np.random.default_rng(0)
    v, m, t = rng.normal(size=4), rng.normal(size=(3, 4)), rng.normal(size=(2, 3, 4))
    check(norm_vector_ord2, (v,))
    np.testing.assert_allclose(gradient(norm_vector_ord2, (v,)), v / np.linalg.norm(v))
    check(norm_rows_ord2, (m,))
    check(norm_fro, (m,))
    np.testing.assert_allclose(gradient(norm_fro, (m,)), m / np.linalg.norm(m))
    check(norm_fro_axes, (t,))
    np.testing.assert_allclose(gradient(norm_fro_axes, (t,)), 2 * t)
    check(norm_none, (m,))
    check(norm_all, (t,))                        # ord None flattens any number of dimensions
    check(norm_vector_ord2, (v.astype(np.float32),), **F32)


@pytest.mark.parametrize("f, arg", [(norm_ord1, np.ones(3)), (norm_matrix_ord2, np.ones((2, 2))),
                                    (norm_nuc, np.ones((2, 2))), (norm_inf_rows, np.ones((2, 2)))])
def test_other_norms_are_refused(f, arg):
    with pytest.raises(DifferentiationError, match="np.linalg.norm with ord="):
        gradient(f, (arg,))


# -- ties of max and min: exact -----------------------------------------------------------

def max_all(x): return np.max(x)
def amax_all(x): return np.amax(x)
def max_method(x): return x.max()
def min_all(x): return np.min(x)
def max_rows(x): return np.sum(np.max(x, axis=1) * np.array([1.0, 2.0, 3.0]))
def amin_cols_keep(x): return np.sum(np.amin(x, axis=0, keepdims=True) * np.array([[1.0, 2.0, 3.0]]))
def max_both_axes(x): return np.sum(np.max(x, axis=(0, -1)))


def test_max_ties_split_evenly():
    x = np.array([1.0, 3.0, 3.0])
    for f in (max_all, amax_all, max_method):
        np.testing.assert_array_equal(gradient(f, (x,)), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(gradient(min_all, (np.array([2.0, 1.0, 1.0, 1.0]),)),
                                  [0.0, 1 / 3, 1 / 3, 1 / 3])
    g32 = gradient(max_all, (x.astype(np.float32),))
    assert g32.dtype == np.float32
    np.testing.assert_array_equal(g32, [0.0, 0.5, 0.5])


def test_max_ties_along_axes():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 1.0, 0.0]])
    np.testing.assert_array_equal(gradient(max_rows, (x,)),
                                  [[0, 0.5, 0.5], [2 / 3, 2 / 3, 2 / 3], [3, 0, 0]])
    np.testing.assert_array_equal(gradient(amin_cols_keep, (x,)),
                                  [[1, 0, 0], [0, 0, 0], [0, 2, 3]])
    t = np.array([[[1.0, 4.0], [0.0, 0.0]], [[4.0, 2.0], [3.0, 4.0]]])   # max over axes 0, 2
    np.testing.assert_array_equal(gradient(max_both_axes, (t,)),
                                  [[[0, 0.5], [0, 0]], [[0.5, 0], [0, 1]]])


# -- literal axes, keepdims, and methods -----------------------------------------------------

def lit_sum(x): return np.sum(np.sum(x, axis=(0, -1), keepdims=True) * np.arange(1.0, 4.0).reshape(1, 3, 1))
def lit_mean(x): return np.sum(np.mean(x, axis=-2) ** 2)
def lit_prod(x): return np.sum(np.prod(x, axis=(0, -1), keepdims=True) ** 2)
def lit_prod_neg(x): return np.sum(np.prod(x, -1) * 2.0)
def lit_var(x): return np.sum(np.var(x, axis=-1, ddof=1) ** 2)
def lit_var_correction(x): return np.sum(np.var(x, axis=(1, 2), correction=1))
def lit_std(x): return np.sum(np.std(x, axis=(0, 1), keepdims=True) * 3.0)
def lit_std_correction(x): return np.std(x, correction=1)
def lit_cumsum(x): return np.sum(np.cumsum(x, axis=-2) ** 2)
def lit_cumprod(x): return np.sum(np.cumprod(x, axis=1) * 0.5)
def lit_max(x): return np.sum(np.max(x, axis=-1, keepdims=True) ** 2)


LITERAL = [lit_sum, lit_mean, lit_prod, lit_prod_neg, lit_var, lit_var_correction, lit_std,
           lit_std_correction, lit_cumsum, lit_cumprod, lit_max]


@pytest.mark.parametrize("f", LITERAL, ids=lambda f: f.__name__)
def test_literal_axes(f):
    rng = np.random.default_rng(1)
    x = rng.permutation(24).reshape(2, 3, 4) / 12 + 0.5
    check(f, (x,))
    g32 = gradient(f, (x.astype(np.float32),))
    assert g32.dtype == np.float32 and g32.shape == x.shape
    check(f, (x.astype(np.float32),), **F32)


def m_sum(x): return np.sum(x.sum(axis=0) ** 2)
def m_mean(x): return x.mean()
def m_max(x): return x.max() + x.min(axis=1).sum()
def m_prod(x): return x.prod() + np.sum(x.prod(1))
def m_var(x): return x.var() + x.var(axis=0, ddof=1).sum()
def m_std(x): return x.std() + x.std(1, keepdims=True).sum()
def m_cumsum(x): return np.sum(x.cumsum() ** 2) + np.sum(x.cumsum(axis=0) ** 2)
def m_cumprod(x): return np.sum(x.cumprod(-1))

# each method beside the same computation written with functions
def fn_sum(x): return np.sum(np.sum(x, axis=0) ** 2)
def fn_mean(x): return np.mean(x)
def fn_max(x): return np.max(x) + np.sum(np.min(x, axis=1))
def fn_prod(x): return np.prod(x) + np.sum(np.prod(x, 1))
def fn_var(x): return np.var(x) + np.sum(np.var(x, axis=0, ddof=1))
def fn_std(x): return np.std(x) + np.sum(np.std(x, 1, keepdims=True))
def fn_cumsum(x): return np.sum(np.cumsum(x) ** 2) + np.sum(np.cumsum(x, axis=0) ** 2)
def fn_cumprod(x): return np.sum(np.cumprod(x, -1))


@pytest.mark.parametrize("method, function", [
    (m_sum, fn_sum), (m_mean, fn_mean), (m_max, fn_max), (m_prod, fn_prod), (m_var, fn_var),
    (m_std, fn_std), (m_cumsum, fn_cumsum), (m_cumprod, fn_cumprod)], ids=lambda f: f.__name__)
def test_methods_route_to_the_same_rules(method, function):
    rng = np.random.default_rng(2)
    x = rng.permutation(12).reshape(3, 4) / 6 + 0.5
    check(method, (x,))
    np.testing.assert_allclose(gradient(method, (x,)), gradient(function, (x,)), rtol=1e-12)
    assert gradient(method, (x.astype(np.float32),)).dtype == np.float32


# -- compiler bugs found (rules/numpy.py, not this module's) ------------------------------

def sum_dtype_positional(x, w): return np.sum(np.sum(x, 1, np.float64) * w)
def mean_dtype_positional(x, w): return np.sum(np.mean(x, 1, np.float64) * w)


@pytest.mark.parametrize("f", [sum_dtype_positional, mean_dtype_positional])
def test_positional_dtype_is_not_keepdims(f):
    x = np.arange(9.0).reshape(3, 3)
    w = np.array([1.0, 2.0, 3.0])
    try:
        g = gradient(f, (x, w))
    except DifferentiationError:
        return                                   # refused: fine too
    scale = 1.0 if f is sum_dtype_positional else 1 / 3
    np.testing.assert_allclose(g, scale * np.repeat(w[:, None], 3, axis=1))


def var_dtype_positional(x): return np.sum(np.var(x, 0, np.float64))


def test_positional_dtype_of_var_is_refused():
    with pytest.raises(DifferentiationError, match="np.var"):
        gradient(var_dtype_positional, (np.ones((2, 2)),))
