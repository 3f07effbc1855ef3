"""The staged single-assignment form: every operation named, every name assigned once.

A staged function is a list of statements over *atoms* (a variable or a
constant). Each `Op` applies one primitive, known by identity (``operator.mul``,
``math.exp``), to atoms. It prints back to ordinary Python.
"""

import ast
import operator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Var:
    name: str

    def to_ast(self):
        return ast.Name(id=self.name, ctx=ast.Load())


@dataclass(frozen=True)
class Const:
    """A value known when the function is compiled.

    `expr` is how the user spelled it (a literal, ``math.pi``, a module-level
    name), so the generated code reads like theirs.
    """
    value: object = field(compare=False)
    expr: ast.expr = field(compare=False)
    key: str = ""

    def to_ast(self):
        return self.expr


@dataclass(frozen=True)
class Pack:
    """A tuple or list of atoms passed as one argument: a shape, axes, a list of arrays."""
    items: tuple
    is_list: bool = False

    def to_ast(self):
        elts = [a.to_ast() for a in self.items]
        return ast.List(elts=elts, ctx=ast.Load()) if self.is_list else ast.Tuple(elts=elts, ctx=ast.Load())

    def subscript_ast(self):
        return ast.Tuple(elts=[_subscript(a) for a in self.items], ctx=ast.Load())


@dataclass(frozen=True)
class Slice:
    """``lower:upper:step`` inside an index; each part an atom or None."""
    lower: object = None
    upper: object = None
    step: object = None

    def parts(self):
        return [p for p in (self.lower, self.upper, self.step) if p is not None]

    def to_ast(self):
        args = [p.to_ast() if p is not None else ast.Constant(None)
                for p in (self.lower, self.upper, self.step)]
        if isinstance(args[2], ast.Constant) and args[2].value is None:
            args.pop()                          # slice(start, stop): keep both, or slice(1) means stop
            if isinstance(args[0], ast.Constant) and args[0].value is None:
                args.pop(0)
        return ast.Call(func=ast.Name(id="slice", ctx=ast.Load()), args=args, keywords=[])

    def subscript_ast(self):
        part = (lambda p: p.to_ast() if p is not None else None)
        return ast.Slice(lower=part(self.lower), upper=part(self.upper), step=part(self.step))


def _subscript(atom):
    return atom.subscript_ast() if isinstance(atom, (Pack, Slice)) else atom.to_ast()


def leaves(atom):
    """The plain atoms (variables and constants) inside an atom."""
    if isinstance(atom, Pack):
        return [leaf for item in atom.items for leaf in leaves(item)]
    if isinstance(atom, Slice):
        return [leaf for part in atom.parts() for leaf in leaves(part)]
    return [atom]


def copy_value(x):
    """The identity primitive: `y = x`."""
    return x


BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.MatMult: operator.matmul, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
         ast.Invert: operator.invert}
COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
           ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_BINARY_AST = {v: k for k, v in BINARY.items()}
_UNARY_AST = {v: k for k, v in UNARY.items()}
_COMPARE_AST = {v: k for k, v in COMPARE.items()}


@dataclass
class Op:
    """`target = prim(*args, **kwargs)`, from user line `line`."""
    target: str
    prim: object
    args: tuple
    kwargs: tuple = ()            # ((name, atom), ...)
    line: int = 0
    func: ast.expr = None         # the user's spelling of a called function
    method: str = None            # printed as ``args[0].method(...)`` (or ``.attr`` when no call)
    joins: bool = False           # a copy the staging made to join branches or carry a loop variable

    def atoms(self):
        """Every variable and constant the operation reads."""
        return [leaf for a in list(self.args) + [a for _, a in self.kwargs] for leaf in leaves(a)]

    def value_ast(self):
        """The right-hand side as a Python expression."""
        args = [a.to_ast() for a in self.args]
        if self.prim is copy_value:
            return args[0]
        if self.prim is operator.getitem:
            return ast.Subscript(value=args[0], slice=_subscript(self.args[1]), ctx=ast.Load())
        if getattr(self.prim, "__name__", None) == "appended" and self.func is None:
            return ast.BinOp(left=args[0], op=ast.Add(),
                             right=ast.List(elts=[args[1]], ctx=ast.Load()))
        if self.method is not None:
            attribute = ast.Attribute(value=args[0], attr=self.method, ctx=ast.Load())
            if self.func is None:                     # an attribute such as x.T
                return attribute
            keywords = [ast.keyword(arg=k, value=a.to_ast()) for k, a in self.kwargs]
            return ast.Call(func=attribute, args=args[1:], keywords=keywords)
        if self.func is None and self.prim in _BINARY_AST:
            return ast.BinOp(left=args[0], op=_BINARY_AST[self.prim](), right=args[1])
        if self.func is None and self.prim in _UNARY_AST:
            return ast.UnaryOp(op=_UNARY_AST[self.prim](), operand=args[0])
        if self.func is None and self.prim in _COMPARE_AST:
            return ast.Compare(left=args[0], ops=[_COMPARE_AST[self.prim]()],
                               comparators=[args[1]])
        keywords = [ast.keyword(arg=k, value=a.to_ast()) for k, a in self.kwargs]
        func = self.func
        if func is None:        # a runtime helper, by its own name (the generated code binds it)
            func = ast.Name(id=self.prim.__name__, ctx=ast.Load())
        return ast.Call(func=func, args=args, keywords=keywords)

    def to_ast(self):
        return ast.Assign(targets=[ast.Name(id=self.target, ctx=ast.Store())],
                          value=self.value_ast(), lineno=self.line)


@dataclass
class Effect:
    """A call kept only for its side effect (``print(x)``): run forward, never differentiated."""
    call: ast.Call
    line: int = 0

    def to_ast(self):
        return ast.Expr(value=self.call, lineno=self.line)


def _block(stmts):
    return [s.to_ast() for s in stmts] or [ast.Pass()]


@dataclass
class If:
    """``if test: body else: orelse``; names assigned in either branch are merged by
    copies at the end of both (the branches' last statements)."""
    test: object
    body: list
    orelse: list
    line: int = 0

    def to_ast(self):
        return ast.If(test=self.test.to_ast(), body=_block(self.body),
                      orelse=[s.to_ast() for s in self.orelse], lineno=self.line)


@dataclass
class Loop:
    """A ``for`` over a range or a ``while``. Variables the body changes are *carried*:
    a copy before the loop gives them their first value, a copy at the end of the
    body their next."""
    body: list
    line: int = 0
    target: str = None            # for: the loop variable
    range_args: tuple = ()        # for: the atoms of range(...)
    descending: bool = False      # for: reversed(range(...))
    header: list = field(default_factory=list)   # while: what computes the test, each time
    test: object = None           # while: the atom tested
    exit: str = None              # a flag: leave after an iteration that raised it
    carries: int = 0              # how many copies at the end of the body carry variables

    @property
    def is_while(self):
        return self.test is not None

    def iterable_ast(self):
        it = ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                      args=[a.to_ast() for a in self.range_args], keywords=[])
        if self.descending:
            it = ast.Call(func=ast.Name(id="reversed", ctx=ast.Load()), args=[it], keywords=[])
        return it

    def exit_ast(self):
        if self.exit is None:
            return []
        return [ast.If(test=ast.Name(id=self.exit, ctx=ast.Load()), body=[ast.Break()], orelse=[])]

    def test_ast(self):
        """The while test as one expression, when a single operation computes it."""
        if not self.header:
            return self.test.to_ast()
        if len(self.header) == 1 and isinstance(self.header[0], Op) \
                and isinstance(self.test, Var) and self.header[0].target == self.test.name:
            return self.header[0].value_ast()
        return None

    def to_ast(self, body=None, header=None):
        body = _block(self.body) if body is None else body
        if not self.is_while:
            return ast.For(target=ast.Name(id=self.target, ctx=ast.Store()),
                           iter=self.iterable_ast(), body=body + self.exit_ast(), orelse=[],
                           lineno=self.line)
        test = self.test_ast()
        if test is not None:
            return ast.While(test=test, body=body + self.exit_ast(), orelse=[], lineno=self.line)
        header = [s.to_ast() for s in self.header] if header is None else header
        leave = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=self.test.to_ast()),
                       body=[ast.Break()], orelse=[])
        return ast.While(test=ast.Constant(True), body=header + [leave] + body + self.exit_ast(),
                         orelse=[], lineno=self.line)


@dataclass
class Return:
    value: object                  # an atom
    line: int = 0

    def to_ast(self):
        return ast.Return(value=self.value.to_ast(), lineno=self.line)


@dataclass
class StagedFunction:
    name: str
    params: list                   # parameter names, in signature order
    body: list                     # Op / Effect / Return
    source: object                 # the FunctionSource it came from
    user_names: set = field(default_factory=set)   # every name the user's code uses
    temporaries: set = field(default_factory=set)  # the names among them staging made up

    def to_ast(self):
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in self.params],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                             defaults=[])
        return ast.FunctionDef(name=self.name, args=args,
                               body=[s.to_ast() for s in self.body],
                               decorator_list=[], returns=None, type_comment=None)
