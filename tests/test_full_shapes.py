"""Full arrays (no axis of length 1): the broadcasting fixes the compiler drops for them.

An array argument with no axis of length 1 compiles to its own variant, where
`X.dot(W) + b` needs no `unbroadcast`: the product keeps its shape and b's
adjoint is `np.sum(g, axis=0)`, as written by hand. Arrays with an axis of
length 1 (which broadcasting may stretch) keep the run-time fixes. Both are
checked against finite differences on shapes with and without such axes.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adcompiler import check_grads, grad


def layer(W, b, c, X):
    hidden = np.tanh(X.dot(W) + b)
    return np.sum((hidden * c) ** 2)


def outer_sums(a, b):
    return np.sum(np.sin(a[:, None] * b + b))


def matmul_chain(A, B, v):
    return np.sum(np.exp(0.1 * (A @ B + v)))


layer_grad = grad(layer, wrt=(0, 1, 2))
outer_grad = grad(outer_sums, wrt=(0, 1))
chain_grad = grad(matmul_chain, wrt=(0, 1, 2))


def test_a_full_bias_add_reads_like_the_hand_written_pass():
    rng = np.random.default_rng(0)
    source = layer_grad.source_for(rng.normal(size=(3, 4)), rng.normal(size=4),
                                   rng.normal(size=4), rng.normal(size=(5, 3)))
    assert "unbroadcast" not in source
    assert "db = np.sum(dhidden, axis=0)" in source and "dhidden *= 1 - hidden * hidden" in source
    assert "X.dot(W) + b" in source


def test_an_axis_of_length_one_keeps_the_run_time_fix():
    rng = np.random.default_rng(0)
    source = layer_grad.source_for(rng.normal(size=(3, 1)), rng.normal(size=4),
                                   rng.normal(size=4), rng.normal(size=(5, 3)))
    assert "unbroadcast(" in source


sides = st.sampled_from([1, 2, 3])


@settings(max_examples=40, deadline=None)
@given(n=sides, d=sides, h=sides, bias=st.sampled_from(["h", "1", "nh", "n1", "scalar"]),
       seed=st.integers(0, 2 ** 16))
def test_layer_gradients_with_and_without_axes_of_length_one(n, d, h, bias, seed):
    rng = np.random.default_rng(seed)
    shape = {"h": (h,), "1": (1,), "nh": (n, h), "n1": (n, 1), "scalar": ()}[bias]
    W, X = rng.normal(size=(d, h)), rng.normal(size=(n, d))
    b = rng.normal(size=shape) if shape else float(rng.normal())
    c = rng.normal(size=h)
    check_grads(layer, (W, b, c, X), wrt=(0, 1, 2), grad_fn=layer_grad)


@settings(max_examples=30, deadline=None)
@given(n=sides, m=sides, row=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_outer_broadcasts_with_full_and_stretched_operands(n, m, row, seed):
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(1, m) if row else m)
    check_grads(outer_sums, (rng.normal(size=n), b), grad_fn=outer_grad, wrt=(0, 1))


@settings(max_examples=30, deadline=None)
@given(n=sides, k=sides, m=sides, v=st.sampled_from(["m", "1", "nm", "n1"]),
       seed=st.integers(0, 2 ** 16))
def test_matmul_results_broadcast_against_a_vector(n, k, m, v, seed):
    rng = np.random.default_rng(seed)
    shape = {"m": (m,), "1": (1,), "nm": (n, m), "n1": (n, 1)}[v]
    check_grads(matmul_chain, (rng.normal(size=(n, k)), rng.normal(size=(k, m)),
                               rng.normal(size=shape)), wrt=(0, 1, 2), grad_fn=chain_grad)


# -- keepdims reductions: their shape is the reduced array's with a 1 on that axis ------

def log_softmax_pick(scores):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return np.sum(logp * np.cos(scores))


def log_softmax_columns(scores, axis):
    shifted = scores - np.max(scores, axis=0, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return np.sum(logp * np.cos(scores))


def normalised(x):
    centred = x - np.mean(x, axis=0, keepdims=True)
    return np.sum(centred ** 2 / (1 + np.sum(x * x, axis=-1, keepdims=True)))


softmax_grad = grad(log_softmax_pick)
columns_grad = grad(log_softmax_columns)
normalised_grad = grad(normalised)


def test_a_keepdims_reduction_adjoint_is_a_sum_that_keeps_the_axis():
    source = softmax_grad.source_for(np.ones((4, 3)))
    assert "axis=1, keepdims=True)" in source
    assert "unbroadcast" not in source and "unreduce" not in source


@settings(max_examples=40, deadline=None)
@given(rows=sides, cols=sides, axis=st.sampled_from([0, 1, -1, -2]),
       seed=st.integers(0, 2 ** 16))
def test_keepdims_reductions_broadcast_back_exactly(rows, cols, axis, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(rows, cols))
    check_grads(log_softmax_pick, (scores,), grad_fn=softmax_grad)
    check_grads(log_softmax_columns, (scores, axis), wrt=(0,), grad_fn=columns_grad)
    check_grads(normalised, (rng.normal(size=(rows, cols)),), grad_fn=normalised_grad)


def kept_times_vector(x, y):
    return np.sum(np.sin(np.sum(x, axis=1, keepdims=True) * y))


@settings(max_examples=30, deadline=None)
@given(n=sides, m=sides, k=sides, seed=st.integers(0, 2 ** 16))
def test_a_keepdims_result_broadcast_against_another_array(n, m, k, seed):
    # (n, 1) times (k,) is (n, k): neither operand's shape is the result's
    rng = np.random.default_rng(seed)
    check_grads(kept_times_vector, (rng.normal(size=(n, m)), rng.normal(size=k)), wrt=(0, 1))
