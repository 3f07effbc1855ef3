"""The fast entry: the variant for float arguments checks their types inline.

`float_guard` writes the check; `return_floats` makes sure the gradients it
returns are Python floats, wrapping only those that might not be.
"""

import ast

from .lines import walk

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


def _float_names(lines, float_inputs):
    """Names that hold a Python float whenever they hold anything.

    Start from every assigned name and drop those with an assignment that may
    give something else, until nothing changes (loops make this a fixpoint).
    """
    writes = []
    for line in walk(lines):
        node = line.node
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            writes.append((node.targets[0].id, node.value, False))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            writes.append((node.target.id, node.value, True))
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            writes.append((node.target.id, None, False))
    floats = set(float_inputs) | {name for name, _, _ in writes}
    while True:
        spoiled = {name for name, value, accumulates in writes
                   if value is None or not (_is_float(value, floats)
                                            or accumulates and name in floats)}
        if not spoiled & floats:
            return floats
        floats -= spoiled


def return_floats(adjoint, float_inputs, with_value):
    """Make the returned gradients Python floats, for a variant whose inputs are floats.

    Most adjoints are floats by construction; one that may not be (``sign(x)``
    is an int) is wrapped in ``float(...)``.
    """
    floats = _float_names(adjoint.lines[:-1], float_inputs)
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
