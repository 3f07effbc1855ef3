"""Tuples, lists and dicts: as differentiated arguments, and built inside the function.

A tuple, list or dict argument in `wrt` is taken leaf by leaf; its gradient
comes back in the same structure (same container types, same keys in the same
order), each leaf with the shape and float dtype of its argument. The tests
flatten the structures themselves (not with adcompiler.tree) to build the
central finite-difference check, and check that no returned leaf shares memory
with an input or with another gradient.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adcompiler import DifferentiationError, grad, value_and_grad

FAST = settings(max_examples=20, deadline=None)


# --------------------------------------------------------------------------
# the test's own flattening and finite differences

def leaves_of(tree):
    """The leaves of nested dicts, lists and tuples, in order (dicts in insertion order)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves_of(value)]
    if isinstance(tree, (list, tuple)):
        return [leaf for value in tree for leaf in leaves_of(value)]
    return [tree]


def rebuilt(tree, leaves):
    """`tree` with its leaves replaced by `leaves`, in order."""
    leaves = iter(leaves)

    def build(node):
        if isinstance(node, dict):
            return {k: build(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(build(v) for v in node)
        return next(leaves)
    return build(tree)


def same_structure(a, b):
    """Same container types, keys (in order) and lengths all the way down."""
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(
            same_structure(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            same_structure(x, y) for x, y in zip(a, b))
    return not isinstance(b, (dict, list, tuple))


def numeric_gradient(f, args, position, h=1e-6):
    """Central differences of f with respect to every entry of every leaf of args[position]."""
    tree = args[position]
    leaves = [np.array(leaf, dtype=np.float64) for leaf in leaves_of(tree)]
    out = []
    for k, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for index in np.ndindex(leaf.shape):
            values = []
            for sign in (1.0, -1.0):
                moved = [x.copy() for x in leaves]
                moved[k][index] += sign * h
                as_given = [m if isinstance(orig, np.ndarray) else float(m)
                            for m, orig in zip(moved, leaves_of(tree))]
                call = list(args)
                call[position] = rebuilt(tree, as_given)
                values.append(f(*call))
            g[index] = (values[0] - values[1]) / (2 * h)
        out.append(g)
    return out


def assert_gradient_matches(f, args, wrt=0, rtol=1e-5, atol=1e-7):
    """grad(f, wrt) at args has the structure of args[wrt] and agrees with finite differences.

    Leaves are compared in float64 (the function is evaluated on float64 copies).
    """
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    result = grad(f, wrt=wrt)(*args)
    grads = result if isinstance(wrt, tuple) else (result,)
    f64 = [rebuilt(a, [np.asarray(x, dtype=np.float64) if isinstance(x, np.ndarray)
                      else float(x) for x in leaves_of(a)]) for a in args]
    for position, g in zip(positions, grads):
        assert same_structure(args[position], g), (args[position], g)
        for analytic, numeric, given_leaf in zip(leaves_of(g), numeric_gradient(f, f64, position),
                                                 leaves_of(args[position])):
            assert np.shape(analytic) == np.shape(given_leaf)
            np.testing.assert_allclose(np.asarray(analytic, dtype=np.float64), numeric,
                                       rtol=rtol, atol=atol)
    return result


def assert_no_shared_memory(grads, inputs):
    """No gradient leaf shares memory with an input leaf or with another gradient leaf."""
    outs = [g for g in leaves_of(grads) if isinstance(g, np.ndarray)]
    ins = [x for x in leaves_of(inputs) if isinstance(x, np.ndarray)]
    for i, g in enumerate(outs):
        for x in ins:
            assert not np.shares_memory(g, x), "a gradient shares memory with an input"
        for other in outs[i + 1:]:
            assert not np.shares_memory(g, other), "two gradients share memory"


rng = np.random.default_rng(0)


# --------------------------------------------------------------------------
# structured wrt arguments

def tuple_of_array_and_float(p, x):
    a, s = p
    return np.sum(np.tanh(a * x)) * s + s * s


def test_tuple_of_array_and_float():
    p = (rng.normal(size=3), 0.7)
    grads = assert_gradient_matches(tuple_of_array_and_float, (p, rng.normal(size=3)))
    assert type(grads) is tuple and isinstance(grads[0], np.ndarray) and type(grads[1]) is float


def list_of_arrays(ws):
    return np.sum(ws[0] ** 2) + np.sum(np.sin(ws[1]) * ws[2]) + np.sum(ws[3] @ ws[2])


def test_list_of_arrays():
    ws = [rng.normal(size=2), rng.normal(size=3), rng.normal(size=3), rng.normal(size=(2, 3))]
    grads = assert_gradient_matches(list_of_arrays, (ws,))
    assert type(grads) is list and len(grads) == 4


def dict_of_arrays(params, X):
    h = np.tanh(X @ params["W"] + params["b"])
    return np.sum(h * h) + 0.1 * np.sum(params["W"] ** 2)


@FAST
@given(hnp.arrays(np.float64, (4, 3), elements=st.floats(-2, 2)),
       hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2)))
def test_dict_of_arrays(W, b):
    params = {"W": W, "b": b}
    X = np.linspace(-1, 1, 8).reshape(2, 4)
    grads = assert_gradient_matches(dict_of_arrays, (params, X))
    assert list(grads) == ["W", "b"]


def dict_of_lists_of_arrays(params):
    total = 0.0
    for name, layers in params.items():
        for w in layers:
            total = total + np.sum(np.tanh(w)) * len(name)
    return total


def test_dict_of_lists_of_arrays():
    params = {"enc": [rng.normal(size=2), rng.normal(size=(2, 2))],
              "dec": [rng.normal(size=3)]}
    grads = assert_gradient_matches(dict_of_lists_of_arrays, (params,))
    assert list(grads) == ["enc", "dec"] and type(grads["enc"]) is list


def nested(p):
    (a, b), extra = p
    return np.sum(a * b) + extra["k"] ** 2 + extra["v"][0] * extra["v"][1]


def test_nested_tuples_dicts_and_lists():
    p = ((rng.normal(size=2), rng.normal(size=2)), {"k": 1.5, "v": [2.0, -0.5]})
    grads = assert_gradient_matches(nested, (p,))
    (ga, gb), extra = grads
    np.testing.assert_allclose(ga, p[0][1])
    assert extra["v"] == [pytest.approx(-0.5), pytest.approx(2.0)]


def keys_in_a_different_order(params):
    return params["b"] * 2.0 + params["a"] * params["c"]


def test_dict_keys_keep_their_order_and_integer_keys_work():
    grads = grad(keys_in_a_different_order)({"c": 3.0, "a": 2.0, "b": 1.0})
    assert list(grads) == ["c", "a", "b"]
    assert grads == {"c": 2.0, "a": 3.0, "b": 2.0}
    assert grad(lambda p: p[0] * p[1])({0: 2.0, 1: 5.0}) == {0: 5.0, 1: 2.0}


def test_tree_and_array_together():
    params, x = {"w": rng.normal(size=3)}, rng.normal(size=3)
    f = lambda params, x: np.sum(np.sin(params["w"] * x))      # noqa: E731
    gp, gx = assert_gradient_matches(f, (params, x), wrt=(0, 1))
    assert isinstance(gx, np.ndarray) and list(gp) == ["w"]
    assert grad(f, wrt="params")(params, x).keys() == {"w"}


def test_unused_leaf_gets_a_zero_gradient_of_its_shape():
    params = {"used": rng.normal(size=2), "unused": rng.normal(size=(3, 2)), "s": 4.0}
    grads = grad(lambda p: np.sum(p["used"] ** 2))(params)
    np.testing.assert_array_equal(grads["unused"], np.zeros((3, 2)))
    assert grads["s"] == 0.0
    np.testing.assert_allclose(grads["used"], 2 * params["used"])


def test_tree_not_in_wrt_is_a_constant():
    def f(x, p):
        return x * p["a"] + p["b"] * x * x
    assert grad(f)(2.0, {"a": 3.0, "b": 0.5}) == pytest.approx(5.0)


def test_integer_leaves_give_float_gradients():
    grads = grad(lambda p: p["a"] * p["b"])({"a": 2, "b": 3})
    assert grads == {"a": 3.0, "b": 2.0} and all(type(v) is float for v in grads.values())


# --------------------------------------------------------------------------
# dtypes and memory

def float32_model(p):
    return np.sum(p["w"] * p["w"]) * p["s"] + np.sum(p["layers"][0] * p["layers"][1])


def test_float32_leaves_stay_float32():
    p = {"w": np.ones(3, dtype=np.float32), "s": np.float32(2.0),
         "layers": [np.arange(2, dtype=np.float32), np.full(2, 0.5, dtype=np.float32)]}
    grads = grad(float32_model)(p)
    assert grads["w"].dtype == np.float32
    assert isinstance(grads["s"], np.float32)
    assert [g.dtype for g in grads["layers"]] == [np.float32, np.float32]
    np.testing.assert_allclose(grads["w"], 4.0)
    assert grads["s"] == pytest.approx(3.0)
    np.testing.assert_allclose(grads["layers"][0], 0.5)
    np.testing.assert_allclose(grads["layers"][1], [0.0, 1.0])


def test_mixed_float32_and_float64_leaves():
    p = (np.ones(2, dtype=np.float32), np.ones(2))
    g32, g64 = grad(lambda p: np.sum(p[0] * p[1]))(p)
    assert g32.dtype == np.float32 and g64.dtype == np.float64


def aliasing_candidates(p):
    # the adjoint of a product is the other factor; of a sum, the incoming adjoint itself
    return np.sum(p["a"] * p["b"]) + np.sum(p["c"]) + np.sum(p["d"] * 1.0)


def test_no_gradient_shares_memory_with_inputs_or_each_other():
    p = {"a": rng.normal(size=4), "b": rng.normal(size=4), "c": rng.normal(size=4),
         "d": rng.normal(size=4)}
    snapshot = {k: v.copy() for k, v in p.items()}
    grads = grad(aliasing_candidates)(p)
    assert_no_shared_memory(grads, p)
    for k in p:
        np.testing.assert_array_equal(p[k], snapshot[k])      # inputs untouched
    np.testing.assert_array_equal(grads["a"], p["b"])
    grads["a"][0] = 1e6                                         # writable, and our own
    assert p["b"][0] != 1e6


GLOBAL_WEIGHTS = np.arange(4.0)


def times_a_global(p):
    return np.sum(p["w"] * GLOBAL_WEIGHTS)


def test_no_gradient_shares_memory_with_constant_arguments_or_globals():
    x = np.arange(3.0)
    grads = grad(lambda p, x: np.sum(p["w"] * x))({"w": np.ones(3)}, x)       # dw is x
    assert not np.shares_memory(grads["w"], x)
    grads = grad(lambda p, x: np.sum(p[0] * x) + np.sum(p[1] * x))((np.ones(3), np.ones(3)), x)
    assert_no_shared_memory(grads, x)
    grads = grad(times_a_global)({"w": np.ones(4)})
    assert not np.shares_memory(grads["w"], GLOBAL_WEIGHTS)
    _, grads = value_and_grad(lambda p, x: np.sum(p["w"] * x))({"w": np.ones(3)}, x)
    assert not np.shares_memory(grads["w"], x)


def test_no_shared_memory_for_tuples_and_lists():
    a = rng.normal(size=3)
    grads = grad(lambda p: np.sum(p[0] * p[1]) + np.sum(p[2]))((a, a.copy(), a[:2].copy()))
    assert_no_shared_memory(grads, (a,))
    grads = grad(lambda ws: np.sum(ws[0]) + np.sum(ws[1]))([a, a])   # one array, twice
    assert_no_shared_memory(grads, [a])
    np.testing.assert_array_equal(grads[0], np.ones(3))


# --------------------------------------------------------------------------
# value_and_grad

def test_value_and_grad_with_a_dict():
    params = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    X = rng.normal(size=(5, 4))
    value, grads = value_and_grad(dict_of_arrays)(params, X)
    assert value == pytest.approx(dict_of_arrays(params, X), rel=1e-12)
    expected = grad(dict_of_arrays)(params, X)
    assert list(grads) == ["W", "b"]
    for k in params:
        np.testing.assert_allclose(grads[k], expected[k], rtol=1e-12)
    assert_no_shared_memory(grads, params)


def test_value_and_grad_with_a_tuple_and_an_array():
    p, x = (rng.normal(size=3), 0.7), rng.normal(size=3)
    value, (gp, gx) = value_and_grad(tuple_of_array_and_float, wrt=(0, 1))(p, x)
    assert value == pytest.approx(tuple_of_array_and_float(p, x), rel=1e-12)
    assert type(gp) is tuple and gx.shape == (3,)


# --------------------------------------------------------------------------
# tuples, lists and dicts built and read inside the function

def builds_containers(x, y):
    pair = (x, y * 2.0)
    items = [x * y, pair[1], pair[0]]
    table = {"a": items[0], "b": pair[0], "c": items[-1]}
    a, b = pair
    first = items[0]
    return table["a"] + table["b"] * items[1] + a * b + first + table.get("c") \
        + table.get("missing", 1.0) * y


@FAST
@given(st.floats(-2, 2), st.floats(-2, 2))
def test_containers_built_and_read_inside(x, y):
    assert_gradient_matches(builds_containers, (x, y), wrt=(0, 1))


def iterates_over_items(params, x):
    total = 0.0
    for name, value in params.items():
        total = total + np.sum(value * x)
    for value in params.values():
        total = total + np.sum(value ** 2)
    for name in params.keys():
        total = total + len(name)
    return total


@FAST
@given(hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2)),
       hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2)))
def test_iteration_over_items_values_and_keys(w, b):
    params = {"W": w, "b": b}
    grads = assert_gradient_matches(iterates_over_items, (params, np.arange(3.0)))
    np.testing.assert_allclose(grads["W"], np.arange(3.0) + 2 * w)


def builds_a_dict_of_params(w, b):
    params = {"w": w, "b": b, "scale": 2.0}
    total = 0.0
    for key, value in params.items():
        total = total + np.sum(value * value)
    return total * params["scale"]


def test_dict_built_inside_and_iterated():
    assert_gradient_matches(builds_a_dict_of_params, (rng.normal(size=3), 0.5), wrt=(0, 1))


def indexes_with_the_loop_key(params):
    total = 0.0
    for key in params:
        total = total + params[key] ** 2
    return total


def test_indexing_a_dict_with_the_loop_key():
    assert grad(indexes_with_the_loop_key)({"a": 2.0, "b": 3.0}) == {"a": 4.0, "b": 6.0}


def passes_the_dict_on(params):
    return helper_taking_a_dict(params)


def helper_taking_a_dict(params):
    return params["w"] * 2.0


def test_a_dict_passed_to_a_helper_is_refused_with_a_hint():
    with pytest.raises(DifferentiationError, match="pass its values"):
        grad(passes_the_dict_on)({"w": 1.0})


def product_of_items(p):
    return p[0] * p[1]


def passes_the_tuple_on(p):
    return product_of_items(p)


def test_a_tuple_argument_passed_to_a_helper():
    assert grad(passes_the_tuple_on)((2.0, 3.0)) == (3.0, 2.0)
