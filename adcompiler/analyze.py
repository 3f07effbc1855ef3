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


def scalar_names(staged, scalar_params, scalar_constants=()):
    """Names known to hold a single number, given which parameters and free constants do."""
    scalars = set(scalar_params)

    def known(atom):
        if isinstance(atom, Var):
            return atom.name in scalars
        return isinstance(atom, Const) and (atom.key in scalar_constants or fixed_number(atom))

    for stmt in staged.body:
        if isinstance(stmt, Op):
            if stmt.prim in _FLOAT_RESULT or all(known(a) for a in stmt.atoms()):
                scalars.add(stmt.target)
    return scalars


def fixed_number(const):
    """A number written in the source, or a library constant such as ``math.pi``."""
    return isinstance(const.expr, (ast.Constant, ast.Attribute)) \
        and isinstance(const.value, (bool, int, float))
