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


def copy_value(x):
    """The identity primitive: `y = x`."""
    return x


BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.MatMult: operator.matmul,
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

    def atoms(self):
        return list(self.args) + [a for _, a in self.kwargs]

    def value_ast(self):
        """The right-hand side as a Python expression."""
        args = [a.to_ast() for a in self.args]
        if self.prim is copy_value:
            return args[0]
        if self.func is None and self.prim in _BINARY_AST:
            return ast.BinOp(left=args[0], op=_BINARY_AST[self.prim](), right=args[1])
        if self.func is None and self.prim in _UNARY_AST:
            return ast.UnaryOp(op=_UNARY_AST[self.prim](), operand=args[0])
        if self.func is None and self.prim in _COMPARE_AST:
            return ast.Compare(left=args[0], ops=[_COMPARE_AST[self.prim]()],
                               comparators=[args[1]])
        keywords = [ast.keyword(arg=k, value=a.to_ast()) for k, a in self.kwargs]
        return ast.Call(func=self.func, args=args, keywords=keywords)

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

    def to_ast(self):
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in self.params],
                             vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                             defaults=[])
        return ast.FunctionDef(name=self.name, args=args,
                               body=[s.to_ast() for s in self.body],
                               decorator_list=[], returns=None, type_comment=None)
