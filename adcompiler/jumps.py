"""Structured jumps: `break`, `continue` and an early `return` become flags.

Reversing control flow is simplest when every block runs from top to bottom.
This pass rewrites the function's AST so that it does: a jump sets a flag,
the statements after it run only while the flags are down, and a loop is
left at the end of an iteration that raised its `stop` flag::

    for t in range(n):                 stop = False
        if x > 9:                      for t in range(n):
            break              ──►         skip = False
        x = f(x)                           if x > 9:
                                               skip = True
                                               stop = True
                                           if not skip:
                                               x = f(x)
                                           (leave the loop here when stop)

A function with no jump but its final `return` is left exactly as written.
"""

import ast
import copy

LOOPS = (ast.For, ast.While)


def _has(nodes, kinds, into_loops):
    """Whether any statement in `nodes` (recursively) is one of `kinds`."""
    for node in nodes:
        for sub in _walk_statements(node, into_loops):
            if isinstance(sub, kinds):
                return True
    return False


def _walk_statements(node, into_loops):
    yield node
    if isinstance(node, LOOPS) and not into_loops or isinstance(node, ast.FunctionDef):
        return                              # a local function's returns are its own
    for field in ("body", "orelse"):
        for child in getattr(node, field, ()) or ():
            if isinstance(child, ast.stmt):
                yield from _walk_statements(child, into_loops)


def needs_rewrite(body):
    """A jump other than the function's final `return`."""
    returns_early = _has(body[:-1], ast.Return, True) or (
        body and not isinstance(body[-1], ast.Return) and _has(body[-1:], ast.Return, True))
    return returns_early or _has(body, (ast.Break, ast.Continue), True)


def _set(name, value=True):
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=ast.Constant(value))


def _guard(flags, body):
    """``if not flag: body`` (nested for several flags)."""
    for flag in reversed(flags):
        body = [ast.If(test=ast.UnaryOp(op=ast.Not(), operand=ast.Name(id=flag, ctx=ast.Load())),
                       body=body, orelse=[])]
    return body


class _Loop:
    def __init__(self, stop, skip):
        self.stop = stop
        self.skip = skip


class Jumps:
    """The rewriting of one function body; flag names come from `fresh(base)`."""

    def __init__(self, fresh):
        self.fresh = fresh
        self.returned = None
        self.result = None

    def function(self, body):
        if not needs_rewrite(body):
            return body
        early = _has(body[:-1], ast.Return, True) or (
            not isinstance(body[-1], ast.Return) and _has(body[-1:], ast.Return, True))
        if not early:                             # only loops to rewrite: keep the final return
            return self.block(body[:-1], None) + body[-1:]
        self.returned, self.result = self.fresh("returned"), self.fresh("result")
        head = [_set(self.returned, False),
                ast.Assign(targets=[ast.Name(id=self.result, ctx=ast.Store())],
                           value=ast.Constant(None))]
        rewritten = self.block(body, None)
        tail = [ast.Return(value=ast.Name(id=self.result, ctx=ast.Load()))]
        for node in head:
            _locate(node, body[0])
        for node in tail:
            _locate(node, body[-1])
        return head + rewritten + tail

    def block(self, stmts, loop):
        out = []
        for i, stmt in enumerate(stmts):
            new, flags = self.statement(stmt, loop)
            for node in new:
                ast.copy_location(node, stmt)
                ast.fix_missing_locations(node)
            out.extend(new)
            rest = stmts[i + 1:]
            if flags and rest:
                guarded = _guard(flags, self.block(rest, loop))
                for node in guarded:
                    _locate(node, rest[0])
                out.extend(guarded)
                return out
        return out

    def statement(self, stmt, loop):
        """The rewritten statement, and the flags it may raise that guard what follows."""
        if isinstance(stmt, ast.Break):
            return [_set(loop.skip), _set(loop.stop)], [loop.skip]
        if isinstance(stmt, ast.Continue):
            return [_set(loop.skip)], [loop.skip]
        if isinstance(stmt, ast.Return):
            value = stmt.value if stmt.value is not None else ast.Constant(None)
            new = [ast.Assign(targets=[ast.Name(id=self.result, ctx=ast.Store())], value=value),
                   _set(self.returned)]
            if loop is not None:
                new += [_set(loop.skip), _set(loop.stop)]
                return new, [loop.skip]
            return new, [self.returned]
        if isinstance(stmt, ast.If):
            body = self.block(stmt.body, loop)
            orelse = self.block(stmt.orelse, loop)
            new = copy.copy(stmt)
            new.body, new.orelse = body or [ast.Pass()], orelse
            flags = self._flags_in(stmt, loop)
            return [new], flags
        if isinstance(stmt, LOOPS):
            return self.loop(stmt, loop)
        return [stmt], []

    def _flags_in(self, stmt, loop):
        if loop is not None:
            inner = _has([stmt], (ast.Break, ast.Continue), False) or _has([stmt], ast.Return, True)
            return [loop.skip] if inner else []
        return [self.returned] if _has([stmt], ast.Return, True) else []

    def loop(self, stmt, outer):
        has_break = _has(stmt.body, ast.Break, False)
        has_continue = _has(stmt.body, ast.Continue, False)
        has_return = _has(stmt.body, ast.Return, True)
        if not (has_break or has_continue or has_return):
            new = copy.copy(stmt)                 # its own jumps, if any, are inner loops'
            new.body = self.block(stmt.body, None)
            return [new], []
        stop = self.fresh("stop")
        skip = self.fresh("skip")
        body = [_set(skip, False)] + self.block(stmt.body, _Loop(stop, skip))
        new = copy.copy(stmt)
        new.body = body
        new.exit_flag = stop                      # leave the loop after an iteration that set it
        before = [_set(stop, False)]
        if not has_return:
            return before + [new], []
        if outer is not None:                     # a return leaves the enclosing loop too
            after = ast.If(test=ast.Name(id=self.returned, ctx=ast.Load()),
                           body=[_set(outer.skip), _set(outer.stop)], orelse=[])
            return before + [new, after], [outer.skip]
        return before + [new], [self.returned]


def _locate(node, origin):
    for sub in ast.walk(node):
        if "lineno" in sub._attributes and not hasattr(sub, "lineno"):
            ast.copy_location(sub, origin)
    ast.fix_missing_locations(node)
