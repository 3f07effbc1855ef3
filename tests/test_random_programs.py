"""Property tests over randomly generated straight-line programs (DESIGN section 5).

Hypothesis builds a small function as source text: 2 or 3 scalar inputs, 3 to
10 statements that assign a new variable, reassign an existing one (inputs
included) or update one with `+=` / `*=`, each from one operation of a safe
set applied to earlier variables and small constants, and a return that
combines the last variables. The program is written to a file under
`tmp_path`, imported, differentiated with respect to all its inputs and
compared with central finite differences at inputs drawn from [-2, 2].

The generator keeps a bound on the magnitude of every variable and only picks
an operation whose result stays under `LIMIT`, so that no sin or cos sees a
huge argument (where finite differences lose all accuracy) and nothing
overflows, without rejecting examples.
"""

import importlib.util
import itertools
import math
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from adcompiler import check_grads, grad

LIMIT = 12.0                       # bound on |every variable| over the input box
INPUT_BOUND = 2.0
CONSTANTS = [2, 3, 0.5, -1.5, 1.25, -0.75]

# name -> (template, bound on |result| from the bounds on |operands|)
UNARY = {
    "sin": ("math.sin({a})", lambda a: 1.0),
    "cos": ("math.cos({a})", lambda a: 1.0),
    "tanh": ("math.tanh({a})", lambda a: 1.0),
    "exp_tanh": ("math.exp(math.tanh({a}))", lambda a: math.e),
    "sqrt": ("math.sqrt(1 + {a} * {a})", lambda a: math.sqrt(1 + a * a)),
    "square": ("{a} ** 2", lambda a: a * a),
    "cube": ("{a} ** 3", lambda a: a ** 3),
}
BINARY = {
    "add": ("{a} + {b}", lambda a, b: a + b),
    "sub": ("{a} - {b}", lambda a, b: a + b),
    "mul": ("{a} * {b}", lambda a, b: a * b),
    "div": ("{a} / (1 + {b} * {b})", lambda a, b: a),
}


def operand(draw, bounds):
    """A variable or, a third of the time, a small constant: (text, bound)."""
    if draw(st.integers(0, 2)) == 0:
        c = draw(st.sampled_from(CONSTANTS))
        return (f"({c})" if c < 0 else str(c)), abs(c)
    name = draw(st.sampled_from(sorted(bounds)))
    return name, bounds[name]


def expression(draw, bounds, scale=1.0):
    """An operation on earlier variables whose bound times `scale` is within LIMIT."""
    a, bound_a = draw(st.sampled_from(sorted(bounds.items())))
    b, bound_b = operand(draw, bounds)
    choices = [(text.format(a=a), bound(bound_a)) for text, bound in UNARY.values()]
    choices += [(text.format(a=a, b=b), bound(bound_a, bound_b)) for text, bound in BINARY.values()]
    choices += [(text.format(a=b, b=a), bound(bound_b, bound_a))     # b - a, b / (1 + a * a)
                for text, bound in (BINARY["sub"], BINARY["div"])]
    allowed = [(text, bound) for text, bound in choices if bound * scale <= LIMIT]
    return draw(st.sampled_from(allowed))          # never empty: sin/cos/tanh are bounded by 1


@st.composite
def programs(draw):
    """(source of `def f(...)`, number of inputs)."""
    n_inputs = draw(st.integers(2, 3))
    inputs = [f"x{i}" for i in range(n_inputs)]
    bounds = {name: INPUT_BOUND for name in inputs}
    lines, assigned, fresh = [], [], itertools.count()
    for _ in range(draw(st.integers(3, 10))):
        kind = draw(st.sampled_from(["new", "new", "reassign", "+=", "*="]))
        if kind == "new":
            target = f"v{next(fresh)}"
        else:
            target = draw(st.sampled_from(sorted(bounds)))
        if kind == "*=":
            text, bound = expression(draw, bounds, scale=bounds[target])
            bound *= bounds[target]
        else:
            text, bound = expression(draw, bounds)
            if kind == "+=" and bounds[target] + bound <= LIMIT:
                bound += bounds[target]
            elif kind == "+=":
                kind = "="                            # the sum could grow past LIMIT
        lines.append(f"{target} {kind if kind in ('+=', '*=') else '='} {text}")
        bounds[target] = bound
        if target in assigned:
            assigned.remove(target)
        assigned.append(target)
    last = assigned[-draw(st.integers(1, min(3, len(assigned)))):]
    combine = draw(st.sampled_from([" + ", " * ", " - "]))
    result = combine.join(last)
    if draw(st.booleans()):
        result = f"{result} + {draw(st.sampled_from(inputs))}"
    body = "\n".join(lines + [f"return {result}"])
    source = f"import math\n\n\ndef f({', '.join(inputs)}):\n{textwrap.indent(body, '    ')}\n"
    return source, n_inputs


_unique = itertools.count()


def load(directory, source):
    """Write `source` to a new module file in `directory`, import it and return its `f`."""
    name = f"random_program_{os.getpid()}_{next(_unique)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


inputs_box = st.floats(min_value=-INPUT_BOUND, max_value=INPUT_BOUND, allow_nan=False)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(program=programs(), xs=st.lists(inputs_box, min_size=3, max_size=3))
def test_random_program_gradient_matches_finite_differences(tmp_path, program, xs):
    source, n_inputs = program
    note(source)
    f = load(tmp_path, source)
    args = tuple(xs[:n_inputs])
    wrt = tuple(range(n_inputs))
    gradients = grad(f, wrt=wrt)(*args)
    assert len(gradients) == n_inputs and all(type(g) is float for g in gradients), source
    check_grads(f, args, wrt=wrt, rtol=1e-5, atol=1e-6)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(program=programs())
def test_random_program_compiles_deterministically(tmp_path, program):
    source, n_inputs = program
    note(source)
    wrt = tuple(range(n_inputs))
    f = load(tmp_path, source)
    first = grad(f, wrt=wrt).source
    assert grad(f, wrt=wrt).source == first
    # A fresh function object from the same file misses the compile cache.
    g = load(tmp_path, source)
    assert g is not f
    assert _without_file_names(grad(g, wrt=wrt).source, g) == _without_file_names(first, f)


def _without_file_names(text, fn):
    """The generated source with the module's file name (which differs per load) blanked."""
    return text.replace(os.path.basename(fn.__code__.co_filename), "<file>")


COMPILE_IN_SUBPROCESS = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("program", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from adcompiler import grad
f = module.f
sys.stdout.write(grad(f, wrt=tuple(range(f.__code__.co_argcount))).source)
"""


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(program=programs())
def test_random_program_source_does_not_depend_on_hash_seed(tmp_path, program):
    """Byte-identical output across processes, where set and dict-of-str orders may differ."""
    source, _ = program
    note(source)
    path = tmp_path / f"seeded_{next(_unique)}.py"
    path.write_text(source)
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-c", COMPILE_IN_SUBPROCESS, str(path)],
                             env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]


# ---------------------------------------------------------------- compiler bugs found here

CHAINED_ASSIGNMENT = """\
def f(x0, x1):
    v0 = v1 = x0 * x1
    v0 += 1.0
    return v0 * v1
"""


def test_chained_assignment_of_a_computed_value(tmp_path):
    f = load(tmp_path, CHAINED_ASSIGNMENT)
    # f = (x0 x1 + 1) x0 x1, so df/dx0 = x1 (2 x0 x1 + 1) and df/dx1 = x0 (2 x0 x1 + 1).
    assert grad(f, wrt=(0, 1))(0.7, -1.3) == pytest.approx((-1.3 * -0.82, 0.7 * -0.82))
    check_grads(f, (0.7, -1.3))

