"""A two-layer neural network on a spiral, trained with a compiled gradient.

The network is the classic one from the CS231n notes:

    scores = max(0, X W1 + b1) W2 + b2

with a softmax cross-entropy loss averaged over the examples and L2
regularisation on the weights. `loss` below is written forward only, one
stage per line; `value_and_grad` turns it into a function returning the loss
and the gradients of all four parameters, as ordinary Python source you can
print and read. Training is plain gradient descent.

The data is a three-armed spiral in the plane (300 points, 3 classes), which a
linear classifier cannot separate but a small network can.

Run it from the repository root:

    python examples/two_layer_net.py                 # train, print progress
    python examples/two_layer_net.py --plot out.png  # also plot (needs matplotlib)
"""

import argparse
import time

import numpy as np

from adcompiler import value_and_grad

PARAMS = ("W1", "b1", "W2", "b2")

# Training settings the example (and its test) use by default.
HIDDEN = 100
STEPS = 4000
LEARNING_RATE = 1.0
REG = 1e-3
SEED = 0


def make_spiral(points_per_class=100, classes=3, noise=0.2, seed=SEED):
    """A spiral with `classes` arms of `points_per_class` points each, in 2-D.

    Point i of an arm sits at radius i / (points_per_class - 1), at an angle
    that grows with the radius (one and a bit turns over the arm), shifted by
    a third of a turn per class and jittered by Gaussian noise of size `noise`
    (radians). Returns X of shape (classes * points_per_class, 2) and the
    integer labels y.
    """
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.0, 1.0, points_per_class)
    xs, ys = [], []
    for k in range(classes):
        start = 2 * np.pi * k / classes
        angle = start + 4.0 * radius + noise * rng.standard_normal(points_per_class)
        xs.append(np.column_stack((radius * np.cos(angle), radius * np.sin(angle))))
        ys.append(np.full(points_per_class, k))
    return np.concatenate(xs), np.concatenate(ys)


def loss(W1, b1, W2, b2, X, y, reg):
    """Softmax cross-entropy of the two-layer net, averaged over the examples, plus L2."""
    N = X.shape[0]
    hidden = np.maximum(0, X.dot(W1) + b1)              # ReLU layer, (N, H)
    scores = hidden.dot(W2) + b2                        # class scores, (N, C)
    # subtracting each row's maximum keeps exp from overflowing; it leaves probs unchanged
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    correct_logprobs = np.log(probs[np.arange(N), y])   # log-probability of the right class
    data_loss = -np.sum(correct_logprobs) / N
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return data_loss + reg_loss


# loss and d loss / d (W1, b1, W2, b2), from one forward sweep. The code for
# array arguments is generated on the first call with arrays; see it with
# loss_and_grads.source_for(*example_arguments).
loss_and_grads = value_and_grad(loss, wrt=PARAMS)


def init_params(dims, hidden=HIDDEN, classes=3, seed=SEED):
    """Small random weights and zero biases, as a dict keyed by parameter name."""
    rng = np.random.default_rng(seed + 1)
    return {
        "W1": 0.01 * rng.standard_normal((dims, hidden)),
        "b1": np.zeros(hidden),
        "W2": 0.01 * rng.standard_normal((hidden, classes)),
        "b2": np.zeros(classes),
    }


def predict(params, X):
    """The predicted class of each row of X."""
    hidden = np.maximum(0, X.dot(params["W1"]) + params["b1"])
    return np.argmax(hidden.dot(params["W2"]) + params["b2"], axis=1)


def accuracy(params, X, y):
    """The fraction of rows of X classified as y."""
    return float(np.mean(predict(params, X) == y))


def train(X, y, steps=STEPS, hidden=HIDDEN, learning_rate=LEARNING_RATE, reg=REG,
          seed=SEED, print_every=500, log=print):
    """Plain gradient descent on `loss`, from small random weights.

    Returns (params, losses): the trained parameters as a dict and the loss
    before each step. Every `print_every` steps (and at the last one) a
    progress line goes to `log`; pass ``print_every=0`` for silence.
    """
    params = init_params(X.shape[1], hidden, int(y.max()) + 1, seed)
    losses = []
    for step in range(steps):
        value, grads = loss_and_grads(*(params[name] for name in PARAMS), X, y, reg)
        losses.append(value)
        if print_every and (step % print_every == 0 or step == steps - 1):
            log(f"step {step:5d}   loss {value:.4f}")
        for name, g in zip(PARAMS, grads):
            params[name] -= learning_rate * g
    return params, losses


def plot(params, X, y, losses, path):
    """Save the loss curve and the decision regions to `path`; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap
    except ImportError:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    left.plot(losses)
    left.set_xlabel("step")
    left.set_ylabel("loss")
    left.set_yscale("log")
    left.set_title("training loss")

    margin = 0.2
    x0, x1 = X[:, 0].min() - margin, X[:, 0].max() + margin
    y0, y1 = X[:, 1].min() - margin, X[:, 1].max() + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    regions = predict(params, np.column_stack((gx.ravel(), gy.ravel()))).reshape(gx.shape)
    classes = int(y.max()) + 1
    colours = ListedColormap([plt.get_cmap("tab10")(k) for k in range(classes)])
    right.contourf(gx, gy, regions, levels=np.arange(classes + 1) - 0.5, cmap=colours, alpha=0.3)
    right.scatter(X[:, 0], X[:, 1], c=y, cmap=colours, vmin=-0.5, vmax=classes - 0.5, s=12,
                  edgecolors="k", linewidths=0.3)
    right.set_title("decision regions")
    right.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plot", metavar="PATH", help="save a PNG of the loss curve and "
                        "the decision regions (needs matplotlib)")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"default {STEPS}")
    args = parser.parse_args(argv)

    X, y = make_spiral()
    print(f"Spiral: {X.shape[0]} points, {y.max() + 1} classes; "
          f"network 2 -> {HIDDEN} -> {y.max() + 1}\n")

    start = time.perf_counter()
    params, losses = train(X, y, steps=args.steps)
    seconds = time.perf_counter() - start
    acc = accuracy(params, X, y)
    print(f"\ntraining accuracy: {acc:.2%}  ({args.steps} steps in {seconds:.1f} s)\n")

    print("Generated source of loss_and_grads (the variant training ran)")
    print("--------------------------------------------------------------")
    print(loss_and_grads.source_for(*(params[name] for name in PARAMS), X, y, REG))

    if args.plot:
        if plot(params, X, y, losses, args.plot):
            print(f"saved the plot to {args.plot}")
        else:
            print("matplotlib is not installed: no plot")


if __name__ == "__main__":
    main()
