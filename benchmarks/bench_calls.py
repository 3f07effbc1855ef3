"""Benchmark: a model written with helper functions against the same model in one function.

Calls to the user's own functions become forward/backward pairs in the
generated code (adcompiler/calls.py). This measures what that costs, in one
process:

  (a) a two-layer MLP's loss and gradients (N=256, D=784, H=100, C=10),
      written with helpers `dense`, `relu` and `softmax_cross_entropy`, against
      the same model written as one function: the helper version should take
      at most 1.10x the time of the single function (the target);
  (b) for information, a scalar helper called inside a 1000-step loop against
      the same loop with the helper's body written out by hand.

Times are the best per-call time over many batches (benchmarks/_timing.py),
the functions compared being measured in alternation. When the ratio in (a)
misses its target (or with --profile) the generated code of both versions is
timed statement by statement, helpers included, to show where the time goes.

Run from the repository root:  python benchmarks/bench_calls.py [--profile] [--cpu-time]

On a busy machine, OPENBLAS_NUM_THREADS=1 with --cpu-time gives steadier figures.
"""

import math
import os
import re
import sys
import time
import timeit
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from adcompiler import grad, value_and_grad                      # noqa: E402
from benchmarks._timing import (best_per_call, fmt_ms, fmt_us, numpy_benchmark_options,  # noqa: E402
                               verdict)

RATIO_TARGET = 1.10
ROUNDS = 15               # rounds of alternating measurements; the best one counts
MIN_TIME = 0.02           # seconds per timed batch
PARAMS = ("W1", "b1", "W2", "b2")


# --------------------------------------------------------------------------
# (a) the MLP, with helpers and as one function

def dense(x, W, b):
    return x @ W + b


def relu(x):
    return np.maximum(0.0, x)


def softmax_cross_entropy(scores, y):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = scores.shape[0]
    return -np.sum(log_probs[np.arange(n), y]) / n


def mlp_with_helpers(W1, b1, W2, b2, X, y, reg):
    hidden = relu(dense(X, W1, b1))
    scores = dense(hidden, W2, b2)
    return softmax_cross_entropy(scores, y) + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))


def mlp_in_one(W1, b1, W2, b2, X, y, reg):
    hidden = np.maximum(0.0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = scores.shape[0]
    data = -np.sum(log_probs[np.arange(n), y]) / n
    return data + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))


# --------------------------------------------------------------------------
# (b) a scalar helper in a loop, and the same loop written out

def damped(x, k):
    return x + 0.01 * (math.sin(x) - k * x)


def loop_with_helper(x, k):
    for i in range(1000):
        x = damped(x, k)
    return x


def loop_by_hand(x, k):
    for i in range(1000):
        x = x + 0.01 * (math.sin(x) - k * x)
    return x


# --------------------------------------------------------------------------
# timing

def best_cpu_per_call(fn, *args, repeat=3, min_time=MIN_TIME):
    """Like `best_per_call`, in CPU time of this process (steadier on a busy machine)."""
    timer = timeit.Timer(lambda: fn(*args), timer=time.process_time)
    number = 1
    while timer.timeit(number) < min_time:
        number *= 10 if number < 1000 else 2
    return min(timer.repeat(repeat=repeat, number=number)) / number


def best_interleaved(fns, args, rounds=ROUNDS, cpu_time=False):
    """Best per-call time of each function, measured in alternation, round after round."""
    measure = best_cpu_per_call if cpu_time else best_per_call
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], measure(fn, *args, repeat=3, min_time=MIN_TIME))
    return best


def _functions(source):
    """The generated functions in `source` (the gradient first, then the pairs), by name."""
    return re.findall(r"^def (\w+)\(", source, flags=re.M)


def profile_calls(gradient, args, label, clock=time.perf_counter):
    """Where the time of one gradient call goes, per function, from cProfile.

    The pair functions are reached through closure cells, so they cannot be
    wrapped from outside; cProfile sees them as the functions they are (their
    file names are `<adcompiler NAME HASH>`). Prints the cumulative and own
    time per gradient call of the most expensive functions.
    """
    import cProfile
    import pstats
    profile = cProfile.Profile(timer=clock)
    for _ in range(3):
        gradient(*args)
    profile.enable()
    for _ in range(20):
        gradient(*args)
    profile.disable()
    stats = pstats.Stats(profile)
    rows = []
    for (filename, _, name), (_, calls, total, cumulative, _) in stats.stats.items():
        rows.append((cumulative / 20, total / 20, calls // 20, name, os.path.basename(filename)))
    rows.sort(reverse=True)
    print(f"  {label}: cProfile, per gradient call (cumulative / own time)")
    for cumulative, own, calls, name, filename in rows[:14]:
        print(f"    {fmt_us(cumulative)} {fmt_us(own)} {calls:4d}x  {name}  ({filename[:40]})")


def bench_mlp(options):
    n, d, h, c = 256, 784, 100, 10
    rng = np.random.default_rng(0)
    args = (0.01 * rng.standard_normal((d, h)), 0.01 * rng.standard_normal(h),
            0.01 * rng.standard_normal((h, c)), 0.01 * rng.standard_normal(c),
            rng.standard_normal((n, d)), rng.integers(0, c, n), 1e-3)
    helpers = value_and_grad(mlp_with_helpers, wrt=PARAMS)
    one = value_and_grad(mlp_in_one, wrt=PARAMS)
    v1, g1 = helpers(*args)                      # compile outside the timing
    v2, g2 = one(*args)
    assert abs(v1 - v2) < 1e-10, (v1, v2)
    assert all(np.allclose(a, b, rtol=1e-10, atol=1e-13) for a, b in zip(g1, g2))

    forward, t_helpers, t_one = best_interleaved(
        [mlp_in_one, helpers, one], args, cpu_time=options.cpu_time)
    ratio = t_helpers / t_one
    ok = ratio <= RATIO_TARGET
    print(f"(a) MLP loss + gradients, N={n}, D={d}, H={h}, C={c}")
    print(f"  forward only                 {fmt_ms(forward)}")
    print(f"  one function                 {fmt_ms(t_one)}")
    print(f"  with helpers (call pairs)    {fmt_ms(t_helpers)}")
    print(f"  ratio helpers / one function: {ratio:.3f}x (target <= {RATIO_TARGET:.2f}x)  "
          f"{verdict(ok)}")
    source = helpers.source_for(*args)
    print(f"  generated functions (helpers): {', '.join(_functions(source))}")
    if options.profile or not ok:
        clock = time.process_time if options.cpu_time else time.perf_counter
        print()
        profile_calls(helpers, args, "with helpers", clock)
        profile_calls(one, args, "one function", clock)
    print()
    return ok, ratio


def bench_scalar_loop(options):
    args = (0.5, 0.3)
    # grad, not value_and_grad: value_and_grad of loop_by_hand returns the wrong value
    # (the loop variable is restored from its stack by the backward sweep before it is
    # returned; see tests/test_calls.py::test_value_and_grad_value_of_a_loop_variable)
    helpers = grad(loop_with_helper, wrt=0)
    by_hand = grad(loop_by_hand, wrt=0)
    g1, g2 = helpers(*args), by_hand(*args)
    assert abs(g1 - g2) < 1e-12, (g1, g2)
    forward, t_helpers, t_hand = best_interleaved(
        [loop_by_hand, helpers, by_hand], args, cpu_time=options.cpu_time)
    print("(b) scalar helper in a 1000-step loop, gradient (for information)")
    print(f"  forward only                 {fmt_us(forward)}")
    print(f"  helper's body written out    {fmt_us(t_hand)}")
    print(f"  helper called (call pairs)   {fmt_us(t_helpers)}")
    print(f"  ratio helper / written out:  {t_helpers / t_hand:.2f}x  "
          f"({(t_helpers - t_hand) / 1000 * 1e9:.0f} ns more per loop step)")
    if options.profile:
        print()
        profile_calls(helpers, args, "helper called", time.perf_counter)
    print()
    return t_helpers / t_hand


def main(argv=None):
    options = numpy_benchmark_options(argv, __doc__.split("\n")[0], "Calls to helper functions",
                                      "show where the time goes even when the target is met")
    ok, _ = bench_mlp(options)
    bench_scalar_loop(options)
    print(f"overall: {verdict(ok)}")
    return ok


if __name__ == "__main__":
    main()
