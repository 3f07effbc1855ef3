"""Calls to the user's own functions: helpers become forward/backward pairs.

Every case is checked against central finite differences (hypothesis draws the
inputs where that is cheap). Besides the values, the tests check that a callee
is compiled once per signature and reused, that the pair's source appears in
the caller's `.source`, that what cannot be differentiated is refused at the
right line, and that recursion (data-dependent, mutual, or a deep static chain
of helpers) compiles without hanging or overflowing the stack.

The snapshot of the two-function program (tests/call_helpers.py) is
tests/snapshots/two_functions.py.txt; to accept an intended change of the
generated source, run with ADCOMPILER_UPDATE_SNAPSHOTS=1 and review the diff.
"""

import ast
import contextlib
import importlib.util
import math
import re
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adcompiler import DifferentiationError, check_grads, grad, value_and_grad
from adcompiler.calls import Calls

from . import call_helpers
from .call_helpers import Affine, ArrayModel, scaled, softplus, sum_and_product
from .example_modules import load_example

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "snapshots" / "two_functions.py.txt"

FAST = settings(max_examples=25, deadline=None)
moderate = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.2, max_value=3.0, allow_nan=False, allow_infinity=False)


def pairs_of(fn):
    """The compiled pairs of callee `fn`, one per signature."""
    return [pair for key, pair in Calls._pairs.items() if key[0] is fn]


def defined_functions(source):
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]


def called_names(source):
    return {node.func.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


@contextlib.contextmanager
def time_limit(seconds):
    """Raise TimeoutError if the block runs longer than `seconds` (where SIGALRM exists)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------
# functions of this module, and of another module

def square_plus_sin(x):
    return x * x + math.sin(x)


def uses_same_module_helper(x, y):
    return square_plus_sin(x) * y + square_plus_sin(x * y)


@FAST
@given(moderate, moderate)
def test_helper_in_the_same_module(x, y):
    check_grads(uses_same_module_helper, (x, y))


def uses_imported_helpers(x, y):
    return softplus(x) * call_helpers.softplus(y) + call_helpers.cube(x - y)


@FAST
@given(moderate, moderate)
def test_helper_imported_from_another_module(x, y):
    check_grads(uses_imported_helpers, (x, y))


def test_imported_helpers_pairs_are_in_the_source():
    source = grad(uses_imported_helpers, wrt=(0, 1)).source
    assert "def softplus_forward(" in source and "def softplus_backward(" in source
    assert "def cube_forward(" in source and "call_helpers.py" in source


@FAST
@given(moderate)
def test_helpers_calling_helpers(x):
    check_grads(call_helpers.poly, (x,))
    source = grad(call_helpers.poly).source
    for name in ("softplus", "scaled", "cube"):      # a partly active signature says so
        assert re.search(rf"def {name}(_\w+)?_forward\(", source), source


# --------------------------------------------------------------------------
# nested functions, closures, lambdas

def with_nested_closure(x, y):
    c = 3.0                                   # a constant of the enclosing function
    shift = x * y                             # an active value of the enclosing function

    def inner(u):
        return u * y + c * math.sin(shift)
    return inner(x) * inner(y)


@FAST
@given(moderate, moderate)
def test_nested_function_reads_active_and_constant_enclosing_variables(x, y):
    check_grads(with_nested_closure, (x, y))


def make_closure(k):
    def closure(x):
        return k * x * x + math.cos(k * x)
    return closure


@FAST
@given(moderate, positive)
def test_closure_returned_by_a_factory(x, k):
    f = make_closure(k)
    check_grads(f, (x,))


def calls_a_closure_helper(x):
    return SCALED_BY_TWO(x) + SCALED_BY_TWO(x * x)


SCALED_BY_TWO = make_closure(2.0)


@FAST
@given(moderate)
def test_closure_called_as_a_helper(x):
    check_grads(calls_a_closure_helper, (x,))


def with_local_lambdas(x, y):
    sq = lambda u: u * u                      # noqa: E731
    mix = lambda u, v=2.0: u * v + math.sin(u)  # noqa: E731
    return sq(x) + mix(y) + mix(x, y) + sq(mix(y, x))


@FAST
@given(moderate, moderate)
def test_lambdas_assigned_inside_the_function(x, y):
    check_grads(with_local_lambdas, (x, y))


cubic = lambda u: u ** 3 - 2.0 * u           # noqa: E731


def uses_module_lambda(x):
    return cubic(x) * x


def test_lambda_assigned_outside_the_function():
    check_grads(uses_module_lambda, (0.7,))


def test_lambda_differentiated_directly():
    check_grads(cubic, (0.7,))


# --------------------------------------------------------------------------
# arguments: defaults, keywords, *args

def uses_defaults_and_keywords(x, y):
    return (scaled(x) + scaled(y, 3.0) + scaled(x, b=y) + scaled(a=y, x=x)
            + scaled(x, y, b=x * y))


@FAST
@given(moderate, moderate)
def test_default_and_keyword_arguments(x, y):
    check_grads(uses_defaults_and_keywords, (x, y))
    dx, dy = grad(uses_defaults_and_keywords, wrt=(0, 1))(x, y)
    # d/dx: 2 + 0 + 2 + y + (y + y)    d/dy: 0 + 3 + 1 + x + (x + x)
    assert dx == pytest.approx(4 + 3 * y)
    assert dy == pytest.approx(4 + 3 * x)


def keyword_only(x, *, scale=2.0, shift=0.0):
    return scale * x * x + shift


def uses_keyword_only(x, s):
    return keyword_only(x, scale=s) * keyword_only(s, shift=x)


@FAST
@given(moderate, moderate)
def test_keyword_only_parameters(x, s):
    check_grads(uses_keyword_only, (x, s))


def uses_starred_call(x, y):
    args = (x, y)
    return sum_and_product(*args)[1] + sum_and_product(*(y, x * x))[0]


@FAST
@given(moderate, moderate)
def test_starred_arguments_at_call_sites(x, y):
    check_grads(uses_starred_call, (x, y))


# --------------------------------------------------------------------------
# helpers returning tuples

def unpacks_and_indexes(x, y):
    s, p = sum_and_product(x, y)
    both = sum_and_product(p, x)
    return s * p + both[0] - 2.0 * both[1]


@FAST
@given(moderate, moderate)
def test_helper_returning_a_tuple_unpacked_and_indexed(x, y):
    check_grads(unpacks_and_indexes, (x, y))


def min_max(a, b):
    return np.minimum(a, b), np.maximum(a, b)


def array_tuple_helper(a, b):
    low, high = min_max(a, b)
    return np.sum(low * high) + np.sum(min_max(a * 2.0, b)[1])


def test_helper_returning_a_tuple_of_arrays():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=5), rng.normal(size=5) + 0.5
    check_grads(array_tuple_helper, (a, b))


def product_of_pair(p):
    return p[0] * p[1]


def passes_a_built_tuple(x, y):
    return product_of_pair((x, y * 2.0))


def test_tuple_built_in_the_function_passed_to_a_helper():
    check_grads(passes_a_built_tuple, (1.5, -0.5))


def nested_result(x):
    return x, (x * 2.0, x * 3.0)


def reads_a_nested_result(x):
    r = nested_result(x)
    return r[0] * r[1][0] * r[1][1]


def test_helper_returning_a_nested_tuple():
    check_grads(reads_a_nested_result, (1.5,))


def dict_result(x):
    return {"a": x, "b": x * 2.0}


def reads_a_returned_dict(x):
    d = dict_result(x)
    return d["a"] * d["b"]


def test_helper_returning_a_dict_works_or_is_refused():
    try:
        check_grads(reads_a_returned_dict, (1.5,))
    except DifferentiationError:
        pass                                    # refusing it clearly is fine too


# --------------------------------------------------------------------------
# one helper, many calls

def step(x, k):
    return x + 0.1 * (math.sin(x) - k * x)


def many_calls(x, k):
    y = step(x, k) + step(2.0 * x, k) + step(step(x, k), k)
    for i in range(30):
        y = step(y, k)
    return y


@FAST
@given(moderate, positive)
def test_helper_called_many_times_and_in_a_loop(x, k):
    check_grads(many_calls, (x, k))


def test_helper_called_many_times_has_one_pair():
    source = grad(many_calls, wrt=(0, 1)).source
    assert source.count("def step_forward(") == 1, source
    assert source.count("def step_backward(") == 1, source
    assert source.count("step_forward(") >= 4


def loop_with_helper(x, k):
    for i in range(50):
        x = step(x, k)
    return x


def loop_by_hand(x, k):
    for i in range(50):
        x = x + 0.1 * (math.sin(x) - k * x)
    return x


def test_helper_in_a_loop_agrees_with_the_loop_written_out():
    for x, k in [(0.5, 0.3), (-1.2, 1.0)]:
        assert grad(loop_with_helper)(x, k) == pytest.approx(grad(loop_by_hand)(x, k),
                                                              rel=1e-12)
        value, dx = value_and_grad(loop_with_helper)(x, k)
        assert value == pytest.approx(loop_with_helper(x, k), rel=1e-12)
        check_grads(loop_with_helper, (x, k))


def test_value_and_grad_value_of_a_loop_variable():
    value, _ = value_and_grad(loop_by_hand)(0.5, 0.3)
    assert value == pytest.approx(loop_by_hand(0.5, 0.3), rel=1e-12)


# --------------------------------------------------------------------------
# recursion

def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


@FAST
@given(moderate, st.integers(min_value=0, max_value=8))
def test_recursion_with_an_integer_depth(x, n):
    check_grads(power, (x, n), wrt=0)
    assert grad(power)(x, n) == pytest.approx(n * x ** (n - 1) if n else 0.0, abs=1e-9)


def halve(x):
    """Halve until below 1, then a smooth function: the depth depends on the value of x."""
    return math.sin(x) if x < 1.0 else 0.5 * halve(x / 2.0) + 0.1 * x


@FAST
@given(st.floats(min_value=0.1, max_value=200.0))
def test_recursion_whose_depth_depends_on_a_float_comparison(x):
    boundaries = [2.0 ** k for k in range(9)]
    if any(abs(x - b) < 1e-4 * b for b in boundaries):
        return                                    # finite differences would straddle a kink
    check_grads(halve, (x,))


def even(x):
    return x * 0.5 if x < 1.0 else odd(x - 1.0) * 1.5


def odd(x):
    return -x if x < 1.0 else even(x - 0.5) + math.sin(x)


def test_mutual_recursion_on_data_terminates_quickly():
    start = time.perf_counter()
    with time_limit(30):
        try:
            gradient = grad(even)
            value = gradient(4.3)
        except DifferentiationError:
            value = None                          # refusing is allowed; hanging is not
    assert time.perf_counter() - start < 10
    if value is not None:
        check_grads(even, (4.3,))
        check_grads(odd, (3.7,))


def test_deep_static_chain_of_helpers(tmp_path):
    """50 functions, each calling the next: no RecursionError, one pair each."""
    lines = ["import math", "", "def chain0(x):", "    return math.sin(x)", ""]
    for k in range(1, 50):
        lines += [f"def chain{k}(x):", f"    return chain{k - 1}(x) + 0.01 * x * x", ""]
    path = tmp_path / "deep_chain.py"
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("deep_chain_module", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        limit = sys.getrecursionlimit()
        with time_limit(60):
            gradient = grad(module.chain49)
        assert sys.getrecursionlimit() == limit
        x = 0.3
        assert gradient(x) == pytest.approx(math.cos(x) + 49 * 0.02 * x, rel=1e-12)
        source = gradient.source
        assert all(f"def chain{k}_forward(" in source for k in range(49))
    finally:
        del sys.modules[spec.name]


# --------------------------------------------------------------------------
# methods of user classes

def with_model_passed_in(w, model, x, y):
    return (model.predict(w, x) - y) ** 2 + 0.1 * w * w


@FAST
@given(moderate, moderate, moderate)
def test_method_of_an_object_passed_in(w, x, y):
    model = Affine(1.5, -0.25)
    check_grads(with_model_passed_in, (w, model, x, y), wrt=0)


def with_array_model(w, model, X, y):
    return np.sum((model.predict(w, X) - y) ** 2)


def test_method_of_an_object_passed_in_on_arrays():
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=3)
    model = ArrayModel(np.array([1.0, 0.5, 2.0]), 0.1)
    check_grads(with_array_model, (w, model, X, y), wrt=0)
    source = grad(with_array_model).source_for(w, model, X, y)
    assert re.search(r"def predict_wrt_w_\w+_forward\(self, w, X\):", source), source


def with_global_model(w, x):
    return call_helpers.GLOBAL_AFFINE.predict(w, x) * w


@FAST
@given(moderate, moderate)
def test_method_of_a_global_object(w, x):
    check_grads(with_global_model, (w, x))


def method_calling_a_method(w, model, x):
    return model.loss(w, x, 0.3)


def test_method_calling_another_method_of_self():
    check_grads(method_calling_a_method, (0.5, Affine(1.5, -0.25), 1.2), wrt=0)


def test_bound_method_passed_to_grad():
    model = Affine(2.0, 0.5)
    dpredict = grad(model.predict)
    for w, x in [(0.3, 1.2), (-0.7, 0.4)]:
        expected = 2.0 * x * (1 - math.tanh(w * x) ** 2)
        assert dpredict(w, x) == pytest.approx(expected, rel=1e-12)
        check_grads(model.predict, (w, x), wrt=0)
    dw, dx = grad(model.predict, wrt=(0, 1))(0.3, 1.2)
    assert dx == pytest.approx(2.0 * 0.3 * (1 - math.tanh(0.36) ** 2), rel=1e-12)
    assert "def predict_grad(" in dpredict.source


def test_bound_method_calling_a_method_passed_to_grad():
    model = Affine(2.0, 0.5)
    dloss = grad(model.loss)
    check_grads(model.loss, (0.3, 1.2, 0.1), wrt=0, grad_fn=lambda *a: (dloss(*a),))


def test_source_of_a_lazily_compiled_gradient_before_a_call():
    gradient = grad(with_array_model)
    with pytest.raises(ValueError, match="source_for"):
        gradient.source


# --------------------------------------------------------------------------
# compiled once per callee and signature, reused by every caller

def test_pair_compiled_once_per_signature_and_reused():
    def scaled_sin(u, k):
        return k * math.sin(u) + u

    def first_caller(x):
        return scaled_sin(x, 2.0) * scaled_sin(x * x, 2.0)

    def second_caller(y):
        return scaled_sin(y, 3.0) + y

    def third_caller(x, k):
        return scaled_sin(x, k)

    before = len(Calls._pairs)
    first = grad(first_caller)
    assert len(Calls._pairs) == before + 1, "one new pair for a new callee signature"
    [pair] = pairs_of(scaled_sin)
    assert pair.active == ["u"]
    forward, backward = pair.forward.cell.cell_contents, pair.backward.cell.cell_contents
    assert pair.source in first.source
    assert first.source.count("def scaled_sin_wrt_u_forward(") == 1

    second = grad(second_caller)
    assert len(Calls._pairs) == before + 1, "a second caller with the same signature reuses it"
    assert pairs_of(scaled_sin) == [pair]
    assert pair.forward.cell.cell_contents is forward          # not compiled again
    assert pair.backward.cell.cell_contents is backward
    assert pair.source in second.source
    assert second(0.4) == pytest.approx(3.0 * math.cos(0.4) + 2.0, rel=1e-12)

    third = grad(third_caller, wrt=(0, 1))
    assert len(Calls._pairs) == before + 2, "making k active is a new signature"
    assert {tuple(p.active) for p in pairs_of(scaled_sin)} == {("u",), ("u", "k")}
    dx, dk = third(0.4, 3.0)
    assert dx == pytest.approx(3.0 * math.cos(0.4) + 1.0) and dk == pytest.approx(math.sin(0.4))


def test_pair_source_appears_in_the_callers_source():
    def dense(x, W, b):
        return np.tanh(x @ W + b)

    def loss(W, b, X):
        return np.sum(dense(X, W, b) ** 2)

    rng = np.random.default_rng(1)
    W, b, X = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3))
    gradient = grad(loss, wrt=(0, 1))
    source = gradient.source_for(W, b, X)
    [pair] = [p for p in pairs_of(dense) if p.kinds["x"] == "array2f"]
    assert pair.source in source
    # x is data, not active; the name says which arguments are arrays of how many dimensions
    assert "def dense_wrt_W_b_a2a2a1_forward(x, W, b):" in source
    assert "def dense_wrt_W_b_a2a2a1_backward(saved, " in source
    assert "dense_wrt_W_b_a2a2a1_forward(X, W, b)" in source
    check_grads(loss, (W, b, X), wrt=(0, 1))


def two_signatures(W1, b1, W2, b2, X):
    h = call_helpers_dense(X, W1, b1)            # x constant: the adjoints of W, b only
    return np.sum(call_helpers_dense(h, W2, b2))  # x active: the adjoints of x, W, b


def call_helpers_dense(x, W, b):
    return np.tanh(x @ W + b)


def test_two_signatures_of_one_callee_are_checked():
    rng = np.random.default_rng(2)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)),
            rng.normal(size=2), rng.normal(size=(5, 3)))
    check_grads(two_signatures, args, wrt=(0, 1, 2, 3))


def test_every_pair_function_the_caller_calls_is_defined_in_the_source():
    rng = np.random.default_rng(2)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)),
            rng.normal(size=2), rng.normal(size=(5, 3)))
    source = grad(two_signatures, wrt=(0, 1, 2, 3)).source_for(*args)
    defined = defined_functions(source)
    assert len(defined) == len(set(defined)), defined
    wanted = {name for name in called_names(source)
              if name.endswith(("_forward", "_backward")) or "_forward_" in name
              or "_backward_" in name}
    assert wanted <= set(defined), (sorted(wanted), defined)


# --------------------------------------------------------------------------
# refused, at the right line

def error_line(fn, marker):
    """The line number in this file of the line of `fn` containing `marker`."""
    import inspect
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if marker in line)


def calls_gamma(x):
    y = x + 1.0
    return math.gamma(y) * x


def test_function_without_rule_with_active_arguments_is_refused_at_its_line():
    with pytest.raises(DifferentiationError) as info:
        grad(calls_gamma)
    error = info.value
    assert error.lineno == error_line(calls_gamma, "math.gamma")
    assert error.filename == __file__
    assert "math.gamma" in str(error)
    assert "@adcompiler.adjoint" in str(error)


def calls_gamma_in_helper(x):
    return calls_gamma(x) + x


def test_refusal_inside_a_helper_points_into_the_helper():
    with pytest.raises(DifferentiationError) as info:
        grad(calls_gamma_in_helper)
    assert info.value.lineno == error_line(calls_gamma, "math.gamma")
    assert "@adcompiler.adjoint" in str(info.value)


def test_function_without_rule_with_constant_arguments_is_just_called():
    def gamma_of_constant(x, c):
        return x * math.gamma(c)
    assert grad(gamma_of_constant)(2.0, 4.0) == pytest.approx(6.0)


_EXEC_NAMESPACE = {"__name__": "made_by_exec"}
exec("def made_by_exec(x):\n    return x * x * 3.0\n", _EXEC_NAMESPACE)
made_by_exec = _EXEC_NAMESPACE["made_by_exec"]


def calls_exec_function(x):
    y = x * 2.0
    return made_by_exec(y)


def test_function_made_by_exec_is_refused_naming_it_and_the_decorator():
    with pytest.raises(DifferentiationError) as info:
        grad(calls_exec_function)
    message = str(info.value)
    assert "made_by_exec" in message
    assert "@adcompiler.adjoint" in message


def test_function_made_by_exec_is_refused_at_the_calling_line():
    with pytest.raises(DifferentiationError) as info:
        grad(calls_exec_function)
    assert info.value.lineno == error_line(calls_exec_function, "made_by_exec(y)")
    assert "made_by_exec(y)" in str(info.value)


_BARE_NAMESPACE = {}
exec("def bare_exec(x):\n    return x * x\n", _BARE_NAMESPACE)   # globals without __name__
bare_exec = _BARE_NAMESPACE["bare_exec"]


def calls_bare_exec(x):
    return bare_exec(x + 1.0)


def test_function_exec_without_module_name_is_refused_cleanly():
    with pytest.raises(DifferentiationError, match="bare_exec"):
        grad(calls_bare_exec)


# --------------------------------------------------------------------------
# snapshot of a two-function program

def test_two_function_program_matches_snapshot():
    fn = call_helpers.log_loss
    source = grad(fn, wrt=("w", "b")).source
    if os.environ.get("ADCOMPILER_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(source)
    assert SNAPSHOT.exists(), \
        f"no snapshot yet: run with ADCOMPILER_UPDATE_SNAPSHOTS=1 to create {SNAPSHOT}"
    assert source == SNAPSHOT.read_text()
    assert "def squash_forward(z):" in source and "def squash_backward(saved, " in source
    check_grads(fn, (0.5, -0.3, 1.5, 1.0), wrt=(0, 1))
    check_grads(fn, (-1.5, 0.2, 0.7, 0.0), wrt=(0, 1))


def test_two_function_source_is_deterministic():
    first = grad(call_helpers.log_loss, wrt=("w", "b")).source
    second = grad(call_helpers.log_loss, wrt=("w", "b")).source
    assert first == second


# --------------------------------------------------------------------------
# the examples that use helpers and rules


def test_example_mlp_params_trains():
    mlp = load_example("mlp_params")
    X, y = mlp.make_data(points_per_class=60)
    params = mlp.init_params(X.shape[1])
    grads = mlp.loss_grad(params, X, y)
    assert list(grads) == list(params)
    assert all(grads[k].shape == params[k].shape for k in params)
    trained, losses = mlp.train(X, y, steps=120, print_every=40, log=lambda line: None)
    assert losses[-1] < losses[0]
    assert mlp.accuracy(trained, X, y) >= 0.9
    source = mlp.loss_grad.source_for(params, X, y)
    for helper in ("dense", "relu", "softmax_cross_entropy"):
        assert re.search(rf"def {helper}(_\w+)?_forward\(", source), helper


def test_example_mlp_params_gradient_matches_finite_differences():
    mlp = load_example("mlp_params")
    X, y = mlp.make_data(points_per_class=4)
    params = mlp.init_params(X.shape[1], hidden=(5, 4))
    names = list(params)

    def flat_loss(W1, b1, W2, b2, W3, b3):
        return mlp.loss(dict(zip(names, (W1, b1, W2, b2, W3, b3))), X, y, 0.01)

    grads = mlp.loss_grad(params, X, y, 0.01)
    check_grads(flat_loss, tuple(params.values()), wrt=tuple(range(6)),
                grad_fn=lambda *leaves: tuple(grads[k] for k in names))


def test_example_custom_rule_runs():
    example = load_example("custom_rule")
    X, y = example.make_data(n=60)
    w0 = 0.1 * np.arange(X.shape[1])
    check_grads(example.loss, (w0, X, y), wrt=0)
    w = example.train(X, y, steps=30, log=lambda line: None)
    assert example.loss(w, X, y) < example.loss(np.zeros(X.shape[1]), X, y)
    source = grad(example.loss).source_for(w, X, y)
    assert "softplus(" in source and "np.exp(" in source       # the rule, inlined
    with pytest.raises(DifferentiationError, match="adcompiler.adjoint"):
        grad(example.loss_without_rule)
