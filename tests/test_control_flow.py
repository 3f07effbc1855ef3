"""Control flow: branches, loops, and jumps, checked against central finite differences.

Hypothesis picks the inputs, so it also picks which branches run and how
many times each loop goes round (zero included). Where a condition compares
values that depend on the inputs, a test skips (``assume``) points within a
small margin of the switching threshold: there the function jumps and a
finite difference straddling the jump means nothing.

The derivative of code with data-dependent control flow is the derivative of
the path taken (see ``test_the_derivative_is_that_of_the_path_taken``).

The early-return, loop-local, nested-jump and element-write tests are
regressions for bugs found while writing this file, all fixed since.
"""

import inspect
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adcompiler import check_grads, grad, value_and_grad

MARGIN = 1e-3              # skip points this close to a branch threshold
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def real(lo=-3.0, hi=3.0):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def vectors(min_size=0, max_size=6, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, st.integers(min_size, max_size), elements=real(lo, hi))


def away(*values):
    """Skip the example when any of `values` (threshold distances) is within MARGIN of 0."""
    assume(all(abs(v) > MARGIN for v in values))


# =====================================================================================
# Branches
# =====================================================================================

def nested_branches(x, y):
    if x > 0:
        if y > 0:
            r = x * y
        else:
            r = x - y * y
    else:
        if y > x:
            r = math.sin(y) * x
        elif y > -1:
            r = x * x * y
        else:
            r = math.exp(y)
    return r


@SETTINGS
@given(x=real(), y=real())
def test_nested_if_elif_else(x, y):
    away(x, y, y - x, y + 1)
    check_grads(nested_branches, (x, y), wrt=(0, 1))


def assigned_in_both_branches(x, y):
    if x * y > 1:
        z = x * x
        w = y
    else:
        z = y * 3
        w = math.cos(x)
    return z * w + z


@SETTINGS
@given(x=real(), y=real())
def test_variable_assigned_in_both_branches(x, y):
    away(x * y - 1)
    check_grads(assigned_in_both_branches, (x, y), wrt=(0, 1))


def condition_from_active_values(x, y):
    t = math.sin(x) * y                 # the condition depends on both inputs
    u = t * t
    if t > 0.5:
        u = u * x
    elif t < -0.5:
        u = u + y * y
    return u + t


@SETTINGS
@given(x=real(), y=real())
def test_condition_computed_from_active_values(x, y):
    t = math.sin(x) * y
    away(t - 0.5, t + 0.5)
    check_grads(condition_from_active_values, (x, y), wrt=(0, 1))


def if_without_else(x, y):
    z = x * y
    if z > 1:
        z = math.tanh(z) * x
    return z + y


@SETTINGS
@given(x=real(), y=real())
def test_if_without_else(x, y):
    away(x * y - 1)
    check_grads(if_without_else, (x, y), wrt=(0, 1))


def conditional_expressions(x, y):
    z = x * y if x > y else x + y
    magnitude = z if z > 0 else -z
    return magnitude * x + (y * y if magnitude > 1 else math.sin(y))


@SETTINGS
@given(x=real(), y=real())
def test_conditional_expression(x, y):
    z = x * y if x > y else x + y
    away(x - y, z, abs(z) - 1)
    check_grads(conditional_expressions, (x, y), wrt=(0, 1))


def boolean_conditions(x, y):
    if x > 0 and y > 0 or not x > -1:
        r = x * y
    elif x < y or y < -2:
        r = x - y * y
    else:
        r = math.sin(x) * y
    return r


@SETTINGS
@given(x=real(), y=real())
def test_and_or_not_in_conditions(x, y):
    away(x, y, x + 1, y - x, y + 2)
    check_grads(boolean_conditions, (x, y), wrt=(0, 1))


def short_circuit_and(x, n):
    i = 0
    s = 0.0
    while i < n and x[i] > 0:          # x[n] would raise: `and` must short-circuit
        s = s + x[i] * x[i]
        i = i + 1
    return s


def short_circuit_or(x, n):
    s = 0.0
    for i in range(n + 1):
        if i >= n or x[i] < 0:          # x[n] would raise: `or` must short-circuit
            break
        s = s + math.sin(x[i])
    return s


def short_circuit_conditional(x, n):
    s = 0.0
    for i in range(n + 2):
        s = s + (x[i] * x[i] if i < n else 1.0)
    return s


@SETTINGS
@given(x=vectors(min_size=0, max_size=5, lo=0.1, hi=2.0), flip=st.integers(-1, 5))
def test_and_or_short_circuit(x, flip):
    """All entries positive (so the loops reach the end), or one made negative."""
    x = x.copy()
    if 0 <= flip < len(x):
        x[flip] = -x[flip]
    n = len(x)
    check_grads(short_circuit_and, (x, n), wrt=0)
    check_grads(short_circuit_or, (x, n), wrt=0)
    check_grads(short_circuit_conditional, (x, n), wrt=0)


# =====================================================================================
# for loops
# =====================================================================================

def range_one(x, n):
    s = x
    for i in range(n):
        s = s * x + i
    return s


def range_two(x, a, b):
    s = 1.0
    for i in range(a, b):
        s = s * math.cos(x * i) + x
    return s


def range_three(x, a, b, step):
    s = x
    for i in range(a, b, step):
        s = math.tanh(s * x + 0.1 * i)
    return s


@SETTINGS
@given(x=real(-1.5, 1.5), n=st.integers(0, 6), a=st.integers(-3, 4), b=st.integers(-3, 6),
       step=st.sampled_from([-3, -2, -1, 1, 2, 3]))
def test_for_over_range_with_one_two_three_arguments(x, n, a, b, step):
    check_grads(range_one, (x, n), wrt=0)
    check_grads(range_two, (x, a, b), wrt=0)
    check_grads(range_three, (x, a, b, step), wrt=0)


def range_of_int_argument(x, n):
    s = x
    for i in range(int(n)):
        s = math.sin(s) + x
    return s


def range_of_int_active(x):
    s = 1.0
    for i in range(int(x)):             # the trip count depends on the differentiated input
        s = s * x + i
    return s


@SETTINGS
@given(x=real(-1.0, 5.0), n=real(0.0, 6.0))
def test_range_of_values_computed_from_inputs(x, n):
    check_grads(range_of_int_argument, (x, n), wrt=0)
    away(x - round(x))                  # int(x) jumps at integers
    check_grads(range_of_int_active, (x,), wrt=0)


def over_rows(X, w):
    s = 0.0
    for row in X:
        s = s + np.sum(row * w) ** 2
    return s


def over_rows_vector_carried(X, w):
    v = np.zeros(3)
    for row in X:
        v = v * 0.9 + np.tanh(row * w)
    return np.sum(v * v)


@SETTINGS
@given(X=hnp.arrays(np.float64, st.tuples(st.integers(0, 4), st.just(3)), elements=real(-2, 2)),
       w=hnp.arrays(np.float64, 3, elements=real(-2, 2)))
def test_for_over_rows_of_an_array(X, w):
    check_grads(over_rows, (X, w), wrt=(0, 1))
    check_grads(over_rows_vector_carried, (X, w), wrt=(0, 1))


def over_tuple(a, b, c):
    s = 0.0
    for v in (a, b * a, c):
        s = s * v + math.sin(v)
    return s


def over_list(a, b, c):
    s = 1.0
    for v in [a, b, c, a * c]:
        s = s * 0.5 + v * s
    return s


def over_tuple_enumerate_zip(a, b, c):
    s = 0.0
    for i, v in enumerate((a, b, c)):
        s = s + i * v * v
    for p, q in zip((a, b), (c, a * b)):
        s = s + p * q
    for v in reversed((a, b, c)):
        s = s * 0.5 + v
    return s


@SETTINGS
@given(a=real(), b=real(), c=real())
def test_for_over_a_tuple_or_list_built_in_the_function(a, b, c):
    check_grads(over_tuple, (a, b, c), wrt=(0, 1, 2))
    check_grads(over_list, (a, b, c), wrt=(0, 1, 2))
    check_grads(over_tuple_enumerate_zip, (a, b, c), wrt=(0, 1, 2))


def with_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + (i + 1) * v * v
    return s


def with_zip(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * math.sin(b)
    return s


def with_reversed(x):
    s = 0.0
    for v in reversed(x):
        s = s * 0.5 + v * v
    return s


def with_reversed_range(x, n):
    s = x
    for i in reversed(range(1, n)):
        s = s * x + i * 0.5
    return s


@SETTINGS
@given(x=vectors(), y=vectors(), n=st.integers(0, 6), z=real(-1.5, 1.5))
def test_for_with_enumerate_zip_reversed(x, y, n, z):
    check_grads(with_enumerate, (x,), wrt=0)
    check_grads(with_zip, (x, y), wrt=(0, 1))        # zip stops at the shorter
    check_grads(with_reversed, (x,), wrt=0)
    check_grads(with_reversed_range, (z, n), wrt=0)


def overwritten_every_iteration(w, x):
    h = 0.5
    for t in range(len(x)):
        h = math.tanh(w * h + x[t])
    return h


def accumulated(x, n):
    s = 0.0
    p = 1.0
    for i in range(n):
        p = p * x
        s += p / (i + 1)
    return s


@SETTINGS
@given(w=real(-2, 2), x=vectors(max_size=8), z=real(-1.5, 1.5), n=st.integers(0, 8))
def test_overwritten_and_accumulated_variables(w, x, z, n):
    check_grads(overwritten_every_iteration, (w, x), wrt=(0, 1))
    check_grads(accumulated, (z, n), wrt=0)


# =====================================================================================
# while loops
# =====================================================================================

def halve_until_small(x):
    n = 0.0
    while x > 1:
        x = x / 2
        n = n + 1
    return x * n + x


@SETTINGS
@given(x=real(-3.0, 200.0))
def test_while_with_data_dependent_trip_count(x):
    if x > 0:
        away(math.log2(x) - round(math.log2(x)))     # the trip count changes at powers of 2
    check_grads(halve_until_small, (x,), wrt=0)


def newton_sqrt(a):
    x = a + 1                         # never the root itself: at least one iteration
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


@SETTINGS
@given(a=real(0.25, 1000.0))
def test_while_newton_iterations_with_a_tolerance(a):
    check_grads(newton_sqrt, (a,), wrt=0)
    assert grad(newton_sqrt)(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-8)


def while_and_condition(x):
    k = 0
    s = x
    while k < 10 and s < 4:
        s = s * s + 0.5
        k = k + 1
    return s


def while_break(x):
    k = 0
    s = x
    while k < 10:
        k = k + 1
        if s > 3:
            break
        s = s * s + 0.5
    return s


def while_continue(x):
    k = 0
    s = x
    while k < 6:
        k = k + 1
        if k % 2 == 0:
            continue
        s = s * x + 0.1
    return s


@SETTINGS
@given(x=real(-1.9, 1.9))
def test_while_with_and_break_continue(x):
    s, thresholds = x, []
    for _ in range(10):                 # the values compared with 4 and with 3
        thresholds += [s - 4, s - 3]
        s = s * s + 0.5
    away(*thresholds)
    check_grads(while_and_condition, (x,), wrt=0)
    check_grads(while_break, (x,), wrt=0)
    check_grads(while_continue, (x,), wrt=0)


# =====================================================================================
# Trip counts of zero
# =====================================================================================

def zero_trip_loops(x, X):
    s = x
    for i in range(0):
        s = s * 2
    k = x * x
    while k > 100:
        k = k / 2
    for row in X:
        s = s + np.sum(row)
    return s + k


@SETTINGS
@given(x=real(-3, 3))
def test_loops_that_do_not_run(x):
    X = np.zeros((0, 3))
    check_grads(zero_trip_loops, (x, X), wrt=(0, 1))
    dx, dX = grad(zero_trip_loops, wrt=(0, 1))(x, X)
    assert dx == pytest.approx(1 + 2 * x)
    assert dX.shape == (0, 3)
    assert grad(range_one)(x, 0) == 1.0


# =====================================================================================
# break, continue and return
# =====================================================================================

def break_in_for(x, n):
    s = x
    for i in range(n):
        if s > 5:
            break
        s = s * 1.5 + math.sin(x)
    return s


def continue_in_for(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 1:
            continue
        s = s + x * i + s * x
    return s


def _break_in_for_thresholds(x, n):
    s, out = x, []
    for _ in range(n):
        out.append(s - 5)
        if s > 5:
            break
        s = s * 1.5 + math.sin(x)
    return out


@SETTINGS
@given(x=real(-3, 3), n=st.integers(0, 8))
def test_break_and_continue_in_for(x, n):
    away(*_break_in_for_thresholds(x, n))
    check_grads(break_in_for, (x, n), wrt=0)
    check_grads(continue_in_for, (min(max(x, -1), 1), n), wrt=0)


def return_in_both_branches(x):
    if x > 0:
        return x * x
    else:
        return math.sin(x)


@SETTINGS
@given(x=real())
def test_return_in_both_branches(x):
    away(x)
    check_grads(return_in_both_branches, (x,), wrt=0)


def break_in_inner_and_outer(x):
    s = x
    for i in range(4):
        if s > 100:
            break
        for j in range(4):
            if j > i:
                break
            s = s * x
    return s


@SETTINGS
@given(x=real(-2, 2))
def test_break_in_nested_loops_when_the_outer_loop_also_jumps(x):
    check_grads(break_in_inner_and_outer, (x,), wrt=0)


# -- early return -----------------------------------------------------------------------

def early_return_in_branch(x):
    if x > 0:
        return x * x
    return -3 * x


def early_return_in_loop(x, n):
    s = x
    for i in range(n):
        s = s * 1.1 + x
        if s > 10:
            return s * s
    return s


def early_return_in_while(x):
    k = 0
    while k < 10:
        x = x * 1.5
        if x > 4:
            return x + 1
        k = k + 1
    return x


def early_return_from_nested_loop(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            s = s * 1.1 + x
            if s > 10:
                return s * s
    return s


def _sequence(start, step, count):
    """The values s takes under ``s = step(s)``, `count` times."""
    values, s = [], start
    for _ in range(count):
        s = step(s)
        values.append(s)
    return values


@SETTINGS
@given(x=real(-3, 3), n=st.integers(0, 5))
def test_early_return(x, n):
    """A return inside a branch, a loop, a while loop and a nested loop; whether the
    function returns early depends on the inputs."""
    away(x)
    check_grads(early_return_in_branch, (x,), wrt=0)
    away(*[s - 10 for s in _sequence(x, lambda s: s * 1.1 + x, n * n)])
    check_grads(early_return_in_loop, (x, n), wrt=0)
    check_grads(early_return_from_nested_loop, (x, n), wrt=0)
    away(*[s - 4 for s in _sequence(x, lambda s: s * 1.5, 10)])
    check_grads(early_return_in_while, (x,), wrt=0)


@pytest.mark.parametrize("f, args", [
    (early_return_in_branch, (-1.3,)),
    (early_return_in_loop, (0.1, 2)),
    (early_return_in_while, (-0.5,)),
    (early_return_from_nested_loop, (0.1, 2)),
], ids=["branch", "loop", "while", "nested-loop"])
def test_early_return_on_a_path_that_does_not_return_early(f, args):
    """Regression: the `result = None` placeholder reached zeros_like (AttributeError)."""
    check_grads(f, args, wrt=0)


# -- values computed in a loop body and read only on some paths ---------------------------

def continue_after_loop_local_value(x, n):
    s = 0.0
    for i in range(n):
        v = x * i
        if i % 2 == 0:
            continue
        s = s + v * v
    return s


def break_after_loop_local_value(x, n):
    s = 0.0
    for i in range(n):
        v = x * i
        if v > 2:
            break
        s = s + v * v
    return s


def loop_local_used_in_one_branch(x, n):
    s = 0.0
    for i in range(n):
        v = math.sin(x * i)
        if i > 1:
            if i < 4:
                s = s + v
    return s


def reassigned_then_read_in_a_branch(a, b, n):
    for i in range(n):
        a = math.sin(a)
        if i > 1:
            b = b + a
        a = math.tanh(b)
    return a + b


def loop_local_read_in_inner_loop(x, n):
    s = 0.0
    for i in range(n):
        v = x * i
        for j in range(2):
            s = s + v * j
        k = 0
        while k < 2:
            s = s + v * s * 0.1
            k = k + 1
    return s


def carried_read_only_in_inner_loop(a, s, n):
    for i in range(n):
        for j in range(2):
            s = s + a * j
        a = math.tanh(s)
    return a + s


@SETTINGS
@given(x=real(-1.5, 1.5), y=real(-1.5, 1.5), n=st.integers(0, 6))
def test_loop_local_value_read_after_a_jump_or_in_one_branch(x, y, n):
    """A value the body computes, read afterwards only on some paths: after a continue or
    a break, in an if without else, in an inner loop. (Once a RuntimeError: 'could not
    place the zeros of the backward sweep'.)"""
    check_grads(continue_after_loop_local_value, (x, n), wrt=0)
    away(*[x * i - 2 for i in range(n)])
    check_grads(break_after_loop_local_value, (x, n), wrt=0)
    check_grads(loop_local_used_in_one_branch, (x, n), wrt=0)
    check_grads(reassigned_then_read_in_a_branch, (x, y, n), wrt=(0, 1))
    check_grads(loop_local_read_in_inner_loop, (x, n), wrt=0)
    check_grads(carried_read_only_in_inner_loop, (x, y, n), wrt=(0, 1))


def continue_over_array(x):
    s = 0.0
    for v in x:
        if v < 0:
            continue
        s = s + v * v
    return s


def break_over_rows(X, w):
    v = np.zeros(3)
    for row in X:
        if np.sum(row) > 1:
            break
        v = v * 0.5 + row * w
    return np.sum(v * v)


def break_over_enumerate_zip_reversed(x, y):
    s = 0.0
    for i, v in enumerate(x):
        if v < -1:
            break
        s = s + i * v * v
    for a, b in zip(x, y):
        if a * b > 3:
            break
        s = s + a * b
    for v in reversed(y):
        if v > 1.5:
            continue
        s = s * 0.5 + v
    return s


@SETTINGS
@given(x=vectors(), y=vectors(),
       X=hnp.arrays(np.float64, st.tuples(st.integers(0, 4), st.just(3)), elements=real(-1, 1)),
       w=hnp.arrays(np.float64, 3, elements=real(-2, 2)))
def test_jumps_in_loops_over_arrays(x, y, X, w):
    away(*x)
    check_grads(continue_over_array, (x,), wrt=0)
    away(*(X.sum(axis=1) - 1))
    check_grads(break_over_rows, (X, w), wrt=(0, 1))
    away(*(x + 1), *(x[:len(y)] * y[:len(x)] - 3), *(y - 1.5))
    check_grads(break_over_enumerate_zip_reversed, (x, y), wrt=(0, 1))


# -- jumps in nested loops (a bug) ------------------------------------------------------

def break_in_inner_loop_only(x):
    s = x
    for i in range(3):
        for j in range(3):
            if j > i:
                break
            s = s * x
    return s


def continue_in_inner_loop_only(x, n):
    s = 0.0
    for i in range(n):
        for j in range(n):
            if j > i:
                continue
            s = s + x * x * (i - j)
    return s


def break_in_for_inside_while(x):
    s = x
    k = 0
    while k < 3:
        k = k + 1
        for j in range(3):
            if j > k:
                break
            s = s * x
    return s




@pytest.mark.parametrize("f, args", [
    (break_in_inner_loop_only, (0.7,)),
    (continue_in_inner_loop_only, (0.7, 4)),
    (break_in_for_inside_while, (0.9,)),
], ids=["break", "continue", "for-in-while"])
def test_jump_in_inner_loop_of_a_loop_without_jumps(f, args):
    check_grads(f, args, wrt=0)


# -- writing into an array inside a loop (a bug) --------------------------------------------

def fill_in_for(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x * i
    return np.sum(y * y)


def fill_in_while(x):
    y = np.zeros(3)
    k = 0
    while k < 3:
        y[k] = x * k
        k = k + 1
    return np.sum(y * y)


def accumulate_into_element(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] += x * i
    return np.sum(y * y)


def double_a_copy(x):
    y = x.copy()
    for i in range(len(x)):
        y[i] = y[i] * 2
    return np.sum(y * y)


def matvec_by_loops(A, x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc = acc + A[i, j] * x[j]
        y[i] = acc
    return np.sum(y * y)


def fill_unrolled(x):
    y = np.zeros(3)
    y[0] = x * 0
    y[1] = x * 1
    y[2] = x * 2
    return np.sum(y * y)


def test_writing_into_an_array_outside_a_loop():
    check_grads(fill_unrolled, (0.7,), wrt=0)
    assert grad(fill_unrolled)(0.7) == pytest.approx(7.0)




@pytest.mark.parametrize("f, args, wrt", [
    (fill_in_for, (0.7,), 0),
    (fill_in_while, (0.7,), 0),
    (accumulate_into_element, (0.7,), 0),
    (double_a_copy, (np.array([1.0, 2.0]),), 0),
    (matvec_by_loops, (np.arange(9.0).reshape(3, 3) / 10, np.array([1.0, -2.0, 0.5])), (0, 1)),
], ids=["for", "while", "augmented", "copy", "matvec"])
def test_writing_into_an_array_inside_a_loop(f, args, wrt):
    value, _ = value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args))
    check_grads(f, args, wrt=wrt)


# -- more loop shapes ------------------------------------------------------------------------

def swap_in_loop(x, n):
    a, b = x, 1.0
    for i in range(n):
        a, b = b, a + b * x
    return a


def while_true_with_break(x):
    s = x
    while True:
        s = s * 0.5 + 0.01 * x          # tends to 0.02 * x, below 0.1 for x < 5
        if s < 0.1:
            break
    return s


def conditional_expression_carried(x, n):
    s = x
    for i in range(n):
        s = s * x if i % 2 == 0 else math.sin(s) + x
    return s


@SETTINGS
@given(x=real(-1.2, 1.2), y=real(0.5, 4.5), n=st.integers(0, 6))
def test_tuple_swap_while_true_and_carried_conditional_expression(x, y, n):
    check_grads(swap_in_loop, (x, n), wrt=0)
    check_grads(conditional_expression_carried, (x, n), wrt=0)
    away(*[s - 0.1 for s in _sequence(y, lambda s: s * 0.5 + 0.01 * y, 60)])
    check_grads(while_true_with_break, (y,), wrt=0)


# =====================================================================================
# Nested loops mixed with branches
# =====================================================================================

def triangle(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i):
            s = s + math.sin(x * (i - j))
    return s


def while_inside_for(x, n):
    s = 0.0
    for i in range(n):
        t = x * x + i
        while t > 1:
            t = t / 2
        s = s + t * x
    return s


def loops_inside_branches(x, y, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            t = x
            for j in range(i):
                t = t * y + 0.1
            s = s + t
        else:
            k = 0
            while k < i:
                s = s + math.tanh(x * y + k)
                k = k + 1
    return s


def branch_inside_nested_loops(x, y, n):
    s = y
    for i in range(n):
        for j in range(n):
            if (i + j) % 2 == 0:
                s = s * 0.5 + x
            else:
                s = math.sin(s) * y
    return s


@SETTINGS
@given(x=real(-1.5, 1.5), y=real(-1.5, 1.5), n=st.integers(0, 5))
def test_nested_loops_with_branches(x, y, n):
    check_grads(triangle, (x, n), wrt=0)
    check_grads(loops_inside_branches, (x, y, n), wrt=(0, 1))
    check_grads(branch_inside_nested_loops, (x, y, n), wrt=(0, 1))
    ts = [x * x + i for i in range(n)]
    away(*[math.log2(t) - round(math.log2(t)) for t in ts if t > 0.5])
    check_grads(while_inside_for, (x, n), wrt=0)


# =====================================================================================
# Arrays carried through loops; RNN and Horner
# =====================================================================================

def momentum(g, x):
    v = np.zeros_like(g)
    for t in range(6):
        v = v * 0.9 + g * x
    return np.sum(v * v)


@SETTINGS
@given(g=vectors(min_size=1, max_size=4), x=real(-2, 2))
def test_array_valued_loop_variable(g, x):
    check_grads(momentum, (g, x), wrt=(0, 1))


def rnn(w, u, x):
    h = 0.0
    for t in range(len(x)):
        h = math.tanh(w * h + u * x[t])
    return h


@settings(max_examples=10, deadline=None)
@given(w=real(-0.95, 0.95), u=real(-1.5, 1.5), seed=st.integers(0, 2 ** 16))
def test_rnn_recurrence_over_200_steps(w, u, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 200)
    check_grads(rnn, (w, u, x), wrt=(0, 1, 2))


def horner(x, c):
    p = 0.0
    for k in range(len(c)):
        p = p * x + c[k]
    return p


@settings(max_examples=10, deadline=None)
@given(x=real(-1.05, 1.05), seed=st.integers(0, 2 ** 16))
def test_horner_degree_50(x, seed):
    c = np.random.default_rng(seed).uniform(-1, 1, 51)
    check_grads(horner, (x, c), wrt=(0, 1))
    dx, dc = grad(horner, wrt=(0, 1))(x, c)
    assert dx == pytest.approx(np.polyval(np.polyder(c), x), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(dc, x ** np.arange(50, -1, -1.0), rtol=1e-12, atol=1e-300)


# =====================================================================================
# The derivative of the path taken
# =====================================================================================

def test_the_derivative_is_that_of_the_path_taken():
    """Documented behaviour: with a trip count decided by a float comparison, the gradient
    is that of the iterations that ran. At x = 13 the loop halves 4 times, so the
    function is x / 16 * 4 + x / 16 there and its derivative is 5 / 16, although the
    function as a whole is discontinuous at every power of 2."""
    assert halve_until_small(13.0) == pytest.approx(13 / 16 * 5)
    assert grad(halve_until_small)(13.0) == 5 / 16
    check_grads(halve_until_small, (13.0,), wrt=0)
    assert grad(halve_until_small)(0.5) == 1.0        # no iteration: the identity


# =====================================================================================
# The generated source
# =====================================================================================

def double_sum(x, n):
    s = 0.0
    for i in range(n):
        s = s + 2 * x
    return s


def halving_count(x):
    k = 0.0
    while x > 1:
        x = x / 2
        k = k + x
    return x + k


def test_for_loop_source_reverses_the_range_and_pops_only_what_is_needed():
    rnn_source = grad(rnn, wrt=(0, 1)).source_for(0.5, 0.3, np.ones(3))
    assert "reversed(range(" in rnn_source
    assert ".pop()" in rnn_source
    simple = grad(double_sum).source
    assert "reversed(range(" in simple
    assert "_stack" not in simple and ".pop()" not in simple
    assert grad(double_sum)(1.5, 4) == 8.0


def test_while_loop_backward_runs_the_iteration_count():
    source = grad(halving_count).source
    counted = re.search(r"^\s*(\w+) \+= 1$", source, re.M)
    assert counted, source
    count = counted.group(1)
    assert re.search(rf"^\s*{count} = 0$", source, re.M), source
    assert re.search(rf"^\s*for \w+ in range\({count}\):", source, re.M), source


DETERMINISM_FUNCTIONS = ("rnn", "break_in_for", "loops_inside_branches", "boolean_conditions",
                         "halve_until_small")
SOURCE_IN_SUBPROCESS = """
import importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location("loops", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
from adcompiler import grad
sys.stdout.write(grad(m.rnn, wrt=(0, 1)).source_for(0.5, 0.3, np.ones(3)))
sys.stdout.write(grad(m.break_in_for).source)
sys.stdout.write(grad(m.loops_inside_branches, wrt=(0, 1)).source)
sys.stdout.write(grad(m.boolean_conditions, wrt=(0, 1)).source)
sys.stdout.write(grad(m.halve_until_small).source)
"""


def test_loop_source_is_deterministic(tmp_path):
    """Byte-identical output in processes whose set and str-hash orders differ."""
    here = sys.modules[__name__]
    path = tmp_path / "loops.py"
    path.write_text("import math\nimport numpy as np\n\n\n" + "\n\n".join(
        inspect.getsource(getattr(here, name)) for name in DETERMINISM_FUNCTIONS))
    outputs = set()
    for seed in ("0", "1"):
        run = subprocess.run([sys.executable, "-c", SOURCE_IN_SUBPROCESS, str(path)],
                             env=dict(os.environ, PYTHONHASHSEED=seed),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert "reversed(range(" in outputs.pop()
    # and within a process: compiled again it is the same text
    assert grad(loops_inside_branches, wrt=(0, 1)).source == \
        grad(loops_inside_branches, wrt=(0, 1)).source


# =====================================================================================
# Long loops
# =====================================================================================

def million_steps(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * 1e-6
    return s


def million_nonlinear_steps(x, n):
    s = x
    for i in range(n):
        s = s + 1e-6 * math.sin(s)
    return s


def test_a_million_iterations():
    start = time.perf_counter()
    assert grad(million_steps)(0.5, 1_000_000) == pytest.approx(1.0, rel=1e-9)
    g = grad(million_nonlinear_steps)(0.5, 1_000_000)     # a stack of a million values
    assert time.perf_counter() - start < 10
    # ds/dx of s' = sin(s) over time 1: exp(int cos(s) dt); compare with finite differences
    h = 1e-6
    fd = (million_nonlinear_steps(0.5 + h, 1_000_000)
          - million_nonlinear_steps(0.5 - h, 1_000_000)) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-6)
