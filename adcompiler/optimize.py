"""Optimisation passes over generated code, each small and separately testable.

The passes rewrite a tree of `Line`s (see lines.py), in this order:

- `drop_zeros` (accumulate.py): contributions that are structurally zero go;
- `lower_accumulations` (accumulate.py): an adjoint's first `+=` becomes `=`,
  and zeros are written only where a path needs one;
- `simplify` (simplify.py): fold constants, multiplications by one, double negations;
- `propagate_copies`: `dsigx = dden` and the seed `dout = 1.0` fold into their uses;
- `eliminate_dead`: drop statements whose result nobody reads;
- `scalar_spreads`, `inline_spreads` (array_passes.py): a sum's adjoint stays a number;
- `keep_masks` (array_passes.py): the forward keeps ``step(t)``, not t;
- `save_loop_values` (saves.py): what the backward sweep reads of a loop is pushed
  on the way forward and popped on the way back;
- `accumulate_safely` (accumulate.py): `+=` in place only on what the code owns;
- `multiply_in_place` (array_passes.py): ``dY = E * dX`` becomes ``dX *= E`` where
  nothing else reads dX;
- `assign_once_per_index` (accumulate.py): ``d[i] += e`` over fresh zeros, once per
  loop index, becomes ``d[i] = e``;
- `fold_single_uses`: a forward temporary read once, by the next statement, is
  written into it;
- `release_dead` (array_passes.py): ``del t`` for a forward temporary array nothing
  reads any more.
"""

import ast

from .accumulate import (accumulate_safely, assign_once_per_index, drop_zeros,
                         lower_accumulations)
from .array_passes import (inline_spreads, keep_masks, multiply_in_place, release_dead,
                           scalar_spreads)
from .ir import Var, _subscript
from .lines import Line, load_counts, parents, reads, target, targets, walk
from .saves import save_loop_values
from .simplify import is_number, float_names, simplify

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
            elif not is_number(value):
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


def fold_single_uses(lines, is_temp, keep=()):
    """A temporary that only the very next forward statement reads is written into it:
    ``t13 = W1 * W1; t14 = np.sum(t13)`` becomes ``t14 = np.sum(W1 * W1)``. (`is_temp`
    leaves out a temporary whose adjoint the code shows: ``dt4`` keeps its ``t4``.)

    The value then dies as soon as it is used, as in a hand-written pass, instead
    of holding its memory until the gradient returns. Only straight-line forward
    statements at the top level take part; a staged statement is one operation on
    names and numbers, so the folded value is still evaluated just before its use.
    """
    uses = load_counts(lines)
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
    inline_spreads(adjoint, scalar_names)
    keep_masks(adjoint)
    lines = adjoint.lines
    update_in_place(lines)
    save_loop_values(adjoint)
    keep_output_value(adjoint)
    adjoint.lines, owned = accumulate_safely(adjoint.lines, adjoint, scalar_names)
    multiply_in_place(adjoint, scalar_names)
    assign_once_per_index(adjoint)
    written = {n.id for ln in walk(adjoint.lines) for n in ast.walk(ln.node)
               if isinstance(n, ast.Name)}
    shown = {primal for name, primal in adjoint.adjoint_of.items() if name in written}
    fold_single_uses(adjoint.lines, lambda name: adjoint.namespace.names.is_temp(name)
                     and name not in shown, adjoint.keep | adjoint.live_out)
    release_dead(adjoint)
    names = adjoint.gradient_names
    adjoint.owned_gradients = tuple(name in owned and names.count(name) == 1 for name in names)
    return adjoint
