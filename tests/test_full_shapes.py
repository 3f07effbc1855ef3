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
