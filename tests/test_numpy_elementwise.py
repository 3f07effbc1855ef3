"""NumPy elementwise rules: adcompiler/rules/numpy_elementwise.py and the elementwise
part of adcompiler/rules/numpy.py, and the Python operators on arrays.

Every primitive is checked on hypothesis-drawn arrays (0 to 3 dimensions, sides 1
to 4) inside its domain, away from singularities and kinks by a margin, against
central finite differences (`check_grads`) and, for the unary functions, against
the derivative written out here. Binary primitives are checked on random pairs of
mutually broadcastable shapes, with both arguments active and with one a constant.
float32 inputs are checked with a float32 tolerance and must give float32
gradients. Kinks (abs at 0, ties of fmax/fmin/maximum/minimum, the bounds of clip,
the origin for hypot and arctan2, sinc at 0) are checked with exact values.
"""

import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adcompiler import check_grads, grad, registry

rule = settings(max_examples=25, deadline=None)
few = settings(max_examples=10, deadline=None)

F32 = dict(rtol=1e-2, atol=1e-3)


@functools.lru_cache(maxsize=None)
def compiled(f, wrt):
    """grad(f, wrt=wrt), built once per test function (grad() re-reads the source)."""
    return grad(f, wrt=wrt)


def check(f, args, wrt, **tol):
    check_grads(f, args, wrt=wrt, grad_fn=compiled(f, wrt), **tol)


def gradient(f, args, wrt):
    return compiled(f, wrt)(*args)


# -- strategies ------------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
triples = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=4)


def floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def arrays(draw, shape, lo, hi, away=False, dtype=np.float64):
    """An array of `shape` with entries in [lo, hi], or with lo <= |entry| <= hi if `away`."""
    x = draw(hnp.arrays(np.float64, shape, elements=floats(lo, hi)))
    if away:
        x = x * draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    return np.asarray(x, dtype=dtype)          # a 0-d array, not a NumPy scalar


def weights(draw, shape):
    """Weights for the summed output, so every gradient entry is different."""
    return draw(hnp.arrays(np.float64, shape, elements=floats(-2, 2)))


# -- identities and coverage --------------------------------------------------------------

def test_numpy_aliases_are_one_object():
    assert np.abs is np.absolute
    assert np.true_divide is np.divide
    assert np.power is np.pow and np.arcsin is np.asin and np.arctan2 is np.atan2
    assert np.arccosh is np.acosh and np.arctanh is np.atanh


ALL = [np.expm1, np.exp2, np.log1p, np.log2, np.log10, np.sqrt, np.cbrt, np.square,
       np.reciprocal, np.abs, np.absolute, np.fabs, np.sin, np.cos, np.tan, np.arcsin,
       np.arccos, np.arctan, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh,
       np.sinc, np.power, np.true_divide, np.fmax, np.fmin, np.arctan2, np.hypot,
       np.logaddexp, np.logaddexp2, np.where, np.clip, np.negative, np.positive, np.add,
       np.subtract, np.multiply, np.divide, np.exp, np.log, np.maximum, np.minimum]


@pytest.mark.parametrize("prim", ALL, ids=lambda p: p.__name__)
def test_every_function_has_a_rule(prim):
    assert registry.has_rule(prim)


# -- unary functions --------------------------------------------------------------------

def f_expm1(x, w): return np.sum(np.expm1(x) * w)
def f_exp2(x, w): return np.sum(np.exp2(x) * w)
def f_log1p(x, w): return np.sum(np.log1p(x) * w)
def f_log2(x, w): return np.sum(np.log2(x) * w)
def f_log10(x, w): return np.sum(np.log10(x) * w)
def f_sqrt(x, w): return np.sum(np.sqrt(x) * w)
def f_cbrt(x, w): return np.sum(np.cbrt(x) * w)
def f_square(x, w): return np.sum(np.square(x) * w)
def f_reciprocal(x, w): return np.sum(np.reciprocal(x) * w)
def f_abs(x, w): return np.sum(np.abs(x) * w)
def f_absolute(x, w): return np.sum(np.absolute(x) * w)
def f_fabs(x, w): return np.sum(np.fabs(x) * w)
def f_sin(x, w): return np.sum(np.sin(x) * w)
def f_cos(x, w): return np.sum(np.cos(x) * w)
def f_tan(x, w): return np.sum(np.tan(x) * w)
def f_arcsin(x, w): return np.sum(np.arcsin(x) * w)
def f_arccos(x, w): return np.sum(np.arccos(x) * w)
def f_arctan(x, w): return np.sum(np.arctan(x) * w)
def f_sinh(x, w): return np.sum(np.sinh(x) * w)
def f_cosh(x, w): return np.sum(np.cosh(x) * w)
def f_tanh(x, w): return np.sum(np.tanh(x) * w)
def f_arcsinh(x, w): return np.sum(np.arcsinh(x) * w)
def f_arccosh(x, w): return np.sum(np.arccosh(x) * w)
def f_arctanh(x, w): return np.sum(np.arctanh(x) * w)
def f_sinc(x, w): return np.sum(np.sinc(x) * w)
def f_negative(x, w): return np.sum(np.negative(x) * w)
def f_positive(x, w): return np.sum(np.positive(x) * w)
def f_exp(x, w): return np.sum(np.exp(x) * w)
def f_log(x, w): return np.sum(np.log(x) * w)


def _sinc_derivative(x):
    """d/dx sin(pi x) / (pi x): its power series near 0, the quotient elsewhere."""
    def one(v):
        if abs(v) < 0.5:
            u = (math.pi * v) ** 2
            return math.pi ** 2 * v * math.fsum((-1) ** k * 2 * k * u ** (k - 1) / math.factorial(2 * k + 1)
                                                for k in range(1, 20))
        return (math.cos(math.pi * v) - math.sin(math.pi * v) / (math.pi * v)) / v
    return np.vectorize(one, otypes=[float])(x)


# name: (function, lo, hi, away from zero, derivative)
UNARY = {
    "expm1": (f_expm1, -3, 3, False, np.exp),
    "exp2": (f_exp2, -3, 3, False, lambda x: np.exp2(x) * math.log(2)),
    "log1p": (f_log1p, -0.5, 3, False, lambda x: 1 / (1 + x)),
    "log2": (f_log2, 0.1, 5, False, lambda x: 1 / (x * math.log(2))),
    "log10": (f_log10, 0.1, 5, False, lambda x: 1 / (x * math.log(10))),
    "sqrt": (f_sqrt, 0.1, 5, False, lambda x: 0.5 / np.sqrt(x)),
    "cbrt": (f_cbrt, 0.1, 5, True, lambda x: 1 / (3 * np.cbrt(x) ** 2)),
    "square": (f_square, -3, 3, False, lambda x: 2 * x),
    "reciprocal": (f_reciprocal, 0.2, 5, True, lambda x: -1 / x ** 2),
    "abs": (f_abs, 0.01, 3, True, np.sign),
    "absolute": (f_absolute, 0.01, 3, True, np.sign),
    "fabs": (f_fabs, 0.01, 3, True, np.sign),
    "sin": (f_sin, -3, 3, False, np.cos),
    "cos": (f_cos, -3, 3, False, lambda x: -np.sin(x)),
    "tan": (f_tan, -1.2, 1.2, False, lambda x: 1 / np.cos(x) ** 2),
    "arcsin": (f_arcsin, -0.9, 0.9, False, lambda x: 1 / np.sqrt(1 - x * x)),
    "arccos": (f_arccos, -0.9, 0.9, False, lambda x: -1 / np.sqrt(1 - x * x)),
    "arctan": (f_arctan, -3, 3, False, lambda x: 1 / (1 + x * x)),
    "sinh": (f_sinh, -3, 3, False, np.cosh),
    "cosh": (f_cosh, -3, 3, False, np.sinh),
    "tanh": (f_tanh, -3, 3, False, lambda x: 1 / np.cosh(x) ** 2),
    "arcsinh": (f_arcsinh, -3, 3, False, lambda x: 1 / np.sqrt(x * x + 1)),
    "arccosh": (f_arccosh, 1.1, 5, False, lambda x: 1 / np.sqrt(x * x - 1)),
    "arctanh": (f_arctanh, -0.9, 0.9, False, lambda x: 1 / (1 - x * x)),
    "sinc": (f_sinc, -3, 3, False, _sinc_derivative),
    "negative": (f_negative, -3, 3, False, lambda x: -np.ones_like(x)),
    "positive": (f_positive, -3, 3, False, np.ones_like),
    "exp": (f_exp, -3, 3, False, np.exp),
    "log": (f_log, 0.1, 5, False, lambda x: 1 / x),
}


@pytest.mark.parametrize("name", UNARY)
@rule
@given(data=st.data())
def test_unary(name, data):
    f, lo, hi, away, derivative = UNARY[name]
    shape = data.draw(shapes)
    x = arrays(data.draw, shape, lo, hi, away)
    w = weights(data.draw, shape)
    check(f, (x, w), 0)
    np.testing.assert_allclose(gradient(f, (x, w), 0), derivative(x) * w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", UNARY)
@few
@given(data=st.data())
def test_unary_float32(name, data):
    f, lo, hi, away, derivative = UNARY[name]
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = arrays(data.draw, shape, lo, hi, away, dtype=np.float32)
    w = weights(data.draw, shape).astype(np.float32)
    g = gradient(f, (x, w), 0)
    assert g.dtype == np.float32 and g.shape == x.shape
    check(f, (x, w), 0, **F32)


@pytest.mark.parametrize("name", ["sin", "sqrt", "abs", "arctan", "sinc", "log2", "cbrt"])
def test_unary_python_float(name):
    f, lo, hi, away, derivative = UNARY[name]
    x = (lo + hi) / 2 + 0.1
    g = gradient(f, (x, 1.5), 0)
    assert isinstance(g, float)
    assert math.isclose(g, float(derivative(np.float64(x))) * 1.5, rel_tol=1e-12)


# -- kinks of unary functions --------------------------------------------------------------

def test_abs_at_zero_is_zero():
    x = np.array([0.0, -2.0, 3.0, -0.0])
    ones = np.ones(4)
    for f in (f_abs, f_absolute, f_fabs):
        np.testing.assert_array_equal(gradient(f, (x, ones), 0), [0.0, -1.0, 1.0, 0.0])
    assert gradient(f_abs, (0.0, 1.0), 0) == 0.0


def test_sinc_at_and_near_zero():
    x = np.array([0.0, 1e-9, -1e-5, 0.02, -0.04, 0.5])
    g = gradient(f_sinc, (x, np.ones(6)), 0)
    assert g[0] == 0.0
    np.testing.assert_allclose(g[1:], _sinc_derivative(x[1:]), rtol=1e-12)
    g32 = gradient(f_sinc, (x.astype(np.float32), np.ones(6, np.float32)), 0)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32[1:], g[1:], rtol=5e-5)   # float32 quotient: 1e-5 near |x| = 0.03


def test_unary_rules_give_no_warning_in_the_domain():
    x = np.array([0.0, 0.5, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (f_abs, f_sinc, f_square, f_sin, f_tanh):
            gradient(f, (x, np.ones(3)), 0)


# -- binary functions ------------------------------------------------------------------

def f_add(a, b, w): return np.sum(np.add(a, b) * w)
def f_subtract(a, b, w): return np.sum(np.subtract(a, b) * w)
def f_multiply(a, b, w): return np.sum(np.multiply(a, b) * w)
def f_divide(a, b, w): return np.sum(np.divide(a, b) * w)
def f_true_divide(a, b, w): return np.sum(np.true_divide(a, b) * w)
def f_power(a, b, w): return np.sum(np.power(a, b) * w)
def f_maximum(a, b, w): return np.sum(np.maximum(a, b) * w)
def f_minimum(a, b, w): return np.sum(np.minimum(a, b) * w)
def f_fmax(a, b, w): return np.sum(np.fmax(a, b) * w)
def f_fmin(a, b, w): return np.sum(np.fmin(a, b) * w)
def f_arctan2(a, b, w): return np.sum(np.arctan2(a, b) * w)
def f_hypot(a, b, w): return np.sum(np.hypot(a, b) * w)
def f_logaddexp(a, b, w): return np.sum(np.logaddexp(a, b) * w)
def f_logaddexp2(a, b, w): return np.sum(np.logaddexp2(a, b) * w)

# name: (function, domain of a, domain of b); a domain is (lo, hi, away from zero)
BOTH = (-3, 3, False)
BINARY = {
    "add": (f_add, BOTH, BOTH),
    "subtract": (f_subtract, BOTH, BOTH),
    "multiply": (f_multiply, BOTH, BOTH),
    "divide": (f_divide, BOTH, (0.3, 3, True)),
    "true_divide": (f_true_divide, BOTH, (0.3, 3, True)),
    "power": (f_power, (0.3, 3, False), (-2, 2, False)),
    "maximum": (f_maximum, BOTH, BOTH),
    "minimum": (f_minimum, BOTH, BOTH),
    "fmax": (f_fmax, BOTH, BOTH),
    "fmin": (f_fmin, BOTH, BOTH),
    "arctan2": (f_arctan2, (0.2, 3, True), (0.2, 3, True)),
    "hypot": (f_hypot, (0.2, 3, True), (0.2, 3, True)),
    "logaddexp": (f_logaddexp, BOTH, BOTH),
    "logaddexp2": (f_logaddexp2, BOTH, BOTH),
}


def _apart_or_tied(a, b):
    """No near-tie for the extrema: finite differences agree with the even split only
    at exact ties and away from them."""
    d = np.abs(np.subtract(*np.broadcast_arrays(a, b)))
    return bool(np.all((d == 0) | (d > 1e-3)))


@pytest.mark.parametrize("name", BINARY)
@rule
@given(data=st.data())
def test_binary_broadcasting(name, data):
    f, dom_a, dom_b = BINARY[name]
    (sa, sb), out = data.draw(pairs)
    a = arrays(data.draw, sa, *dom_a)
    b = arrays(data.draw, sb, *dom_b)
    assume(_apart_or_tied(a, b))
    w = weights(data.draw, out)
    check(f, (a, b, w), (0, 1))
    check(f, (a, b, w), 0)
    check(f, (a, b, w), 1)


@pytest.mark.parametrize("name", BINARY)
@few
@given(data=st.data())
def test_binary_float32(name, data):
    f, dom_a, dom_b = BINARY[name]
    (sa, sb), out = data.draw(pairs)
    a = arrays(data.draw, sa, *dom_a, dtype=np.float32)
    b = arrays(data.draw, sb, *dom_b, dtype=np.float32)
    assume(_apart_or_tied(a, b))
    w = weights(data.draw, out).astype(np.float32)
    da, db = gradient(f, (a, b, w), (0, 1))
    assert da.dtype == db.dtype == np.float32
    assert da.shape == a.shape and db.shape == b.shape
    check(f, (a, b, w), (0, 1), **F32)


@pytest.mark.parametrize("name", BINARY)
def test_binary_with_a_python_float(name):
    f, dom_a, dom_b = BINARY[name]
    a = np.linspace(dom_a[0], dom_a[1], 12).reshape(3, 4) + 0.01
    b = 0.5 * (dom_b[0] + dom_b[1]) + 0.7
    w = np.arange(12.0).reshape(3, 4) - 5
    check(f, (a, b, w), (0, 1))
    da, db = gradient(f, (a, b, w), (0, 1))
    assert da.shape == (3, 4) and isinstance(db, float)


def test_power_at_zero_base_has_no_nan():
    a = np.array([0.0, 2.0])
    b = np.array([2.0, 3.0])
    da, db = gradient(f_power, (a, b, np.ones(2)), (0, 1))
    np.testing.assert_array_equal(da, [0.0, 12.0])
    np.testing.assert_allclose(db, [0.0, 8 * math.log(2)])


# -- kinks of binary functions -------------------------------------------------------------

@pytest.mark.parametrize("f, a_wins", [(f_maximum, [0.5, 0.0, 1.0]), (f_fmax, [0.5, 0.0, 1.0]),
                                        (f_minimum, [0.5, 1.0, 0.0]), (f_fmin, [0.5, 1.0, 0.0])])
def test_extremum_ties_split_evenly(f, a_wins):
    a = np.array([1.0, 2.0, 5.0])
    b = np.array([1.0, 3.0, 4.0])
    da, db = gradient(f, (a, b, np.ones(3)), (0, 1))
    np.testing.assert_array_equal(da, a_wins)
    np.testing.assert_array_equal(db, 1 - np.array(a_wins))


def test_extremum_tie_of_broadcast_scalar():
    a = np.array([[1.0, 2.0], [0.0, 1.0]])
    da, db = gradient(f_maximum, (a, 1.0, np.ones((2, 2))), (0, 1))
    np.testing.assert_array_equal(da, [[0.5, 1.0], [0.0, 0.5]])
    assert db == 2.0


@pytest.mark.parametrize("f", [f_fmax, f_fmin])
def test_fmax_fmin_against_nan_give_all_to_the_number(f):
    a = np.array([np.nan, 2.0, np.nan])
    b = np.array([3.0, np.nan, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        da, db = gradient(f, (a, b, np.ones(3)), (0, 1))
    np.testing.assert_array_equal(da[:2], [0.0, 1.0])
    np.testing.assert_array_equal(db[:2], [1.0, 0.0])


def test_hypot_and_arctan2_at_the_origin_are_zero():
    z = np.zeros(2)
    for f in (f_hypot, f_arctan2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            da, db = gradient(f, (z, z, np.ones(2)), (0, 1))
        np.testing.assert_array_equal(da, [0.0, 0.0])
        np.testing.assert_array_equal(db, [0.0, 0.0])


def test_logaddexp_far_apart_is_stable():
    a = np.array([800.0, -800.0])
    b = np.array([0.0, 0.0])
    da, db = gradient(f_logaddexp, (a, b, np.ones(2)), (0, 1))
    np.testing.assert_allclose(da, [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(db, [0.0, 1.0], atol=1e-300)


# -- where ---------------------------------------------------------------------------

def f_where(c, a, b, w):
    return np.sum(np.where(c, a, b) * w)


def leaky_relu(x):
    return np.sum(np.where(x > 0, x, 0.1 * x) ** 2)


@rule
@given(data=st.data())
def test_where_broadcasting(data):
    (sc, sa, sb), out = data.draw(triples)
    c = data.draw(hnp.arrays(np.bool_, sc))
    a = arrays(data.draw, sa, -3, 3)
    b = arrays(data.draw, sb, -3, 3)
    w = weights(data.draw, out)
    check(f_where, (c, a, b, w), (1, 2))
    da, db = gradient(f_where, (c, a, b, w), (1, 2))
    cb = np.broadcast_to(c, out)
    # a gets w where c holds, b elsewhere, summed back over broadcast dimensions
    assert np.isclose(np.sum(da), np.sum(np.where(cb, w, 0)))
    assert np.isclose(np.sum(db), np.sum(np.where(cb, 0, w)))


def test_where_exact_and_float32():
    c = np.array([[True, False, True]])
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    da, db = gradient(f_where, (c, a, 7.0, w), (1, 2))
    np.testing.assert_array_equal(da, [[1.0, 0.0, 3.0], [4.0, 0.0, 6.0]])
    assert db == 7.0
    da32 = gradient(f_where, (c, a.astype(np.float32), np.float32(7), w), 1)
    assert da32.dtype == np.float32


def test_where_condition_from_the_active_input():
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    g = gradient(leaky_relu, (x,), 0)
    np.testing.assert_allclose(g, np.where(x > 0, 2 * x, 0.02 * x))
    check(leaky_relu, (x,), 0)


# -- clip ----------------------------------------------------------------------------------

def f_clip(x, lo, hi, w): return np.sum(np.clip(x, lo, hi) * w)
def f_clip_none_lo(x, hi): return np.sum(np.clip(x, None, hi) ** 2)
def f_clip_none_hi(x, lo): return np.sum(np.clip(x, lo, None) ** 2)
def f_clip_keywords(x): return np.sum(np.clip(x, min=-0.5, max=0.5) ** 2)
def f_clip_keyword_max(x): return np.sum(np.clip(x, max=0.5) ** 2)
def f_clip_method(x): return np.sum(x.clip(-0.5, 0.5) ** 2)
def f_clip_literal(x): return np.sum(np.clip(x, 0, 1) * np.arange(4.0))


@rule
@given(data=st.data())
def test_clip_broadcasting(data):
    (sx, sl, sh), out = data.draw(triples)
    x = arrays(data.draw, sx, -3, 3)
    lo = arrays(data.draw, sl, -2, 0)
    hi = arrays(data.draw, sh, 0, 2)
    xb, lb, hb = np.broadcast_arrays(x, lo, hi)
    # away from the kinks x == lo, x == hi (and lo == hi, hit by lo = hi = 0)
    assume(np.all(np.abs(xb - lb) > 1e-3) and np.all(np.abs(xb - hb) > 1e-3))
    assume(np.all(np.abs(lb - hb) > 1e-3))
    w = weights(data.draw, out)
    check(f_clip, (x, lo, hi, w), (0, 1, 2))
    dx, dlo, dhi = gradient(f_clip, (x, lo, hi, w), (0, 1, 2))
    assert np.isclose(np.sum(dx) + np.sum(dlo) + np.sum(dhi), np.sum(w))


@few
@given(data=st.data())
def test_clip_float32(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = arrays(data.draw, shape, 0.01, 3, away=True, dtype=np.float32)
    assume(np.all(np.abs(np.abs(x) - 1) > 1e-2))
    w = weights(data.draw, shape).astype(np.float32)
    dx, dlo = gradient(f_clip, (x, np.float32(-1), 1.0, w), (0, 1))
    assert dx.dtype == np.float32 and isinstance(dlo, np.float32)
    # (check_grads differences a NumPy float32 scalar in float32: pass a 0-d array)
    check(f_clip, (x, np.array(-1, np.float32), 1.0, w), (0, 1), **F32)


def test_clip_exact_inside_outside_and_at_the_bounds():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])
    dx, dlo, dhi = gradient(f_clip, (x, -1.0, 1.0, w), (0, 1, 2))
    np.testing.assert_array_equal(dx, [0.0, 5.0, 100.0, 500.0, 0.0])
    assert dlo == 1.0 + 5.0
    assert dhi == 500.0 + 10000.0


def test_clip_lo_above_hi_gives_everything_to_hi():
    # NumPy returns a_max everywhere when a_min > a_max
    x = np.array([-3.0, 0.0, 1.0, 3.0])
    dx, dlo, dhi = gradient(f_clip, (x, 2.0, 1.0, np.ones(4)), (0, 1, 2))
    np.testing.assert_array_equal(dx, np.zeros(4))
    assert dlo == 0.0 and dhi == 4.0


def test_clip_lo_equal_hi_splits_as_maximum_then_minimum():
    x = np.array([0.0, 1.0, 2.0])
    dx, dlo, dhi = gradient(f_clip, (x, 1.0, 1.0, np.ones(3)), (0, 1, 2))
    # at x == lo == hi: maximum(x, lo) splits 1/2, 1/2, then minimum(., hi) splits again
    np.testing.assert_array_equal(dx, [0.0, 0.25, 0.0])
    assert dlo == 0.5 + 0.25
    assert dhi == 0.5 + 0.5 + 1.0


def test_clip_with_a_missing_bound_keywords_and_method():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    inside = np.array([0.0, 0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(gradient(f_clip_keywords, (x,), 0), 2 * np.clip(x, -.5, .5) * inside)
    np.testing.assert_array_equal(gradient(f_clip_method, (x,), 0), 2 * np.clip(x, -.5, .5) * inside)
    np.testing.assert_array_equal(gradient(f_clip_none_lo, (x, 0.5), 0),
                                  2 * np.minimum(x, .5) * [1, 1, 1, 0.5, 0])
    dx, dhi = gradient(f_clip_none_lo, (x, 0.5), (0, 1))
    assert dhi == 2 * 0.5 * 0.5 + 2 * 0.5
    dx, dlo = gradient(f_clip_none_hi, (x, -0.5), (0, 1))
    np.testing.assert_array_equal(dx, 2 * np.maximum(x, -.5) * [0, 0.5, 1, 1, 1])
    assert dlo == 2 * -0.5 + 2 * -0.5 * 0.5
    np.testing.assert_array_equal(gradient(f_clip_keyword_max, (x,), 0),
                                  2 * np.minimum(x, .5) * [1, 1, 1, 0.5, 0])
    g = gradient(f_clip_literal, (np.array([-1.0, 0.5, 2.0, 1.0]),), 0)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 1.5])


# -- Python operators on arrays ---------------------------------------------------------

def op_add(a, b, w): return np.sum((a + b) * w)
def op_sub(a, b, w): return np.sum((a - b) * w)
def op_mul(a, b, w): return np.sum((a * b) * w)
def op_div(a, b, w): return np.sum((a / b) * w)
def op_pow(a, b, w): return np.sum((a ** b) * w)
def op_neg(a, b, w): return np.sum((-a + b) * w)

OPERATORS = {
    "+": (op_add, BOTH, BOTH),
    "-": (op_sub, BOTH, BOTH),
    "*": (op_mul, BOTH, BOTH),
    "/": (op_div, BOTH, (0.3, 3, True)),
    "**": (op_pow, (0.3, 3, False), (-2, 2, False)),
    "unary -": (op_neg, BOTH, BOTH),
}


@pytest.mark.parametrize("name", OPERATORS)
@rule
@given(data=st.data())
def test_operator_broadcasting(name, data):
    f, dom_a, dom_b = OPERATORS[name]
    (sa, sb), out = data.draw(pairs)
    a = arrays(data.draw, sa, *dom_a)
    b = arrays(data.draw, sb, *dom_b)
    w = weights(data.draw, out)
    check(f, (a, b, w), (0, 1))
    da, db = gradient(f, (a, b, w), (0, 1))
    assert np.shape(da) == sa and np.shape(db) == sb


SHAPE_PAIRS = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4)), ((2, 3), ()),
               ("0-d", (2, 3)), ((3,), "0-d"), ("0-d", "0-d"), ((2, 1, 4), (3, 1))]


def _operand(shape, lo, hi, away, seed):
    rng = np.random.default_rng(seed)
    if shape == ():
        return float(rng.uniform(lo, hi)) * (rng.choice([-1, 1]) if away else 1)
    shape = () if shape == "0-d" else shape
    x = rng.uniform(lo, hi, size=shape)
    return np.asarray(x * rng.choice([-1, 1], size=shape) if away else x)


@pytest.mark.parametrize("name", OPERATORS)
@pytest.mark.parametrize("sa, sb", SHAPE_PAIRS)
def test_operator_shape_pairs(name, sa, sb):
    f, dom_a, dom_b = OPERATORS[name]
    a = _operand(sa, *dom_a, seed=1)
    b = _operand(sb, *dom_b, seed=2)
    w = _operand(np.broadcast(a, b).shape or "0-d", -2, 2, False, seed=3)
    check(f, (a, b, w), (0, 1))
    da, db = gradient(f, (a, b, w), (0, 1))
    assert type(da) is type(a) and np.shape(da) == np.shape(a)
    assert type(db) is type(b) and np.shape(db) == np.shape(b)
    a32 = a.astype(np.float32) if isinstance(a, np.ndarray) else a
    b32 = b.astype(np.float32) if isinstance(b, np.ndarray) else b
    g32 = gradient(f, (a32, b32, w), (0, 1))
    for g, x in zip(g32, (a32, b32)):
        if isinstance(x, np.ndarray):
            assert g.dtype == np.float32


def op_matmul(a, b): return np.sum((a @ b) * 1.5)


@pytest.mark.parametrize("sa, sb", [((3, 4), (4,)), ((4,), (4, 3)), ((2, 3), (3, 4)), ((3,), (3,))])
def test_matmul_operator(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    check(op_matmul, (a, b), (0, 1))
    check(op_matmul, (a.astype(np.float32), b.astype(np.float32)), (0, 1), **F32)
    da, db = gradient(op_matmul, (a.astype(np.float32), b.astype(np.float32)), (0, 1))
    assert da.dtype == db.dtype == np.float32
