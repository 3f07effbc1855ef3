"""A multi-layer perceptron written as small functions, its parameters in a dict.

The model is built from three helpers, each an ordinary NumPy function:

    dense(x, W, b)                    x W + b
    relu(x)                           max(0, x)
    softmax_cross_entropy(scores, y)  mean negative log-probability of the right class

and `loss(params, X, y)` strings them together for a network with two hidden
layers. `params` is a dict {"W1": ..., "b1": ..., "W2": ..., ...}; `grad(loss)`
takes the dict as it is and returns the gradient as a dict with the same keys,
so a gradient-descent step is one line per parameter. Each helper becomes a
forward/backward pair in the generated code, compiled once and shared by every
call site (`dense` is called three times, `relu` twice).

The data is synthetic: three Gaussian blobs in the plane whose classes are
separable but not linearly (the middle class sits between the other two,
bent), generated in the script.

Run it from the repository root:

    python examples/mlp_params.py             # train, print progress and accuracy
    python examples/mlp_params.py --source    # also print the generated gradient
"""

import argparse
import time

import numpy as np

from adcompiler import grad

HIDDEN = (32, 32)
STEPS = 300
LEARNING_RATE = 0.5
REG = 1e-4
SEED = 0


# --------------------------------------------------------------------------
# the model, as small functions

def dense(x, W, b):
    """An affine layer: (N, D) inputs to (N, H) outputs."""
    return x @ W + b


def relu(x):
    return np.maximum(0.0, x)


def softmax_cross_entropy(scores, y):
    """The mean of -log softmax(scores)[i, y[i]] over the rows, computed stably."""
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_norm = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    log_probs = shifted - log_norm
    n = scores.shape[0]
    return -np.sum(log_probs[np.arange(n), y]) / n


def l2(W1, W2, W3):
    """Half the sum of squares of the weight matrices (the biases are not penalised)."""
    return 0.5 * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))


def scores_of(params, X):
    """The class scores of the network for the rows of X."""
    h1 = relu(dense(X, params["W1"], params["b1"]))
    h2 = relu(dense(h1, params["W2"], params["b2"]))
    return dense(h2, params["W3"], params["b3"])


def loss(params, X, y, reg=REG):
    """Softmax cross-entropy of the network, plus L2 on the weights."""
    h1 = relu(dense(X, params["W1"], params["b1"]))
    h2 = relu(dense(h1, params["W2"], params["b2"]))
    scores = dense(h2, params["W3"], params["b3"])
    return softmax_cross_entropy(scores, y) + reg * l2(params["W1"], params["W2"], params["W3"])


# d loss / d params, as a dict with the keys of params
loss_grad = grad(loss)


# --------------------------------------------------------------------------
# data, parameters, training

def make_data(points_per_class=100, seed=SEED):
    """Three classes in the plane: two blobs on a line and one bent arc between them.

    Returns X of shape (3 * points_per_class, 2) and integer labels y.
    """
    rng = np.random.default_rng(seed)
    left = rng.normal(loc=(-2.0, 0.0), scale=0.45, size=(points_per_class, 2))
    right = rng.normal(loc=(2.0, 0.0), scale=0.45, size=(points_per_class, 2))
    angle = rng.uniform(0.25 * np.pi, 0.75 * np.pi, size=points_per_class)
    arc = np.column_stack((1.8 * np.cos(angle), 2.2 * np.sin(angle) - 1.0))
    arc += rng.normal(scale=0.15, size=arc.shape)
    X = np.concatenate([left, right, arc])
    y = np.repeat(np.arange(3), points_per_class)
    return X, y


def init_params(dims, hidden=HIDDEN, classes=3, seed=SEED):
    """He-scaled random weights and zero biases, in a dict W1, b1, W2, b2, W3, b3."""
    rng = np.random.default_rng(seed + 1)
    sizes = (dims,) + tuple(hidden) + (classes,)
    params = {}
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params[f"b{k}"] = np.zeros(fan_out)
    return params


def accuracy(params, X, y):
    """The fraction of rows of X whose highest score is the class y."""
    return float(np.mean(np.argmax(scores_of(params, X), axis=1) == y))


def train(X, y, steps=STEPS, learning_rate=LEARNING_RATE, reg=REG, seed=SEED,
          print_every=50, log=print):
    """Full-batch gradient descent with the gradient as a dict; returns (params, losses)."""
    params = init_params(X.shape[1], seed=seed, classes=int(y.max()) + 1)
    losses = []
    for step in range(steps):
        grads = loss_grad(params, X, y, reg)
        if print_every and (step % print_every == 0 or step == steps - 1):
            value = loss(params, X, y, reg)
            losses.append(value)
            log(f"step {step:4d}   loss {value:.4f}   accuracy {accuracy(params, X, y):.2%}")
        for name, g in grads.items():
            params[name] = params[name] - learning_rate * g
    return params, losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS, help=f"default {STEPS}")
    parser.add_argument("--source", action="store_true", help="print the generated gradient")
    args = parser.parse_args(argv)

    X, y = make_data()
    print(f"{X.shape[0]} points, {int(y.max()) + 1} classes; network "
          f"{X.shape[1]} -> {' -> '.join(map(str, HIDDEN))} -> {int(y.max()) + 1}\n")
    start = time.perf_counter()
    params, _ = train(X, y, steps=args.steps)
    seconds = time.perf_counter() - start
    acc = accuracy(params, X, y)
    print(f"\ntraining accuracy: {acc:.2%}  ({args.steps} steps in {seconds:.1f} s; chance is 33%)")
    if args.source:
        print("\nGenerated gradient of loss (the variant training ran)")
        print("------------------------------------------------------")
        print(loss_grad.source_for(params, X, y, REG))
    return acc


if __name__ == "__main__":
    main()
