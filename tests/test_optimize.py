"""The optimisation passes, seen through the code they leave behind."""

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adcompiler import check_grads, grad, value_and_grad


def forward_of(source):
    """The forward sweep's statements of a generated gradient, as text."""
    forward = source.split("# forward\n")[1].split("# backward")[0]
    return [line.strip() for line in forward.splitlines() if line.strip()]


def sum_of_squares(w, b):
    return np.sum(w * w) + np.sum(b)


def sigmoid_of_negative(x):
    return 1.0 / (1 + math.exp(-x))


def temporary_used_twice(x):
    u = np.exp(-x)
    return np.sum(u * u) + np.sum(-x)


def user_names_stay(x):
    square = x * x
    total = np.sum(square)
    return total


def test_a_temporary_read_once_by_the_next_statement_is_folded_into_it():
    source = value_and_grad(sum_of_squares).source_for(np.ones(3), np.ones(2))
    assert "t2 = np.sum(w * w)" in forward_of(source)


def test_every_adjoint_shown_has_its_value_in_the_forward_sweep():
    # folding stops where the backward sweep names the temporary's adjoint: dt1 keeps t1
    for source in (value_and_grad(sigmoid_of_negative).source,
                   value_and_grad(sum_of_squares).source_for(np.ones(3), np.ones(2)),
                   value_and_grad(temporary_used_twice).source_for(np.ones(3))):
        forward = " ".join(forward_of(source))
        for temporary in set(re.findall(r"\bd(t\d+)\b", source)):
            assert re.search(rf"\b{temporary} = ", forward), (temporary, source)


def test_user_names_are_never_folded():
    forward = forward_of(value_and_grad(user_names_stay).source_for(np.ones(3)))
    assert "square = x * x" in forward or "square = square(x)" in forward
    assert any(line.startswith("total = ") for line in forward)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=1, max_size=4))
def test_folded_code_still_gives_the_exact_gradient(values):
    x = np.array(values)
    check_grads(temporary_used_twice, (x,))
    check_grads(sum_of_squares, (x, x[:1] * 2))
    check_grads(sigmoid_of_negative, (float(values[0]),))


def weighted_sums(x, y):
    return 3.0 * np.sum(x * y) + np.sum(np.exp(-x) / (1 + y * y)) - np.sum(x) * np.sum(y - x)


def test_a_full_sum_adjoint_stays_a_number():
    source = value_and_grad(sum_of_squares).source_for(np.ones(3), np.ones(2))
    assert "unreduce" not in source
    assert re.search(r"dw = 2(\.0)? \* w ", source)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_full_sum_adjoints_kept_as_numbers_give_the_exact_gradient(data):
    from hypothesis.extra import numpy as hnp
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                         max_side=3))
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    x, y = (data.draw(hnp.arrays(dtype, shape, elements=st.floats(-2, 2, width=32)))
            for shape in shapes.input_shapes)
    tolerance = dict(rtol=1e-2, atol=1e-2) if dtype == np.float32 else {}
    dx, dy = grad(weighted_sums, wrt=(0, 1))(x, y)
    assert dx.shape == x.shape and dy.shape == y.shape and dx.dtype == dtype
    check_grads(weighted_sums, (x, y), wrt=(0, 1), **tolerance)


def product_of_three(x, y, z):
    return np.sum(x * y * z)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(2, 4), st.integers(0, 2 ** 16))
def test_a_full_sum_adjoint_meeting_a_smaller_operand_is_spread(n, m, seed):
    # x * y is (n, 1), z is (m,): the sum's adjoint must still cover (n, m)
    rng = np.random.default_rng(seed)
    args = (rng.normal(size=(n, 1)), rng.normal(size=(n, 1)), rng.normal(size=m))
    check_grads(product_of_three, args, wrt=(0,))
    check_grads(product_of_three, args, wrt=(0, 1, 2))


def relu_layer(W, X, C):
    hidden = np.maximum(0, X.dot(W))
    return np.sum(hidden * C)


def test_relu_backward_keeps_a_mask_multiplies_in_place_and_splits_ties():
    W = np.array([[1.0, -1.0, 0.0], [2.0, 0.5, 0.0]], dtype=np.float32)
    X = np.array([[1.0, 1.0], [-1.0, 0.0]], dtype=np.float32)   # some pre-activations are 0
    C = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    gradient = grad(relu_layer, wrt=(0, 1))
    source = gradient.source_for(W, X, C)
    assert "t1_step = step(t1)" in source and "del t1" in source      # the mask, not t1, is kept
    assert "dhidden *= t1_step" in source
    dW, dX = gradient(W, X, C)
    assert dW.dtype == np.float32 and dX.dtype == np.float32
    h = X.astype(float) @ W
    assert (h == 0).any()
    dh = C * np.where(h > 0, 1.0, np.where(h == 0, 0.5, 0.0))      # ties split evenly
    np.testing.assert_allclose(dW, X.T.astype(float) @ dh, rtol=1e-6)
    np.testing.assert_allclose(dX, dh @ W.T.astype(float), rtol=1e-6)


def horner(x, c):
    p = 0.0
    for a in c:
        p = p * x + a
    return p


def nested_rows(x, w):
    total = 0.0
    for j in range(3):
        for i in range(len(w)):
            total = total + w[i] * (x + j)
    return total


def test_one_write_per_loop_index_is_an_assignment():
    source = grad(horner, wrt=(0, 1)).source_for(0.5, np.ones(4))
    assert "dc[i] = " in source and "dc[i] +=" not in source


@settings(max_examples=30, deadline=None)
@given(st.floats(-1.5, 1.5), st.lists(st.floats(-2, 2), min_size=1, max_size=5))
def test_entries_written_again_by_an_outer_loop_still_accumulate(x, w):
    w = np.array(w)
    gradient = grad(nested_rows, wrt=(0, 1))
    assert "dw[i] +=" in gradient.source_for(x, w)
    dx, dw = gradient(x, w)
    np.testing.assert_allclose(dw, np.full(len(w), 3 * x + 3), rtol=1e-12, atol=1e-12)
    check_grads(nested_rows, (x, w), wrt=(0, 1))
    check_grads(horner, (x, w), wrt=(0, 1))


def dense(x, W, b):
    return x @ W + b


def relu(x):
    return np.maximum(0.0, x)


def two_layers(W1, W2, X):
    hidden = relu(dense(X, W1, 0.1))
    return np.sum(dense(hidden, W2, 0.0) ** 2)


def test_a_pair_saves_the_mask_and_the_caller_releases_what_it_passed_on():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(5, 3)))
    gradient = grad(two_layers, wrt=(0, 1))
    source = gradient.source_for(*args)
    caller = source.split("\n\n\n")[0]
    assert re.search(r"hidden, hidden_saved = relu_\w+_forward\((t\d+)\)\n    del \1\n", caller)
    relu_forward = next(part for part in source.split("\n\n\n") if "def relu_" in part
                        and "_forward(" in part)
    assert "x_step = step(x)" in relu_forward and "(x_step,)" in relu_forward
    check_grads(two_layers, args, wrt=(0, 1))
