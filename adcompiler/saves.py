"""What a loop must remember for the way back.

A value computed inside a loop body is overwritten by the next iteration. If
the backward sweep reads it, the forward loop pushes it on a stack named
after it at the end of the iteration, and the reversed loop pops it at the
start of the mirrored iteration. Values computed before the loop (the
loop-invariant ones) are read as they are, never copied.
"""

import ast
import copy

from .lines import Line, reads, reads_in, target, targets, walk


def _defined(block):
    """Names surely assigned by the end of a block (in both branches of an if)."""
    names = []
    for line in block:
        if line.compound:
            if isinstance(line.node, ast.If) and line.orelse is not None:
                both = set(_defined(line.body)) & set(_defined(line.orelse))
                names += [n for n in _defined(line.body) if n in both]
            continue
        for name in targets(line.node):
            if name not in names:
                names.append(name)
    return names


def _recomputable(name, block, own):
    """The assignment of `name`, if it only indexes values fixed for the whole block."""
    for line in block:
        node = line.node
        if not line.compound and target(node) == name and isinstance(node, ast.Assign):
            if isinstance(node.value, ast.Subscript) and not reads(node) & set(own):
                return node
            return None
    return None


def _is_exit(line):
    """``if stop: break`` (or a while loop's leave check): pushes go before it."""
    return line.compound and isinstance(line.node, ast.If) and len(line.body) == 1 \
        and isinstance(line.body[0].node, ast.Break)


def _mirrors(lines):
    """Backward compound Lines by the tag of the forward block they mirror."""
    return {ln.tag: ln for ln in walk(lines) if ln.backward and ln.compound and ln.tag is not None}


class _Saver:
    def __init__(self, adjoint):
        self.adjoint = adjoint
        self.names = adjoint.namespace.names
        self.mirror = _mirrors(adjoint.lines)
        self.stacks = []                   # (outermost loop Line, stack name)

    def loop(self, line, outermost):
        back = self.mirror.get(line.tag)
        if back is None:
            return
        self.block(line.body, back.body, outermost)

    def block(self, forward, backward, outermost, merged=()):
        """Save what `backward` reads of the names `forward` assigns, then recurse."""
        own = [n for n in _defined(forward) if n not in merged]
        needed = [n for n in own if n in reads_in(backward)]
        pushes, pops = [], []
        for name in list(needed):               # x[t] of a loop-invariant x: index it again
            again = _recomputable(name, forward, own)
            if again is not None:
                needed.remove(name)
                pops.append(Line(node=copy.deepcopy(again), backward=True))
        for name in needed:
            stack = self.names.version(name + "_stack")
            self.stacks.append((outermost, stack))
            pushes.append(Line(node=_call_statement(stack, "append", name)))
            pops.insert(0, Line(node=ast.Assign(
                targets=[ast.Name(id=name, ctx=ast.Store())],
                value=ast.Call(func=ast.Attribute(value=ast.Name(id=stack, ctx=ast.Load()),
                                                  attr="pop", ctx=ast.Load()),
                               args=[], keywords=[])), backward=True))
        end = len(forward)                 # before the exit test and the carried copies
        while end and (_is_exit(forward[end - 1]) or forward[end - 1].carry):
            end -= 1
        forward[end:end] = pushes
        backward[0:0] = pops
        for line in forward:
            if not line.compound:
                continue
            if isinstance(line.node, ast.If):
                back = self.mirror.get(line.tag)
                if back is not None:
                    both = set(own)
                    self.block(line.body, back.body, outermost, both)
                    self.block(line.orelse or [], back.orelse if back.orelse is not None else [],
                               outermost, both)
            elif not _is_exit(line):
                self.loop(line, outermost)


def _outer_loops(lines):
    """Loops not inside another loop (looking into branches)."""
    for line in lines:
        if line.compound and isinstance(line.node, (ast.For, ast.While)):
            yield line
        elif line.compound:
            for block in line.blocks():
                yield from _outer_loops(block)


def _call_statement(obj, method, argument):
    return ast.Expr(value=ast.Call(
        func=ast.Attribute(value=ast.Name(id=obj, ctx=ast.Load()), attr=method, ctx=ast.Load()),
        args=[ast.Name(id=argument, ctx=ast.Load())], keywords=[]))


def save_loop_values(adjoint):
    """Insert the pushes, pops and empty stacks every loop of `adjoint` needs."""
    saver = _Saver(adjoint)
    top = adjoint.lines
    for line in list(top):
        if not line.backward:
            for loop in _outer_loops([line]):
                saver.loop(loop, line)
    for outermost, stack in saver.stacks:
        position = next(i for i, ln in enumerate(top) if ln is outermost)
        top.insert(position, Line(node=ast.Assign(targets=[ast.Name(id=stack, ctx=ast.Store())],
                                                  value=ast.List(elts=[], ctx=ast.Load()))))
    return adjoint
