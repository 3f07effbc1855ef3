"""Gradients of a matrix product, seeded with an upstream gradient.

The backprop notes (section 1.5, "gradients for vectorized operations") take

    D = W.dot(X)          W: (5, 10), X: (10, 3)

and suppose the gradient dD on D arrives from further up the circuit. Then

    dW = dD.dot(X.T)      dX = W.T.dot(dD)

(the only way to make the shapes match). To get that from a compiler, which
differentiates scalar functions, seed it: the scalar

    s = np.sum(W.dot(X) * dD)

has d s / d D = dD, so its gradients with respect to W and X are exactly
the dW and dX above. This script checks that and prints the generated code.

Run it from the repository root:

    python examples/vectorized_seed.py
"""

import numpy as np

from adcompiler import grad


def seeded(W, X, dD):
    """A scalar whose gradient with respect to D = W.dot(X) is dD."""
    D = W.dot(X)
    return np.sum(D * dD)


# d seeded / d (W, X); the code for array arguments is generated on the first
# call with arrays (see it with dseeded.source_for(W, X, dD))
dseeded = grad(seeded, wrt=("W", "X"))


def by_hand(W, X, dD):
    """The notes' formulas: (dW, dX) for D = W.dot(X) given dD."""
    dW = dD.dot(X.T)      # .T gives the transpose of the matrix
    dX = W.T.dot(dD)
    return dW, dX


def example_inputs(seed=0):
    """W (5, 10), X (10, 3) and an upstream gradient dD shaped like D = W.dot(X)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((5, 10))
    X = rng.standard_normal((10, 3))
    dD = rng.standard_normal((5, 3))
    return W, X, dD


def main():
    W, X, dD = example_inputs()
    dW, dX = dseeded(W, X, dD)
    hW, hX = by_hand(W, X, dD)

    print("Generated gradient source")
    print("-------------------------")
    print(dseeded.source_for(W, X, dD))

    print("Compiled against the notes' formulas")
    print("------------------------------------")
    for name, ours, theirs, formula in (("dW", dW, hW, "dD.dot(X.T)"),
                                        ("dX", dX, hX, "W.T.dot(dD)")):
        diff = np.max(np.abs(ours - theirs))
        print(f"{name} {str(ours.shape):8} vs {formula:12} max |difference| = {diff:.1e}")
        assert ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=0, atol=1e-12)
    print("\npassed: the compiled gradients are the notes' dW and dX")


if __name__ == "__main__":
    main()
