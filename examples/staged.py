"""Staged computation: a compiled gradient next to a hand-written backward pass.

The function is the "staged computation" example from the backpropagation
notes (section 1.3.2):

    f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)**2)

Written one small stage per line, it is easy to differentiate by hand: walk the
stages backwards and apply the chain rule to each one. `adcompiler.grad` does
the same walk for you and hands back ordinary Python source you can read.

Run it from the repository root:

    python examples/staged.py
"""

import math

from adcompiler import check_grads, grad


def f(x, y):
    # Each intermediate gets a name, so each line is one easy derivative.
    # sigmoid(y), in the numerator
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    # sigmoid(x), in the denominator
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den
    return num * invden


def f_backward_by_hand(x, y):
    """The gradient (df/dx, df/dy), worked out by hand the way the notes do it.

    `dname` holds d f / d name. The forward pass is repeated because the
    backward pass needs its intermediate values. Local derivatives of `+`
    are 1, so those stages simply pass their gradient on.
    """
    # forward pass (same stages as f)
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den

    # backward pass, last stage first
    # f = num * invden: each factor's gradient is the other factor
    dnum = invden
    dinvden = num
    # invden = 1.0 / den
    dden = (-1.0 / den ** 2) * dinvden
    # den = sigx + xpysqr
    dsigx = dden
    dxpysqr = dden
    # xpysqr = xpy ** 2
    dxpy = (2 * xpy) * dxpysqr
    # xpy = x + y: the first gradient reaching x and y
    dx = dxpy
    dy = dxpy
    # sigx = sigmoid(x); sigmoid'(x) = (1 - sigx) * sigx.
    # x is used in three stages, so its gradients add up: +=
    dx += ((1 - sigx) * sigx) * dsigx
    # num = x + sigy
    dx += dnum
    dsigy = dnum
    # sigy = sigmoid(y)
    dy += ((1 - sigy) * sigy) * dsigy
    return dx, dy


# The compiled gradient with respect to both arguments. Nothing is compiled
# yet: that happens on the first call or the first look at `df.source`.
df = grad(f, wrt=(0, 1))


def main():
    print("Generated gradient source")
    print("-------------------------")
    print(df.source)

    # Python ints work as real numbers; the gradients come back as floats.
    x, y = 3, -4
    dx, dy = df(x, y)
    hx, hy = f_backward_by_hand(x, y)
    print(f"Gradient at (x, y) = ({x}, {y})")
    print("--------------------------------")
    print(f"{'':4}{'compiled':>22}{'by hand':>22}{'difference':>12}")
    for name, ours, theirs in (("dx", dx, hx), ("dy", dy, hy)):
        print(f"{name:4}{ours:22.17f}{theirs:22.17f}{abs(ours - theirs):12.1e}")
    print()

    # check_grads compares with central finite differences and raises an
    # AssertionError (with a table of the worst entries) on a mismatch.
    check_grads(f, (3.0, -4.0), wrt=(0, 1))
    print("Finite-difference check")
    print("-----------------------")
    print("passed: compiled gradient agrees with central finite differences")


if __name__ == "__main__":
    main()
