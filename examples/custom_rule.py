"""Registering an adjoint rule for a function the compiler cannot read.

adcompiler differentiates Python source. Some functions have none: a builtin,
a C extension's function, a function made by `exec`, or a `functools.partial`
object wrapping one. Called with an active argument, such a function is an
error at `grad()` time, naming it, its line, and `@adcompiler.adjoint`.

The fix is to tell the compiler the derivative once, with a rule written in the
same template style as the built-in ones:

    @adjoint(softplus)
    def _(out, x):
        dx += dout * np.exp(x - out)       # softplus'(x) = sigmoid(x) = e^(x - softplus(x))

`out` stands for the primitive's result, `x` for its input, and `dx`/`dout`
for their adjoints. The compiler copies the rule, with the caller's names
substituted, into every gradient that calls `softplus`: the printed source
shows the rule inlined.

Here `softplus` is `functools.partial(np.logaddexp, 0.0)`, a numerically
stable log(1 + e^x) for any x (no overflow for large x), used in an
L2-regularised logistic regression.

Run it from the repository root:

    python examples/custom_rule.py
"""

import functools

import numpy as np

from adcompiler import DifferentiationError, adjoint, check_grads, grad

# log(1 + e^x), stable for large |x|: a partial object, which has no Python source
softplus = functools.partial(np.logaddexp, 0.0)


@adjoint(softplus)
def _(out, x):
    """softplus'(x) is the logistic sigmoid, exp(x - softplus(x)): never overflows."""
    dx += dout * np.exp(x - out)


def loss(w, X, y, reg=0.01):
    """Logistic loss of the linear model X w with labels y in {-1, +1}, plus L2."""
    margins = y * (X @ w)
    return np.mean(softplus(-margins)) + 0.5 * reg * np.sum(w * w)


# the same function as `softplus`, but a different object with no rule: refused
unregistered_softplus = functools.partial(np.logaddexp, 0.0)


def loss_without_rule(w, X, y):
    return np.mean(unregistered_softplus(-y * (X @ w)))


def make_data(n=200, d=5, seed=0):
    """A linearly separable-ish problem: labels from a hidden weight vector, a few flipped."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = np.sign(X @ w_true + 0.3 * rng.standard_normal(n))
    return X, y


def train(X, y, steps=200, learning_rate=1.0, log=print, print_every=50):
    """Gradient descent on `loss`; returns the weights."""
    dloss = grad(loss)
    w = np.zeros(X.shape[1])
    for step in range(steps):
        w = w - learning_rate * dloss(w, X, y)
        if print_every and (step % print_every == 0 or step == steps - 1):
            log(f"step {step:4d}   loss {loss(w, X, y):.4f}")
    return w


def main():
    X, y = make_data()

    print("Without a rule, grad() refuses the call and says what to do:\n")
    try:
        grad(loss_without_rule)
    except DifferentiationError as exc:
        print(f"  {exc}\n".replace("\n", "\n  "))

    w0 = 0.1 * np.arange(X.shape[1])
    check_grads(loss, (w0, X, y), wrt=0)
    print("check_grads: the rule agrees with finite differences\n")

    w = train(X, y)
    accuracy = float(np.mean(np.sign(X @ w) == y))
    print(f"\ntraining accuracy: {accuracy:.2%}\n")

    print("Generated gradient (the rule is inlined where softplus is called):")
    print("------------------------------------------------------------------")
    print(grad(loss).source_for(w, X, y))
    return accuracy


if __name__ == "__main__":
    main()
