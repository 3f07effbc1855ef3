"""Passes over array code that use what analyze.shapes knows.

- `scalar_spreads`: a sum's adjoint, spread back over the summed shape, stays as it
  is (a number, or an array with a 1 on the summed axis) where it meets an array of
  that shape, which broadcasting spreads it over anyway;
- `inline_spreads`: the same for a spread written inside an expression;
- `keep_masks`: a forward temporary the backward reads only as ``step(t)`` is kept
  as that (boolean) mask, and the temporary itself is let go;
- `multiply_in_place`: ``dY = E * dX``, where dX is an array the code made and
  reads nowhere else, becomes ``dX *= E`` (dY is then called dX), as a hand-written
  pass does with ``dhidden[hidden <= 0] = 0``.
"""

import ast
import copy
import functools

from . import runtime
from .analyze import is_elementwise
from .accumulate import allocates
from .lines import Line, blocks, load_counts, reads, reads_in, target, targets, walk
from .simplify import ARITHMETIC, float_names, is_number, resolver, simplify


def scalar_spreads(adjoint, scalar_names):
    """A reduction's adjoint spread back over x, ``g = unreduce(s, x)`` (the number s at
    every entry) or ``g = unreduce(s, x, axis, True)`` (s has a 1 on that axis), read
    only as an operand of ``+ - * /`` whose other operand has x's shape, is s itself
    there: ``dW = 2 * W * dt`` becomes ``dW = 2 * s * W``.

    Broadcasting against that operand spreads s with no spread copy first; a number
    is multiplied with the other numbers before they meet the array.
    """
    spread = {name for name, obj in adjoint.namespace.extra.items() if obj is runtime.unreduce}
    if not spread or adjoint.shapes is None:
        return
    known = _KnownShapes(adjoint, scalar_names)
    counts = load_counts(adjoint.lines)
    floats, changed = None, True
    while changed:                  # a rewrite can make an earlier spread an operand too
        changed = False
        for block in blocks(adjoint.lines):
            i = 0
            while i < len(block):
                rewritten = _spread_rewrites(block, i, known, counts, spread)
                if rewritten is None:
                    i += 1
                    continue
                if floats is None:
                    floats = float_names(adjoint)
                name, s = target(block[i].node), block[i].node.value.args[0]
                for j, new_node in rewritten:
                    block[j].node = new_node
                    simplify([block[j]], floats)
                for read in reads(s):
                    counts[read] += counts[name]
                counts[name] = 0
                del block[i]                        # the next statement moves up to i
                changed = True


def _spread_rewrites(block, i, known, counts, spread):
    """The rewritten uses [(index, node)] of the spread assigned at block[i], or None."""
    line = block[i]
    node = line.node
    found = _spread_of(node.value, spread) if line.backward and isinstance(
        node, ast.Assign) and target(node) else None
    if found is None:
        return None
    name, (s, x) = target(node), found
    number = len(node.value.args) == 2
    shape = known.values.get(x.id)
    if shape is None or shape.scalar or number and not known.scalar(s):
        return None
    uses = [j for j in range(i + 1, len(block)) if name in reads(block[j].node)]
    if not uses or any(block[j].compound for j in uses) \
            or sum(load_counts([block[j]])[name] for j in uses) != counts[name] \
            or any(set(targets(ln.node)) & ({name} | reads(s))
                   for ln in walk(block[i + 1:uses[-1] + 1])):
        return None
    like = functools.partial(known.has, token=shape.token)
    rewritten = []
    for j in uses:
        rewrite = _SpreadOperand(name, s, like, known.scalars if number else ())
        new_node = rewrite.visit(copy.deepcopy(block[j].node))
        if name in reads(new_node):
            return None                             # a read that is not such an operand
        rewritten.append((j, new_node))
    return rewritten


def _spread_of(node, spread):
    """(g, x) of ``unreduce(g, x)`` or ``unreduce(g, x, axis, True)``, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in spread and not node.keywords and len(node.args) >= 2
            and isinstance(node.args[1], ast.Name)
            and all(isinstance(a, ast.Constant) for a in node.args[2:])):
        return None
    if len(node.args) == 2 or len(node.args) == 4 and node.args[3].value is True:
        return node.args[0], node.args[1]
    return None


def inline_spreads(adjoint, scalar_names):
    """``unreduce(g, x)`` or ``unreduce(g, x, axis, True)`` written as an operand of
    ``+ - * /`` whose other operand has x's shape is g itself: broadcasting against
    that operand spreads it, with no spread copy first. (Only primal values count as
    "of x's shape": an adjoint might still be a number waiting for its first array.)"""
    spread = {name for name, obj in adjoint.namespace.extra.items() if obj is runtime.unreduce}
    if not spread or adjoint.shapes is None:
        return
    known = _KnownShapes(adjoint, scalar_names)
    for line in walk(adjoint.lines):
        if line.backward:
            _InlineSpread(spread, known).visit(line.node)


class _InlineSpread(ast.NodeTransformer):
    def __init__(self, spread, known):
        self.spread, self.known = spread, known

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ARITHMETIC):
            return node
        for side, other in (("right", node.left), ("left", node.right)):
            found = _spread_of(getattr(node, side), self.spread)
            if found is None:
                continue
            shape = self.known.values.get(found[1].id)
            if shape is not None and not shape.scalar and self.known.has(other, shape.token):
                setattr(node, side, found[0])
                break
        return node


def _is_scalar(node, scalars):
    return isinstance(node, ast.Name) and node.id in scalars or is_number(node)


class _KnownShapes:
    """Which expressions of generated code surely have a given shape token."""

    def __init__(self, adjoint, scalar_names):
        self.values = adjoint.shapes.values
        self.scalars = set(scalar_names) | {
            d for d, p in adjoint.adjoint_of.items() if p in scalar_names}
        self.resolve = resolver(adjoint.namespace)

    def scalar(self, node):
        return _is_scalar(node, self.scalars)

    def has(self, node, token):
        """Whether the expression `node` surely has the shape named by `token`."""
        if isinstance(node, ast.Name):
            shape = self.values.get(node.id)
            return shape is not None and shape.token == token
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.has(node.operand, token)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC):
            return self.fits([node.left, node.right], token)
        if isinstance(node, ast.Call) and not node.keywords:
            called = self.resolve(node.func)
            if is_elementwise(called):
                return self.fits(node.args, token)
            if called is runtime.extremum_mask and node.args:   # shaped like its first argument
                return self.has(node.args[0], token)
        return False

    def fits(self, operands, token):
        """Operands of an elementwise operation: numbers, and at least one of the shape."""
        shaped = [self.has(a, token) for a in operands]
        return any(shaped) and all(ok or self.scalar(a) for ok, a in zip(shaped, operands))


class _SpreadOperand(ast.NodeTransformer):
    """Each ``e op g`` or ``g op e``, with e of x's shape: g replaced by s. With `scalars`
    (s a number), ``c * x * g`` becomes ``c * s * x``: the numbers meet first."""

    def __init__(self, name, number, like, scalars):
        self.name, self.number, self.like, self.scalars = name, number, like, scalars

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ARITHMETIC):
            return node
        s = copy.deepcopy(self.number)
        if isinstance(node.right, ast.Name) and node.right.id == self.name and self.like(node.left):
            left = node.left
            if self.scalars and isinstance(node.op, ast.Mult) and isinstance(left, ast.BinOp) \
                    and isinstance(left.op, ast.Mult) and _is_scalar(left.left, self.scalars):
                return ast.BinOp(left=ast.BinOp(left=left.left, op=ast.Mult(), right=s),
                                 op=ast.Mult(), right=left.right)
            node.right = s
        elif isinstance(node.left, ast.Name) and node.left.id == self.name \
                and self.like(node.right):
            node.left = s
        return node


def multiply_in_place(adjoint, scalar_names):
    """``dY = E * dX`` becomes ``dX *= E``, and dY is called dX from there on, where:

    - dX is an array adjoint assigned once, from an expression that allocates
      (a product, a sum, a dot), and read by nothing but this statement, so no
      other name can see it change;
    - E has the shape of X (or is a number), so the product has dX's shape;
    - dY is not a returned gradient and appears only in later top-level statements.

    The backward sweep then needs no new array for the product, as a hand-written
    pass does with ``dhidden[hidden <= 0] = 0``.
    """
    if adjoint.shapes is None:
        return
    known = _KnownShapes(adjoint, scalar_names)
    lines = adjoint.lines
    kept = set(adjoint.keep) | set(adjoint.live_out)
    fresh = _fresh_calls(adjoint)
    for i, line in enumerate(lines):
        node = line.node
        if not (line.backward and isinstance(node, ast.Assign) and target(node)
                and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.Mult)):
            continue
        new = target(node)
        for mine, other in ((node.value.right, node.value.left),
                            (node.value.left, node.value.right)):
            if not (isinstance(mine, ast.Name) and mine.id in adjoint.adjoint_of):
                continue
            old = mine.id
            primal = known.values.get(adjoint.adjoint_of[old])
            if new in kept or old in kept or primal is None or primal.scalar \
                    or not (known.has(other, primal.token) or known.scalar(other)) \
                    or not _made_once_read_once(lines, i, old, fresh) \
                    or any(new in reads(ln.node) | set(targets(ln.node))
                           for top in lines[i + 1:] if top.compound for ln in walk([top])) \
                    or any(new in reads(ln.node) | set(targets(ln.node))
                           for ln in walk(lines[:i])):
                continue
            line.node = ast.AugAssign(target=ast.Name(id=old, ctx=ast.Store()), op=ast.Mult(),
                                      value=other)
            rename = _RenameAll(new, old)
            for later in lines[i + 1:]:
                rename.visit(later.node)
            break


def _fresh_calls(adjoint):
    return {name for name, obj in adjoint.namespace.extra.items()
            if obj in (runtime.zeros_like, runtime.unindex, runtime.copy_of)}


def _made_once_read_once(lines, at, name, fresh_calls):
    """`name` is assigned once, at the top level before `at`, from an expression that
    allocates, and read only by the statement at `at`."""
    writes = [ln for ln in walk(lines) if name in targets(ln.node)]
    if len(writes) != 1 or not any(ln is writes[0] for ln in lines[:at]) \
            or not isinstance(writes[0].node, ast.Assign) \
            or not allocates(writes[0].node.value, fresh_calls):
        return False
    return load_counts(lines)[name] == 1


class _RenameAll(ast.NodeTransformer):
    def __init__(self, name, replacement):
        self.name, self.replacement = name, replacement

    def visit_Name(self, node):
        if node.id == self.name:
            node.id = self.replacement
        return node


def keep_masks(adjoint):
    """A forward array the backward sweep reads only as ``step(t)`` (the slope of a ReLU,
    say) is kept as that mask: the forward sweep computes ``t_step = step(t)`` after its
    last use of t, and the backward sweep reads ``t_step``, as a hand-written pass keeps
    ``hidden > 0`` rather than the pre-activation (`release_dead` then lets t go). The
    mask is boolean where there is no tie: an eighth of the memory. In a pair's forward
    the parameters count too: the pair saves the mask, not the argument.
    """
    if adjoint.shapes is None:
        return
    steps = {name for name, obj in adjoint.namespace.extra.items() if obj is runtime.step}
    lines, names = adjoint.lines, adjoint.namespace.names
    backward = [ln for top in lines if top.backward for ln in walk([top])]
    kept = set(adjoint.keep) | set(adjoint.live_out) | reads(lines[-1].node)
    params = set(adjoint.params) if adjoint.seed is not None else set()   # a pair's forward
    candidates = list(params) + [target(ln.node) for ln in lines if not ln.backward
                                 and not ln.compound and isinstance(ln.node, ast.Assign)]
    for name in candidates:
        shape = adjoint.shapes.values.get(name)
        if not (name is not None and (names.is_temp(name) or name in params)
                and shape is not None and not shape.scalar and shape.ndim and name not in kept):
            continue
        calls = [n for ln in backward for n in ast.walk(ln.node) if _is_step_of(n, name, steps)]
        if not calls or load_counts(backward)[name] != len(calls) \
                or any(name in reads(ln.node) for top in lines
                       if not top.backward and top.compound for ln in walk([top])):
            continue
        last = max((i for i, ln in enumerate(lines) if not ln.backward
                    and (name in reads(ln.node) or target(ln.node) == name)), default=-1)
        mask = names.version(name + "_step")
        adjoint.shapes.values[mask] = shape
        lines[last + 1:last + 1] = [Line(ast.Assign(targets=[ast.Name(id=mask, ctx=ast.Store())],
                                                    value=copy.deepcopy(calls[0])))]
        for ln in backward:
            ln.node = _ReplaceStep(name, mask, steps).visit(ln.node)


def _is_step_of(node, name, steps):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id in steps and len(node.args) == 1 and not node.keywords \
        and isinstance(node.args[0], ast.Name) and node.args[0].id == name


class _ReplaceStep(ast.NodeTransformer):
    def __init__(self, name, mask, steps):
        self.name, self.mask, self.steps = name, mask, steps

    def visit_Call(self, node):
        if _is_step_of(node, self.name, self.steps):
            return ast.Name(id=self.mask, ctx=ast.Load())
        return self.generic_visit(node)


def release_dead(adjoint):
    """``del t`` after the last read of a forward temporary array that the backward sweep
    never reads, where it would otherwise live until the function returns: a pair's
    output once passed on (``t1, t1_saved = dense_forward(...)``), a value replaced by
    its mask. (fold_single_uses has already written a temporary read once, by the next
    statement, into that statement.)"""
    if adjoint.shapes is None:
        return
    lines, names = adjoint.lines, adjoint.namespace.names
    read_back = reads_in([ln for ln in lines if ln.backward]) | reads(lines[-1].node) \
        | set(adjoint.keep) | set(adjoint.live_out)
    written = {t for ln in lines if not ln.backward for t in targets(ln.node)}
    for name in sorted(written):
        shape = adjoint.shapes.values.get(name)
        if not names.is_temp(name) or shape is None or shape.scalar or not shape.ndim \
                or name in read_back:
            continue
        uses = [i for i, ln in enumerate(lines) if not ln.backward and name in reads_in([ln])]
        if uses and not any(lines[i].compound for i in uses) and uses[-1] + 2 < len(lines):
            lines.insert(uses[-1] + 1, Line(ast.Delete(targets=[ast.Name(id=name,
                                                                         ctx=ast.Del())])))
