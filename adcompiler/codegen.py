"""Code generation: print the adjoint as commented Python, compile it, and bind its names.

The source is compiled under a unique file name registered with `linecache`,
so tracebacks and debuggers show the generated lines. The function runs with
the user's globals and closure cells, plus the few helpers it needs.
"""

import ast
import copy
import hashlib
import io
import linecache
import os
import tokenize
import types

import astor

_COMMENT_COLUMN = 48


def _one_line(node):
    return astor.to_source(ast.fix_missing_locations(node)).strip()


def _statement_text(source, lineno):
    """The user's line, without its own comment, shortened to fit a comment."""
    text = _without_comment(source.line(lineno)).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _without_comment(line):
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return line[:token.start[1]]
    except (tokenize.TokenError, SyntaxError):
        pass
    return line


def _head(node):
    """The first line of a compound statement (its body printed separately)."""
    empty = copy.copy(node)
    empty.body = [ast.Pass()]
    if hasattr(empty, "orelse"):
        empty.orelse = []
    return _one_line(empty).splitlines()[0]


class _Printer:
    """Lines to text: nested blocks indented, backward statements commented."""

    def __init__(self, source):
        self.source = source
        self.previous = None
        self.rows = []                     # (text, comment or None)

    def lines(self, lines, depth):
        for line in lines:
            pad = "    " * depth
            if line.compound:
                self.row(pad + _head(line.node), line)
                self.lines(line.body, depth + 1) if line.body else self.row(pad + "    pass", None)
                if line.orelse:
                    self.row(pad + "else:", None)
                    self.lines(line.orelse, depth + 1)
            else:
                for i, text in enumerate(_one_line(line.node).splitlines()):
                    self.row(pad + text, line if i == 0 else None)

    def row(self, text, line):
        comment = None
        if line is not None and line.backward and line.origin:
            comment = f"# line {line.origin}"
            if line.origin != self.previous:          # the user's statement, once per run
                comment += f": {_statement_text(self.source, line.origin)}"
            self.previous = line.origin
        self.rows.append((text, comment))

    def text(self):
        width = max([_COMMENT_COLUMN] + [len(t) + 2 for t, c in self.rows if c and len(t) < 64])
        return [t if c is None else (t.ljust(width) + c if len(t) < width else f"{t}  {c}")
                for t, c in self.rows]


def render(adjoint, source, wrt, guard=None):
    """The generated function as Python source: forward sweep, backward sweep, return.

    With a `guard` (the fast entry's type check) the function takes the user's
    own signature, defaults included; without, its parameters are positional.
    """
    forward = [ln for ln in adjoint.lines[:-1] if not ln.backward]
    backward = [ln for ln in adjoint.lines[:-1] if ln.backward]
    ret = adjoint.lines[-1]
    origin = f"{os.path.basename(source.filename)}:{source.node.lineno}"
    params = ast.unparse(source.node.args) if guard is not None else ", ".join(adjoint.params)
    out = [f"def {adjoint.name}({params}):",
           f'    """Gradient of {source.name} ({origin}) with respect to {", ".join(wrt)}."""']
    if guard is not None:
        out.append("    # arguments other than floats take the general path")
        out.extend("    " + ln for ln in astor.to_source(guard).strip().splitlines())
    printer = _Printer(source)
    if forward:
        printer.rows.append(("    # forward", None))
        printer.lines(forward, 1)
    if backward:
        printer.rows.append(("    # backward", None))
        printer.lines(backward, 1)
    out += printer.text()
    out.append("    " + _one_line(ret.node))
    return "\n".join(out) + "\n"


def _cell(obj):
    """A closure cell holding `obj`; a call pair's functions come in cells of their own."""
    shared = getattr(obj, "cell", None)
    return shared if isinstance(shared, types.CellType) else types.CellType(obj)


def render_pair(adjoint, source, pair, names):
    """The forward and backward functions of a call pair, as Python source.

    The forward returns the value and a tuple of what the backward reads; the
    backward takes that tuple and the output's adjoint, and returns the
    adjoints of the active parameters.
    """
    from .lines import assigned, reads, reads_in
    from .saves import _defined
    forward = [ln for ln in adjoint.lines[:-1] if not ln.backward]
    backward = [ln for ln in adjoint.lines[:-1] if ln.backward]
    ret = adjoint.lines[-1].node
    origin = f"{os.path.basename(source.filename)}:{source.node.lineno}"
    needed = reads_in(backward) | reads(ret)
    defined = set(adjoint.params) | assigned(forward)
    residuals = [n for n in adjoint.params + sorted(assigned(forward))
                 if n in needed and n in defined and n not in adjoint.adjoint_of]
    residuals = list(dict.fromkeys(residuals))
    saved = names.version("saved")
    output = adjoint.output.to_ast()
    printer = _Printer(source)
    surely = set(adjoint.params) | set(_defined(forward))
    for name in residuals:                     # kept, but assigned on some paths only
        if name not in surely:
            printer.rows.append((f"    {name} = None", None))
    printer.lines(forward, 1)
    keep = ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in residuals], ctx=ast.Load())
    head = [f"def {pair.forward.name}({ast.unparse(source.node.args)}):",
            f'    """Forward sweep of {source.name} ({origin}), keeping what '
            f'{pair.backward.name} needs."""']
    forward_text = "\n".join(head + printer.text() + [
        "    return " + _one_line(ast.Tuple(elts=[output, keep], ctx=ast.Load()))]) + "\n"
    printer = _Printer(source)
    if residuals:
        printer.rows.append(("    " + _one_line(ast.Assign(
            targets=[ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in residuals],
                               ctx=ast.Store())] if len(residuals) > 1
            else [ast.Name(id=residuals[0], ctx=ast.Store())],
            value=ast.Name(id=saved, ctx=ast.Load()) if len(residuals) > 1
            else ast.Subscript(value=ast.Name(id=saved, ctx=ast.Load()), slice=ast.Constant(0),
                               ctx=ast.Load()))), None))
    printer.lines(backward, 1)
    active = ", ".join(pair.active) or "nothing"
    head = [f"def {pair.backward.name}({saved}, {adjoint.seed}):",
            f'    """Backward sweep of {source.name}: the adjoints of {active}."""']
    backward_text = "\n".join(head + printer.text() + ["    " + _one_line(ret)]) + "\n"
    return forward_text, backward_text


def build(text, function_name, namespace, source, entry=False):
    """Compile generated source into a function with the user's globals and closure.

    An `entry` function takes the user function's own default values.
    """
    fn = source.fn
    user_cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    free = sorted(set(user_cells) | set(namespace.extra))
    filename = f"<adcompiler {function_name} {hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    inner = ast.parse(text, filename=filename)
    arguments = inner.body[0].args               # defaults are set from the user's function below
    arguments.defaults = [ast.Constant(None) for _ in arguments.defaults]
    arguments.kw_defaults = [None if d is None else ast.Constant(None) for d in arguments.kw_defaults]
    factory = ast.FunctionDef(
        name="__adcompiler_factory__",
        args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                           kwarg=None, defaults=[]),
        body=[ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=ast.Constant(None))
              for n in free] + inner.body
        + [ast.Return(value=ast.Name(id=function_name, ctx=ast.Load()))],
        decorator_list=[], returns=None)
    module = ast.Module(body=[factory], type_ignores=[])
    for node in ast.walk(module):                  # the factory's own nodes take line 1
        if not hasattr(node, "lineno") and "lineno" in node._attributes:
            node.lineno, node.col_offset = 1, 0
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    scope = {}
    exec(code, fn.__globals__, scope)
    template = scope["__adcompiler_factory__"]()
    cells = tuple(user_cells[n] if n in user_cells else _cell(namespace.extra[n])
                  for n in template.__code__.co_freevars)
    function = types.FunctionType(template.__code__, fn.__globals__, function_name,
                                  fn.__defaults__ if entry else None, cells or None)
    if entry:
        function.__kwdefaults__ = fn.__kwdefaults__
    return function
