"""The two-layer-net example (examples/two_layer_net.py) and the vectorised seed example.

The compiled gradients of the two-layer net's loss are checked against finite
differences and against the classic hand-written backward pass; training
reaches the accuracy the example promises; calls leave their inputs alone and
return fresh arrays; the generated source is pinned by a snapshot.

To accept an intended change of the snapshot, run with
ADCOMPILER_UPDATE_SNAPSHOTS=1 and review the diff.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adcompiler import check_grads, grad, value_and_grad

from .example_modules import load_example

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLES = REPO / "examples"
SNAPSHOT = HERE / "snapshots" / "two_layer_net_loss.py.txt"

N, D, H, C = 10, 4, 6, 3
REG = 0.1


@pytest.fixture(scope="module")
def net():
    return load_example("two_layer_net")


@pytest.fixture(scope="module")
def seed_example():
    return load_example("vectorized_seed")


def small_problem(seed=0):
    """(W1, b1, W2, b2, X, y, reg) for N=10, D=4, H=6, C=3, with every hidden
    pre-activation at least 1e-2 away from the ReLU's kink (so finite differences
    never straddle it)."""
    rng = np.random.default_rng(seed)
    while True:
        W1 = rng.standard_normal((D, H))
        b1 = rng.standard_normal(H)
        W2 = rng.standard_normal((H, C))
        b2 = rng.standard_normal(C)
        X = rng.standard_normal((N, D))
        y = rng.integers(0, C, N)
        if np.min(np.abs(X.dot(W1) + b1)) > 1e-2:
            return W1, b1, W2, b2, X, y, REG


def by_hand(W1, b1, W2, b2, X, y, reg):
    """The loss and (dW1, db1, dW2, db2, dX), forward and backward written by hand."""
    n = X.shape[0]
    # forward
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = -np.sum(np.log(probs[np.arange(n), y])) / n
    loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    # backward: softmax cross-entropy, then back through the layers
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dW2 = hidden.T.dot(dscores) + reg * W2
    db2 = np.sum(dscores, axis=0)
    dhidden = dscores.dot(W2.T)
    dhidden[hidden <= 0] = 0                 # ReLU lets the gradient through where it was on
    dW1 = X.T.dot(dhidden) + reg * W1
    db1 = np.sum(dhidden, axis=0)
    dX = dhidden.dot(W1.T)
    return loss, (dW1, db1, dW2, db2, dX)


# --------------------------------------------------------------------------
# gradients

def test_loss_gradient_passes_finite_differences(net):
    args = small_problem()
    check_grads(net.loss, args, wrt=net.PARAMS)


def test_loss_gradient_wrt_inputs_passes_finite_differences(net):
    args = small_problem(seed=1)
    check_grads(net.loss, args, wrt="X")


def test_compiled_gradients_equal_the_hand_written_backward_pass(net):
    args = small_problem(seed=2)
    value, grads = value_and_grad(net.loss, wrt=net.PARAMS + ("X",))(*args)
    hand_value, hand_grads = by_hand(*args)
    assert value == pytest.approx(hand_value, rel=0, abs=1e-10)
    for name, ours, theirs in zip(net.PARAMS + ("X",), grads, hand_grads):
        assert ours.shape == theirs.shape, name
        assert ours.dtype == np.float64, name
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10, err_msg=name)


def test_example_gradient_object_matches_the_hand_written_pass(net):
    """`loss_and_grads`, the object the example trains with, on the example's own data."""
    X, y = net.make_spiral()
    params = net.init_params(X.shape[1], seed=3)
    rng = np.random.default_rng(3)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    args = tuple(params[name] for name in net.PARAMS) + (X, y, net.REG)
    value, grads = net.loss_and_grads(*args)
    hand_value, hand_grads = by_hand(*args)
    assert value == pytest.approx(hand_value, rel=0, abs=1e-10)
    for ours, theirs in zip(grads, hand_grads[:4]):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------
# training

def test_training_reaches_98_percent(net):
    X, y = net.make_spiral()
    assert X.shape == (300, 2) and sorted(set(y.tolist())) == [0, 1, 2]
    assert np.array_equal(np.bincount(y), [100, 100, 100])
    lines = []
    params, losses = net.train(X, y, log=lines.append)      # the example's default steps
    assert len(losses) == net.STEPS
    assert losses[-1] < 0.5 * losses[0]
    assert net.accuracy(params, X, y) >= 0.98
    assert lines and all(re.fullmatch(r"step +\d+ +loss \d+\.\d+", line) for line in lines)


def test_spiral_is_deterministic(net):
    X1, y1 = net.make_spiral()
    X2, y2 = net.make_spiral()
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


def test_main_prints_progress_accuracy_and_source(net, capsys):
    net.main(["--steps", "20"])
    out = capsys.readouterr().out
    assert "step     0   loss" in out
    assert "training accuracy:" in out
    assert "def loss_value_and_grad(" in out and "# backward" in out


def test_plot_is_optional(net, tmp_path):
    """With matplotlib a PNG is written; without it, plot() says so and writes nothing."""
    X, y = net.make_spiral()
    params, losses = net.train(X, y, steps=5, print_every=0)
    path = tmp_path / "net.png"
    made = net.plot(params, X, y, losses, str(path))
    assert made == path.exists()
    if made:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------
# calls: inputs untouched, fresh outputs, repeatable

def test_inputs_are_not_mutated(net):
    args = small_problem(seed=4)
    before = [np.copy(a) for a in args]
    value_and_grad(net.loss, wrt=net.PARAMS + ("X",))(*args)
    net.loss_and_grads(*args)
    for name, old, new in zip(("W1", "b1", "W2", "b2", "X", "y", "reg"), before, args):
        assert np.array_equal(old, new), f"{name} was changed by the call"


def test_gradients_share_no_memory(net):
    args = small_problem(seed=5)
    _, grads = value_and_grad(net.loss, wrt=net.PARAMS + ("X",))(*args)
    for i, g in enumerate(grads):
        for a in args:
            assert not np.shares_memory(g, a)
        for other in grads[i + 1:]:
            assert not np.shares_memory(g, other)


def test_calling_twice_gives_equal_independent_results(net):
    args = small_problem(seed=6)
    first_value, first = net.loss_and_grads(*args)
    kept = [g.copy() for g in first]
    for g in first:                       # scribble over the first result
        g[...] = 1234.5
    second_value, second = net.loss_and_grads(*args)
    assert second_value == first_value
    for old, new in zip(kept, second):
        assert np.array_equal(old, new)
    for a, b in zip(first, second):
        assert not np.shares_memory(a, b)


# --------------------------------------------------------------------------
# the generated source, pinned

def test_generated_source_matches_snapshot(net):
    args = small_problem()
    source = value_and_grad(net.loss, wrt=net.PARAMS).source_for(*args)
    if os.environ.get("ADCOMPILER_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(source)
    assert SNAPSHOT.exists(), (f"no snapshot yet: run with ADCOMPILER_UPDATE_SNAPSHOTS=1 "
                               f"to create {SNAPSHOT}")
    assert source == SNAPSHOT.read_text()


def test_source_after_an_array_call_is_the_variant_that_ran(net):
    args = small_problem()
    compiled = value_and_grad(net.loss, wrt=net.PARAMS)
    compiled(*args)
    assert compiled.source == compiled.source_for(*args)


def test_main_prints_the_array_variant(net, capsys):
    net.main(["--steps", "1"])
    out = capsys.readouterr().out
    args = small_problem()
    assert net.loss_and_grads.source_for(*args) in out


# --------------------------------------------------------------------------
# examples/vectorized_seed.py: the notes' section 1.5

def test_vectorized_seed_gives_the_notes_formulas(seed_example):
    W, X, dD = seed_example.example_inputs()
    assert (W.shape, X.shape, dD.shape) == ((5, 10), (10, 3), (5, 3))
    dW, dX = seed_example.dseeded(W, X, dD)
    assert dW.shape == W.shape and dX.shape == X.shape
    np.testing.assert_allclose(dW, dD.dot(X.T), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dX, W.T.dot(dD), rtol=0, atol=1e-12)


def test_vectorized_seed_other_shapes_and_finite_differences(seed_example):
    rng = np.random.default_rng(7)
    W, X = rng.standard_normal((4, 7)), rng.standard_normal((7, 2))
    dD = rng.standard_normal((4, 2))
    dW, dX = grad(seed_example.seeded, wrt=("W", "X"))(W, X, dD)
    np.testing.assert_allclose(dW, dD.dot(X.T), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dX, W.T.dot(dD), rtol=0, atol=1e-12)
    check_grads(seed_example.seeded, (W, X, dD), wrt=("W", "X"))


def test_vectorized_seed_source_uses_the_notes_products(seed_example):
    W, X, dD = seed_example.example_inputs()
    source = seed_example.dseeded.source_for(W, X, dD)
    assert re.search(r"\bdW = \w+\.dot\(X\.T\)", source), source
    assert re.search(r"\bdX = W\.T\.dot\(\w+\)", source), source


def test_vectorized_seed_script_output():
    result = subprocess.run([sys.executable, str(EXAMPLES / "vectorized_seed.py")], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "def seeded_grad(" in result.stdout
    assert "passed" in result.stdout
