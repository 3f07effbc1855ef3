"""Small timing helpers shared by the benchmark scripts.

All times are in seconds; the `fmt_*` helpers turn them into text.
"""

import statistics
import time
import timeit


def best_per_call(fn, *args, repeat=7, min_time=0.2):
    """The fastest time of one call `fn(*args)`, in seconds.

    Calls are batched so that one batch takes at least `min_time` seconds;
    the batch is timed `repeat` times and the best batch, divided by its size,
    is returned (the minimum is the least noisy estimate of the true cost).
    """
    timer = timeit.Timer(lambda: fn(*args))
    number = 1
    while True:
        if timer.timeit(number) >= min_time:
            break
        number *= 10 if number < 1000 else 2
    return min(timer.repeat(repeat=repeat, number=number)) / number


def time_each(setup, action, repeat=30):
    """Times of `action(setup())` over `repeat` runs, timing only `action`.

    `setup` runs untimed before each run, so each run can get fresh inputs
    (for example a new function object, to defeat caches).
    """
    times = []
    for _ in range(repeat):
        value = setup()
        start = time.perf_counter()
        action(value)
        times.append(time.perf_counter() - start)
    return times


def median(times):
    return statistics.median(times)


def fmt_us(seconds):
    return f"{seconds * 1e6:8.2f} us"


def fmt_ms(seconds):
    return f"{seconds * 1e3:8.2f} ms"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def numpy_benchmark_options(argv, description, title, profile_help):
    """Parse --profile and --cpu-time, print the header line (and a note on a busy machine)."""
    import argparse
    import os
    import sys

    import numpy as np
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--profile", action="store_true", help=profile_help)
    parser.add_argument("--cpu-time", action="store_true",
                        help="measure CPU time instead of wall time: steadier on a busy "
                             "machine; use with OPENBLAS_NUM_THREADS=1")
    options = parser.parse_args(argv)
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    print(f"{title} (Python {sys.version.split()[0]}, NumPy {np.__version__}, "
          f"BLAS threads: {threads or 'default'}, CPUs: {os.cpu_count()}, "
          f"clock: {'CPU time' if options.cpu_time else 'wall'})\n")
    if hasattr(os, "getloadavg") and not options.cpu_time:
        load = os.getloadavg()[0]
        if load > 0.75 * (os.cpu_count() or 1):
            print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: wall-clock times "
                  "will swing; OPENBLAS_NUM_THREADS=1 ... --cpu-time is steadier\n")
    return options
