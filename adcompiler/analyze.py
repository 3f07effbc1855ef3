"""Analysis of a staged function: which names are active, and which are scalars.

A name is *active* when it depends on a `wrt` input and the output depends on
it: only active names get adjoints. A name is a *scalar* when it is known to
hold a single number (not an array), so its adjoint may be accumulated with a
plain `+=`.
"""

import ast
import math
import types

from .ir import Const, Op, Return, Var

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


def scalar_names(staged, scalar_params):
    """Names known to hold a single number, given which parameters do."""
    scalars = set(scalar_params)

    def known(atom):
        if isinstance(atom, Var):
            return atom.name in scalars
        return isinstance(atom, Const) and is_literal_number(atom)

    for stmt in staged.body:
        if isinstance(stmt, Op):
            if stmt.prim in _FLOAT_RESULT or all(known(a) for a in stmt.atoms()):
                scalars.add(stmt.target)
    return scalars


def is_literal_number(const):
    """A number written in the source (not a module-level name that could be rebound)."""
    return isinstance(const.expr, ast.Constant) and isinstance(const.value, (bool, int, float))
