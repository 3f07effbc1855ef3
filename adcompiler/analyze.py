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

from .ir import Const, Op, Return, Var, copy_value

# primitives that always return one Python float, whatever they are given
_MATH_FUNCTIONS = {v for v in vars(math).values()
                   if isinstance(v, types.BuiltinFunctionType) and v is not getattr(math, "prod", None)}
_FLOAT_RESULT = _MATH_FUNCTIONS | {float}


def active_names(staged, wrt, registry):
    """The set of names that need an adjoint."""
    varies = set(wrt)
    for stmt in staged.body:
        if isinstance(stmt, Op) and not registry.is_constant(stmt.prim) \
                and any(isinstance(a, Var) and a.name in varies for a in stmt.atoms()):
            varies.add(stmt.target)
    needed = set()
    for stmt in reversed(staged.body):
        if isinstance(stmt, Return) and isinstance(stmt.value, Var):
            needed.add(stmt.value.name)
        elif isinstance(stmt, Op) and stmt.target in needed and stmt.target in varies:
            needed.update(a.name for a in stmt.atoms() if isinstance(a, Var))
    return needed & varies


def free_constants(staged):
    """Names of the globals and closure variables the function reads as values.

    Their kinds (number or array) may change between calls, so they are part
    of what a compiled variant is specialised on.
    """
    found = []
    for stmt in staged.body:
        for atom in stmt.atoms() if isinstance(stmt, Op) else ():
            if isinstance(atom, Const) and isinstance(atom.expr, ast.Name) and atom.key not in found:
                found.append(atom.key)
    return found


@dataclass(frozen=True)
class Shape:
    """What the compiler knows of a value's shape.

    `token` names a class of values known to share one shape: two values with
    the same token have equal shapes. The token ``"scalar"`` is a single,
    immutable number (a Python or NumPy scalar). `ndim` is None where unknown.
    """
    token: object
    ndim: object = None

    @property
    def scalar(self):
        return self.token == "scalar"


SCALAR = Shape("scalar", 0)

_ELEMENTWISE_1 = {copy_value, operator.neg, operator.pos, operator.not_, abs, runtime.astype,
                  np.copy}
_ELEMENTWISE_2 = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
                  operator.floordiv, operator.mod, operator.lt, operator.le, operator.gt,
                  operator.ge, operator.eq, operator.ne}
ELEMENTWISE = _ELEMENTWISE_1 | _ELEMENTWISE_2
_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std, np.amax, np.amin}
_PRODUCTS = {np.dot, np.matmul, operator.matmul}


def _hashable(prim):
    try:
        hash(prim)
        return True
    except TypeError:
        return False


class _Shapes:
    def __init__(self, staged, kinds):
        self.kinds = kinds
        self.values = {}
        self._tokens = 0

    def new(self, ndim=None):
        self._tokens += 1
        return Shape(self._tokens, ndim)

    def of(self, atom):
        if isinstance(atom, Var):
            return self.values.get(atom.name) or self.new()
        if isinstance(atom, Const):
            if fixed_number(atom):
                return SCALAR
            kind = self.kinds.get(atom.key)
            return self.from_kind(kind) if kind else self.new()
        return self.new()

    def from_kind(self, kind):
        if kind == "scalar":
            return SCALAR
        if isinstance(kind, str) and kind.startswith("array"):
            return self.new(int(kind[5:]))
        return self.new()

    def broadcast(self, a, b):
        if a.scalar:
            return b
        if b.scalar or a.token == b.token:
            return a
        ndim = max(a.ndim, b.ndim) if a.ndim is not None and b.ndim is not None else None
        return self.new(ndim)

    def result(self, op):
        prim = op.prim
        args = [self.of(a) for a in op.args]
        kwargs = dict(op.kwargs)
        if not _hashable(prim):
            return self.new()
        if prim in _FLOAT_RESULT:
            return SCALAR
        if prim in _ELEMENTWISE_1 or isinstance(prim, np.ufunc) and prim.nin == 1 and args:
            return args[0]
        if (prim in _ELEMENTWISE_2 or isinstance(prim, np.ufunc) and prim.nin == 2) \
                and len(args) == 2:
            return self.broadcast(*args)
        if prim in (max, min) and all(a.scalar for a in args):
            return SCALAR
        if prim in _REDUCTIONS and args:
            return self.reduction(op, args[0], kwargs)
        if prim in _PRODUCTS and len(args) == 2:
            return self.product(*args)
        if prim is np.transpose and len(op.args) == 1 and not kwargs:
            return self.new(args[0].ndim)
        return self.new()

    def reduction(self, op, x, kwargs):
        axis = op.args[1] if len(op.args) > 1 else kwargs.get("axis")
        keepdims = kwargs.get("keepdims")
        keep = isinstance(keepdims, Const) and keepdims.value is True
        if keepdims is not None and not isinstance(keepdims, Const):
            return self.new()
        if axis is None or isinstance(axis, Const) and axis.value is None:
            return self.new(x.ndim) if keep else SCALAR
        if isinstance(axis, Const) and isinstance(axis.value, int) and x.ndim is not None:
            return self.new(x.ndim if keep else x.ndim - 1)
        return self.new()

    def product(self, a, b):
        dims = (a.ndim, b.ndim)
        if dims == (1, 1):
            return SCALAR
        if dims in ((2, 2), (2, 1), (1, 2)):
            return self.new(sum(dims) - 2)
        return self.new()


def shapes(staged, kinds):
    """The Shape of every name, given the kinds of the parameters and free constants.

    `kinds` maps a parameter or free constant's name to ``"scalar"``,
    ``"array<ndim>"`` or ``"other"``.
    """
    known = _Shapes(staged, kinds)
    for p in staged.params:
        known.values[p] = known.from_kind(kinds.get(p))
    for stmt in staged.body:
        if isinstance(stmt, Op):
            known.values[stmt.target] = known.result(stmt)
    return known


def fixed_number(const):
    """A number written in the source, or a library constant such as ``math.pi``."""
    return isinstance(const.expr, (ast.Constant, ast.Attribute)) \
        and isinstance(const.value, (bool, int, float))
