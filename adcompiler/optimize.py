"""Optimisation passes over generated code, each small and separately testable.

The passes rewrite a tree of `Line`s (see lines.py), in this order:

- `drop_zeros` (accumulate.py): contributions that are structurally zero go;
- `lower_accumulations` (accumulate.py): an adjoint's first `+=` becomes `=`,
  and zeros are written only where a path needs one;
- `simplify`: fold constants, multiplications by one, double negations;
- `propagate_copies`: `dsigx = dden` and the seed `dout = 1.0` fold into their uses;
- `eliminate_dead`: drop statements whose result nobody reads;
- `save_loop_values` (saves.py): what the backward sweep reads of a loop is pushed
  on the way forward and popped on the way back;
- `accumulate_safely` (accumulate.py): `+=` in place only on what the code owns.
"""

import ast
import copy
import functools
import operator

from . import runtime
from .accumulate import accumulate_safely, drop_zeros, lower_accumulations
from .ir import Var, _subscript
from .lines import Line, parents, reads, target, targets, walk
from .saves import save_loop_values

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
         ast.Div: operator.truediv, ast.Pow: operator.pow}


def _is_number(node, *values):
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
        return isinstance(node.op, ast.Div) or isinstance(node.op, _ARITHMETIC) and (
            _surely_float(node.left, floats) or _surely_float(node.right, floats))
    return False


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
        if _is_number(inner):
            return ast.Constant(-inner.value)
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub):
            return inner.operand
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, (ast.Mult, ast.Div)) \
                and _is_number(inner.left):
            inner.left = ast.Constant(-inner.left.value)
            return inner
        return node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "sum" and len(node.args) == 1 and not node.keywords \
            and _is_number(node.args[0]):
        return node.args[0]                       # np.sum of a number is the number
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
        if _is_number(left, 1) and _surely_float(right, floats):
            return right
        if _is_number(right, 1) and _surely_float(left, floats):
            return left
        if _is_number(left, -1) and _surely_float(right, floats):
            return _neg(right, floats)
        if _is_number(right, -1) and _surely_float(left, floats):
            return _neg(left, floats)
        if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) \
                and isinstance(left.operand, (ast.Name, ast.Constant)):
            node.left = left.operand                 # (-a) * b is -(a * b)
            return ast.UnaryOp(op=ast.USub(), operand=node)
    if isinstance(op, (ast.Div, ast.Pow)) and _is_number(right, 1) and _surely_float(left, floats):
        return left
    if isinstance(op, ast.Sub) and _is_number(right, 0) and _surely_float(left, floats):
        return left                               # x - 0 is x, -0.0 included
    if isinstance(op, ast.Sub) and _is_number(left, 0) and not isinstance(right, ast.Constant) \
            and _surely_float(right, floats):
        return _neg(right, floats)                # 0 - x is -x
    return node


def float_names(adjoint):
    """Names surely holding floats: the adjoints, the active values (computed from the
    float inputs by differentiable operations) and what float arithmetic makes of them."""
    floats = set(adjoint.adjoint_of) | set(adjoint.active)
    for line in walk(adjoint.lines):
        name = target(line.node)
        if name is not None and isinstance(line.node, ast.Assign) \
                and _surely_float(line.node.value, floats):
            floats.add(name)
    return floats


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


class _Rename(ast.NodeTransformer):
    def __init__(self, name, replacement):
        self.name = name
        self.replacement = replacement

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            if isinstance(self.replacement, ast.Name):
                return ast.copy_location(ast.Name(id=self.replacement.id, ctx=ast.Load()), node)
            if isinstance(self.replacement, ast.Constant):
                return ast.copy_location(ast.Constant(self.replacement.value), node)
            return self.replacement                  # an expression, moved into its one use
        return node


def _remove(lines, doomed):
    """`lines` without the Line object `doomed` (searched in nested blocks too)."""
    for i, line in enumerate(lines):
        if line is doomed:
            del lines[i]
            return True
        if any(_remove(block, doomed) for block in line.blocks()):
            return True
    return False


def propagate_copies(lines, foldable, keep=(), floats=frozenset()):
    """Fold `a = b` and `a = <number>` into a's uses, for names in `foldable`.

    Only where `a` is assigned once and read only after it (in document order,
    so also not by an earlier statement in a loop), is not kept by the return,
    and `b` is not assigned after the copy.
    """
    while True:
        order = list(walk(lines))
        writes, first_read = {}, {}
        for i, line in enumerate(order):
            for name in targets(line.node):
                writes.setdefault(name, []).append(i)
            if isinstance(line.node, ast.For) and isinstance(line.node.target, ast.Name):
                writes.setdefault(line.node.target.id, []).append(i)
            for read in reads(line.node):
                first_read.setdefault(read, i)
        for i, line in enumerate(order):
            node = line.node
            if not isinstance(node, ast.Assign) or line.compound:
                continue
            name, value = target(node), node.value
            if name not in foldable or name in keep or len(writes.get(name, ())) != 1 \
                    or first_read.get(name, i + 1) <= i:
                continue
            if isinstance(value, ast.Name):
                if value.id not in foldable or any(j > i for j in writes.get(value.id, ())):
                    continue
            elif not _is_number(value):
                continue
            rename = _Rename(name, value)
            for later in order[i + 1:]:
                rename.visit(later.node)
            _remove(lines, line)
            simplify(lines, floats)
            break
        else:
            return lines


def _live_through(lines, live):
    """Liveness backwards through `lines`: drop dead assignments, return what is live before."""
    kept = []
    for line in reversed(lines):
        node = line.node
        if line.compound:
            live = _live_compound(line, live)
            if not any(line.blocks()) and (line.backward or isinstance(node, ast.If)):
                continue
            kept.append(line)
            continue
        written = targets(node)
        if len(written) > 1:                      # a, a_saved = f_forward(...)
            if not set(written) & live:
                continue
            live = (live - set(written)) | reads(node)
            kept.append(line)
            continue
        name = target(node)
        if name is None:                          # return, break, an effect like print()
            live = live | reads(node)
        elif name in live:
            if isinstance(node, ast.Assign):
                live = live - {name}
            live = live | reads(node)
        else:
            continue
        kept.append(line)
    kept.reverse()
    lines[:] = kept
    return live


def _live_compound(line, live):
    node = line.node
    if isinstance(node, ast.If):
        after_body = _live_through(line.body, set(live))
        after_else = _live_through(line.orelse, set(live)) if line.orelse is not None else live
        return after_body | after_else | reads(node)
    # a loop: what is live at its end is live after it, or at the start of the next iteration
    body_copy = [_copy_line(ln) for ln in line.body]
    start = set(live)
    for _ in range(len(list(walk(line.body))) + 2):
        end = live | start | reads(node)
        new_start = _live_through([_copy_line(ln) for ln in body_copy], set(end))
        if new_start == start:
            break
        start = new_start
    _live_through(line.body, live | start | reads(node))
    written = {node.target.id} if isinstance(node, ast.For) else set()
    return (live | start | reads(node)) - written


def _copy_line(line):
    return Line(node=line.node, origin=line.origin, backward=line.backward,
                body=[_copy_line(ln) for ln in line.body] if line.body is not None else None,
                orelse=[_copy_line(ln) for ln in line.orelse] if line.orelse is not None else None,
                tag=line.tag, kill=line.kill, carry=line.carry)


def eliminate_dead(lines, live=()):
    """Drop assignments whose value is never read (effects, control and the return stay;
    `live` names are read after the end)."""
    _live_through(lines, set(live))
    return lines


def update_in_place(lines):
    """``out_1 = assign_index(out, i, v)`` becomes ``out[i] = v; out_1 = out`` (and a list
    append likewise) where nothing reads the old version afterwards."""
    order = list(walk(lines))
    parent_of = parents(lines)
    mirrors = {ln.tag: ln for ln in order if ln.backward and ln.compound and ln.tag is not None}
    for i, line in enumerate(order):
        if line.update is None or not isinstance(line.update[0], Var):
            continue
        old, index, value = line.update
        if _old_version_read(old.name, line, order[i + 1:], parent_of, mirrors):
            continue                               # the old version is still needed: copy
        if index is None:
            write = ast.Expr(value=ast.Call(
                func=ast.Attribute(value=old.to_ast(), attr="append", ctx=ast.Load()),
                args=[value.to_ast()], keywords=[]))
        else:
            write = ast.Assign(targets=[ast.Subscript(value=old.to_ast(), slice=_subscript(index),
                                                      ctx=ast.Store())], value=value.to_ast())
        alias = Line(node=ast.Assign(targets=line.node.targets, value=old.to_ast()),
                     origin=line.origin, carry=line.carry)
        line.node, line.update = write, None
        _insert_after(lines, line, alias)
    return lines


def _old_version_read(name, line, later, parent_of, mirrors):
    """Whether anything after `line` reads the value `name` had before it.

    A loop-carried name is reassigned at the end of the body: after that, reads
    see the new version, except in the reversed body, which reads each
    iteration's own values.
    """
    loop = parent_of.get(id(line))
    while loop is not None and not isinstance(loop.node, (ast.For, ast.While)):
        loop = parent_of.get(id(loop))
    carried = loop is not None and any(
        ln.carry and target(ln.node) == name for ln in loop.body)
    if not carried:
        return any(name in reads(ln.node) for ln in later)
    for ln in later:
        if ln.carry and target(ln.node) == name:
            break
        if name in reads(ln.node):
            return True
    mirror = mirrors.get(loop.tag)
    return mirror is not None and any(name in reads(ln.node) for ln in walk(mirror.body))


def _insert_after(lines, anchor, new):
    for i, line in enumerate(lines):
        if line is anchor:
            lines.insert(i + 1, new)
            return True
        if any(_insert_after(block, anchor, new) for block in line.blocks()):
            return True
    return False


def keep_output_value(adjoint):
    """A returned value the backward sweep overwrites (a loop variable restored from its
    stack) is copied aside when the forward sweep ends."""
    ret = adjoint.lines[-1].node
    output = adjoint.output
    if not (isinstance(output, Var) and isinstance(ret.value, ast.Tuple)
            and isinstance(ret.value.elts[0], ast.Name) and ret.value.elts[0].id == output.name):
        return
    backward = [ln for top in adjoint.lines[:-1] if top.backward for ln in walk([top])]
    if not any(output.name in targets(ln.node) for ln in backward):
        return
    kept = adjoint.namespace.names.version(output.name + "_value")
    at = next(i for i, ln in enumerate(adjoint.lines) if ln.backward or ln is adjoint.lines[-1])
    adjoint.lines.insert(at, Line(ast.Assign(targets=[ast.Name(id=kept, ctx=ast.Store())],
                                             value=ast.Name(id=output.name, ctx=ast.Load()))))
    ret.value.elts[0] = ast.Name(id=kept, ctx=ast.Load())


def scalar_spreads(adjoint, scalar_names):
    """A full reduction's adjoint ``g = unreduce(s, x)`` (the number s at every entry of
    x's shape) read once, as an operand of ``+ - * /`` whose other operand has x's
    shape, is s itself there: ``dW = 2 * W * dt`` becomes ``dW = 2 * s * W``.

    The result is the same array, without spreading s into an array first, and
    with the numbers multiplied together before they meet the array.
    """
    spread = {name for name, obj in adjoint.namespace.extra.items() if obj is runtime.unreduce}
    if not spread or adjoint.shapes is None:
        return
    values = adjoint.shapes.values
    scalars = set(scalar_names) | {d for d, p in adjoint.adjoint_of.items() if p in scalar_names}
    for block in _blocks(adjoint.lines):
        for i, line in enumerate(block):
            node = line.node
            if not (line.backward and isinstance(node, ast.Assign) and target(node)
                    and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                    and node.value.func.id in spread and len(node.value.args) == 2
                    and not node.value.keywords and isinstance(node.value.args[1], ast.Name)
                    and _is_scalar(node.value.args[0], scalars)):
                continue
            name, (s, x) = target(node), node.value.args
            shape = values.get(x.id)
            if shape is None or shape.scalar or _reads_of(adjoint.lines, name) != 1:
                continue
            use = next((j for j in range(i + 1, len(block)) if name in reads(block[j].node)), None)
            if use is None or block[use].compound or any(
                    set(targets(ln.node)) & ({name} | reads(s))
                    for ln in walk(block[i + 1:use + 1]) if ln is not block[use]):
                continue
            like = functools.partial(_has_shape, token=shape.token, values=values, scalars=scalars)
            rewrite = _SpreadOperand(name, s, like, scalars)
            block[use].node = rewrite.visit(block[use].node)
            if rewrite.done:
                simplify([block[use]], float_names(adjoint))
                del block[i]
                return scalar_spreads(adjoint, scalar_names)   # indices moved: start again


def _blocks(lines):
    yield lines
    for line in lines:
        for block in line.blocks():
            yield from _blocks(block)


def _reads_of(lines, name):
    return sum(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for ln in walk(lines) for n in ast.walk(ln.node))


def _is_scalar(node, scalars):
    return isinstance(node, ast.Name) and node.id in scalars or _is_number(node)


def _has_shape(node, token, values, scalars):
    """Whether the expression `node` surely has the shape named by `token`."""
    if isinstance(node, ast.Name):
        shape = values.get(node.id)
        return shape is not None and shape.token == token
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _has_shape(node.operand, token, values, scalars)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
        left, right = node.left, node.right
        return (_has_shape(left, token, values, scalars) and _is_scalar(right, scalars)
                or _is_scalar(left, scalars) and _has_shape(right, token, values, scalars)
                or _has_shape(left, token, values, scalars)
                and _has_shape(right, token, values, scalars))
    return False


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class _SpreadOperand(ast.NodeTransformer):
    """``e op g`` or ``g op e``, with e of x's shape: g replaced by the number s."""

    def __init__(self, name, number, like, scalars):
        self.name, self.number, self.like, self.scalars = name, number, like, scalars
        self.done = False

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if self.done or not isinstance(node.op, _ARITHMETIC):
            return node
        s = copy.deepcopy(self.number)
        if isinstance(node.right, ast.Name) and node.right.id == self.name and self.like(node.left):
            self.done = True
            left = node.left
            if isinstance(node.op, ast.Mult) and isinstance(left, ast.BinOp) \
                    and isinstance(left.op, ast.Mult) and _is_scalar(left.left, self.scalars):
                # c * x * g: c * s * x, the numbers first
                return ast.BinOp(left=ast.BinOp(left=left.left, op=ast.Mult(), right=s),
                                 op=ast.Mult(), right=left.right)
            node.right = s
        elif isinstance(node.left, ast.Name) and node.left.id == self.name \
                and self.like(node.right):
            self.done = True
            node.left = s
        return node


def fold_single_uses(lines, is_temp, keep=()):
    """A temporary that only the very next forward statement reads is written into it:
    ``t13 = W1 * W1; t14 = np.sum(t13)`` becomes ``t14 = np.sum(W1 * W1)``.

    The value then dies as soon as it is used, as in a hand-written pass, instead
    of holding its memory until the gradient returns. Only straight-line forward
    statements at the top level take part; a staged statement is one operation on
    names and numbers, so the folded value is still evaluated just before its use.
    """
    uses = {}
    for line in walk(lines):
        for node in ast.walk(line.node):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                uses[node.id] = uses.get(node.id, 0) + 1
    i = 0
    while i < len(lines) - 1:
        line, following = lines[i], lines[i + 1]
        name = target(line.node)
        if _plain_forward(line) and _plain_forward(following) and name is not None \
                and is_temp(name) and name not in keep and uses.get(name) == 1 \
                and name in reads(following.node):
            following.node.value = _Rename(name, line.node.value).visit(following.node.value)
            del lines[i]
        else:
            i += 1
    return lines


def _plain_forward(line):
    return isinstance(line.node, ast.Assign) and not (
        line.backward or line.compound or line.carry or line.update is not None
        or line.kill is not None)


def optimize(adjoint, scalar_names):
    """Run every pass over an Adjoint's lines, in order."""
    drop_zeros(adjoint)
    lower_accumulations(adjoint, scalar_names)
    floats = float_names(adjoint)
    lines = simplify(adjoint.lines, floats)
    lines = propagate_copies(lines, set(adjoint.adjoint_of), keep=adjoint.keep, floats=floats)
    lines = eliminate_dead(lines, adjoint.live_out)
    adjoint.lines = lines
    scalar_spreads(adjoint, scalar_names)
    lines = adjoint.lines
    update_in_place(lines)
    save_loop_values(adjoint)
    keep_output_value(adjoint)
    adjoint.lines, owned = accumulate_safely(adjoint.lines, adjoint, scalar_names)
    fold_single_uses(adjoint.lines, adjoint.namespace.names.is_temp,
                     adjoint.keep | adjoint.live_out)
    names = adjoint.gradient_names
    adjoint.owned_gradients = tuple(name in owned and names.count(name) == 1 for name in names)
    return adjoint
