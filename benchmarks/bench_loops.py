"""Benchmark: gradients of loops, compiled versus written by hand.

In one process, for three loop workloads:
  (a) the 200-step recurrence h <- tanh(w h + u x[t]), gradient with respect
      to w and u (target: at most 1.5x the hand-written backward pass);
  (b) a degree-50 polynomial by Horner's rule, gradient with respect to x,
      then with respect to x and the coefficient array (target: 1.5x each);
  (c) a 1,000,000-step scalar recurrence x <- x + h sin(x), gradient with
      respect to the start x: time and peak memory (tracemalloc), compiled
      versus a hand-written backward pass that stores the same per-step values.
Each workload also prints the forward-only time for scale. Times are CPU
times of this process (see best_cpu_per_call).

Run from the repository root:  python benchmarks/bench_loops.py
"""

import gc
import math
import re
import sys
import time
import timeit
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from adcompiler import grad, runtime                            # noqa: E402
from benchmarks._timing import fmt_ms, fmt_us, verdict          # noqa: E402

RATIO_TARGET = 1.5
RNN_STEPS = 200
DEGREE = 50
LONG_STEPS = 1_000_000
ROUNDS = 3              # interleaved timing rounds (see best_times)


# --------------------------------------------------------------------------
# the functions, written forward only

def rnn(w, u, x):
    h = 0.0
    for t in range(len(x)):
        h = math.tanh(w * h + u * x[t])
    return h


def horner(x, c):
    p = 0.0
    for a in c:
        p = p * x + a
    return p


def drift(x, h, n):
    for i in range(n):
        x = x + h * math.sin(x)
    return x


# --------------------------------------------------------------------------
# their gradients, written by hand: forward storing what the backward needs

def rnn_by_hand(w, u, x):
    hs = [0.0]
    for t in range(len(x)):
        hs.append(math.tanh(w * hs[t] + u * x[t]))
    dw = du = 0.0
    dh = 1.0
    for t in reversed(range(len(x))):
        da = dh * (1.0 - hs[t + 1] * hs[t + 1])
        dw += da * hs[t]
        du += da * x[t]
        dh = da * w
    return dw, du


def horner_by_hand_x(x, c):
    ps = []
    p = 0.0
    for a in c:
        ps.append(p)
        p = p * x + a
    dx = 0.0
    dp = 1.0
    for p in reversed(ps):
        dx += dp * p
        dp = dp * x
    return dx


def horner_by_hand(x, c):
    ps = []
    p = 0.0
    for a in c:
        ps.append(p)
        p = p * x + a
    dx = 0.0
    dc = np.zeros(len(c))
    dp = 1.0
    for i in reversed(range(len(c))):
        dc[i] = dp
        dx += dp * ps[i]
        dp = dp * x
    return dx, dc


def drift_by_hand(x, h, n):
    xs = []
    for i in range(n):
        xs.append(x)
        x = x + h * math.sin(x)
    dx = 1.0
    for x in reversed(xs):
        dx = dx + dx * h * math.cos(x)
    return dx


# --------------------------------------------------------------------------

def generated_function(gradient, fn, args):
    """The generated variant for `args` alone, without the wrapper's argument handling.

    Built from the public `source_for`, run in fn's globals plus the runtime
    helpers; None if that fails (this line is informational only).
    """
    namespace = {name: value for name, value in vars(runtime).items()
                 if not name.startswith("_")}
    namespace.update(fn.__globals__)
    try:
        source = gradient.source_for(*args)
        name = re.match(r"def (\w+)\(", source).group(1)
        exec(compile(source, "<bench_loops generated>", "exec"), namespace)
        generated = namespace[name]
        generated(*args)
        return generated
    except Exception:
        return None


def agree(ours, theirs):
    """Whether two gradients (a number, an array, or a tuple of them) agree to 1e-10."""
    if not isinstance(ours, tuple):
        ours, theirs = (ours,), (theirs,)
    return len(ours) == len(theirs) and all(
        np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                    rtol=1e-10, atol=1e-10) for a, b in zip(ours, theirs))


def best_cpu_per_call(fn, *args, repeat=5, min_time=0.05):
    """Like `_timing.best_per_call`, but in CPU time of this process.

    Other processes often share the machine (the test suites of other
    engineers): wall-clock times then swing by a third from run to run, while
    the CPU time a call takes stays put. On an idle machine the two agree.
    """
    timer = timeit.Timer(lambda: fn(*args), timer=time.process_time)
    number = 1
    while timer.timeit(number) < min_time:
        number *= 10 if number < 1000 else 2
    return min(timer.repeat(repeat=repeat, number=number)) / number


def best_times(fns, args, rounds=ROUNDS, **timing):
    """The best CPU time per call of each of `fns`, measured in interleaved rounds,
    so that whatever else the machine does falls on all of them alike."""
    best = [math.inf] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], best_cpu_per_call(fn, *args, **timing))
    return best


def compare(title, fn, hand, compiled, args, label):
    """Print forward, hand-written and compiled times and the ratio; return the ratio."""
    same = agree(compiled(*args), hand(*args))
    raw = generated_function(compiled, fn, args)
    fns = [fn, hand, compiled] + ([raw] if raw is not None else [])
    t_forward, t_hand, t_compiled, *t_raw = best_times(fns, args)
    ratio = t_compiled / t_hand
    print(title)
    print(f"  forward only     {fmt_us(t_forward)}")
    print(f"  hand-written     {fmt_us(t_hand)}")
    print(f"  compiled         {fmt_us(t_compiled)}   (values agree: {same})")
    if t_raw:
        print(f"  generated code alone (no call wrapper) {fmt_us(t_raw[0])}"
              f"   ({t_raw[0] / t_hand:.2f}x hand-written)")
    print(f"  ratio compiled / hand-written ({label}): {ratio:.2f}x "
          f"(target <= {RATIO_TARGET:.2f}x)  {verdict(ratio <= RATIO_TARGET)}")
    return ratio


def bench_rnn():
    x = np.random.default_rng(0).standard_normal(RNN_STEPS)
    compare(f"(a) tanh recurrence, {RNN_STEPS} steps, gradient wrt w and u",
            rnn, rnn_by_hand, grad(rnn, wrt=("w", "u")), (0.8, 0.5, x), "w, u")


def bench_horner():
    c = np.random.default_rng(1).standard_normal(DEGREE + 1)
    compare(f"(b) Horner's rule, degree {DEGREE}, gradient wrt x",
            horner, horner_by_hand_x, grad(horner, wrt="x"), (0.9, c), "x")
    compare(f"    Horner's rule, degree {DEGREE}, gradient wrt x and the coefficients",
            horner, horner_by_hand, grad(horner, wrt=("x", "c")), (0.9, c), "x, c")


def peak_memory(fn, *args):
    """Peak traced memory (bytes) of one call, above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_long_loop():
    args = (1.0, 1e-6, LONG_STEPS)
    compiled = grad(drift, wrt="x")
    ours, theirs = compiled(*args), drift_by_hand(*args)
    print(f"(c) x <- x + h sin(x), {LONG_STEPS:,} steps, gradient wrt the start x")
    print(f"  values: compiled {ours:.15f}, hand-written {theirs:.15f}, "
          f"agree: {agree(ours, theirs)}")
    t_forward, t_hand, t_compiled = best_times([drift, drift_by_hand, compiled], args,
                                               repeat=1, min_time=0.0)
    m_forward = peak_memory(drift, *args)
    m_hand = peak_memory(drift_by_hand, *args)
    m_compiled = peak_memory(compiled, *args)
    mb = 1024 * 1024
    print(f"  {'':14}{'time':>12}{'peak memory':>16}")
    print(f"  {'forward only':14}{fmt_ms(t_forward):>12}{m_forward / mb:13.2f} MB")
    print(f"  {'hand-written':14}{fmt_ms(t_hand):>12}{m_hand / mb:13.2f} MB")
    print(f"  {'compiled':14}{fmt_ms(t_compiled):>12}{m_compiled / mb:13.2f} MB")
    print(f"  compiled / hand-written: time {t_compiled / t_hand:.2f}x, "
          f"peak memory {m_compiled / m_hand:.2f}x")


def main():
    print(f"Loop gradients (Python {sys.version.split()[0]}, NumPy {np.__version__})")
    print("Times: best CPU time per call of this process, interleaved rounds\n")
    bench_rnn()
    print()
    bench_horner()
    print()
    bench_long_loop()


if __name__ == "__main__":
    main()
