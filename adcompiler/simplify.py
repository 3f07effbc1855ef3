"""Expression simplification: constant folding and identities such as ``1 * e``.

An identity that drops a factor or a term applies only where the expression
left is surely a float, so a user's ``mask * 1`` (booleans made integers) is
never turned back into booleans.
"""

import ast
import operator

import numpy as np

from .lines import target, walk

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
         ast.Div: operator.truediv, ast.Pow: operator.pow}


ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def is_number(node, *values):
    ok = isinstance(node, ast.Constant) and type(node.value) in (int, float)
    return ok and (not values or node.value in values)


def _neg(node, floats):
    return simplify_expr(ast.UnaryOp(op=ast.USub(), operand=node), floats)


def _surely_float(node, floats):
    """Whether `node` is surely a float (or float array), so ``1 * node`` may drop its 1.

    True of anything reading an adjoint (adjoints are floats) or a float number,
    and of a true division; a user's ``mask * 1`` turns booleans into integers
    and must stay.
    """
    if isinstance(node, ast.Name):
        return node.id in floats
    if isinstance(node, ast.Constant):
        return type(node.value) is float
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub) and _surely_float(node.operand, floats)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.Div) or isinstance(node.op, ARITHMETIC) and (
            _surely_float(node.left, floats) or _surely_float(node.right, floats))
    if isinstance(node, ast.Call) and isinstance(floats, Floats):
        return returns_float(floats.resolve(node.func))
    return False


_NOT_FLOAT_MATH = {"floor", "ceil", "trunc", "comb", "factorial", "gcd", "isqrt", "lcm", "perm",
                   "isclose", "isfinite", "isinf", "isnan"}


def returns_float(function):
    """Whether `function` always returns a float (or a float array): math.exp, np.sin, ...

    A ufunc counts when none of its loops gives booleans or integers (np.exp does;
    np.abs and np.maximum keep booleans and integers as they are).
    """
    if isinstance(function, np.ufunc):
        outputs = {t.split("->")[1] for t in function.types if "O" not in t}   # object loops aside
        return function.nout == 1 and bool(outputs) and not any(
            set(out) & set("?bBhHiIlLqQmM") for out in outputs)
    module = getattr(function, "__module__", None) or getattr(
        getattr(function, "__self__", None), "__name__", None)
    return module == "math" and getattr(function, "__name__", "") not in _NOT_FLOAT_MATH


class Floats(set):
    """Names surely holding floats, and how to find what a called name refers to."""

    def __init__(self, names, resolve):
        super().__init__(names)
        self.resolve = resolve


def simplify_expr(node, floats=frozenset()):
    """`node` with constants folded and identities applied, bottom-up.

    `floats` are names known to hold floats (the adjoints): an identity such as
    ``1 * e`` or ``e - 0`` is applied only where e is surely a float, since on
    booleans or integers it would change the value's type.
    """
    for field, value in ast.iter_fields(node):
        if isinstance(value, ast.expr):
            setattr(node, field, simplify_expr(value, floats))
        elif isinstance(value, list):
            setattr(node, field, [simplify_expr(v, floats) if isinstance(v, ast.expr) else v
                                  for v in value])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = node.operand
        if is_number(inner):
            return ast.Constant(-inner.value)
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub):
            return inner.operand
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, (ast.Mult, ast.Div)) \
                and is_number(inner.left):
            inner.left = ast.Constant(-inner.left.value)
            return inner
        return node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "sum" and len(node.args) == 1 and not node.keywords \
            and is_number(node.args[0]):
        return node.args[0]                       # np.sum of a number is the number
    if not isinstance(node, ast.BinOp):
        return node
    left, right, op = node.left, node.right, node.op
    if is_number(left) and is_number(right) and type(op) in _FOLD:
        try:
            value = _FOLD[type(op)](left.value, right.value)
        except (ArithmeticError, ValueError):
            return node
        if type(value) in (int, float) and abs(value) < 1e15:
            return ast.Constant(value)
        return node
    if isinstance(op, ast.Mult):
        if is_number(left, 1) and _surely_float(right, floats):
            return right
        if is_number(right, 1) and _surely_float(left, floats):
            return left
        if is_number(left, -1) and _surely_float(right, floats):
            return _neg(right, floats)
        if is_number(right, -1) and _surely_float(left, floats):
            return _neg(left, floats)
        if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) \
                and isinstance(left.operand, (ast.Name, ast.Constant)):
            node.left = left.operand                 # (-a) * b is -(a * b)
            return ast.UnaryOp(op=ast.USub(), operand=node)
    if isinstance(op, (ast.Div, ast.Pow)) and is_number(right, 1) and _surely_float(left, floats):
        return left
    if isinstance(op, ast.Sub) and is_number(right, 0) and _surely_float(left, floats):
        return left                               # x - 0 is x, -0.0 included
    if isinstance(op, ast.Sub) and is_number(left, 0) and not isinstance(right, ast.Constant) \
            and _surely_float(right, floats):
        return _neg(right, floats)                # 0 - x is -x
    return node


def float_names(adjoint):
    """Names surely holding floats: the adjoints, the active values (computed from the
    float inputs by differentiable operations) and what float arithmetic makes of them."""
    floats = Floats(set(adjoint.adjoint_of) | set(adjoint.active), resolver(adjoint.namespace))
    for line in walk(adjoint.lines):
        name = target(line.node)
        if name is not None and isinstance(line.node, ast.Assign) \
                and _surely_float(line.node.value, floats):
            floats.add(name)
    return floats


def resolver(namespace):
    def resolve(node):
        """The object a name or attribute of generated code refers to, else None."""
        if isinstance(node, ast.Name):
            if node.id in namespace.extra:
                return namespace.extra[node.id]
            found = namespace.source.lookup(node.id)
            return found if callable(found) or isinstance(found, type(ast)) else None
        if isinstance(node, ast.Attribute):
            return getattr(resolve(node.value), node.attr, None)
        return None
    return resolve


def simplify(lines, floats=frozenset()):
    """Simplify every expression (`floats`: see simplify_expr); ``d += -e`` becomes ``d -= e``."""
    for line in walk(lines):
        node = line.node
        for field in ("value", "test", "iter"):
            if getattr(node, field, None) is not None:
                setattr(node, field, simplify_expr(getattr(node, field), floats))
        if isinstance(node, ast.AugAssign) and isinstance(node.value, ast.UnaryOp) \
                and isinstance(node.value.op, ast.USub):
            node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            node.value = node.value.operand
    return lines
