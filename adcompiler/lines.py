"""Generated code before printing: statements that remember where they come from.

A `Line` is one statement of the generated function. A compound one (an
``if``, ``for`` or ``while``) holds its blocks as lists of Lines, so the
optimisation passes can see and rewrite inside them. Its `node` is the
statement's head (bodies left empty); `tag` pairs a forward block with the
backward block that mirrors it.
"""

import ast
import collections
from dataclasses import dataclass


@dataclass
class Line:
    node: ast.stmt
    origin: int = None               # the user's line
    backward: bool = False
    body: list = None                # for compound statements: nested Lines
    orelse: list = None
    tag: object = None               # a forward block and its backward mirror share a tag
    kill: str = None                 # a marker: this adjoint's old value is spent (see optimize)
    carry: bool = False              # a copy at the end of a loop body, carrying a variable
    update: tuple = None             # (old, index, value) or (old, None, value): a functional
                                     # element write or append, to do in place where safe

    @property
    def compound(self):
        return self.body is not None

    def blocks(self):
        return [b for b in (self.body, self.orelse) if b is not None]


def kill(name, origin=None):
    """A marker Line: adjoint `name` was handed on and starts again from zero."""
    return Line(node=ast.Pass(), origin=origin, backward=True, kill=name)


def walk(lines):
    """Every Line, nested ones included, in document order."""
    for line in lines:
        yield line
        for block in line.blocks():
            yield from walk(block)


def blocks(lines):
    """`lines` and every block nested in them, outermost first."""
    yield lines
    for line in lines:
        for block in line.blocks():
            yield from blocks(block)


def target(node):
    """The name an assignment or accumulation writes, else None."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def targets(node):
    """Every name an assignment writes (``a, b = ...`` writes two; ``d[i] += e`` writes d)."""
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript) \
            and isinstance(node.target.value, ast.Name):
        return [node.target.value.id]
    if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            and isinstance(node.targets[0], ast.Tuple):
        return [e.id for e in node.targets[0].elts if isinstance(e, ast.Name)]
    name = target(node)
    return [name] if name is not None else []


def reads(node):
    """Names a statement reads (a compound statement: its head only)."""
    found = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        found.add(node.target.id)
    return found


def assigned(lines):
    """Every name assigned anywhere in `lines`."""
    return {t for ln in walk(lines) for t in targets(ln.node)} | {
        ln.node.target.id for ln in walk(lines)
        if isinstance(ln.node, ast.For) and isinstance(ln.node.target, ast.Name)}


def load_counts(lines):
    """How many times each name is read anywhere in `lines` (a Counter)."""
    return collections.Counter(n.id for line in walk(lines) for n in ast.walk(line.node)
                               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def reads_in(lines):
    """Every name read anywhere in `lines`."""
    found = set()
    for line in walk(lines):
        found |= reads(line.node)
    return found


def parents(lines, parent=None, found=None):
    """The compound Line holding each Line (by id), None at the top."""
    found = {} if found is None else found
    for line in lines:
        found[id(line)] = parent
        for block in line.blocks():
            parents(block, line, found)
    return found
