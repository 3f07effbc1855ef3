"""Every adjoint rule in adcompiler/rules/numpy_linalg.py.

Products are checked on hypothesis-drawn shapes (scalars with `np.dot`, N-D
`np.dot`, batched ``@`` with broadcast batch dimensions, every `tensordot`
axes form, einsum subscripts with traces, batches, ellipses and implicit
output), the matrix functions on random well-conditioned matrices
``D (R + n I)`` (R's entries in [-1/2, 1/2], so each row is diagonally
dominant with a margin; D a random diagonal of signs, so determinants of both
signs occur), all against central finite differences (`check_grads`). The
general rules are also checked where the compiler does not know the ndim
(``np.reshape(a, np.shape(a))`` hides it). float32 inputs give float32
gradients, checked with a float32 tolerance. ``sign, logdet =
np.linalg.slogdet(A)`` (unpacking a call's result) and
``np.linalg.slogdet(A)[1]`` both work.
"""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adcompiler import DifferentiationError, check_grads, grad

rule = settings(max_examples=20, deadline=None)
F32 = dict(rtol=1e-2, atol=1e-3)


@functools.lru_cache(maxsize=None)
def compiled(f, n_args, first=0):
    """grad(f) with respect to its n_args arguments from position `first` on, built once."""
    return grad(f, wrt=tuple(range(first, first + n_args)))


def check_at(f, args, grad_fn, rtol=1e-5, atol=None):
    """check_grads of f at args against grad_fn.

    The default `atol` grows with |f|: rounding makes a central difference
    wrong by about eps |f| / h ~ 4e-11 |f| (h ~ 6e-6), and sums of squared
    products of hypothesis' extreme values reach |f| ~ 1e4.
    """
    if atol is None:
        atol = 1e-7 + 1e-9 * abs(float(f(*args)))
    check_grads(f, args, grad_fn=grad_fn, rtol=rtol, atol=atol)


def check(f, *args, **tolerance):
    """check_grads of f at args, with respect to every argument."""
    check_at(f, args, compiled(f, len(args)), **tolerance)


def check_float32(f, *args):
    """float32 in gives float32 gradients, equal to the finite differences to float32 accuracy."""
    args = tuple(np.asarray(a, dtype=np.float32) for a in args)
    grads = compiled(f, len(args))(*args)
    assert all(g.dtype == np.float32 for g in grads)
    check(f, *args, **F32)


def source(f, *args):
    return compiled(f, len(args)).source_for(*args)


# -- strategies -----------------------------------------------------------------

def array(shape, bound=2.0):
    return hnp.arrays(np.float64, shape,
                      elements=st.floats(-bound, bound, allow_nan=False, allow_infinity=False))


side = st.integers(1, 4)


@st.composite
def well_conditioned(draw, n=None, batch=()):
    """D (R + n I): R's entries in [-1/2, 1/2], D a diagonal of random signs."""
    n = draw(side) if n is None else n
    r = draw(array(tuple(batch) + (n, n), bound=0.5))
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    return signs[:, None] * (r + n * np.eye(n))


@st.composite
def matmul_pairs(draw):
    """Operands of ``a @ b``: batch shapes that broadcast, vectors on either side."""
    n, k, m = draw(side), draw(side), draw(side)
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=3, max_side=3)).input_shapes
    kind = draw(st.sampled_from(["matrices", "vector @ matrix", "matrix @ vector"]))
    if kind == "vector @ matrix":
        shape_a, shape_b = (k,), batch_b + (k, m)
    elif kind == "matrix @ vector":
        shape_a, shape_b = batch_a + (n, k), (k,)
    else:
        shape_a, shape_b = batch_a + (n, k), batch_b + (k, m)
    return draw(array(shape_a)), draw(array(shape_b))


@st.composite
def dot_pairs(draw):
    """Operands of ``np.dot(a, b)`` of any ndim 0 to 3."""
    ndim_a, ndim_b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    shape_a = tuple(draw(st.lists(side, min_size=ndim_a, max_size=ndim_a)))
    shape_b = list(draw(st.lists(side, min_size=ndim_b, max_size=ndim_b)))
    if ndim_a and ndim_b:
        shape_b[max(ndim_b - 2, 0)] = shape_a[-1]
    return draw(array(shape_a)), draw(array(tuple(shape_b)))


@st.composite
def tensordot_args(draw):
    """a, b and an `axes` argument in each of NumPy's forms (int, pair of ints, pair of lists)."""
    contracted = draw(st.lists(side, max_size=2))
    free_a, free_b = draw(st.lists(side, max_size=2)), draw(st.lists(side, max_size=2))
    form = draw(st.sampled_from(["int", "sequences", "ints"] if len(contracted) == 1
                                else ["int", "sequences"]))
    if form == "int":
        a = draw(array(tuple(free_a + contracted)))
        b = draw(array(tuple(contracted + free_b)))
        return a, b, len(contracted)
    order_a = draw(st.permutations(range(len(free_a) + len(contracted))))
    order_b = draw(st.permutations(range(len(free_b) + len(contracted))))
    shape_a, shape_b = free_a + contracted, contracted + free_b
    # axis order[i] of the transposed array holds the original axis i
    a = draw(array(tuple(shape_a[order_a.index(i)] for i in range(len(shape_a)))))
    b = draw(array(tuple(shape_b[order_b.index(i)] for i in range(len(shape_b)))))
    axes_a = [order_a[len(free_a) + i] for i in range(len(contracted))]
    axes_b = [order_b[i] for i in range(len(contracted))]
    if draw(st.booleans()):
        axes_a = [x - a.ndim for x in axes_a]                 # negative axes
    if form == "ints":
        return a, b, (axes_a[0], axes_b[0])
    return a, b, (axes_a, axes_b)


def shapes(max_dims=3):
    return hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=4)


# -- products -------------------------------------------------------------------

def matmul_op(a, b):
    c = a @ b
    return np.sum(c * c)


def matmul_np(a, b):
    c = np.matmul(a, b)
    return np.sum(c * c)


def dot(a, b):
    c = np.dot(a, b)
    return np.sum(c * c)


def dot_method(a, b):
    c = a.dot(b)
    return np.sum(c * c)


@rule
@given(matmul_pairs())
def test_matmul_any_shapes(pair):
    check(matmul_op, *pair)
    check(matmul_np, *pair)


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                                              ((4,), (2, 4, 3)), ((3, 1, 2), (2,))])
def test_matmul_broadcast_batches(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    check(matmul_op, a, b)
    da, db = compiled(matmul_op, 2)(a, b)
    assert da.shape == a.shape and db.shape == b.shape


@rule
@given(dot_pairs())
def test_dot_any_ndim(pair):
    check(dot, *pair)
    check(dot_method, *pair)


def test_dot_with_python_scalar():
    check(dot, 1.5, np.arange(3.0))
    check(dot, np.arange(6.0).reshape(2, 3), -0.5)


def test_general_rule_leaves_2d_rules_in_place():
    """The 2-D/1-D rules of rules/numpy.py still print; the general rule takes N-D."""
    a, b, v = np.ones((2, 3)), np.ones((3, 4)), np.ones(3)
    for f in (matmul_op, matmul_np, dot, dot_method):
        assert "matmul_adjoint" not in source(f, a, b) and "tensordot" not in source(f, a, b)
        assert "matmul_adjoint" not in source(f, a, v) and "tensordot" not in source(f, a, v)
    assert "matmul_adjoint_a" in source(matmul_op, np.ones((2, 2, 3)), b)
    assert "tensordot_adjoint_a" in source(dot, np.ones((2, 2, 3)), b)


def dot_unknown_ndim(a, b):
    """np.reshape hides the ndim from the compiler: the general rule runs."""
    c = np.dot(np.reshape(a, np.shape(a)), np.reshape(b, np.shape(b)))
    return np.sum(c * c)


def matmul_unknown_ndim(a, b):
    c = np.reshape(a, np.shape(a)) @ np.reshape(b, np.shape(b))
    return np.sum(c * c)


@rule
@given(dot_pairs())
def test_dot_ndim_unknown(pair):
    check(dot_unknown_ndim, *pair)


@rule
@given(matmul_pairs())
def test_matmul_ndim_unknown(pair):
    check(matmul_unknown_ndim, *pair)


def notes_product(W, X, dD):
    D = W.dot(X)
    return np.sum(D * dD)


@rule
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_notes_vectorised_example(n, k, m, seed):
    """D = W.dot(X) with upstream gradient dD: dW = dD.dot(X.T), dX = W.T.dot(dD)."""
    rng = np.random.default_rng(seed)
    W, X, dD = rng.standard_normal((n, k)), rng.standard_normal((k, m)), rng.standard_normal((n, m))
    dW, dX = compiled(notes_product, 2)(W, X, dD)
    np.testing.assert_allclose(dW, dD.dot(X.T), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dX, W.T.dot(dD), rtol=1e-12, atol=1e-12)


def tensordot(a, b, axes):
    c = np.tensordot(a, b, axes)
    return np.sum(c * c)


def tensordot_keyword(a, b, axes):
    c = np.tensordot(a, b, axes=axes)
    return np.sum(c * c)


@rule
@given(tensordot_args())
def test_tensordot(args):
    a, b, axes = args
    check_at(lambda a, b: tensordot(a, b, axes), (a, b),
             grad_fn=lambda a, b: compiled(tensordot, 2)(a, b, axes))
    check_at(lambda a, b: tensordot_keyword(a, b, axes), (a, b),
             grad_fn=lambda a, b: compiled(tensordot_keyword, 2)(a, b, axes))


def tensordot_default(a, b):
    c = np.tensordot(a, b)
    return np.sum(c * c)


@pytest.mark.parametrize("shape_a, shape_b, axes", [
    ((2, 3, 4), (2, 3, 5), ([0, 1], [0, 1])),       # a's axes move by a cycle
    ((5, 2, 3), (3, 4, 2), ([2, 1], [0, 2])),       # and b's
    ((2, 3), (4, 3, 2), ([1, 0], [1, 2])),
])
def test_tensordot_permuted_axes(shape_a, shape_b, axes):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    check_at(lambda a, b: tensordot(a, b, axes), (a, b),
             grad_fn=lambda a, b: compiled(tensordot, 2)(a, b, axes))


def test_tensordot_default_axes():
    rng = np.random.default_rng(1)
    check(tensordot_default, rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 5)))


def inner(a, b):
    c = np.inner(a, b)
    return np.sum(c * c)


@st.composite
def inner_pairs(draw):
    shape_a, shape_b = list(draw(shapes())), list(draw(shapes()))
    if shape_a and shape_b:
        shape_b[-1] = shape_a[-1]
    return draw(array(tuple(shape_a))), draw(array(tuple(shape_b)))


@rule
@given(inner_pairs())
def test_inner(pair):
    check(inner, *pair)


def outer(a, b):
    c = np.outer(a, b)
    return np.sum(c * c)


@rule
@given(shapes().flatmap(array), shapes().flatmap(array))
def test_outer(a, b):
    check(outer, a, b)


def vdot(a, b):
    c = np.vdot(a, b)
    return c * c


@rule
@given(shapes().flatmap(array), st.sampled_from(["ravel", "transpose", "same"]))
def test_vdot(a, reshape):
    b = {"ravel": np.ravel, "transpose": np.transpose, "same": np.copy}[reshape](a) + 0.5
    check(vdot, a, b)


# -- einsum --------------------------------------------------------------------

EINSUMS = [
    "ij,jk->ik", "ii->", "ii->i", "bij,bjk->bik", "ij->", "ij->ji", "i,i->", "i,j->ij",
    "ij,ij->i", "ii,i->i", "iij->j", "ijk,ikl,lm->jm", "ij,jk,kl,lm->im", "ij,jk", "ba,ac",
    "Ab,bc", "Ca,ab", "...ij,...jk->...ik", "...ij,jk", "i,->i",
]


def einsum1(subscripts, a):
    return np.sum(np.einsum(subscripts, a) ** 2)


def einsum2(subscripts, a, b):
    return np.sum(np.einsum(subscripts, a, b) ** 2)


def einsum3(subscripts, a, b, c):
    return np.sum(np.einsum(subscripts, a, b, c) ** 2)


def einsum4(subscripts, a, b, c, d):
    return np.sum(np.einsum(subscripts, a, b, c, d) ** 2)


EINSUM_FUNCTIONS = {1: einsum1, 2: einsum2, 3: einsum3, 4: einsum4}


def einsum_operands(subscripts, sizes, batch):
    """Random operands for `subscripts`, with `sizes` per letter and `batch` for an ellipsis."""
    rng = np.random.default_rng(sum(map(ord, subscripts)))
    terms = subscripts.split("->")[0].split(",")
    return [rng.standard_normal(batch * ("..." in t) + tuple(sizes[c] for c in t.replace(".", "")))
            for t in terms]


def check_einsum(subscripts, operands, **tolerance):
    f = EINSUM_FUNCTIONS[len(operands)]
    check_at(lambda *ops: f(subscripts, *ops), operands,
             grad_fn=lambda *ops: compiled(f, len(operands), 1)(subscripts, *ops),
             **tolerance)


@pytest.mark.parametrize("subscripts", EINSUMS)
@settings(max_examples=5, deadline=None)
@given(sizes=st.fixed_dictionaries({c: side for c in "ijklmbacABC"}),
       batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
def test_einsum(subscripts, sizes, batch):
    operands = einsum_operands(subscripts, sizes, batch)
    assert np.einsum(subscripts, *operands) is not None
    check_einsum(subscripts, operands)


def test_einsum_implicit_output_order():
    """Implicit mode orders the output letters as NumPy does: uppercase before lowercase."""
    rng = np.random.default_rng(2)
    check_einsum("Ca,ab", [rng.standard_normal((2, 3)), rng.standard_normal((3, 4))])
    check_einsum("bA,AC", [rng.standard_normal((2, 3)), rng.standard_normal((3, 4))])


def test_einsum_broadcasts_length_one_axes():
    rng = np.random.default_rng(2)
    check_einsum("ij,ij->ij", [rng.standard_normal((1, 3)), rng.standard_normal((2, 3))])
    check_einsum("ij,jk->ik", [rng.standard_normal((2, 1)), rng.standard_normal((3, 4))])
    check_einsum("...ij,...jk->...ik", [rng.standard_normal((2, 1, 2, 3)),
                                        rng.standard_normal((5, 3, 2))])


def einsum_same_operand_twice(a):
    return np.einsum("ij,ij->", a, a)


def einsum_with_global(a):
    return np.einsum("ij,ij->", a, WEIGHTS)


WEIGHTS = np.arange(6.0).reshape(2, 3)


def einsum_optimize(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b, optimize=True) ** 2)


def test_einsum_repeated_operand_and_constants():
    a = np.random.default_rng(3).standard_normal((2, 3))
    np.testing.assert_allclose(compiled(einsum_same_operand_twice, 1)(a)[0], 2 * a)
    # the constant is the same array as the argument: still only one contribution
    np.testing.assert_allclose(compiled(einsum_with_global, 1)(WEIGHTS)[0], WEIGHTS)
    check(einsum_optimize, a, a.T)


def einsum5(a):
    return np.einsum("i,i,i,i,i->", a, a, a, a, a)


def einsum_operand_list(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]))


def test_einsum_refusals():
    """Five operands: no rule fits (refused when compiled). The operand-list form: a TypeError."""
    with pytest.raises(DifferentiationError, match="einsum"):
        grad(einsum5)(np.ones(3))
    with pytest.raises(TypeError, match="subscripts-string form"):
        grad(einsum_operand_list, wrt=(0, 1))(np.ones((2, 3)), np.ones((3, 4)))


# -- diagonals ------------------------------------------------------------------

def trace(a, offset, axis1, axis2):
    t = np.trace(a, offset, axis1, axis2)
    return np.sum(t * t)


def trace_defaults(a):
    return np.trace(a) ** 2


def trace_method(a):
    return a.trace() ** 2


@rule
@given(hnp.array_shapes(min_dims=2, max_dims=4, max_side=4).flatmap(array), st.data())
def test_trace(a, data):
    axis1, axis2 = data.draw(st.permutations(range(-a.ndim, 0)))[:2]
    offset = data.draw(st.integers(-3, 3))
    check_at(lambda a: trace(a, offset, axis1, axis2), (a,),
             grad_fn=lambda a: compiled(trace, 1)(a, offset, axis1, axis2))


@rule
@given(hnp.array_shapes(min_dims=2, max_dims=2, max_side=4).flatmap(array))
def test_trace_defaults(a):
    check(trace_defaults, a)
    check(trace_method, a)


def diag(v, k):
    d = np.diag(v, k)
    return np.sum(d * d * d)


def diag_unknown_ndim(v, k):
    d = np.diag(np.reshape(v, np.shape(v)), k)
    return np.sum(d * d * d)


@rule
@given(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4).flatmap(array), st.integers(-3, 3))
def test_diag(v, k):
    for f in (diag, diag_unknown_ndim):
        check_at(lambda v: f(v, k), (v,), grad_fn=lambda v: compiled(f, 1)(v, k))


# -- inverse, determinants, solve -------------------------------------------------

def inv(a):
    return np.sum(np.exp(np.linalg.inv(a)))


def det(a):
    return np.linalg.det(a)


def logdet(a):
    return np.linalg.slogdet(a)[1]


def batched_det(a):
    d = np.linalg.det(0.5 * a)              # scaled so that finite differences stay accurate
    return np.sum(d * d)


def batched_logdet(a):
    return np.sum(np.linalg.slogdet(a)[1] * 1.5)


def inv_unknown_ndim(a):
    return np.sum(np.exp(np.linalg.inv(np.reshape(a, np.shape(a)))))


def det_unknown_ndim(a):
    return np.linalg.det(np.reshape(a, np.shape(a)))


def logdet_unknown_ndim(a):
    return np.linalg.slogdet(np.reshape(a, np.shape(a)))[1]


@rule
@given(well_conditioned())
def test_inv_det_slogdet(a):
    for f in (inv, det, logdet, inv_unknown_ndim, det_unknown_ndim, logdet_unknown_ndim):
        check(f, a)
    np.testing.assert_allclose(compiled(logdet, 1)(a)[0], np.linalg.inv(a).T, rtol=1e-12)


@rule
@given(st.integers(1, 3), hnp.array_shapes(min_dims=1, max_dims=2, max_side=3), st.data())
def test_batched_inv_det_slogdet(n, batch, data):
    a = data.draw(well_conditioned(n, batch))
    for f in (inv, batched_det, batched_logdet):
        check(f, a)


def solve(a, b):
    x = np.linalg.solve(a, b)
    return np.sum(x * x)


def solve_unknown_ndim(a, b):
    x = np.linalg.solve(np.reshape(a, np.shape(a)), np.reshape(b, np.shape(b)))
    return np.sum(x * x)


@rule
@given(st.integers(1, 4), st.integers(0, 3), st.data())
def test_solve(n, k, data):
    """b a vector when k == 0, else a matrix of k columns."""
    a = data.draw(well_conditioned(n))
    b = data.draw(array((n,) if k == 0 else (n, k)))
    check(solve, a, b)
    check(solve_unknown_ndim, a, b)


@rule
@given(st.integers(1, 3), st.integers(0, 2),
       hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       st.data())
def test_batched_solve(n, k, batches, data):
    batch_a, batch_b = batches.input_shapes
    a = data.draw(well_conditioned(n, batch_a))
    b = data.draw(array((n,) if k == 0 else batch_b + (n, k)))
    check(solve, a, b)


# -- float32 --------------------------------------------------------------------

def test_float32():
    rng = np.random.default_rng(4)

    def r(*shape):
        return rng.uniform(-1, 1, shape)

    def wc(n, *batch):
        return r(*batch, n, n) * 0.5 + n * np.eye(n)

    check_float32(matmul_op, r(2, 1, 3, 4), r(5, 4, 2))
    check_float32(matmul_op, r(4), r(2, 4, 3))
    check_float32(dot, r(2, 3, 4), r(5, 4, 2))
    check_float32(dot, r(3, 4), r(4, 2))
    check_float32(inner, r(2, 3), r(4, 3))
    check_float32(outer, r(2, 3), r(4))
    check_float32(vdot, r(2, 3), r(6))
    check_float32(tensordot_default, r(2, 3, 4), r(3, 4, 5))
    check_float32(trace_defaults, r(3, 4))
    for f in (inv, det, logdet, inv_unknown_ndim, det_unknown_ndim):
        check_float32(f, wc(3))
    check_float32(batched_det, wc(3, 2))
    check_float32(batched_logdet, wc(3, 2))
    check_float32(solve, wc(3), r(3))
    check_float32(solve, wc(3), r(3, 2))
    check_float32(solve, wc(3, 2, 1), r(4, 3, 2))
    operands = [r(2, 3).astype(np.float32), r(3, 4).astype(np.float32)]
    grads = compiled(einsum2, 2, 1)("ij,jk->ik", *operands)
    assert all(g.dtype == np.float32 for g in grads)
    check_einsum("ij,jk->ik", operands, **F32)
    for v in (r(4), r(3, 5)):
        v = v.astype(np.float32)
        assert compiled(diag, 1)(v, 1)[0].dtype == np.float32
        check_at(lambda v: diag(v, 1), (v,), grad_fn=lambda v: compiled(diag, 1)(v, 1), **F32)


# -- unpacking slogdet's result --------------------------------------------------

def logdet_unpacked(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return logabsdet


def signed_logdet_unpacked(a):
    """The sign is piecewise constant: it scales the gradient, gets none."""
    sign, logabsdet = np.linalg.slogdet(a)
    return np.sum(sign * logabsdet)


@rule
@given(well_conditioned())
def test_slogdet_unpacked(a):
    check(logdet_unpacked, a)
    check(signed_logdet_unpacked, a)
    np.testing.assert_allclose(compiled(signed_logdet_unpacked, 1)(a)[0],
                               np.linalg.det(a) / abs(np.linalg.det(a)) * np.linalg.inv(a).T,
                               rtol=1e-12)


def det_of_long_name(covariance_matrix_of_the_observations):
    return np.linalg.det(covariance_matrix_of_the_observations)


def test_only_long_backward_lines():
    """Every backward line 60 characters or longer (codegen once crashed on this)."""
    check(det_of_long_name, 3 * np.eye(3) + 0.1)
