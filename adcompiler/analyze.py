"""Analysis of a staged function: which names are active, and which are scalars.

A name is *active* when it depends on a `wrt` input and the output depends on
it: only active names get adjoints. A name is a *scalar* when it is known to
hold a single number (not an array), so its adjoint may be accumulated with a
plain `+=`.
"""

import ast
import math
import operator
import types
from dataclasses import dataclass

import numpy as np

from . import runtime

from .ir import Const, If, Loop, Op, Var, copy_value, leaves

# primitives that always return one Python float, whatever they are given
_MATH_FUNCTIONS = {v for v in vars(math).values()
                   if isinstance(v, types.BuiltinFunctionType) and v is not getattr(math, "prod", None)}
_FLOAT_RESULT = _MATH_FUNCTIONS | {float}


def walk_ops(body):
    """Every operation in a staged body, branches and loops included, in order."""
    for stmt in body:
        if isinstance(stmt, Op):
            yield stmt
        elif isinstance(stmt, If):
            yield from walk_ops(stmt.body)
            yield from walk_ops(stmt.orelse)
        elif isinstance(stmt, Loop):
            yield from walk_ops(stmt.header)
            yield from walk_ops(stmt.body)


def walk_loops(body):
    """Every loop in a staged body, nested ones included."""
    for stmt in body:
        if isinstance(stmt, Loop):
            yield stmt
            yield from walk_loops(stmt.body)
        elif isinstance(stmt, If):
            yield from walk_loops(stmt.body)
            yield from walk_loops(stmt.orelse)


def _grow(names, ops, step):
    """Apply `step(op, names)` over `ops` until `names` stops growing (loops feed back)."""
    while True:
        size = len(names)
        for op in ops:
            step(op, names)
        if len(names) == size:
            return names


def active_names(staged, wrt, registry):
    """The set of names that need an adjoint: they vary with `wrt` and the output needs them."""
    ops = list(walk_ops(staged.body))

    def vary(op, varies):
        if not registry.is_constant(op.prim) and any(
                isinstance(a, Var) and a.name in varies for a in op.atoms()):
            varies.add(op.target)
    varies = _grow(set(wrt), ops, vary)

    def need(op, needed):
        if op.target in needed and op.target in varies:
            needed.update(a.name for a in op.atoms() if isinstance(a, Var))
    output = staged.body[-1].value
    needed = {leaf.name for leaf in leaves(output) if isinstance(leaf, Var)}
    needed = _grow(needed, list(reversed(ops)), need)
    return needed & varies


def free_constants(staged):
    """Names of the globals and closure variables the function reads as values.

    Their kinds (number or array) may change between calls, so they are part
    of what a compiled variant is specialised on.
    """
    found = []
    for stmt in walk_ops(staged.body):
        for atom in stmt.atoms():
            if isinstance(atom, Const) and isinstance(atom.expr, ast.Name) and atom.key not in found:
                found.append(atom.key)
    return found


def array_kind(ndim, full):
    """The kind of an array argument: ``"array2"``, or ``"array2f"`` when no axis has
    length 1 (a *full* array, which broadcasting can only extend by leading axes)."""
    return f"array{ndim}{'f' if full else ''}"


def parse_array_kind(kind):
    """(ndim, full) of an array kind, None for any other kind."""
    if isinstance(kind, str) and kind.startswith("array"):
        full = kind.endswith("f")
        return int(kind[5:-1] if full else kind[5:]), full
    return None


@dataclass(frozen=True)
class Shape:
    """What the compiler knows of a value's shape.

    `token` names a class of values known to share one shape: two values with
    the same token have equal shapes. The token ``"scalar"`` is a single,
    immutable number (a Python or NumPy scalar). `ndim` is None where unknown.
    `full`: no axis has length 1, so in a broadcast the value's axes are the
    result's last ones, unchanged.
    """
    token: object
    ndim: object = None
    full: bool = False

    @property
    def scalar(self):
        return self.token == "scalar"


def kept(x, axis):
    """The shape of a reduction of `x` over one `axis` with keepdims=True: x's, with a 1 there."""
    return Shape(("kept", x.token, axis), x.ndim)


def kept_axis(shape):
    """The axis a kept-dims reduction's shape has a 1 in, else None."""
    token = shape.token
    return token[2] if isinstance(token, tuple) and token[0] == "kept" else None


SCALAR = Shape("scalar", 0)
NOTHING = Shape("nothing")       # None, a placeholder until a branch gives the value
BASIC_INDEX = Shape("basic index")   # an index of numbers, slices, None and ...
SHAPE_TUPLE = Shape("shape tuple")   # what np.shape gives: a tuple of ints

_ELEMENTWISE_1 = {copy_value, operator.neg, operator.pos, operator.not_, abs, runtime.astype,
                  runtime.step, np.copy}
_ELEMENTWISE_2 = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
                  operator.floordiv, operator.mod, operator.lt, operator.le, operator.gt,
                  operator.ge, operator.eq, operator.ne}
ELEMENTWISE = _ELEMENTWISE_1 | _ELEMENTWISE_2
_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.amax, np.amin}
_PRODUCTS = {np.dot, np.matmul, operator.matmul}


def is_elementwise(prim):
    """An operator or ufunc that works element by element, broadcasting its operands
    (np.matmul is a ufunc too, but a generalised one with a core signature)."""
    try:
        return prim in ELEMENTWISE or isinstance(prim, np.ufunc) and prim.signature is None
    except TypeError:                     # an unhashable callable
        return False


def _hashable(prim):
    try:
        hash(prim)
        return True
    except TypeError:
        return False


class _Shapes:
    def __init__(self, staged, kinds, callee=None):
        self.kinds = kinds
        self.values = {}
        self._tokens = 0
        self.callee = callee

    def new(self, ndim=None, full=False):
        """A shape known to no one else (no equality with any other)."""
        self._tokens += 1
        return Shape(self._tokens, ndim, full)

    def named(self, op, ndim=None, full=False):
        """The shape of a new result, named after the operation (stable between passes)."""
        return Shape(("result", op.target), ndim, full and ndim is not None)

    def of(self, atom):
        if isinstance(atom, Var):
            return self.values.get(atom.name) or self.new()
        if isinstance(atom, Const):
            if fixed_number(atom):
                return SCALAR
            if atom.value is None and isinstance(atom.expr, ast.Constant):
                return NOTHING
            kind = self.kinds.get(atom.key)
            return self.from_kind(kind) if kind else self.new()
        return self.new()

    def from_kind(self, kind):
        if kind == "scalar":
            return SCALAR
        if isinstance(kind, type):               # an object of a user class
            return Shape(("object", kind))
        array = parse_array_kind(kind)
        if array is not None:
            return self.new(*array)
        return self.new()

    def broadcast(self, op, a, b):
        if a.scalar:
            return b
        if b.scalar or a.token == b.token or b == kept(a, kept_axis(b)):
            return a
        if a == kept(b, kept_axis(a)):
            return b
        if a.ndim is None or b.ndim is None:
            return self.named(op)
        if a.full and a.ndim >= b.ndim:        # b fits inside a: the result is a's shape
            return a
        if b.full and b.ndim >= a.ndim:
            return b
        return self.named(op, max(a.ndim, b.ndim), a.full and b.full)

    def result(self, op):
        prim = op.prim
        args = [self.of(a) for a in op.args]
        kwargs = dict(op.kwargs)
        if not _hashable(prim):
            return self.named(op)
        if prim in _FLOAT_RESULT:
            return SCALAR
        if self.callee is not None:                # a call to one of the user's functions
            kind = self.callee(op, [self.of(a) for a in op.args],
                               {k: self.of(a) for k, a in kwargs.items()})
            if kind == "scalar":
                return SCALAR
            array = parse_array_kind(kind)
            if array is not None:
                return self.named(op, *array)
            if kind is not None:
                return self.named(op)
        ufunc = isinstance(prim, np.ufunc) and prim.signature is None
        if prim in _ELEMENTWISE_1 or ufunc and prim.nin == 1 and args:
            return args[0]
        if (prim in _ELEMENTWISE_2 or ufunc and prim.nin == 2) and len(args) == 2:
            return self.broadcast(op, *args)
        if prim in (max, min) and all(a.scalar for a in args):
            return SCALAR
        if prim in _REDUCTIONS and args:
            return self.reduction(op, args[0], kwargs)
        if prim in _PRODUCTS and len(args) == 2:
            return self.product(op, *args)
        if prim is np.shape:
            return SHAPE_TUPLE
        if prim in (np.size, np.ndim, len):
            return SCALAR
        if prim is operator.getitem and args and args[0] == SHAPE_TUPLE:
            return SCALAR if isinstance(op.args[1], (Var, Const)) and self.of(op.args[1]).scalar \
                else SHAPE_TUPLE
        if prim is operator.getitem and isinstance(op.args[1], (Var, Const)) \
                and self.of(op.args[1]).scalar and args[0].ndim:
            return SCALAR if args[0].ndim == 1 else self.named(op, args[0].ndim - 1, args[0].full)
        if prim is np.transpose and len(op.args) == 1 and not kwargs:
            return self.named(op, args[0].ndim, args[0].full)
        return self.named(op)

    def reduction(self, op, x, kwargs):
        axis = op.args[1] if len(op.args) > 1 else kwargs.get("axis")
        keepdims = kwargs.get("keepdims")
        keep = isinstance(keepdims, Const) and keepdims.value is True
        if keepdims is not None and not isinstance(keepdims, Const):
            return self.named(op)
        if axis is None or isinstance(axis, Const) and axis.value is None:
            return self.named(op, x.ndim) if keep else SCALAR
        if isinstance(axis, Const) and isinstance(axis.value, int) and x.ndim is not None:
            if keep and -x.ndim <= axis.value < x.ndim:
                return kept(x, axis.value % x.ndim)
            return self.named(op, x.ndim, False) if keep else self.named(op, x.ndim - 1, x.full)
        return self.named(op)

    def product(self, op, a, b):
        dims = (a.ndim, b.ndim)
        if dims == (1, 1):
            return SCALAR
        if dims in ((2, 2), (2, 1), (1, 2)):      # the axes left are the operands' own
            return self.named(op, sum(dims) - 2, a.full and b.full)
        return self.named(op)


def shapes(staged, kinds, callee=None):
    """The Shape of every name, given the kinds of the parameters and free constants.

    `kinds` maps a parameter or free constant's name to ``"scalar"``,
    ``"array<ndim>"`` (``"array<ndim>f"`` for a full one) or ``"other"``.
    """
    known = _Shapes(staged, kinds, callee)
    for p in staged.params:
        known.values[p] = known.from_kind(kinds.get(p))
    for loop in walk_loops(staged.body):
        if loop.target is not None:           # a for loop's index: an int
            known.values[loop.target] = SCALAR
    ops = list(walk_ops(staged.body))
    for _ in range(6):                    # names assigned more than once (loops, branches) join
        results = {}
        for op in ops:
            results.setdefault(op.target, []).append(known.result(op))
            known.values[op.target] = _join(op.target, results[op.target])
        if all(known.values.get(name) == _join(name, shapes_) for name, shapes_ in results.items()) \
                and getattr(known, "_last", None) == known.values:
            break
        known._last = dict(known.values)
    return known


def _join(name, shapes_):
    """One Shape for a name assigned several values (a None placeholder does not count)."""
    shapes_ = [s for s in shapes_ if s != NOTHING] or [NOTHING]
    first = shapes_[0]
    if all(s == first for s in shapes_):
        return first
    ndims = {s.ndim for s in shapes_}
    return Shape(("joined", name), ndims.pop() if len(ndims) == 1 else None)


def fixed_number(const):
    """A number written in the source, or a library constant such as ``math.pi``."""
    return isinstance(const.expr, (ast.Constant, ast.Attribute)) \
        and isinstance(const.value, (bool, int, float))
