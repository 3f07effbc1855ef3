"""Frontend: find a function's source, parse it, and resolve the names it reads.

Names are resolved by identity against the function's closure, globals and
builtins, so ``import numpy as xp`` or ``from math import exp`` are known for
what they are, never by their spelling.
"""

import ast
import builtins
import inspect
import linecache
from dataclasses import dataclass, field

from .errors import DifferentiationError

_MISSING = object()


@dataclass
class FunctionSource:
    """A parsed user function: its AST, where it lives, and its scopes."""

    fn: object
    node: ast.AST                 # ast.FunctionDef or ast.Lambda, line numbers as in the file
    filename: str
    lines: list = field(repr=False)

    @property
    def name(self):
        return self.fn.__name__ if self.fn.__name__ != "<lambda>" else "lambda"

    def line(self, lineno):
        """The user's source line `lineno` (1-based), or ''."""
        if lineno and 0 < lineno <= len(self.lines):
            return self.lines[lineno - 1].rstrip("\n")
        return ""

    def error(self, message, node=None, *, construct=None, hint=None):
        """A DifferentiationError pointing at `node` in this function."""
        lineno = getattr(node, "lineno", None) or getattr(self.node, "lineno", None)
        return DifferentiationError(
            message, filename=self.filename, lineno=lineno, construct=construct,
            source_line=self.line(lineno), hint=hint)

    # -- name resolution -------------------------------------------------
    def lookup(self, name):
        """The object `name` refers to outside the function body, or _MISSING."""
        code = self.fn.__code__
        if name in code.co_freevars:
            cell = self.fn.__closure__[code.co_freevars.index(name)]
            try:
                return cell.cell_contents
            except ValueError:        # a closure variable not assigned yet
                return _MISSING
        if name in self.fn.__globals__:
            return self.fn.__globals__[name]
        space = self.fn.__globals__.get("__builtins__", builtins)
        space = space if isinstance(space, dict) else vars(space)
        return space.get(name, _MISSING)


_module_cache = {}


def _parse_file(filename, lines):
    key = (filename, len(lines), hash(tuple(lines)))
    tree = _module_cache.get(key)
    if tree is None:
        tree = ast.parse("".join(lines), filename=filename)
        if len(_module_cache) > 64:
            _module_cache.clear()
            _index_cache.clear()
        _module_cache[key] = tree
    return tree


def _no_source(fn, why):
    name = getattr(fn, "__qualname__", repr(fn))
    return DifferentiationError(
        f"cannot read the source of {name!r}: {why}",
        construct="function without source",
        hint="adcompiler differentiates Python source: define the function in a file, "
             "a notebook cell or a module (a function typed at the plain Python prompt, "
             "a builtin or a C function has no source). For a function without source, "
             "register an adjoint rule with @adcompiler.adjoint.")


_index_cache = {}


def _definitions(tree):
    """Function definitions and lambdas of a parsed file, by the line their code starts on."""
    index = _index_cache.get(id(tree))
    if index is None or index[0] is not tree:
        by_line = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Lambda):
                by_line.setdefault(node.lineno, []).append(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                for line in {node.lineno, first}:
                    by_line.setdefault(line, []).append(node)
        index = _index_cache[id(tree)] = (tree, by_line)
    return index[1]


def _candidates(tree, fn):
    want_lambda = fn.__name__ == "<lambda>"
    for node in _definitions(tree).get(fn.__code__.co_firstlineno, ()):
        if want_lambda and isinstance(node, ast.Lambda) or not want_lambda and \
                not isinstance(node, ast.Lambda) and node.name == fn.__name__:
            yield node


def _arg_names(node):
    a = node.args
    return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]


def _code_columns(code):
    """The first column of a lambda's body, from the positions of its instructions."""
    try:
        return min(c for line, _, c, _ in code.co_positions()
                   if c and line == code.co_firstlineno)
    except (AttributeError, ValueError):
        return None


def get_source(fn):
    """Parse `fn` and return its FunctionSource, or raise DifferentiationError."""
    if not inspect.isfunction(fn):
        raise _no_source(fn, "it is not a Python function")
    code = fn.__code__
    filename = code.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise _no_source(fn, f"no source is available for {filename!r}")
    try:
        tree = _parse_file(filename, lines)
    except SyntaxError as exc:
        raise _no_source(fn, f"the file {filename!r} does not parse ({exc.msg})") from None
    found = list(_candidates(tree, fn))
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    found = [n for n in found if _arg_names(n) == params] or found
    if len(found) > 1 and fn.__name__ == "<lambda>":
        col = _code_columns(code)
        exact = [n for n in found if n.body.col_offset == col]
        found = exact or found
    if len(found) != 1:
        why = ("the source does not match the running code (was the file edited?)"
               if not found else "several definitions on that line match it")
        raise _no_source(fn, why)
    return FunctionSource(fn=fn, node=found[0], filename=filename, lines=lines)
