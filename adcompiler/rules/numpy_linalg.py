"""Adjoint rules for NumPy linear algebra: products, einsum, trace, diag, inverse,
determinants and solve.

The 2-D and 1-D cases of `np.dot`, `np.matmul` and ``@`` are in rules/numpy.py;
the general rules here take every other case (scalars with `np.dot`, N-D
`np.dot`, batched ``@`` with broadcast batch dimensions, ndim unknown when the
function is compiled). Where the common case has a short closed form (a 2-D
matrix, a vector), a rule with ``when=`` prints it; the general rule behind it
works for any shape and leans on a helper below.

The formulas, with ``out`` the result and ``dout`` its adjoint:

- ``C = A B``:  ``dA = dC Bᵀ``, ``dB = Aᵀ dC``; batched, each matrix of the
  batch the same, summed over batch dimensions that were broadcast.
- ``tensordot``/``dot``/``inner``: the adjoint of one factor contracts the
  output's adjoint with the other factor over the other factor's free axes.
- ``Y = A⁻¹``:  ``dA = -Yᵀ dY Yᵀ``.
- ``d = det A``:  ``dA = dd · d · A⁻ᵀ``;  ``slogdet``: ``dA = dlogabsdet · A⁻ᵀ``
  (the sign is piecewise constant and gets no gradient).
- ``X = A⁻¹ B``:  ``dB = A⁻ᵀ dX``, ``dA = -dB Xᵀ``.

Not differentiable points: `det`, `slogdet` and `inv` at a singular matrix
raise NumPy's ``LinAlgError`` (the rules use the inverse), as the primal
`inv` and `solve` do. Complex inputs are not supported (`vdot` does not
conjugate in its rule).
"""

import operator

import numpy as np

from ..runtime import unbroadcast
from .registry import adjoint, nondifferentiable


# -- helpers the generated code calls --------------------------------------------

def _axis_list(axes, ndim):
    """One side of tensordot's `axes` (an int or a sequence) as non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        axes = [axes]
    return [int(axis) % ndim if ndim else int(axis) for axis in axes]


def _contracted_axes(a_ndim, b_ndim, axes):
    """`np.tensordot`'s `axes` argument as two lists of non-negative axes of a and b."""
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        return list(range(a_ndim - n, a_ndim)), list(range(n))
    axes_a, axes_b = axes
    return _axis_list(axes_a, a_ndim), _axis_list(axes_b, b_ndim)


def tensordot_adjoint_a(g, a, b, axes=2):
    """The adjoint of `a` in ``np.tensordot(a, b, axes)``, given the output's adjoint `g`.

    `g` has a's free axes, then b's free axes. Contracting it with `b` over
    b's free axes leaves a's free axes followed by b's contracted axes
    (in increasing order); each of those stands for the axis of `a` it was
    paired with, and a transpose puts them back in a's order.
    """
    a_ndim, b_ndim = np.ndim(a), np.ndim(b)
    axes_a, axes_b = _contracted_axes(a_ndim, b_ndim, axes)
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [j for j in range(b_ndim) if j not in axes_b]
    g_free_b = list(range(len(free_a), len(free_a) + len(free_b)))
    r = np.tensordot(g, b, axes=(g_free_b, free_b))
    order = free_a + [axes_a[axes_b.index(j)] for j in sorted(axes_b)]
    return np.transpose(r, np.argsort(order))


def tensordot_adjoint_b(g, a, b, axes=2):
    """The adjoint of `b` in ``np.tensordot(a, b, axes)``, given the output's adjoint `g`.

    Contracting `a` with `g` over a's free axes leaves a's contracted axes
    (in increasing order), each standing for the axis of `b` it was paired
    with, then b's free axes; a transpose puts them back in b's order.
    """
    a_ndim, b_ndim = np.ndim(a), np.ndim(b)
    axes_a, axes_b = _contracted_axes(a_ndim, b_ndim, axes)
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [j for j in range(b_ndim) if j not in axes_b]
    r = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    order = [axes_b[axes_a.index(i)] for i in sorted(axes_a)] + free_b
    return np.transpose(r, np.argsort(order))


def dot_axes(a, b):
    """The `axes` that make ``np.tensordot(a, b, axes)`` equal ``np.dot(a, b)``.

    A scalar multiplies (no axes); otherwise the last axis of `a` meets the
    second-to-last axis of `b` (its only axis when `b` is a vector).
    """
    a_ndim, b_ndim = np.ndim(a), np.ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return 0
    return [a_ndim - 1], [max(b_ndim - 2, 0)]


def inner_axes(a, b):
    """The `axes` that make ``np.tensordot(a, b, axes)`` equal ``np.inner(a, b)``:
    the last axes of both, or none when one is a scalar."""
    a_ndim, b_ndim = np.ndim(a), np.ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return 0
    return [a_ndim - 1], [b_ndim - 1]


def _as_matrices(g, a, b):
    """``a @ b`` with vectors promoted as matmul does: a to a row, b to a column,
    and the output's adjoint `g` with the dimensions the promotion dropped."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    if b.ndim == 1:
        b, g = b[:, None], g[..., None]
    if a.ndim == 1:
        a, g = a[None, :], np.expand_dims(g, -2)
    return g, a, b


def matmul_adjoint_a(g, a, b):
    """The adjoint of `a` in ``a @ b`` for any shapes matmul accepts, given the output's adjoint `g`.

    ``g @ bᵀ`` for each matrix of the batch, summed over the batch dimensions
    `a` was broadcast along; a vector `a` is a row during the product.
    """
    g2, a2, b2 = _as_matrices(g, a, b)
    da = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2)
    return np.reshape(da, np.shape(a))


def matmul_adjoint_b(g, a, b):
    """The adjoint of `b` in ``a @ b`` for any shapes matmul accepts, given the output's adjoint `g`.

    ``aᵀ @ g`` for each matrix of the batch, summed over the batch dimensions
    `b` was broadcast along; a vector `b` is a column during the product.
    """
    g2, a2, b2 = _as_matrices(g, a, b)
    db = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2)
    return np.reshape(db, np.shape(b))


def with_diagonal(g, x, offset=0, axis1=0, axis2=1):
    """Zeros shaped like `x` with `g` on its `offset` diagonal over `axis1`, `axis2`.

    The adjoint of ``np.diagonal(x, offset, axis1, axis2)``: `g` is shaped like
    that diagonal (the other axes, then the diagonal's length) or broadcasts
    to it.
    """
    g = np.asarray(g)
    dx = np.zeros(np.shape(x), dtype=np.result_type(g.dtype, 0.0))
    view = np.moveaxis(dx, (axis1, axis2), (-2, -1))
    n, m = view.shape[-2:]
    if offset >= 0:
        length = max(0, min(n, m - offset))
        rows, cols = np.arange(length), np.arange(length) + offset
    else:
        length = max(0, min(n + offset, m))
        rows, cols = np.arange(length) - offset, np.arange(length)
    view[..., rows, cols] = g
    return dx


def undiag(g, v, k=0):
    """The adjoint of `v` in ``np.diag(v, k)``: for a vector `v`, the `k`-th
    diagonal of `g`; for a matrix, `g` on the `k`-th diagonal of zeros shaped like `v`."""
    if np.ndim(v) == 1:
        return np.diag(g, k)
    return with_diagonal(g, v, k)


def columns(x, b):
    """`x` with a trailing axis of length 1 when `b` is a vector: the right-hand
    sides of ``np.linalg.solve(a, b)`` as the columns of a matrix."""
    return np.asarray(x)[..., None] if np.ndim(b) == 1 else x


def uncolumns(x, b):
    """The inverse of `columns`: drop the trailing axis again when `b` is a vector."""
    return x[..., 0] if np.ndim(b) == 1 else x


def _einsum_terms(subscripts, operands):
    """The input terms and the output term of an einsum, one letter per axis.

    An ellipsis becomes letters the subscripts do not use (aligned on the
    right, as NumPy broadcasts it); implicit mode (no ``->``) gets NumPy's
    output: the ellipsis, then the letters used once, in alphabetical order.
    """
    if not isinstance(subscripts, str):
        raise TypeError("the adjoint of np.einsum supports the subscripts-string form "
                        "np.einsum('ij,jk->ik', a, b), not the operand-list form")
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(terms)} operands, "
                         f"{len(operands)} given")
    if not arrow:
        letters = "".join(terms).replace(".", "")
        output = ("..." if "..." in inputs else "") + \
            "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if "..." in spec:
        spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in spec]
        counts = [np.ndim(x) - (len(t) - 3) for t, x in zip(terms, operands) if "..." in t]
        extra = spare[:max(counts, default=0)]
        terms = [t.replace("...", "".join(extra[len(extra) - (np.ndim(x) - (len(t) - 3)):]))
                 if "..." in t else t for t, x in zip(terms, operands)]
        output = output.replace("...", "".join(extra))
    return terms, output


def einsum_adjoint(g, subscripts, position, a, b=None, c=None, d=None):
    """The adjoint of the operand at `position` in ``np.einsum(subscripts, a, b, c, d)``.

    With x that operand and t its term: contract the output's adjoint `g`
    with the other operands onto those letters of t that the output or
    another operand uses; letters only x uses (summed within x) broadcast;
    axes x broadcast (length 1) are summed back; a letter repeated in t (a
    diagonal, as in ``'ii->'``) places the result on that diagonal, zeros
    elsewhere.
    """
    operands = [x for x in (a, b, c, d) if x is not None]
    terms, output = _einsum_terms(subscripts, operands)
    x, term = operands[position], terms[position]
    others = [t for k, t in enumerate(terms) if k != position]
    letters = list(dict.fromkeys(term))                      # unique, in order
    kept = [c for c in letters if c in output or any(c in t for t in others)]
    r = np.einsum(",".join([output] + others) + "->" + "".join(kept), g,
                  *[y for k, y in enumerate(operands) if k != position])
    r = np.expand_dims(r, [i for i, c in enumerate(letters) if c not in kept])
    sizes = [np.shape(x)[term.index(c)] for c in letters]
    summed = tuple(i for i, n in enumerate(sizes) if n == 1 and r.shape[i] != 1)
    if summed:
        r = np.sum(r, axis=summed, keepdims=True)
    r = np.broadcast_to(r, sizes)
    if len(letters) == len(term):
        return r
    dx = np.zeros(np.shape(x), dtype=r.dtype)
    index = tuple(np.arange(sizes[letters.index(c)]).reshape(
        [-1 if i == letters.index(c) else 1 for i in range(len(letters))]) for c in term)
    dx[index] = r
    return dx


nondifferentiable(dot_axes, inner_axes)


# -- products ---------------------------------------------------------------------

def _general_product(a, b):
    """Not one of the 2-D/1-D cases that rules/numpy.py handles (ndim unknown included)."""
    return not (a.ndim in (1, 2) and b.ndim in (1, 2))


@adjoint(np.dot, when=_general_product)
def _(out, a, b):
    """N-D: the last axis of a meets the second-to-last of b; a scalar multiplies."""
    axes = dot_axes(a, b)
    da += tensordot_adjoint_a(dout, a, b, axes)
    db += tensordot_adjoint_b(dout, a, b, axes)


@adjoint(np.matmul, operator.matmul, when=_general_product)
def _(out, a, b):
    """Batched: broadcast batch dimensions are summed back; vectors are promoted."""
    da += matmul_adjoint_a(dout, a, b)
    db += matmul_adjoint_b(dout, a, b)


@adjoint(np.tensordot)
def _(out, a, b, axes=2):
    da += tensordot_adjoint_a(dout, a, b, axes)
    db += tensordot_adjoint_b(dout, a, b, axes)


@adjoint(np.inner)
def _(out, a, b):
    """N-D: the last axes of a and b meet; a scalar multiplies."""
    axes = inner_axes(a, b)
    da += tensordot_adjoint_a(dout, a, b, axes)
    db += tensordot_adjoint_b(dout, a, b, axes)


@adjoint(np.inner, when=lambda a, b: a.ndim == 1 and b.ndim == 1)
def _(out, a, b):
    da += b * dout
    db += a * dout


@adjoint(np.outer)
def _(out, a, b):
    """The inputs are flattened first."""
    da += np.reshape(np.dot(dout, np.ravel(b)), np.shape(a))
    db += np.reshape(np.dot(np.ravel(a), dout), np.shape(b))


@adjoint(np.outer, when=lambda a, b: a.ndim == 1 and b.ndim == 1)
def _(out, a, b):
    da += dout.dot(b)
    db += dout.T.dot(a)


@adjoint(np.vdot)
def _(out, a, b):
    """Real inputs: the sum of the flattened product."""
    da += np.reshape(b, np.shape(a)) * dout
    db += np.reshape(a, np.shape(b)) * dout


@adjoint(np.einsum)
def _(out, subscripts, a, b=None, c=None, d=None, *, optimize=False):
    """Up to four operands, subscripts as a string (explicit or implicit output,
    repeated letters, ellipsis). An active first argument means the
    operand-list form, which the helper refuses with a TypeError."""
    dsubscripts += einsum_adjoint(dout, subscripts, 0, a, b, c, d)
    da += einsum_adjoint(dout, subscripts, 0, a, b, c, d)
    db += einsum_adjoint(dout, subscripts, 1, a, b, c, d)
    dc += einsum_adjoint(dout, subscripts, 2, a, b, c, d)
    dd += einsum_adjoint(dout, subscripts, 3, a, b, c, d)


# -- diagonals ----------------------------------------------------------------------

@adjoint(np.trace)
def _(out, a, offset=0, axis1=0, axis2=1):
    """The adjoint spreads over the diagonal that was summed."""
    da += with_diagonal(np.expand_dims(dout, -1), a, offset, axis1, axis2)


@adjoint(np.diag)
def _(out, v, k=0):
    dv += undiag(dout, v, k)


@adjoint(np.diag, when=lambda v: v.ndim == 1)
def _(out, v, k=0):
    """A vector went onto the k-th diagonal: take that diagonal of the adjoint."""
    dv += np.diag(dout, k)


# -- inverse, determinants, solve ---------------------------------------------------

@adjoint(np.linalg.inv)
def _(out, a):
    """Batched: each matrix of the stack."""
    out_t = np.swapaxes(out, -1, -2)
    da -= out_t @ dout @ out_t


@adjoint(np.linalg.inv, when=lambda a: a.ndim == 2)
def _(out, a):
    da -= out.T.dot(dout).dot(out.T)


@adjoint(np.linalg.det)
def _(out, a):
    """Batched: each matrix of the stack."""
    inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)
    da += np.expand_dims(out * dout, (-2, -1)) * inv_t


@adjoint(np.linalg.det, when=lambda a: a.ndim == 2)
def _(out, a):
    da += out * dout * np.linalg.inv(a).T


@adjoint(np.linalg.slogdet)
def _(out, a):
    """The output is (sign, logabsdet); the sign is piecewise constant. Batched."""
    inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)
    da += np.expand_dims(dout[1], (-2, -1)) * inv_t


@adjoint(np.linalg.slogdet, when=lambda a: a.ndim == 2)
def _(out, a):
    """The output is (sign, logabsdet); the sign is piecewise constant."""
    da += dout[1] * np.linalg.inv(a).T


@adjoint(np.linalg.solve)
def _(out, a, b):
    """Batched a (..., M, M) with b (M,) or (..., M, K), batch dimensions broadcast."""
    g = np.linalg.solve(np.swapaxes(a, -1, -2), columns(dout, b))
    db += unbroadcast(uncolumns(g, b), b)
    da -= unbroadcast(g @ np.swapaxes(columns(out, b), -1, -2), a)


@adjoint(np.linalg.solve, when=lambda a, b: a.ndim == 2 and b.ndim == 1)
def _(out, a, b):
    g = np.linalg.solve(a.T, dout)
    db += g
    da -= np.outer(g, out)


@adjoint(np.linalg.solve, when=lambda a, b: a.ndim == 2 and b.ndim == 2)
def _(out, a, b):
    g = np.linalg.solve(a.T, dout)
    db += g
    da -= g.dot(out.T)
