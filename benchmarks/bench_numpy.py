"""Benchmark: compiled NumPy gradients against hand-written backward passes.

In one process:
  (a) the two-layer net's loss (examples/two_layer_net.py) with N=256, D=784,
      H=100, C=10: the compiled value_and_grad (loss and the gradients of
      W1, b1, W2, b2) against a hand-written NumPy forward+backward pass
      (target: at most 1.10x its time), with the forward-only loss for scale;
  (b) f(A, x) = sum(log(1 + exp(A @ x))) with A of shape (2000, 500): the
      compiled gradient with respect to x against the hand-written
      A.T.dot(sigmoid(A @ x)) (target: at most 1.05x), with the forward-only
      f for scale.

Times are the best per-call time over many batches (benchmarks/_timing.py),
the functions compared being measured in alternation.
When a ratio misses its target (or with --profile), the generated code and the
hand-written pass are timed statement by statement, to show where the extra
time goes.

Run from the repository root:  python benchmarks/bench_numpy.py [--profile]

On a busy shared machine the wall-clock figures swing widely (a BLAS thread
waiting for a busy core slows the matrix products a lot); for steadier ones
measure CPU time with single-threaded BLAS:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_numpy.py --cpu-time
"""

import ast
import importlib.util
import inspect
import re
import statistics
import sys
import textwrap
import time
import timeit
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from adcompiler import grad, runtime, value_and_grad                   # noqa: E402
from benchmarks._timing import (best_per_call, fmt_ms, fmt_us, numpy_benchmark_options,  # noqa: E402
                               verdict)

NET_RATIO_TARGET = 1.10
SOFTPLUS_RATIO_TARGET = 1.05
ROUNDS = 20               # rounds of alternating measurements; the best one counts
MIN_TIME = 0.02           # seconds per timed batch


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    module_name = f"_adcompiler_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, REPO / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# hand-written passes

def net_by_hand(W1, b1, W2, b2, X, y, reg):
    """The two-layer net's loss and (dW1, db1, dW2, db2), written by hand."""
    n = X.shape[0]
    # forward
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -np.sum(np.log(probs[rows, y])) / n + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    # backward
    dscores = probs
    dscores[rows, y] -= 1
    dscores /= n
    dW2 = hidden.T.dot(dscores)
    dW2 += reg * W2
    db2 = np.sum(dscores, axis=0)
    dhidden = dscores.dot(W2.T)
    dhidden[hidden <= 0] = 0
    dW1 = X.T.dot(dhidden)
    dW1 += reg * W1
    db1 = np.sum(dhidden, axis=0)
    return loss, (dW1, db1, dW2, db2)


def softplus_sum(A, x):
    """sum(log(1 + exp(A @ x))): the loss whose gradient is compiled in (b)."""
    return np.sum(np.log(1 + np.exp(A @ x)))


def softplus_sum_grad_by_hand(A, x):
    """d softplus_sum / d x = A.T (sigmoid(A @ x)), written by hand."""
    z = A @ x
    sig = 1 / (1 + np.exp(-z))
    return A.T.dot(sig)


# --------------------------------------------------------------------------
# the generated code, run without the call wrapper, and timed statement by statement

def _namespace(fn):
    """Globals the generated code of `fn` can run in: fn's own, and the runtime helpers."""
    namespace = {name: value for name, value in vars(runtime).items() if not name.startswith("_")}
    namespace.update(fn.__globals__)
    return namespace


def generated_function(source, fn):
    """The generated function alone, built from its source in fn's globals; None if that fails."""
    namespace = _namespace(fn)
    try:
        name = re.match(r"def (\w+)\(", source).group(1)
        exec(compile(source, "<bench_numpy generated>", "exec"), namespace)
        return namespace[name]
    except Exception:                     # informational only
        return None


def _minor_faults():
    """Minor page faults of this process so far (0 where `resource` is missing)."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_statements(source, namespace, args, rounds=400, clock=time.perf_counter):
    """(statement text, best seconds, page faults) for each top-level statement of
    the function in `source`.

    The body is run `rounds` times, statement after statement, from the
    arguments `args`; each statement keeps its best time (less the cost of
    timing an empty statement) and its median count of minor page faults.
    """
    func = ast.parse(textwrap.dedent(source)).body[0]
    params = [a.arg for a in func.args.args]
    body = [s for s in func.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    statements = []
    for stmt in body:
        if isinstance(stmt, ast.Return):
            stmt = ast.Assign(targets=[ast.Name(id="__result", ctx=ast.Store())], value=stmt.value)
            ast.fix_missing_locations(stmt)
        module = ast.Module(body=[stmt], type_ignores=[])
        statements.append((ast.unparse(stmt), compile(module, "<statement>", "exec")))
    empty = compile("pass", "<statement>", "exec")
    best = [float("inf")] * len(statements)
    faults = [[] for _ in statements]
    best_empty = float("inf")
    for _ in range(rounds):
        scope = dict(namespace)
        scope.update(zip(params, [a.copy() if isinstance(a, np.ndarray) else a for a in args]))
        for i, (_, code) in enumerate(statements):
            before = _minor_faults()
            start = clock()
            exec(code, scope)
            elapsed = clock() - start
            faults[i].append(_minor_faults() - before)
            if elapsed < best[i]:
                best[i] = elapsed
        start = clock()
        exec(empty, scope)
        best_empty = min(best_empty, clock() - start)
        del scope
    return [(text, max(t - best_empty, 0.0), statistics.median(f))
            for (text, _), t, f in zip(statements, best, faults)]


def print_statement_times(title, rows):
    total = sum(t for _, t, _ in rows)
    total_faults = sum(f for _, _, f in rows)
    print(f"  {title}: sum of statements {fmt_us(total).strip()}, "
          f"{total_faults:.0f} page faults")
    print(f"    {'best':>11} {'share':>6} {'faults':>6}  statement")
    for text, t, f in rows:
        line = text.replace("\n", " ")
        if len(line) > 72:
            line = line[:69] + "..."
        share = 100 * t / total if total else 0.0
        print(f"    {fmt_us(t)} {share:5.1f}% {f:6.0f}  {line}")


# --------------------------------------------------------------------------
# the benchmarks

def best_cpu_per_call(fn, *args, repeat=3, min_time=MIN_TIME):
    """Like `best_per_call`, but in CPU time of this process (time.process_time).

    On a busy shared machine the wall clock also counts the time other
    processes held the CPU; CPU time does not. Use it with single-threaded
    BLAS (OPENBLAS_NUM_THREADS=1): it adds up the time of every thread.
    """
    timer = timeit.Timer(lambda: fn(*args), timer=time.process_time)
    number = 1
    while timer.timeit(number) < min_time:
        number *= 10 if number < 1000 else 2
    return min(timer.repeat(repeat=repeat, number=number)) / number


def best_interleaved(fns, args, rounds=ROUNDS, cpu_time=False):
    """Best per-call time of each function in `fns`, measured in alternation.

    Each round times every function once (a few short batches); the best
    over all rounds counts. Alternating keeps a slow spell of a shared
    machine from favouring whichever function ran at a quiet time.
    """
    measure = best_cpu_per_call if cpu_time else best_per_call
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], measure(fn, *args, repeat=3, min_time=MIN_TIME))
    return best


def page_faults_per_call(fn, args, calls=50):
    """Minor page faults per call: fresh memory the allocator had to map from the system."""
    fn(*args)
    start = _minor_faults()
    for _ in range(calls):
        fn(*args)
    return (_minor_faults() - start) / calls


def compare(title, forward, hand, compiled, args, target, source, fn, options, hand_fn):
    """Time forward / hand-written / compiled / generated code alone; profile on a miss."""
    raw = generated_function(source, fn)
    fns = [forward, hand, compiled] + ([raw] if raw is not None else [])
    times = best_interleaved(fns, args, cpu_time=options.cpu_time)
    t_forward, t_hand, t_compiled = times[:3]
    ratio = t_compiled / t_hand
    print(title)
    print(f"  forward only           {fmt_ms(t_forward)}")
    print(f"  hand-written           {fmt_ms(t_hand)}")
    print(f"  compiled               {fmt_ms(t_compiled)}")
    if raw is not None:
        t_raw = times[3]
        print(f"  generated code alone   {fmt_ms(t_raw)}   ({t_raw / t_hand:.3f}x hand-written; "
              f"call wrapper {fmt_us(t_compiled - t_raw).strip()})")
    faults = [page_faults_per_call(f, args) for f in (hand, compiled)]
    print(f"  page faults per call   hand-written {faults[0]:.0f}, compiled {faults[1]:.0f}")
    ok = ratio <= target
    print(f"  ratio compiled / hand-written: {ratio:.3f}x (target <= {target:.2f}x)  {verdict(ok)}")
    if options.profile or not ok:
        clock = time.process_time if options.cpu_time else time.perf_counter
        print()
        for what, text, namespace in (
                ("generated code", source, _namespace(fn)),
                ("hand-written", inspect.getsource(hand_fn), _namespace(hand_fn))):
            try:
                rows = time_statements(text, namespace, args, clock=clock)
            except Exception as exc:      # e.g. a helper the namespace lacks
                print(f"  {what}: cannot time statement by statement: {exc!r}")
                continue
            print_statement_times(f"{what}, per statement", rows)
    print()
    return ok


def bench_two_layer_net(options):
    net = load_example("two_layer_net")
    n, d, h, c = 256, 784, 100, 10
    rng = np.random.default_rng(0)
    args = (0.01 * rng.standard_normal((d, h)), 0.01 * rng.standard_normal(h),
            0.01 * rng.standard_normal((h, c)), 0.01 * rng.standard_normal(c),
            rng.standard_normal((n, d)), rng.integers(0, c, n), 1e-3)
    compiled = value_and_grad(net.loss, wrt=net.PARAMS)
    value, grads = compiled(*args)                # compile outside the timing
    hand_value, hand_grads = net_by_hand(*args)
    assert abs(value - hand_value) < 1e-10
    assert all(np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(grads, hand_grads))
    return compare(f"(a) two-layer net loss + gradients, N={n}, D={d}, H={h}, C={c}",
                   net.loss, net_by_hand, compiled, args, NET_RATIO_TARGET,
                   compiled.source_for(*args), net.loss, options, net_by_hand)


def bench_softplus(options):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((2000, 500)) / np.sqrt(500)
    x = rng.standard_normal(500)
    args = (A, x)
    compiled = grad(softplus_sum, wrt="x")
    dx = compiled(*args)                          # compile outside the timing
    assert np.allclose(dx, softplus_sum_grad_by_hand(*args), rtol=1e-12, atol=1e-12)
    return compare("(b) sum(log(1 + exp(A @ x))), A (2000, 500), gradient wrt x",
                   softplus_sum, softplus_sum_grad_by_hand, compiled, args,
                   SOFTPLUS_RATIO_TARGET, compiled.source_for(*args), softplus_sum, options,
                   softplus_sum_grad_by_hand)


def main(argv=None):
    args = numpy_benchmark_options(argv, __doc__.split("\n")[0], "NumPy gradients",
                                   "time the generated code statement by statement even on a pass")
    ok_net = bench_two_layer_net(args)
    ok_softplus = bench_softplus(args)
    print(f"overall: {verdict(ok_net and ok_softplus)}")


if __name__ == "__main__":
    main()
