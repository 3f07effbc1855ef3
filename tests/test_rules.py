"""Every adjoint rule in adcompiler/rules/builtin.py and adcompiler/rules/math.py.

Each primitive is checked on hypothesis-drawn inputs inside its domain, away
from singularities, branch cuts and kinks by a margin, against central finite
differences (`check_grads`), and, where a closed form is short, against a
derivative written out by hand here. Binary primitives are checked with both
arguments active and with each one constant. Kinks, integer arguments and the
non-differentiable primitives are checked with exact expected values.
"""

import functools
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adcompiler import check_grads, grad, value_and_grad


def reals(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo, hi):
    """Reals with lo <= |x| <= hi, of either sign."""
    return st.one_of(reals(lo, hi), reals(-hi, -lo))


rule = settings(max_examples=50, deadline=None)


def close(got, want):
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)


def all_close(got, want):
    return len(got) == len(want) and all(close(g, w) for g, w in zip(got, want))


def grad_all(f, *args):
    """grad of f with respect to every argument, as a tuple."""
    return grad(f, wrt=tuple(range(len(args))))(*args)


@functools.lru_cache(maxsize=None)
def compiled(f, n_args):
    """grad(f) with respect to all of its n_args arguments, built once.

    (Each grad() call re-reads the test module's source; building it once per
    function keeps the hypothesis tests fast.)
    """
    return grad(f, wrt=tuple(range(n_args)))


def gradient(f, *args):
    """The compiled gradient at args: a float for one argument, else a tuple."""
    g = compiled(f, len(args))(*args)
    return g[0] if len(args) == 1 else g


def check(f, *args):
    """check_grads of f at args, with respect to every argument."""
    check_grads(f, args, grad_fn=compiled(f, len(args)))


# ====================================================== operators and builtins

def add(x, y):
    return x + y


def add_left_const(x):
    return 2.5 + x


def add_right_const(x):
    return x + 2.5


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_add(x, y):
    check(add, x, y)
    check(add_left_const, x)
    check(add_right_const, x)
    assert gradient(add, x, y) == (1.0, 1.0)
    assert gradient(add_left_const, x) == 1.0 == gradient(add_right_const, x)


def sub(x, y):
    return x - y


def sub_reversed(x, y):
    return y - x


def sub_left_const(x):
    return 2.5 - x


def sub_right_const(x):
    return x - 2.5


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_sub(x, y):
    check(sub, x, y)
    check(sub_left_const, x)
    check(sub_right_const, x)
    assert gradient(sub, x, y) == (1.0, -1.0)
    assert gradient(sub_reversed, x, y) == (-1.0, 1.0)
    assert gradient(sub_left_const, x) == -1.0
    assert gradient(sub_right_const, x) == 1.0


def mul(x, y):
    return x * y


def mul_left_const(x):
    return 2 * x


def mul_right_const(x):
    return x * 2


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_mul(x, y):
    check(mul, x, y)
    check(mul_left_const, x)
    check(mul_right_const, x)
    assert gradient(mul, x, y) == (y, x)
    assert gradient(mul_left_const, x) == 2.0 == gradient(mul_right_const, x)


def truediv(x, y):
    return x / y


def truediv_left_const(x):
    return 3.0 / x


def truediv_right_const(x):
    return x / 3.0


@rule
@given(reals(-3, 3), away_from_zero(0.3, 3))
def test_truediv(x, y):
    check(truediv, x, y)
    check(truediv_left_const, y)
    check(truediv_right_const, x)
    assert all_close(gradient(truediv, x, y), (1 / y, -x / y ** 2))
    assert close(gradient(truediv_left_const, y), -3.0 / (y * y))
    assert close(gradient(truediv_right_const, x), 1 / 3.0)


def neg(x):
    return -x


def pos(x):
    return +x


def double_neg(x):
    return -(-x) + +(+x)


@rule
@given(reals(-3, 3))
def test_neg_and_pos(x):
    check(neg, x)
    check(pos, x)
    assert gradient(neg, x) == -1.0
    assert gradient(pos, x) == 1.0
    assert gradient(double_neg, x) == 2.0


def to_float(x):
    return float(x) * 2.0


def float_of_comparison(x):
    return float(x > 0) * x


@rule
@given(away_from_zero(0.01, 3))
def test_float(x):
    check(to_float, x)
    assert gradient(to_float, x) == 2.0
    assert gradient(float_of_comparison, x) == (1.0 if x > 0 else 0.0)


def float_of_int_argument(n):
    return float(n) * float(n)


def test_float_of_int_argument():
    g = gradient(float_of_int_argument, 3)
    assert g == 6.0 and type(g) is float


def builtin_abs(x):
    return abs(x)


def abs_of_expression(x, y):
    return abs(x * y - 1.0)


@rule
@given(away_from_zero(0.01, 3), reals(-3, 3))
def test_abs(x, y):
    check(builtin_abs, x)
    assert gradient(builtin_abs, x) == math.copysign(1.0, x)
    assume(abs(x * y - 1.0) > 1e-3)
    check(abs_of_expression, x, y)


# -- powers: a ** b, pow(a, b), both active and each constant

def power(x, y):
    return x ** y


def builtin_pow(x, y):
    return pow(x, y)


def cube(x):
    return x ** 3


def square_root_power(x):
    return x ** 0.5


def inverse_square(x):
    return x ** -2


def two_to_the(x):
    return 2 ** x


def float_base_power(x):
    return 2.5 ** x


def builtin_pow_const_exponent(x):
    return pow(x, 3)


def builtin_pow_const_base(x):
    return pow(2.0, x)


@rule
@given(reals(0.2, 3), reals(-3, 3))
def test_pow_operator(x, y):
    check(power, x, y)
    assert all_close(gradient(power, x, y), (y * x ** (y - 1), math.log(x) * x ** y))


@rule
@given(reals(-3, 3))
def test_pow_integer_exponent(x):
    check(cube, x)
    assert close(gradient(cube, x), 3 * x * x)


@rule
@given(away_from_zero(0.3, 3))
def test_pow_negative_exponent(x):
    check(inverse_square, x)
    assert close(gradient(inverse_square, x), -2 / x ** 3)


@rule
@given(reals(0.05, 3))
def test_pow_real_exponent(x):
    check(square_root_power, x)
    assert close(gradient(square_root_power, x), 1 / (2 * math.sqrt(x)))


@rule
@given(reals(-3, 3))
def test_pow_constant_base(x):
    check(two_to_the, x)
    check(float_base_power, x)
    assert close(gradient(two_to_the, x), math.log(2) * 2 ** x)
    assert close(gradient(float_base_power, x), math.log(2.5) * 2.5 ** x)


@rule
@given(reals(0.2, 3), reals(-3, 3))
def test_pow_builtin(x, y):
    check(builtin_pow, x, y)
    check(builtin_pow_const_exponent, y)
    check(builtin_pow_const_base, y)
    assert all_close(gradient(builtin_pow, x, y), (y * x ** (y - 1), math.log(x) * x ** y))
    assert close(gradient(builtin_pow_const_exponent, y), 3 * y * y)
    assert close(gradient(builtin_pow_const_base, y), math.log(2) * 2 ** y)


def test_pow_negative_base_integer_exponent():
    # Only the base is differentiated: the exponent's adjoint (log of a negative) is never needed.
    assert grad(power, wrt=0)(-2.0, 3.0) == 12.0
    assert gradient(cube, -2.0) == 12.0


def square(x):
    return x ** 2


def test_square_of_int_is_float():
    g = gradient(square, 3)
    assert g == 6.0 and type(g) is float


def test_int_arguments_give_float_gradients():
    g = gradient(mul, 3, -4)
    assert g == (-4.0, 3.0)
    assert all(type(v) is float for v in g)
    value, g = value_and_grad(mul, wrt=(0, 1))(3, -4)
    assert value == -12 and g == (-4.0, 3.0)


# -- min and max

def builtin_max(x, y):
    return max(x, y)


def builtin_min(x, y):
    return min(x, y)


def max3(x, y, z):
    return max(x, y, z)


def min3(x, y, z):
    return min(x, y, z)


def max_with_const(x):
    return max(x, 0.5)


def min_with_const(x):
    return min(0.5, x)


def max_of_tuple(x, y):
    return max((x, y * 2.0))


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_max(x, y):
    assume(abs(x - y) > 1e-3 and abs(x - 0.5) > 1e-3)
    check(builtin_max, x, y)
    check(max_with_const, x)
    assert gradient(builtin_max, x, y) == ((1.0, 0.0) if x > y else (0.0, 1.0))
    assert gradient(max_with_const, x) == (1.0 if x > 0.5 else 0.0)


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_min(x, y):
    assume(abs(x - y) > 1e-3 and abs(x - 0.5) > 1e-3)
    check(builtin_min, x, y)
    check(min_with_const, x)
    assert gradient(builtin_min, x, y) == ((1.0, 0.0) if x < y else (0.0, 1.0))
    assert gradient(min_with_const, x) == (1.0 if x < 0.5 else 0.0)


@rule
@given(reals(-3, 3), reals(-3, 3), reals(-3, 3))
def test_max_and_min_of_three(x, y, z):
    assume(min(abs(x - y), abs(y - z), abs(x - z)) > 1e-3)
    check(max3, x, y, z)
    check(min3, x, y, z)
    args = (x, y, z)
    assert gradient(max3, *args) == tuple(float(a == max(args)) for a in args)
    assert gradient(min3, *args) == tuple(float(a == min(args)) for a in args)


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_max_of_a_tuple(x, y):
    assume(abs(x - 2 * y) > 1e-3)
    check(max_of_tuple, x, y)


# ====================================================== math

def exp_(x):
    return math.exp(x)


@rule
@given(reals(-3, 3))
def test_exp(x):
    check(exp_, x)
    assert close(gradient(exp_, x), math.e ** x)


def expm1_(x):
    return math.expm1(x)


@rule
@given(reals(-3, 3))
def test_expm1(x):
    check(expm1_, x)
    assert close(gradient(expm1_, x), math.exp(x))


def log_(x):
    return math.log(x)


@rule
@given(reals(0.1, 5))
def test_log(x):
    check(log_, x)
    assert close(gradient(log_, x), 1 / x)


def log_base(x, base):
    return math.log(x, base)


def log_base_10(x):
    return math.log(x, 10)


def log_const_x(base):
    return math.log(7.5, base)


@rule
@given(reals(0.1, 5), st.one_of(reals(0.1, 0.7), reals(1.5, 5)))
def test_log_with_base(x, base):
    check(log_base, x, base)
    check(log_base_10, x)
    check(log_const_x, base)
    want = (1 / (x * math.log(base)), -math.log(x) / (base * math.log(base) ** 2))
    assert all_close(gradient(log_base, x, base), want)
    assert close(gradient(log_base_10, x), 1 / (x * math.log(10)))
    assert close(gradient(log_const_x, base), -math.log(7.5) / (base * math.log(base) ** 2))


def log2_(x):
    return math.log2(x)


@rule
@given(reals(0.1, 5))
def test_log2(x):
    check(log2_, x)
    assert close(gradient(log2_, x), 1 / (x * math.log(2)))


def log10_(x):
    return math.log10(x)


@rule
@given(reals(0.1, 5))
def test_log10(x):
    check(log10_, x)
    assert close(gradient(log10_, x), 1 / (x * math.log(10)))


def log1p_(x):
    return math.log1p(x)


@rule
@given(reals(-0.9, 5))
def test_log1p(x):
    check(log1p_, x)
    assert close(gradient(log1p_, x), 1 / (1 + x))


def sqrt_(x):
    return math.sqrt(x)


@rule
@given(reals(0.01, 5))
def test_sqrt(x):
    check(sqrt_, x)
    assert close(gradient(sqrt_, x), 0.5 * x ** -0.5)


def math_pow(x, y):
    return math.pow(x, y)


def math_pow_const_exponent(x):
    return math.pow(x, 3.0)


def math_pow_const_base(x):
    return math.pow(2.0, x)


@rule
@given(reals(0.2, 3), reals(-3, 3))
def test_math_pow(x, y):
    check(math_pow, x, y)
    check(math_pow_const_exponent, y)
    check(math_pow_const_base, y)
    assert all_close(gradient(math_pow, x, y), (y * x ** (y - 1), math.log(x) * x ** y))
    assert close(gradient(math_pow_const_exponent, y), 3 * y * y)
    assert close(gradient(math_pow_const_base, y), math.log(2) * 2 ** y)


def sin_(x):
    return math.sin(x)


@rule
@given(reals(-5, 5))
def test_sin(x):
    check(sin_, x)
    assert close(gradient(sin_, x), math.cos(x))


def cos_(x):
    return math.cos(x)


@rule
@given(reals(-5, 5))
def test_cos(x):
    check(cos_, x)
    assert close(gradient(cos_, x), -math.sin(x))


def tan_(x):
    return math.tan(x)


@rule
@given(reals(-1.4, 1.4))
def test_tan(x):
    check(tan_, x)
    assert close(gradient(tan_, x), 1 / math.cos(x) ** 2)


def asin_(x):
    return math.asin(x)


@rule
@given(reals(-0.95, 0.95))
def test_asin(x):
    check(asin_, x)
    assert close(gradient(asin_, x), 1 / math.cos(math.asin(x)))


def acos_(x):
    return math.acos(x)


@rule
@given(reals(-0.95, 0.95))
def test_acos(x):
    check(acos_, x)
    assert close(gradient(acos_, x), -1 / math.sin(math.acos(x)))


def atan_(x):
    return math.atan(x)


@rule
@given(reals(-5, 5))
def test_atan(x):
    check(atan_, x)
    assert close(gradient(atan_, x), math.cos(math.atan(x)) ** 2)


def atan2_(y, x):
    return math.atan2(y, x)


def atan2_const_x(y):
    return math.atan2(y, -1.5)


def atan2_const_y(x):
    return math.atan2(1.5, x)


@rule
@given(reals(-3, 3), reals(-3, 3))
def test_atan2(y, x):
    # Away from the origin and from the branch cut along the negative x axis.
    assume(math.hypot(x, y) > 0.1 and not (x < 0 and abs(y) < 1e-3))
    check(atan2_, y, x)
    check(atan2_const_y, x)
    r2 = math.hypot(x, y) ** 2
    assert all_close(gradient(atan2_, y, x), (x / r2, -y / r2))
    assert close(gradient(atan2_const_y, x), -1.5 / (x * x + 2.25))
    if abs(y) > 1e-3:
        check(atan2_const_x, y)
        assert close(gradient(atan2_const_x, y), -1.5 / (y * y + 2.25))


def sinh_(x):
    return math.sinh(x)


@rule
@given(reals(-3, 3))
def test_sinh(x):
    check(sinh_, x)
    assert close(gradient(sinh_, x), (math.exp(x) + math.exp(-x)) / 2)


def cosh_(x):
    return math.cosh(x)


@rule
@given(reals(-3, 3))
def test_cosh(x):
    check(cosh_, x)
    assert close(gradient(cosh_, x), (math.exp(x) - math.exp(-x)) / 2)


def tanh_(x):
    return math.tanh(x)


@rule
@given(reals(-3, 3))
def test_tanh(x):
    check(tanh_, x)
    assert close(gradient(tanh_, x), 1 / math.cosh(x) ** 2)


def asinh_(x):
    return math.asinh(x)


@rule
@given(reals(-5, 5))
def test_asinh(x):
    check(asinh_, x)
    assert close(gradient(asinh_, x), 1 / math.cosh(math.asinh(x)))


def acosh_(x):
    return math.acosh(x)


@rule
@given(reals(1.1, 5))
def test_acosh(x):
    check(acosh_, x)
    assert close(gradient(acosh_, x), 1 / math.sinh(math.acosh(x)))


def atanh_(x):
    return math.atanh(x)


@rule
@given(reals(-0.9, 0.9))
def test_atanh(x):
    check(atanh_, x)
    assert close(gradient(atanh_, x), math.cosh(math.atanh(x)) ** 2)


def hypot2(x, y):
    return math.hypot(x, y)


def hypot3(x, y, z):
    return math.hypot(x, y, z)


def hypot_with_const(x, y):
    return math.hypot(x, 1.5, y)


def hypot1(x):
    return math.hypot(x)


@rule
@given(reals(-3, 3), reals(-3, 3), reals(-3, 3))
def test_hypot(x, y, z):
    check(hypot_with_const, x, y)
    assert all_close(gradient(hypot_with_const, x, y),
                     (x / math.sqrt(x * x + 2.25 + y * y), y / math.sqrt(x * x + 2.25 + y * y)))
    assume(math.sqrt(x * x + y * y) > 0.1)
    check(hypot2, x, y)
    check(hypot3, x, y, z)
    r = math.sqrt(x * x + y * y + z * z)
    assert all_close(gradient(hypot3, x, y, z), (x / r, y / r, z / r))
    if abs(x) > 0.01:
        check(hypot1, x)
        assert gradient(hypot1, x) == math.copysign(1.0, x)


def fabs_(x):
    return math.fabs(x)


@rule
@given(away_from_zero(0.01, 3))
def test_fabs(x):
    check(fabs_, x)
    assert gradient(fabs_, x) == math.copysign(1.0, x)


def erf_(x):
    return math.erf(x)


@rule
@given(reals(-3, 3))
def test_erf(x):
    check(erf_, x)
    assert close(gradient(erf_, x), 2 * math.exp(-x * x) / math.sqrt(math.pi))


def erfc_(x):
    return math.erfc(x)


@rule
@given(reals(-3, 3))
def test_erfc(x):
    check(erfc_, x)
    assert close(gradient(erfc_, x), -2 * math.exp(-x * x) / math.sqrt(math.pi))


def degrees_(x):
    return math.degrees(x)


@rule
@given(reals(-5, 5))
def test_degrees(x):
    check(degrees_, x)
    assert close(gradient(degrees_, x), 180 / math.pi)


def radians_(x):
    return math.radians(x)


@rule
@given(reals(-300, 300))
def test_radians(x):
    check(radians_, x)
    assert close(gradient(radians_, x), math.pi / 180)


# ====================================================== the same variable in both arguments

SAME_ARGUMENT = [
    # (name, function, domain, derivative); the hand derivative takes `t`, so that the two
    # lambdas on a line have different parameters and the compiler can tell them apart.
    ("add", lambda x: x + x, (-3, 3), lambda t: 2.0),
    ("sub", lambda x: x - x, (-3, 3), lambda t: 0.0),
    ("mul", lambda x: x * x, (-3, 3), lambda t: 2 * t),
    ("truediv", lambda x: x / x, (0.3, 3), lambda t: 0.0),
    ("pow", lambda x: x ** x, (0.2, 3), lambda t: t ** t * (math.log(t) + 1)),
    ("math.pow", lambda x: math.pow(x, x), (0.2, 3), lambda t: t ** t * (math.log(t) + 1)),
    ("log", lambda x: math.log(x * x, x), (1.5, 5), lambda t: 0.0),
    ("atan2", lambda x: math.atan2(x, x), (0.2, 3), lambda t: 0.0),
    ("hypot", lambda x: math.hypot(x, x), (0.2, 3), lambda t: math.sqrt(2)),
    ("max", lambda x: max(x, x), (-3, 3), lambda t: 1.0),
    ("min", lambda x: min(x, x, x), (-3, 3), lambda t: 1.0),
]


@pytest.mark.parametrize("f, domain, derivative", [case[1:] for case in SAME_ARGUMENT],
                         ids=[case[0] for case in SAME_ARGUMENT])
@settings(max_examples=20, deadline=None)
@given(u=reals(0, 1))
def test_same_variable_in_both_arguments(f, domain, derivative, u):
    lo, hi = domain
    x = lo + (hi - lo) * u
    check(f, x)
    assert math.isclose(gradient(f, x), derivative(x), rel_tol=1e-9, abs_tol=1e-12)


# ====================================================== the kink policy, exactly

def test_abs_kink():
    assert grad(builtin_abs)(0.0) == 0.0
    assert grad(builtin_abs)(-0.0) == 0.0


def test_fabs_kink():
    assert grad(fabs_)(0.0) == 0.0


def test_max_tie_splits_evenly():
    assert grad_all(builtin_max, 1.5, 1.5) == (0.5, 0.5)
    assert grad(max_with_const)(0.5) == 0.5


def test_min_tie_splits_evenly():
    assert grad_all(builtin_min, -1.5, -1.5) == (0.5, 0.5)
    assert grad(min_with_const)(0.5) == 0.5


def test_three_way_tie_splits_in_thirds():
    assert grad_all(max3, 2.0, 2.0, 2.0) == (1 / 3, 1 / 3, 1 / 3)
    assert grad_all(min3, 2.0, 2.0, 2.0) == (1 / 3, 1 / 3, 1 / 3)


def test_two_way_tie_among_three():
    assert grad_all(max3, 2.0, 1.0, 2.0) == (0.5, 0.0, 0.5)
    assert grad_all(min3, 1.0, 2.0, 1.0) == (0.5, 0.0, 0.5)


def max_same(x):
    return max(x, x)


def min_same(x):
    return min(x, x)


def test_max_of_x_and_x_gives_both_halves_to_x():
    assert grad(max_same)(0.7) == 1.0
    assert grad(min_same)(0.7) == 1.0


def test_hypot_at_origin():
    assert grad_all(hypot2, 0.0, 0.0) == (0.0, 0.0)
    assert grad_all(hypot3, 0.0, 0.0, 0.0) == (0.0, 0.0, 0.0)


def test_pow_at_zero_base():
    # d(x ** y)/dy at x == 0 uses log(0) := 0, since 0 ** y is identically 0 for y > 0.
    assert grad_all(power, 0.0, 2.0) == (0.0, 0.0)
    assert grad_all(power, 0.0, 1.0) == (1.0, 0.0)
    assert grad(square)(0.0) == 0.0


# ====================================================== non-differentiable primitives

def floor_plus_x(x):
    return math.floor(x) + x


def ceil_times_x(x):
    return math.ceil(x) * x


def trunc_plus_x(x):
    return math.trunc(x) - x


def round_plus_x(x):
    return round(x) + round(x, 1) + x


def int_times_x(x):
    return int(x) * x


def floordiv_times_x(x):
    return (x // 0.75) * x


def floordiv_both(x, y):
    return x // y + x * y


def relu(x):
    return (x > 0) * x


def comparisons(x, y):
    return (x < y) * x + (x <= y) * y + (x >= y) * 2.0 * x + (x == y) + (x != y) * 3.0 * y


def far_from_jumps(x, period):
    """True if x is more than 1e-3 away from every multiple of period."""
    return abs(x / period - round(x / period)) * period > 1e-3


@rule
@given(reals(-3, 3))
def test_nondifferentiable(x):
    # The constant parts give exactly zero, whatever x is, even at their jumps.
    assert gradient(floor_plus_x, x) == 1.0
    assert gradient(ceil_times_x, x) == math.ceil(x)
    assert gradient(trunc_plus_x, x) == -1.0
    assert gradient(round_plus_x, x) == 1.0
    assert gradient(int_times_x, x) == int(x)
    assert gradient(floordiv_times_x, x) == x // 0.75
    # Away from the jumps, finite differences agree.
    assume(far_from_jumps(x, 1.0) and far_from_jumps(x - 0.5, 1.0) and far_from_jumps(x, 0.75)
           and far_from_jumps(x - 0.05, 0.1))
    for f in (floor_plus_x, ceil_times_x, trunc_plus_x, round_plus_x, int_times_x, floordiv_times_x):
        check(f, x)


def test_nondifferentiable_at_integers():
    for x in (-2.0, 0.0, 3.0):
        assert gradient(floor_plus_x, x) == 1.0
        assert gradient(int_times_x, x) == x


def test_floordiv_both_active():
    assert grad_all(floordiv_both, 7.0, 2.0) == (2.0, 7.0)


@rule
@given(away_from_zero(0.01, 3))
def test_comparison_times_x(x):
    assert gradient(relu, x) == (1.0 if x > 0 else 0.0)
    check(relu, x)


def test_comparisons():
    assert grad_all(comparisons, 1.0, 2.0) == (1.0, 1.0 + 3.0)
    assert grad_all(comparisons, 2.0, 1.0) == (2.0, 3.0)
    assert grad_all(comparisons, 1.5, 1.5) == (2.0, 1.0)


# ====================================================== regressions: bugs found and fixed

def power_zero(x):
    return x ** 0


def math_power_zero(x):
    return math.pow(x, 0.0)


@pytest.mark.parametrize("f", [power_zero, math_power_zero], ids=["operator", "math.pow"])
def test_pow_zero_exponent_at_zero_base(f):
    assert grad(f)(0.0) == 0.0


def mod_const(x):
    return x % 3.0


def mod_both(x, y):
    return x % y


def test_mod():
    assert grad(mod_const)(5.5) == 1.0
    assert grad_all(mod_both, 5.5, 2.0) == (1.0, -2.0)
    check_grads(mod_both, (5.5, 2.0))


TWO_ON_ONE_LINE = ((lambda x: x * 2.0), (lambda x: x * 3.0))


def test_two_lambdas_on_one_line():
    assert grad(TWO_ON_ONE_LINE[0])(1.0) == 2.0
    assert grad(TWO_ON_ONE_LINE[1])(1.0) == 3.0

