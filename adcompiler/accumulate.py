"""Adjoint accumulation: where `+=` becomes `=`, where a zero is needed, and what is owned.

Rules emit every contribution as ``d += e``. In straight-line code the first
contribution simply becomes ``d = e``. Branches and loops need more care:
an adjoint accumulated inside a loop starts from a zero written before it, and
one whose old value was handed on (a *kill*, when a loop variable's adjoint
passes to the previous iteration) starts again from zero only if some path
would otherwise read the stale value.
"""

import ast
import copy

from . import runtime
from .lines import Line, assigned, blocks, reads, target, targets, walk
from .simplify import is_number, simplify_expr


# -- structural zeros ---------------------------------------------------------------

def is_zero(node):
    """A product with a literal zero factor: structurally zero, whatever the other factors."""
    if is_number(node, 0):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return is_zero(node.left) or is_zero(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return is_zero(node.left)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return is_zero(node.operand)
    return False


def _prune(lines, doomed):
    """Remove the Lines `doomed(line)` says so of, at any depth."""
    kept = [ln for ln in lines if not doomed(ln)]
    for line in kept:
        for block in line.blocks():
            block[:] = _prune(block, doomed)
    return kept


def drop_zeros(adjoint):
    """Drop contributions that are structurally zero, and everything that reads only them.

    ``x ** 0`` contributes ``0 * x ** -1 * dout``: dropped, it is never evaluated
    (at x == 0 it would divide by zero). An adjoint left with no contribution is
    zero: rules are linear in it, so the statements reading it go too, and a
    gradient that is zero is returned as ``0.0``.
    """
    lines = _prune(adjoint.lines, lambda ln: isinstance(ln.node, ast.AugAssign)
                   and is_zero(simplify_expr(copy.deepcopy(ln.node.value))))
    candidates = set(adjoint.adjoint_of) | {target(ln.node) for ln in walk(lines)
                                            if ln.backward} - {None}
    while True:
        zero = candidates - assigned(lines) - adjoint.seeded
        size = len(list(walk(lines)))
        lines = _prune(lines, lambda ln: ln.backward and not ln.compound
                       and (reads(ln.node) & zero or ln.kill in zero))
        if len(list(walk(lines))) == size:
            break
    ret = lines[-1].node
    ret.value = _ZeroNames(zero).visit(ret.value)
    adjoint.gradient_names = [n if n not in zero else None for n in adjoint.gradient_names]
    adjoint.keep = adjoint.keep - zero
    adjoint.lines = lines
    return adjoint


class _ZeroNames(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        return ast.Constant(0.0) if node.id in self.names else node


# -- first contributions and zeros ------------------------------------------------

class _Conflict(Exception):
    def __init__(self, name, line, loops):
        self.name, self.line, self.loops = name, line, loops


class _Flow:
    """Which adjoints are surely, or possibly, assigned at each point of the backward sweep."""

    def __init__(self, adjoints):
        self.adjoints = adjoints
        self.unassigned_here = {}          # id(line) -> [every visit found the target unassigned]
        self.loops = []                    # enclosing loop Lines, with the pass (1 or 2)

    def run(self, lines, definite, maybe):
        for line in lines:
            definite, maybe = self.line(line, definite, maybe)
        return definite, maybe

    def check_reads(self, line, definite):
        for name in reads(line.node) & self.adjoints:
            if isinstance(line.node, ast.AugAssign) and name == getattr(line.node.target, "id", None):
                continue
            if name not in definite:
                raise _Conflict(name, line, list(self.loops))

    def line(self, line, definite, maybe):
        node = line.node
        if line.kill is not None:
            return definite - {line.kill}, maybe - {line.kill}
        self.check_reads(line, definite)
        if line.compound:
            return self.compound(line, definite, maybe)
        name = target(node)
        if isinstance(node, ast.AugAssign) and name in self.adjoints:
            unassigned = name not in maybe
            if name not in definite and not unassigned:
                raise _Conflict(name, line, list(self.loops))
            self.unassigned_here.setdefault(id(line), []).append(unassigned)
            return definite | {name}, maybe | {name}
        if name is not None:
            return definite | {name}, maybe | {name}
        return definite, maybe

    def compound(self, line, definite, maybe):
        if isinstance(line.node, ast.If):
            d1, m1 = self.run(line.body, set(definite), set(maybe))
            d2, m2 = self.run(line.orelse or [], set(definite), set(maybe))
            return d1 & d2, m1 | m2
        self.loops.append((line, 1))
        d_end, m_end = self.run(line.body, set(definite), set(maybe))
        self.loops[-1] = (line, 2)
        d_end, m_end = self.run(line.body, definite & d_end, maybe | m_end)
        self.loops.pop()
        return definite, maybe | m_end


def _zero(name, adjoint, scalars, namespace):
    primal = adjoint.adjoint_of.get(name)
    if primal is None or primal in scalars:
        return ast.Constant(0.0)
    helper = namespace.name_for(runtime.zeros_like, "zeros_like")
    return ast.Call(func=ast.Name(id=helper, ctx=ast.Load()),
                    args=[ast.Name(id=primal, ctx=ast.Load())], keywords=[])


def _assign(name, value):
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _resolve(conflict, adjoint, scalars):
    """Write a zero where the conflict needs one: at the kill in its loop, or before it."""
    name, line, loops = conflict.name, conflict.line, conflict.loops
    zero = _zero(name, adjoint, scalars, adjoint.namespace)
    for loop, _ in reversed(loops):        # spent in an enclosing loop: zero where it was spent
        for candidate in walk(loop.body):
            if candidate.kill == name:
                candidate.kill = None
                candidate.node = _assign(name, zero)
                return
    top = adjoint.lines
    backward = [i for i, ln in enumerate(top) if ln.backward]
    position = next(i for i, ln in enumerate(top) if any(x is line for x in walk([ln])))
    earlier = any(target(ln.node) == name for i in backward if i < position for ln in walk([top[i]]))
    at = backward[0] if earlier and backward else position
    top.insert(at, Line(node=_assign(name, zero), origin=top[at].origin, backward=True))


def lower_accumulations(adjoint, scalars):
    """First contributions become assignments; zeros go where some path needs them."""
    adjoints = set(adjoint.adjoint_of)
    for _ in range(10 * len(adjoints) + 10):
        flow = _Flow(adjoints)
        try:
            flow.run(adjoint.lines, set(adjoint.seeded), set(adjoint.seeded))
        except _Conflict as conflict:
            _resolve(conflict, adjoint, scalars)
            continue
        break
    else:                                   # pragma: no cover - a bug, not a user error
        raise RuntimeError("adcompiler: could not place the zeros of the backward sweep")
    for line in walk(adjoint.lines):
        node = line.node
        if isinstance(node, ast.AugAssign) and all(flow.unassigned_here.get(id(line), [False])):
            value = node.value if isinstance(node.op, ast.Add) else \
                ast.UnaryOp(op=ast.USub(), operand=node.value)
            line.node = _assign(node.target.id, value)
    adjoint.lines = _prune(adjoint.lines, lambda ln: ln.kill is not None)
    return adjoint


# -- in place or not ------------------------------------------------------------------

_FRESH_METHODS = {"dot", "outer", "matmul", "tensordot", "sum", "copy", "astype", "zeros",
                  "ones", "full"}


def allocates(value, fresh_calls):
    """An expression whose result the generated code owns (arithmetic and products allocate
    anew)."""
    return isinstance(value, (ast.BinOp, ast.UnaryOp)) or isinstance(value, ast.Call) and (
        isinstance(value.func, ast.Name) and value.func.id in fresh_calls
        or isinstance(value.func, ast.Attribute) and value.func.attr in _FRESH_METHODS)


def _part_of(node):
    """The adjoint a ``d[index] += e`` accumulates into, else None."""
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript) \
            and isinstance(node.target.value, ast.Name):
        return node.target.value.id
    return None


class _Owner:
    def __init__(self, adjoints, in_place_ok, fresh_calls, copy_name):
        self.copy_name = copy_name
        self.adjoints = adjoints
        self.in_place_ok = in_place_ok
        self.fresh_calls = fresh_calls

    def run(self, lines, owned):
        i = 0
        while i < len(lines):
            line = lines[i]
            part = _part_of(line.node)
            if part in self.adjoints and part not in owned:    # d[i] += e needs an own d
                copy_line = Line(node=_assign(part, ast.Call(
                    func=ast.Name(id=self.copy_name, ctx=ast.Load()),
                    args=[ast.Name(id=part, ctx=ast.Load())], keywords=[])),
                    origin=line.origin, backward=True)
                lines.insert(i, copy_line)
                owned = owned | {part}
                i += 1
            owned = self.line(line, owned)
            i += 1
        return owned

    def line(self, line, owned):
        node = line.node
        if line.compound:
            if isinstance(node, ast.If):
                return self.run(line.body, set(owned)) & self.run(line.orelse or [], set(owned))
            spoiled = {target(ln.node) for ln in walk(line.body) if isinstance(ln.node, ast.Assign)
                       and not allocates(ln.node.value, self.fresh_calls)}
            start = owned - spoiled
            return start & self.run(line.body, set(start))
        if isinstance(node, ast.Assign) and target(node) is not None:
            name = target(node)
            return owned | {name} if allocates(node.value, self.fresh_calls) else owned - {name}
        if isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) in self.adjoints:
            name = node.target.id
            if not (self.in_place_ok(name) or name in owned):
                line.node = _assign(name, ast.BinOp(left=ast.Name(id=name, ctx=ast.Load()),
                                                    op=node.op, right=node.value))
            return owned | {name}
        return owned


def accumulate_safely(lines, adjoint, scalars):
    """Keep ``d += e`` only for adjoints that are scalars or arrays the code owns;
    elsewhere it becomes ``d = d + e``. Returns the lines and what is owned at the end."""
    fresh_calls = {name for name, obj in adjoint.namespace.extra.items()
                   if obj in (runtime.zeros_like, runtime.unindex)}

    def in_place_ok(name):
        return adjoint.adjoint_of.get(name) in scalars
    copy_name = adjoint.namespace.name_for(runtime.copy_of, "copy_of")
    owned = _Owner(set(adjoint.adjoint_of), in_place_ok, fresh_calls | {copy_name},
                   copy_name).run(lines, set())
    return lines, owned


# -- one write per index -----------------------------------------------------------

def assign_once_per_index(adjoint):
    """``d[i] += e`` in ``for i in range(...)`` (or its reverse), on an adjoint set to zeros
    just before the loop and written nowhere else in it, adds to a zero each time: the
    loop index differs between iterations. It becomes ``d[i] = e``, as written by hand."""
    zeros = {name for name, obj in adjoint.namespace.extra.items() if obj is runtime.zeros_like}
    if zeros and adjoint.shapes is not None:
        arrays = {d for d, primal in adjoint.adjoint_of.items()   # NumPy arrays, not lists
                  if getattr(adjoint.shapes.values.get(primal), "ndim", None)}
        for block in blocks(adjoint.lines):
            for at, loop in enumerate(block):
                if isinstance(loop.node, ast.For) and isinstance(loop.node.target, ast.Name) \
                        and _counts(loop.node.iter):
                    _assign_entries(loop, block[:at], zeros, arrays)


def _assign_entries(loop, before, zeros, arrays):
    index = loop.node.target.id
    body_writes = [name for ln in walk(loop.body) for name in _written(ln.node)]
    if index in body_writes:
        return
    for line in loop.body:
        node = line.node
        if not (isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add)
                and isinstance(node.target, ast.Subscript)
                and isinstance(node.target.value, ast.Name)
                and isinstance(node.target.slice, ast.Name) and node.target.slice.id == index):
            continue
        name = node.target.value.id
        if name in arrays and body_writes.count(name) == 1 and _zeros_before(name, before, zeros):
            line.node = ast.Assign(targets=[node.target], value=node.value)


def _written(node):
    """Names a statement writes, ``d[i] += e`` and ``d[i] = e`` included."""
    found = list(targets(node))
    if isinstance(node, ast.Assign):
        found += [t.value.id for t in node.targets
                  if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)]
    if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
        found.append(node.target.id)
    return found


def _counts(node):
    """``range(...)`` or ``reversed(range(...))``: an index that differs every iteration."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "reversed" and len(node.args) == 1:
        node = node.args[0]
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == "range"


def _zeros_before(name, before, zeros):
    """The last statement before the loop touching `name` sets it to fresh zeros."""
    for line in reversed(before):
        if not any(name in reads(ln.node) or name in _written(ln.node) for ln in walk([line])):
            continue
        node = line.node
        return isinstance(node, ast.Assign) and target(node) == name \
            and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
            and node.value.func.id in zeros
    return False

