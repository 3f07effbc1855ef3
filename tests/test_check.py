"""Tests for adcompiler.check: the finite-difference gradient checker."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adcompiler.check import DEFAULT_STEP, GradientCheckError, check_grads


def fail_message(*args, **kwargs):
    """Run check_grads, which must fail, and return the raised error."""
    with pytest.raises(GradientCheckError) as info:
        check_grads(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------- passing

def test_scalar_gradient_passes():
    def f(x, y):
        return x * x * y + math.sin(x)

    def df(x, y):
        return 2 * x * y + math.cos(x), x * x

    assert check_grads(f, (1.3, -0.7), grad_fn=df) is None


def test_single_value_args_is_a_one_tuple():
    assert check_grads(math.exp, 0.5, grad_fn=math.exp) is None


def test_1d_array_gradient_passes():
    x = np.array([0.5, -1.0, 2.0, 3.5])
    assert check_grads(lambda x: np.sum(np.exp(x) * x), (x,),
                       grad_fn=lambda x: np.exp(x) * (x + 1)) is None


def test_2d_array_gradient_passes():
    a = np.arange(1.0, 7.0).reshape(2, 3)
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]])

    def f(a, w):
        return np.sum(w * a ** 2) + np.prod(a[0])

    def df(a, w):
        ga = 2 * w * a
        ga[0] += np.prod(a[0]) / a[0]
        return ga, a ** 2

    assert check_grads(f, (a, w), grad_fn=df) is None


def test_int_inputs_pass():
    def f(n, m, y):
        return n ** 3 + np.sum(m ** 2 * y)

    m = np.array([2, -1, 4])                             # int array
    y = np.array([0.5, 1.5, -2.0])
    df = lambda n, m, y: (3 * n ** 2, 2 * m * y, m ** 2)   # noqa: E731
    every = (0, 1, 2)                     # ints are checked when named (wrt=None takes floats)
    assert check_grads(f, (3, m, y), every, grad_fn=df) is None            # Python int
    assert check_grads(f, (np.int64(3), m, y), every, grad_fn=df) is None  # numpy int
    with pytest.raises(GradientCheckError):
        check_grads(f, (3, m, y), every, grad_fn=lambda n, m, y: (3 * n ** 2, m * y, m ** 2))
    assert check_grads(f, (3, m, y), grad_fn=lambda n, m, y: m ** 2) is None   # only y


def test_float32_inputs_are_differenced_in_float64():
    seen = []

    def f(v):
        seen.append(v.dtype)
        return np.sum(v ** 3)    # keeps the input dtype

    v = np.array([1.0, -2.5, 0.5], dtype=np.float32)
    # differencing in float32 with h ~ 6e-6 would be off by percent, not 1e-5
    assert check_grads(f, (v,), grad_fn=lambda v: 3 * v ** 2) is None
    assert np.dtype(np.float64) in seen
    assert check_grads(lambda s: s ** 3, (np.float32(1.7),),
                       grad_fn=lambda s: 3 * s ** 2) is None


def test_numeric_scalar_output_forms_accepted():
    x = np.array([1.0, 2.0])
    outputs = [lambda x: float(x @ x), lambda x: x @ x,
               lambda x: np.array([x @ x]), lambda x: np.array([[x @ x]])]
    for f in outputs:
        assert check_grads(f, (x,), grad_fn=lambda x: 2 * x) is None


def test_kwargs_are_passed_to_f_and_grad_fn():
    seen = []

    def f(x, *, scale):
        seen.append(scale)
        return scale * x ** 2

    def df(x, *, scale):
        seen.append(("grad", scale))
        return 2 * scale * x

    assert check_grads(f, (1.5,), kwargs={"scale": 4.0}, grad_fn=df) is None
    assert ("grad", 4.0) in seen and set(seen) - {("grad", 4.0)} == {4.0}
    with pytest.raises(GradientCheckError):
        check_grads(f, (1.5,), kwargs={"scale": 4.0}, grad_fn=lambda x, scale: 2 * x)


def test_zero_gradients_compare_equal():
    assert check_grads(lambda x, y: x * 0.0 + 7.0 + y, (3.0, 1.0),
                       grad_fn=lambda x, y: (0.0, 1.0)) is None
    # tiny analytic noise below atol on a zero derivative is not a failure
    assert check_grads(lambda x: 5.0, (3.0,), grad_fn=lambda x: 1e-9) is None


def test_default_step_is_cube_root_of_eps():
    assert DEFAULT_STEP == pytest.approx(np.finfo(float).eps ** (1 / 3))
    assert 5e-6 < DEFAULT_STEP < 7e-6


def test_step_scales_with_magnitude():
    seen = []

    def f(x):
        seen.append(x)
        return x ** 2

    check_grads(f, (1e4,), grad_fn=lambda x: 2 * x)
    steps = sorted(abs(v - 1e4) for v in seen if v != 1e4)
    assert steps and steps[0] == pytest.approx(DEFAULT_STEP * 1e4, rel=1e-6)


# ---------------------------------------------------------------- failing

def test_wrong_element_reported_with_name_and_index():
    def f(x, w):
        return np.sum(w * x ** 2)

    def df_bad(x, w):
        g = 2 * w * x
        g[1, 2] *= 1.5          # one wrong element
        return g, x ** 2

    x = np.arange(1.0, 7.0).reshape(2, 3)
    w = np.full((2, 3), 0.5)
    err = fail_message(f, (x, w), grad_fn=df_bad)
    text = str(err)
    assert text.splitlines()[0].startswith("gradient check failed: 1 of 12 entries")
    assert "rtol=1e-05" in text and "atol=1e-07" in text
    assert "argument" in text and "index" in text and "rel. error" in text
    row = [line for line in text.splitlines() if "(1, 2)" in line]
    assert len(row) == 1 and row[0].split()[0] == "x"
    assert len(err.rows) == 1
    bad = err.rows[0]
    assert (bad.argument, bad.index) == ("x", (1, 2))
    assert bad.analytic == pytest.approx(9.0)
    assert bad.numeric == pytest.approx(6.0, rel=1e-6)
    assert bad.rel_error == pytest.approx(1 / 3, rel=1e-6)


def test_wrong_scalar_gradient_uses_dash_index():
    err = fail_message(lambda a, b: a * b, (2.0, 3.0), grad_fn=lambda a, b: (3.0, 2.5))
    assert [(r.argument, r.index) for r in err.rows] == [("b", "-")]
    assert "1 of 2 entries" in str(err)


def test_rows_sorted_worst_first_and_truncated():
    x = np.ones(20)
    factors = 1 + np.arange(1, 21) / 100       # element i off by (i+1)%
    err = fail_message(lambda x: np.sum(x ** 2), (x,),
                       grad_fn=lambda x: 2 * x * factors, most=3)
    rels = [r.rel_error for r in err.rows]
    assert rels == sorted(rels, reverse=True) and len(rels) == 20
    assert [r.index for r in err.rows[:3]] == [(19,), (18,), (17,)]
    table = str(err).splitlines()
    assert table[0].startswith("gradient check failed: 20 of 20")
    assert len(table) == 1 + 1 + 3 + 1 and "17 more" in table[-1]


def test_table_columns_aligned():
    x = np.array([1.0, 200.0, 3.0])
    err = fail_message(lambda x: np.sum(x ** 2), (x,),
                       grad_fn=lambda x: 2 * x * np.array([1.5, 1.1, 3.0]))
    lines = str(err).splitlines()[1:]
    assert len(lines) == 4
    assert len({len(line) for line in lines}) == 1          # right-aligned numbers
    assert len({line.index("(") for line in lines[1:]}) == 1  # index column


def test_position_label_when_name_unknown():
    def f(*xs):
        return xs[0] * xs[1]

    err = fail_message(f, (2.0, 5.0), grad_fn=lambda a, b: (5.0, 3.0))
    assert [r.argument for r in err.rows] == [1]
    assert str(err).splitlines()[-1].split()[:2] == ["1", "-"]


def test_nan_gradient_fails():
    x = np.array([1.0, 2.0])
    err = fail_message(lambda x: np.sum(x ** 2), (x,),
                       grad_fn=lambda x: np.array([np.nan, 4.0]))
    assert [r.index for r in err.rows] == [(0,)] and "nan" in str(err)


def test_nan_numeric_fails():
    # f is NaN just left of 0, so the central difference is NaN there
    f = lambda x: math.sqrt(x) if x >= 0 else math.nan    # noqa: E731
    err = fail_message(f, (0.0,), grad_fn=lambda x: 0.0)
    assert math.isnan(err.rows[0].numeric)


def test_wrong_gradient_shape_fails():
    x = np.ones((2, 3))
    err = fail_message(lambda x: np.sum(x), (x,), grad_fn=lambda x: np.ones(6))
    assert "shape (6,)" in str(err) and "shape (2, 3)" in str(err)
    assert "6 of 6 entries" in str(err)
    err = fail_message(lambda x: 2 * x, (1.0,), grad_fn=lambda x: np.array([2.0]))
    assert "expected shape ()" in str(err)
    err = fail_message(lambda x: 2 * x, (1.0,), grad_fn=lambda x: None)
    assert "NoneType" in str(err)


def test_wrong_number_of_gradients_fails():
    with pytest.raises(GradientCheckError, match="expected a tuple of 2"):
        check_grads(lambda a, b: a * b, (1.0, 2.0), grad_fn=lambda a, b: (b,))


def test_nonscalar_output_raises_type_error():
    x = np.ones(3)
    with pytest.raises(TypeError, match=r"shape \(3,\)"):
        check_grads(lambda x: x ** 2, (x,), grad_fn=lambda x: 2 * x)
    with pytest.raises(TypeError, match=r"shape \(\)"):
        check_grads(lambda x: "hello", (1.0,), grad_fn=lambda x: 0.0)


def test_inputs_not_modified():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([1, 2, 3])
    f32 = np.array([0.5, 1.5], dtype=np.float32)
    copies = [a.copy() for a in (x, v, f32)]

    def f(x, v, f32):
        return np.sum(x ** 2) + np.sum(v ** 2) + np.sum(f32)

    df = lambda x, v, f32: (2 * x, 2 * v, np.ones(2))   # noqa: E731
    check_grads(f, (x, v, f32), (0, 1, 2), grad_fn=df)
    with pytest.raises(GradientCheckError):
        check_grads(f, (x, v, f32), (0, 1, 2), grad_fn=lambda x, v, f32: (x, v, f32))
    for arr, copy in zip((x, v, f32), copies):
        assert arr.dtype == copy.dtype and np.array_equal(arr, copy)


# ---------------------------------------------------------------- wrt

def f3(a, b, c):
    return a * b ** 2 + np.sum(c) * a


def grads3(a, b, c):
    return {"a": b ** 2 + np.sum(c), "b": 2 * a * b, "c": np.full(c.shape, a)}


ARGS3 = (1.5, -2.0, np.array([1.0, 2.0]))


@pytest.mark.parametrize("wrt, names", [
    (0, "a"), (2, "c"), (-1, "c"), ("b", "b"),
    ((0, "c"), "ac"), (["b", 0], "ba"), (None, "abc"),
])
def test_wrt_selects_and_orders(wrt, names):
    calls = []

    def right(*args):
        calls.append(1)
        g = grads3(*args)
        return tuple(g[n] for n in names) if len(names) > 1 else g[names]

    check_grads(f3, ARGS3, wrt, grad_fn=right)
    assert calls == [1]

    def wrong_first(*args):
        g = [grads3(*args)[n] for n in names]
        g[0] = g[0] * 2 + 1
        return tuple(g)

    err = fail_message(f3, ARGS3, wrt, grad_fn=wrong_first)
    assert {r.argument for r in err.rows} == {names[0]}


def test_wrt_none_skips_non_numeric_args():
    def f(x, label, flag, n, y):
        assert isinstance(label, str) and flag is True
        return np.sum(x * y) + n

    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    args = (x, "name", True, 4, y)
    assert check_grads(f, args, grad_fn=lambda x, s, fl, n, y: (y, x)) is None
    # the string, the bool and the int are skipped: two gradients expected, not five
    with pytest.raises(GradientCheckError):
        check_grads(f, args, grad_fn=lambda x, s, fl, n, y: (y, None, None, 1.0, x))


def test_wrt_none_skips_non_real_arrays():
    def f(x, mask, z, names):
        return np.sum(x[mask] ** 2) + np.sum(np.abs(z)) + len(names)

    x = np.array([1.0, 2.0, 3.0])
    mask = np.array([True, False, True])
    z = np.array([1 + 1j])
    names = np.array(["a", "b"])
    grad = lambda x, *rest: 2 * x * mask   # noqa: E731  (one gradient: x only)
    assert check_grads(f, (x, mask, z, names), grad_fn=grad) is None


def test_wrt_errors():
    with pytest.raises(ValueError):
        check_grads(f3, ARGS3, "nope", grad_fn=lambda *a: 0.0)
    with pytest.raises(ValueError):
        check_grads(f3, ARGS3, 3, grad_fn=lambda *a: 0.0)
    with pytest.raises(ValueError):
        check_grads(f3, ARGS3, (0, "a"), grad_fn=lambda *a: (0.0, 0.0))
    with pytest.raises(TypeError):
        check_grads(lambda s, x: x, ("text", 1.0), 0, grad_fn=lambda *a: 0.0)
    with pytest.raises(ValueError):
        check_grads(lambda s: 1.0, ("text",), grad_fn=lambda *a: 0.0)


# ---------------------------------------------------------------- hypothesis

coeff = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
point = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@st.composite
def smooth_problems(draw):
    """f(x) = sum over elements of a cubic plus a * exp(b * x), and its derivative."""
    c = draw(st.lists(coeff, min_size=4, max_size=4))
    a, b = draw(coeff), draw(st.floats(-1.5, 1.5))
    if draw(st.booleans()):
        x = draw(point)
    else:
        x = np.array(draw(st.lists(point, min_size=1, max_size=4)))

    def f(x):
        return np.sum(c[0] + c[1] * x + c[2] * x ** 2 + c[3] * x ** 3 + a * np.exp(b * x))

    def df(x):
        return c[1] + 2 * c[2] * x + 3 * c[3] * x ** 2 + a * b * np.exp(b * x)

    return f, df, x


@settings(max_examples=300, deadline=None)
@given(smooth_problems(), st.floats(1e-2, 0.5), st.booleans(), st.data())
def test_random_smooth_functions(problem, rel, sign, data):
    f, df, x = problem
    check_grads(f, (x,), grad_fn=df)

    good = np.asarray(df(x), dtype=float)
    big = np.argwhere(np.abs(good) > 1e-3)
    assume(len(big) > 0)
    where = tuple(big[data.draw(st.integers(0, len(big) - 1))])
    bad = good.copy()
    bad[where] *= 1 + (rel if sign else -rel)
    bad_grad = float(bad) if np.ndim(x) == 0 else bad
    err = fail_message(f, (x,), grad_fn=lambda x: bad_grad)
    assert [r.index for r in err.rows] == ["-" if np.ndim(x) == 0 else where]


# ---------------------------------------------------------------- real grad

def test_with_adcompiler_grad():
    try:
        api = pytest.importorskip("adcompiler.api")
    except Exception as exc:   # the compiler is still being written
        pytest.skip(f"adcompiler.api not importable: {exc}")
    if not hasattr(api, "grad"):
        pytest.skip("adcompiler.api.grad not available yet")

    def f(x, y):
        return x * x * y + 3.0 * y

    check_grads(f, (1.5, -2.0))
