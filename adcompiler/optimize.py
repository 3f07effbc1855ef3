"""Optimisation passes over generated code, each small and separately testable.

The passes work on a straight list of `Line`s (assignments, accumulations,
effects and a final return):

- `first_contributions`: an adjoint's first `+=` becomes a plain assignment;
- `simplify`: fold constants, multiplications by one, double negations;
- `propagate_copies`: `dsigx = dden` and the seed `dout = 1.0` are folded into their uses;
- `eliminate_dead`: drop statements whose result nobody reads;
- `accumulate_safely`: a `+=` stays in place only where the adjoint is a scalar or
  an array the generated code allocated itself; elsewhere it becomes `d = d + e`.
"""

import ast
import operator

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
         ast.Div: operator.truediv, ast.Pow: operator.pow}


def _is_number(node, *values):
    ok = isinstance(node, ast.Constant) and type(node.value) in (int, float)
    return ok and (not values or node.value in values)


def _neg(node):
    return simplify_expr(ast.UnaryOp(op=ast.USub(), operand=node))


def simplify_expr(node):
    """`node` with constants folded and identities applied, bottom-up."""
    for field, value in ast.iter_fields(node):
        if isinstance(value, ast.expr):
            setattr(node, field, simplify_expr(value))
        elif isinstance(value, list):
            setattr(node, field, [simplify_expr(v) if isinstance(v, ast.expr) else v for v in value])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = node.operand
        if _is_number(inner):
            return ast.Constant(-inner.value)
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub):
            return inner.operand
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, (ast.Mult, ast.Div)) \
                and _is_number(inner.left):
            inner.left = ast.Constant(-inner.left.value)
            return inner
        return node
    if not isinstance(node, ast.BinOp):
        return node
    left, right, op = node.left, node.right, node.op
    if _is_number(left) and _is_number(right) and type(op) in _FOLD:
        try:
            value = _FOLD[type(op)](left.value, right.value)
        except (ArithmeticError, ValueError):
            return node
        if type(value) in (int, float) and abs(value) < 1e15:
            return ast.Constant(value)
        return node
    if isinstance(op, ast.Mult):
        if _is_number(left, 1):
            return right
        if _is_number(right, 1):
            return left
        if _is_number(left, -1):
            return _neg(right)
        if _is_number(right, -1):
            return _neg(left)
        if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) \
                and isinstance(left.operand, (ast.Name, ast.Constant)):
            node.left = left.operand                 # (-a) * b is -(a * b)
            return ast.UnaryOp(op=ast.USub(), operand=node)
    if isinstance(op, (ast.Div, ast.Pow)) and _is_number(right, 1):
        return left
    return node


def _reads(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _target(node):
    if isinstance(node, ast.Assign):
        return node.targets[0].id
    if isinstance(node, ast.AugAssign):
        return node.target.id
    return None


def _value_reads(node):
    return _reads(node.value) if getattr(node, "value", None) is not None else set()


def _is_zero(node):
    """A product with a literal zero factor: structurally zero, whatever the other factors."""
    if _is_number(node, 0):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _is_zero(node.left) or _is_zero(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _is_zero(node.left)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _is_zero(node.operand)
    return False


def drop_zeros(adjoint):
    """Drop contributions that are structurally zero, and everything that reads only them.

    ``x ** 0`` contributes ``0 * x ** -1 * dout``: dropped, it is never evaluated
    (at x == 0 it would divide by zero). An adjoint left with no contribution is
    zero: rules are linear in it, so the statements reading it go too, and a
    gradient that is zero is returned as ``0.0``.
    """
    lines = [ln for ln in adjoint.lines if not (
        isinstance(ln.node, ast.AugAssign) and _is_zero(simplify_expr(ln.node.value)))]
    candidates = set(adjoint.adjoint_of) | {_target(ln.node) for ln in lines if ln.backward} - {None}
    while True:
        assigned = {_target(ln.node) for ln in lines}
        zero = candidates - assigned
        kept = [ln for ln in lines if not (ln.backward and _value_reads(ln.node) & zero)]
        if len(kept) == len(lines):
            break
        lines = kept
    ret = lines[-1].node
    zero_names = zero
    ret.value = _ZeroNames(zero_names).visit(ret.value)
    adjoint.gradient_names = [n if n not in zero_names else None for n in adjoint.gradient_names]
    adjoint.keep = adjoint.keep - zero_names
    adjoint.lines = lines
    return adjoint


class _ZeroNames(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        return ast.Constant(0.0) if node.id in self.names else node


def first_contributions(lines):
    """The first `d += e` to each adjoint becomes `d = e` (and `d -= e` becomes `d = -e`)."""
    seen = set()
    for line in lines:
        node = line.node
        if isinstance(node, ast.Assign):
            seen.add(node.targets[0].id)
        elif isinstance(node, ast.AugAssign) and node.target.id not in seen:
            seen.add(node.target.id)
            value = node.value if isinstance(node.op, ast.Add) else _neg(node.value)
            line.node = ast.Assign(targets=[ast.Name(id=node.target.id, ctx=ast.Store())],
                                   value=value)
    return lines


def simplify(lines):
    for line in lines:
        node = line.node
        if getattr(node, "value", None) is not None:
            node.value = simplify_expr(node.value)
        if isinstance(node, ast.AugAssign) and isinstance(node.value, ast.UnaryOp) \
                and isinstance(node.value.op, ast.USub):       # d += -e is d -= e
            node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            node.value = node.value.operand
    return lines


class _Rename(ast.NodeTransformer):
    def __init__(self, name, replacement):
        self.name = name
        self.replacement = replacement

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return ast.copy_location(_clone(self.replacement), node)
        return node


def _clone(node):
    return ast.Name(id=node.id, ctx=ast.Load()) if isinstance(node, ast.Name) \
        else ast.Constant(node.value)


def propagate_copies(lines, foldable, keep=()):
    """Fold `a = b` and `a = <number>` into a's uses, for names in `foldable`.

    Only where `a` is assigned once, is not kept by the return statement, and
    `b` does not change afterwards.
    """
    changed = True
    while changed:
        changed = False
        writes = {}
        for i, line in enumerate(lines):
            target = _target(line.node)
            if target is not None:
                writes.setdefault(target, []).append(i)
        for i, line in enumerate(lines):
            node = line.node
            if not isinstance(node, ast.Assign):
                continue
            name = node.targets[0].id
            value = node.value
            if name not in foldable or name in keep or len(writes.get(name, ())) != 1:
                continue
            if isinstance(value, ast.Name):
                if value.id not in foldable or any(j > i for j in writes.get(value.id, ())):
                    continue
            elif not _is_number(value):
                continue
            rename = _Rename(name, value)
            for later in lines[i + 1:]:
                rename.visit(later.node)
            del lines[i]
            simplify(lines[i:])
            changed = True
            break
    return lines


def eliminate_dead(lines):
    """Drop assignments whose target is never read afterwards (effects and the return stay)."""
    live = set()
    kept = []
    for line in reversed(lines):
        node = line.node
        target = _target(node)
        if target is None:                            # return, or an effect like print()
            live |= _reads(node)
        elif target in live:
            if isinstance(node, ast.Assign):
                live.discard(target)
            live |= _value_reads(node)
        else:
            continue
        kept.append(line)
    kept.reverse()
    return kept


def _fresh(value):
    """An expression whose result the generated code owns (arithmetic allocates anew)."""
    return isinstance(value, (ast.BinOp, ast.UnaryOp))


def accumulate_safely(lines, in_place_ok):
    """Keep `d += e` only for adjoints that are scalars or arrays the code owns.

    `in_place_ok(name)` says whether `name` is known to hold a scalar; other
    adjoints are owned once they were assigned a fresh arithmetic result.
    """
    owned = set()
    for line in lines:
        node = line.node
        if isinstance(node, ast.Assign):
            name = node.targets[0].id
            (owned.add if _fresh(node.value) else owned.discard)(name)
        elif isinstance(node, ast.AugAssign):
            name = node.target.id
            if not (in_place_ok(name) or name in owned):
                line.node = ast.Assign(
                    targets=[ast.Name(id=name, ctx=ast.Store())],
                    value=ast.BinOp(left=ast.Name(id=name, ctx=ast.Load()), op=node.op,
                                    right=node.value))
                owned.add(name)
    return lines, owned


def optimize(adjoint, scalar_names):
    """Run every pass over an Adjoint's lines, in order."""
    foldable = set(adjoint.adjoint_of)
    lines = first_contributions(drop_zeros(adjoint).lines)
    lines = simplify(lines)
    lines = propagate_copies(lines, foldable, keep=adjoint.keep)
    lines = eliminate_dead(lines)

    def in_place_ok(name):
        return adjoint.adjoint_of.get(name) in scalar_names
    adjoint.lines, owned = accumulate_safely(lines, in_place_ok)
    names = adjoint.gradient_names
    adjoint.owned_gradients = tuple(name in owned and names.count(name) == 1 for name in names)
    return adjoint


_FLOAT_PRESERVING = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod)


def _is_float(node, floats):
    """Whether `node` surely evaluates to a Python float, given names that hold floats."""
    if isinstance(node, ast.Constant):
        return type(node.value) is float
    if isinstance(node, ast.Name):
        return node.id in floats
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and _is_float(node.operand, floats)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _FLOAT_PRESERVING):
        return _is_float(node.left, floats) or _is_float(node.right, floats)
    return False


def return_floats(adjoint, float_inputs, with_value):
    """Make the returned gradients Python floats, for a variant whose inputs are floats.

    Most adjoints are floats by construction; one that may not be (``sign(x)``
    is an int) is wrapped in ``float(...)``.
    """
    floats = set(float_inputs)
    for line in adjoint.lines[:-1]:
        node = line.node
        if isinstance(node, ast.Assign):
            name = node.targets[0].id
            (floats.add if _is_float(node.value, floats) else floats.discard)(name)
        elif isinstance(node, ast.AugAssign) and _is_float(node.value, floats):
            floats.add(node.target.id)
    ret = adjoint.lines[-1].node
    holder = ret.value.elts if with_value else None
    grads = holder[1] if with_value else ret.value
    elements = grads.elts if isinstance(grads, ast.Tuple) else None
    to_float = adjoint.namespace.name_for(float, "float")

    def fix(node):
        if _is_float(node, floats):
            return node
        return ast.Call(func=ast.Name(id=to_float, ctx=ast.Load()), args=[node], keywords=[])
    if elements is not None:
        grads.elts = [fix(e) for e in elements]
    elif with_value:
        holder[1] = fix(grads)
    else:
        ret.value = fix(grads)


def float_guard(arguments, wrt, constants, slow_path, builtin):
    """``if type(x) is not float or ...: return slow_path(...)``: the entry's type check.

    Parameters differentiated must be floats; the others, and the globals read
    as values, must be ints or floats. Anything else takes the general path.
    `builtin(obj)` names a builtin as the generated code can see it.
    """
    params = [a.arg for a in arguments.posonlyargs + arguments.args]
    keyword_only = [a.arg for a in arguments.kwonlyargs]
    tests = []
    for name in params + keyword_only + list(constants):
        kind = ast.Call(func=ast.Name(id=builtin(type), ctx=ast.Load()),
                        args=[ast.Name(id=name, ctx=ast.Load())], keywords=[])
        if name in wrt:
            test = ast.Compare(left=kind, ops=[ast.IsNot()],
                               comparators=[ast.Name(id=builtin(float), ctx=ast.Load())])
        else:
            test = ast.Compare(left=kind, ops=[ast.NotIn()], comparators=[ast.Tuple(
                elts=[ast.Name(id=builtin(float), ctx=ast.Load()),
                      ast.Name(id=builtin(int), ctx=ast.Load())],
                ctx=ast.Load())])
        tests.append(test)
    if not tests:
        return None
    call = ast.Call(func=ast.Name(id=slow_path, ctx=ast.Load()),
                    args=[ast.Name(id=p, ctx=ast.Load()) for p in params],
                    keywords=[ast.keyword(arg=k, value=ast.Name(id=k, ctx=ast.Load()))
                              for k in keyword_only])
    condition = tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.Or(), values=tests)
    return ast.If(test=condition, body=[ast.Return(value=call)], orelse=[])
