"""Adjoint rules written by users, with `@adcompiler.adjoint`, in the built-in template style.

A user rule makes a function the compiler cannot (or should not) read into a
primitive: a numerically stable function with its own derivative, a function
made by `exec`, a `functools.partial`. The rule is inlined into the generated
code (its text is visible in `.source`), overrides a built-in rule when
registered for the same primitive, and is rejected at registration when it is
malformed. `stop_gradient` and `nondifferentiable` make values and functions
constant.

The global registry is shared by the whole test session: the test that
overrides a built-in rule restores it afterwards (see `restored_rules`).
"""

import functools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import adcompiler
from adcompiler import (DifferentiationError, RuleError, check_grads, grad, nondifferentiable,
                        stop_gradient, value_and_grad)
from adcompiler.rules import Registry, registry

FAST = settings(max_examples=25, deadline=None)
moderate = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


@pytest.fixture
def restored_rules():
    """Put back the rules of the primitives a test overrides (and forget what it compiled)."""
    saved = {}

    def save(*primitives):
        for prim in primitives:
            saved[prim] = (list(registry._rules.get(prim, [])), prim in registry._constant)
    yield save
    for prim, (rules, constant) in saved.items():
        registry._rules[prim] = rules
        if constant:
            registry._constant.add(prim)
        else:
            registry._constant.discard(prim)
    registry.version += 1               # compiled code keys on the version: nothing stale reused


# --------------------------------------------------------------------------
# a numerically stable function with a rule of its own

def log1pexp(x):
    """log(1 + e^x) for any x: np.logaddexp(0, x) never overflows."""
    return np.logaddexp(0.0, x)


@adcompiler.adjoint(log1pexp)
def _(out, x):
    """The derivative is the logistic sigmoid, written as exp(x - out): no overflow either."""
    dx += dout * np.exp(x - out)


def logistic_loss(w, X, y):
    return np.mean(log1pexp(-y * (X @ w))) + 0.01 * np.sum(w * w)


@FAST
@given(hnp.arrays(np.float64, (3,), elements=moderate))
def test_user_rule_inside_a_model_matches_finite_differences(w):
    X = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0], [2.0, 1.0, 1.0], [-0.5, 0.4, 0.2]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    check_grads(logistic_loss, (w, X, y), wrt=0)


def test_user_rule_is_inlined_in_the_source():
    X, y, w = np.ones((2, 3)), np.array([1.0, -1.0]), np.zeros(3)
    source = grad(logistic_loss).source_for(w, X, y)
    assert re.search(r"= log1pexp\(\w+\)", source), source          # called, not a pair
    assert "log1pexp_forward" not in source
    assert re.search(r"\* np\.exp\((\w+) - (\w+)\)", source), source   # dout * exp(x - out)


def scalar_log1pexp(x):
    return log1pexp(x) * 2.0


@pytest.mark.parametrize("x", [-800.0, -30.0, 0.0, 30.0, 800.0])
def test_user_rule_is_stable_where_the_naive_derivative_overflows(x):
    with np.errstate(over="raise"):
        dx = grad(scalar_log1pexp)(x)
    assert math.isfinite(dx)
    assert dx == pytest.approx(2.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0,
                               rel=1e-12, abs=1e-300)


# --------------------------------------------------------------------------
# functions with no source: made by exec, functools.partial

_NAMESPACE = {"__name__": "generated_math", "math": math}
exec("def scaled_hypot(a, b, scale=1.0):\n"
     "    return scale * math.sqrt(a * a + b * b)\n", _NAMESPACE)
scaled_hypot = _NAMESPACE["scaled_hypot"]


@adcompiler.adjoint(scaled_hypot)
def _(out, a, b, scale=1.0):
    """out = scale * |(a, b)|, so d out / da = scale**2 * a / out."""
    r = out / (scale * scale)
    da += a / r * dout
    db -= -b / r * dout


def uses_exec_function(x, y):
    return scaled_hypot(x, 2.0 * y, scale=3.0) + scaled_hypot(x, 1.5) * y


@FAST
@given(moderate, moderate)
def test_rule_for_a_function_made_by_exec(x, y):
    if abs(x) + abs(y) < 1e-2:
        return                                        # the kink at the origin
    check_grads(uses_exec_function, (x, y))


def test_rule_for_a_function_made_by_exec_only_active_inputs_get_statements():
    def only_x(x):
        return scaled_hypot(x, 1.5)
    source = grad(only_x).source
    assert re.search(r"\bdx = x / r\b", source), source      # the rule's temporary `r`, kept
    assert "db" not in source                                 # b is constant: no statement
    assert grad(only_x)(2.0) == pytest.approx(2.0 / 2.5)


def smooth_clip(x, low, high):
    return low + (high - low) / (1.0 + math.exp(-x))


unit_clip = functools.partial(smooth_clip, low=-1.0, high=1.0)


@adcompiler.adjoint(unit_clip)
def _(out, x):
    """For low=-1, high=1: out = 2 s - 1 with s the sigmoid, so d out / dx = 2 s (1 - s)."""
    s = (out + 1.0) / 2.0
    dx += 2.0 * s * (1.0 - s) * dout


def uses_partial(w, x):
    return unit_clip(w * x) ** 2 + unit_clip(w)


@FAST
@given(moderate, moderate)
def test_rule_for_a_functools_partial(w, x):
    check_grads(uses_partial, (w, x))
    source = grad(uses_partial).source
    assert "unit_clip(" in source and re.search(r"\bs = \(\w+ \+ 1\.0\) / 2\.0", source), source


def test_partial_without_a_rule_is_refused():
    other_clip = functools.partial(smooth_clip, low=0.0, high=2.0)

    def uses_other(x):
        return other_clip(x)
    with pytest.raises(DifferentiationError, match=r"@adcompiler\.adjoint\(other_clip\)"):
        grad(uses_other)


# --------------------------------------------------------------------------
# overriding a built-in rule

def uses_tanh(x):
    return math.tanh(x) * 3.0


def test_user_rule_overrides_a_built_in_one(restored_rules):
    restored_rules(math.tanh)
    before = grad(uses_tanh)
    assert "** 2" not in before.source

    @adcompiler.adjoint(math.tanh)
    def _(out, x):
        dx += (1 - out ** 2) * dout

    after = grad(uses_tanh)                                # a NEW gradient sees the new rule
    assert re.search(r"\(1 - \w+ \*\* 2\)", after.source), after.source
    assert after(0.4) == pytest.approx(3.0 * (1 - math.tanh(0.4) ** 2), rel=1e-12)
    assert before(0.4) == pytest.approx(after(0.4), rel=1e-12)   # the old one still works
    check_grads(uses_tanh, (0.4,))


def test_built_in_rule_is_back_after_the_override():
    """Runs after the override test (file order): the registry gives the built-in form again."""
    source = grad(uses_tanh).source
    assert "** 2" not in source and re.search(r"\(1 - (\w+) \* \1\)", source), source
    check_grads(uses_tanh, (-0.8,))


def test_override_for_calls_it_fits_only(restored_rules):
    """A rule whose parameters do not fit a call leaves the earlier rule in charge."""
    restored_rules(math.log)

    @adcompiler.adjoint(math.log)
    def _(out, x):
        dx += dout / x

    def two_logs(x):
        return math.log(x) + math.log(x, 2.0)
    check_grads(two_logs, (1.7,))


def _power(x, p):
    return x ** p


cube = functools.partial(_power, p=3.0)


def helper_with_cube(x):
    return cube(x) + x


def caller_of_helper(x):
    return helper_with_cube(x) * 1.0


def second_caller_of_helper(x):
    return helper_with_cube(x) * 2.0


def test_rule_registered_again_reaches_helpers_compiled_before():
    @adcompiler.adjoint(cube)
    def _(out, x):
        dx += 2.0 * x * dout                             # wrong on purpose (the derivative of x**2)
    assert grad(caller_of_helper)(2.0) == pytest.approx(5.0)    # 2 * 2 + 1, the wrong rule

    @adcompiler.adjoint(cube)
    def _(out, x):
        dx += 3.0 * x * x * dout                         # fixed
    assert grad(second_caller_of_helper)(2.0) == pytest.approx(2.0 * 13.0)


# --------------------------------------------------------------------------
# malformed rules are rejected when registered

def primitive(x, y=1.0):
    return x * y


def no_accumulation(out, x):
    t = dout * 2


def accumulates_into_a_non_input(out, x):
    dz += dout


def assigns_to_an_input(out, x):
    x = dout
    dx += x


def assigns_to_an_adjoint(out, x):
    dx = dout


def reads_another_adjoint(out, x, y):
    dx += dout
    dy += dx * 2


def non_literal_default(out, x, y=np.ones(2)):
    dx += dout * y


def keyword_arguments(out, x, **options):
    dx += dout


def multiplies_an_adjoint(out, x):
    dx *= dout


def control_flow(out, x):
    if x > 0:
        dx += dout


MALFORMED = [
    (no_accumulation, r"accumulates into no input adjoint"),
    (accumulates_into_a_non_input, r"`dz \+= dout`.*only `d<input> \+= \.\.\.`.* x"),
    (assigns_to_an_input, r"`x = dout`.*do not assign to an input"),
    (assigns_to_an_adjoint, r"`dx = dout`.*do not assign to an input, the output or an adjoint"),
    (reads_another_adjoint, r"`dy \+= dx \* 2`.*read only dout, not another input's adjoint"),
    (non_literal_default, r"the default of 'y' must be a literal"),
    (keyword_arguments, r"\*\*options is not allowed"),
    (multiplies_an_adjoint, r"`dx \*= dout`"),
    (control_flow, r"a rule body holds only"),
]


@pytest.mark.parametrize("rule, message", MALFORMED, ids=[r.__name__ for r, _ in MALFORMED])
def test_malformed_rule_is_rejected_in_a_fresh_registry(rule, message):
    fresh = Registry()
    with pytest.raises(RuleError, match=message) as info:
        fresh.adjoint(primitive)(rule)
    assert rule.__name__ in str(info.value)            # names the rule
    assert not fresh.has_rule(primitive)


@pytest.mark.parametrize("rule, message", MALFORMED, ids=[r.__name__ for r, _ in MALFORMED])
def test_malformed_rule_is_rejected_by_the_global_decorator(rule, message):
    version = registry.version
    with pytest.raises(RuleError, match=message):
        adcompiler.adjoint(primitive)(rule)
    assert not registry.has_rule(primitive)            # nothing half-registered
    assert registry.version == version


def test_rule_error_is_a_value_error_and_adjoint_needs_a_primitive():
    assert issubclass(RuleError, ValueError)
    with pytest.raises(TypeError):
        adcompiler.adjoint()


def test_well_formed_rule_in_a_fresh_registry_leaves_the_global_one_alone():
    fresh = Registry()

    @fresh.adjoint(primitive)
    def _(out, x, y=1.0):
        dx += dout * y
        dy += dout * x
    assert fresh.has_rule(primitive) and not registry.has_rule(primitive)


# --------------------------------------------------------------------------
# stop_gradient and nondifferentiable

def with_stop_gradient(x, y):
    return x * stop_gradient(x) + stop_gradient(x * y) * y + stop_gradient(math.sin(x))


@FAST
@given(moderate, moderate)
def test_stop_gradient_gives_zero_gradient_through_it(x, y):
    dx, dy = grad(with_stop_gradient, wrt=(0, 1))(x, y)
    assert dx == pytest.approx(x, abs=1e-12)           # only the unstopped factor
    assert dy == pytest.approx(x * y, abs=1e-12)
    value, _ = value_and_grad(with_stop_gradient)(x, y)
    assert value == pytest.approx(with_stop_gradient(x, y))


def test_stop_gradient_on_everything_gives_zero():
    assert grad(lambda x: stop_gradient(x * x) * 2.0)(3.0) == 0.0
    g = grad(lambda w: np.sum(stop_gradient(w) * w))(np.arange(3.0))
    np.testing.assert_array_equal(g, np.arange(3.0))


def stopped_in_helper(x):
    return stop_gradient(x) * x


def calls_stopped_helper(x):
    return stopped_in_helper(x) + x * x


def test_stop_gradient_inside_a_helper():
    assert grad(calls_stopped_helper)(1.5) == pytest.approx(1.5 + 3.0)


def bucket(x):
    """Piecewise constant: its derivative is zero wherever it exists."""
    return math.floor(x * 3.0) / 3.0


nondifferentiable(bucket)


@nondifferentiable
def label(x):
    """Differentiable as written, but marked constant: it gets no gradient."""
    return x * 2.0


def uses_constant_functions(x):
    return x * bucket(x) + bucket(x) + x * label(x)


@FAST
@given(moderate)
def test_nondifferentiable_user_function_is_constant(x):
    expected = bucket(x) + label(x)
    assert grad(uses_constant_functions)(x) == pytest.approx(expected, abs=1e-12)
    source = grad(uses_constant_functions).source
    assert "bucket_forward" not in source and "label_forward" not in source
    assert label(3.0) == 6.0                           # the decorator returns the function
