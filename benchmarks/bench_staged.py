"""Benchmark: the staged example (examples/staged.py).

Compares, in one process,
  - the compiled gradient df(3.0, -4.0) with the hand-written backward pass
    (target: at most 1.25x its time), and
  - the cost of the first compile of a fresh function (target: under 20 ms),
and prints the forward-only f(3.0, -4.0) for scale.

Run from the repository root:  python benchmarks/bench_staged.py
"""

import importlib.util
import inspect
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from adcompiler import grad                                           # noqa: E402
from benchmarks._timing import (best_per_call, fmt_ms, fmt_us, median,  # noqa: E402
                                time_each, verdict)
from examples.staged import df, f, f_backward_by_hand                 # noqa: E402

CALL_RATIO_TARGET = 1.25
COMPILE_TARGET = 0.020        # seconds
COMPILE_REPEAT = 30
ARGS = (3.0, -4.0)


def generated_function():
    """The generated gradient alone, without the wrapper's argument handling.

    Built from the public `df.source`, run in f's globals; None if that fails.
    """
    namespace = dict(f.__globals__)
    try:
        name = re.match(r"def (\w+)\(", df.source).group(1)
        exec(compile(df.source, "<bench_staged generated>", "exec"), namespace)
        return namespace[name]
    except Exception:                     # informational only
        return None


def bench_calls():
    df(*ARGS)                                     # compile outside the timing
    t_forward = best_per_call(f, *ARGS)
    t_hand = best_per_call(f_backward_by_hand, *ARGS)
    t_compiled = best_per_call(df, *ARGS)
    ratio = t_compiled / t_hand

    print("Gradient call, best time per call")
    print(f"  forward only   f(3.0, -4.0)                  {fmt_us(t_forward)}")
    print(f"  hand-written   f_backward_by_hand(3.0, -4.0) {fmt_us(t_hand)}")
    print(f"  compiled       df(3.0, -4.0)                 {fmt_us(t_compiled)}")
    raw = generated_function()
    if raw is not None:
        t_raw = best_per_call(raw, *ARGS)
        print(f"  generated code alone (no call wrapper)       {fmt_us(t_raw)}"
              f"   ({t_raw / t_hand:.2f}x hand-written)")
    print(f"  ratio compiled / hand-written: {ratio:.2f}x "
          f"(target <= {CALL_RATIO_TARGET:.2f}x)  {verdict(ratio <= CALL_RATIO_TARGET)}")


def bench_first_compile():
    source = "import math\n\n\n" + inspect.getsource(f)
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10 ** 9))

        def fresh_function():
            """A new function object from a new module file: no cache can help."""
            name = f"_bench_staged_compile_{next(counter)}"
            path = Path(tmp) / f"{name}.py"
            path.write_text(source)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module.f

        def compile_gradient(fn):
            grad(fn, wrt=(0, 1)).source           # .source triggers the compile

        times = time_each(fresh_function, compile_gradient, repeat=COMPILE_REPEAT)

    t = median(times)
    print(f"First compile: grad(f, wrt=(0, 1)).source, fresh function, {len(times)} runs")
    print(f"  median {fmt_ms(t)}   min {fmt_ms(min(times))}   first {fmt_ms(times[0])}")
    print(f"  target < {COMPILE_TARGET * 1e3:.0f} ms  {verdict(t < COMPILE_TARGET)}")


def main():
    print(f"Staged example (Python {sys.version.split()[0]})\n")
    bench_calls()
    print()
    bench_first_compile()


if __name__ == "__main__":
    main()
