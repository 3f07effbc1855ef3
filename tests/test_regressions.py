"""Bugs found late, each pinned by the smallest program that showed it."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adcompiler import DifferentiationError, check_grads, grad, value_and_grad


def fill_in_a_loop(x):
    out = np.zeros(3)
    for i in range(3):
        out[i] = x * i
    return np.sum(out)


def recurrence_into_an_array(x, w):
    out = np.zeros_like(w)
    for i in range(len(w)):
        out[i] = x * w[i] + out[i - 1] * 0.5 if i > 0 else x * w[i]
    return np.sum(out ** 2)


def test_writes_into_an_array_inside_a_loop_carry_the_array():
    # once gave 0.0: the loop did not carry `out`, so nothing reached the return
    assert grad(fill_in_a_loop)(1.5) == 3.0


@settings(max_examples=25, deadline=None)
@given(st.floats(-2, 2), st.lists(st.floats(-2, 2), min_size=1, max_size=5))
def test_a_recurrence_written_into_an_array(x, w):
    check_grads(recurrence_into_an_array, (x, np.array(w)), wrt=(0, 1))


def loop_variable_returned(x, k):
    for i in range(3):
        x = x + 0.01 * (math.sin(x) - k * x)
    return x


def test_value_and_grad_returns_the_value_not_a_restored_loop_value():
    value, _ = value_and_grad(loop_variable_returned)(0.5, 0.3)
    assert value == loop_variable_returned(0.5, 0.3)


def zip_with_reversed(out, weights):
    s = 0.0
    for a, b in zip(out, reversed(weights)):
        s = s + a * b
    return s


def test_reversed_inside_zip_is_refused_with_the_line():
    with pytest.raises(DifferentiationError, match=r"reversed\(\) inside zip\(\)") as info:
        grad(zip_with_reversed)
    assert "zip(out, reversed(weights))" in str(info.value)


def counts_above(x):
    counts = (x > 0) * 1 + (x > 1) * 1          # booleans made integers, then added
    return np.sum(x * counts)


def test_multiplying_booleans_by_one_is_not_simplified_away():
    # `(x > 0) * 1` once lost its `* 1`, so the sum of two masks became a logical or
    x = np.array([-1.0, 0.5, 2.0])
    value, dx = value_and_grad(counts_above)(x)
    assert value == 0.5 + 2 * 2.0
    np.testing.assert_array_equal(dx, [0.0, 1.0, 2.0])


def powers_of_x(x, n):
    total = 0.0
    for j in range(n):
        total = total + x ** j
    return total


def array_powers(x, k):
    return np.sum(x ** k)


def test_a_zero_exponent_held_in_a_variable_has_slope_zero_at_zero():
    # x ** j with j == 0 once raised ZeroDivisionError at x == 0 (0 * 0.0 ** -1)
    assert grad(powers_of_x)(0.0, 3) == 1.0                  # d/dx (1 + x + x**2) at 0
    assert grad(powers_of_x)(2.0, 3) == 1.0 + 2 * 2.0
    dx = grad(array_powers)(np.array([0.0, 1.5, -2.0]), np.array([0, 1, 2]))
    np.testing.assert_array_equal(dx, [0.0, 1.0, -4.0])
    assert "2 * x" in grad(lambda x: x ** 2).source          # a literal exponent is written out


@settings(max_examples=30, deadline=None)
@given(st.floats(-2, 2), st.integers(0, 4))
def test_variable_integer_exponents(x, n):
    check_grads(powers_of_x, (x, n), wrt=(0,))


def math_powers(x, n):
    total = 0.0
    for j in range(n):
        total = total + math.pow(x, j)
    return total


def test_math_pow_with_a_zero_exponent_at_zero():
    assert grad(math_powers)(0.0, 3) == 1.0
    check_grads(math_powers, (0.7, 4), wrt=(0,))
