"""Staging: rewrite a function into single-assignment form with every operation named.

    sigy = 1.0 / (1 + math.exp(-y))        t1 = -y
                                     ──►   t2 = math.exp(t1)
                                           t3 = 1 + t2
                                           sigy = 1.0 / t3

Augmented assignment, tuple packing and unpacking and comparisons are
desugared; reassigned names get versions (`x`, `x_1`), so each name is
assigned once. User names stay; temporaries are `t1`, `t2`, ...
"""

import ast
import builtins
import copy
import operator
import types

from .frontend import _MISSING
from .ir import (BINARY, COMPARE, UNARY, Const, Effect, Op, Pack, Return, Slice, StagedFunction,
                 Var, copy_value, leaves)
from .methods import ATTRIBUTES, METHODS, makes_new_array as _makes_new_array
from .runtime import assign_index
from .names import Names
from .subset import unsupported


class StaticTuple(tuple):
    """A tuple or list display whose elements are atoms, unpacked at compile time."""
    is_list = False

    def pack(self):
        return Pack(items=tuple(a.pack() if isinstance(a, StaticTuple) else a for a in self),
                    is_list=self.is_list)


def _literal(value):
    """A constant the printer can spell, or None."""
    if value is None or isinstance(value, (bool, int, float, complex, str)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return None
        return ast.Constant(value=value)
    return None


class Stager:
    def __init__(self, source):
        self.source = source
        node = source.node
        self.user_names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        self.params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        self.user_names.update(self.params)
        self.assigned = self._assigned_names(node)
        self.names = Names(self.user_names)
        self.env = {p: Var(p) for p in self.params}
        self.body = []
        self.fresh = {}            # temp name -> its Op, while nobody has read it yet
        self.owned = set()         # arrays the function made itself, so it may write into them
        self.returned = False

    @staticmethod
    def _assigned_names(node):
        body = node.body if isinstance(node.body, list) else []
        return {n.id for stmt in body for n in ast.walk(stmt)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    def error(self, message, node, construct=None, hint=None):
        return self.source.error(message, node, construct=construct, hint=hint)

    def refuse(self, node):
        construct, hint = unsupported(node) or (type(node).__name__, None)
        return self.error(f"{construct} is not supported", node, construct=construct, hint=hint)

    # -- statements --------------------------------------------------------
    def run(self):
        node = self.source.node
        if isinstance(node, ast.Lambda):
            self.line = node.lineno
            self.emit_return(self.expr(node.body), node)
        else:
            for i, stmt in enumerate(node.body):
                if self.returned:
                    break
                if i == 0 and _is_docstring(stmt):
                    continue
                self.line = stmt.lineno
                self.statement(stmt)
            if not self.returned:
                raise self.error("the function does not return a value", node.body[-1],
                                 construct="missing return",
                                 hint="end the function with `return <scalar>`")
        name = self.source.name
        return StagedFunction(name=name, params=self.params, body=self.body,
                              source=self.source, user_names=set(self.names.taken))

    def statement(self, stmt):
        if isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value)
            for target in stmt.targets:                # a = b = value: b copies a
                self.bind(target, value)
                if isinstance(target, ast.Name):
                    value = self.env[target.id]
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                return
            self.bind(stmt.target, self.expr(stmt.value))
        elif isinstance(stmt, ast.AugAssign):
            self.augassign(stmt)
        elif isinstance(stmt, ast.Return):
            if stmt.value is None:
                raise self.error("`return` without a value", stmt, construct="return None",
                                 hint="return the scalar to differentiate")
            self.emit_return(self.expr(stmt.value), stmt)
        elif isinstance(stmt, ast.Expr):
            self.expression_statement(stmt)
        elif isinstance(stmt, ast.Pass):
            pass
        else:
            raise self.refuse(stmt)

    def augassign(self, stmt):
        if isinstance(stmt.target, ast.Subscript) and isinstance(stmt.target.value, ast.Name):
            prim = BINARY.get(type(stmt.op))
            current = self.expr(stmt.target)          # out[i]
            self.bind(stmt.target, self.op(prim, (current, self.expr(stmt.value))))
            return
        if not isinstance(stmt.target, ast.Name):
            raise self.error("augmented assignment to an element or attribute is not supported",
                             stmt, construct="augmented assignment to " + type(stmt.target).__name__,
                             hint="assign to a plain variable name")
        prim = BINARY.get(type(stmt.op))
        if prim is None:
            raise self.error(f"the operator in `{ast.unparse(stmt)}` is not supported", stmt,
                             construct=type(stmt.op).__name__,
                             hint="write the operation out, e.g. `x = x - y` for `x -= y`")
        current = self.read(stmt.target.id, stmt.target)
        value = self.op(prim, (current, self.expr(stmt.value)))
        self.bind(stmt.target, value)

    def expression_statement(self, stmt):
        value = stmt.value
        if isinstance(value, ast.Constant):
            return                                   # a stray string or number: no effect
        if isinstance(value, ast.Call):
            callee = self.callee(value.func)
            args, kwargs = self.call_arguments(value)
            call = ast.Call(func=copy.deepcopy(callee.spelling), args=[a.to_ast() for a in args],
                            keywords=[ast.keyword(arg=k, value=a.to_ast()) for k, a in kwargs])
            for atom in args + [a for _, a in kwargs]:
                self.use(atom)
            self.body.append(Effect(call=call, line=self.line))
            return
        self.expr(value)                             # evaluated for its errors only

    def emit_return(self, value, node):
        if isinstance(value, StaticTuple):
            raise self.error(f"the function returns a tuple of {len(value)} values; "
                             "the output must be a scalar", node, construct="non-scalar return",
                             hint="return a single real number, e.g. a loss")
        self.use(value)
        self.body.append(Return(value=value, line=self.line))
        self.returned = True

    # -- binding names -----------------------------------------------------
    def bind(self, target, value):
        if isinstance(target, ast.Name):
            self.bind_name(target.id, value, target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, StaticTuple):
                raise self.error("unpacking is only supported from a tuple or list of values "
                                 "built in the function", target, construct="unpacking",
                                 hint="unpack from an explicit tuple, e.g. `a, b = x, y`")
            if any(isinstance(t, ast.Starred) for t in target.elts):
                raise self.error("starred unpacking is not supported", target,
                                 construct="starred assignment", hint="unpack each element by name")
            if len(target.elts) != len(value):
                raise self.error(f"cannot unpack {len(value)} values into {len(target.elts)} names",
                                 target, construct="unpacking",
                                 hint="unpack as many names as there are values")
            for t, v in zip(target.elts, value):
                self.bind(t, v)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.assign_element(target, value)
        else:
            what = "an element" if isinstance(target, ast.Subscript) else "an attribute"
            raise self.error(f"assignment to {what} is not supported", target,
                             construct=f"assignment to {what}",
                             hint="assign to a plain variable name; the function must not "
                                  "modify its inputs")

    def assign_element(self, target, value):
        """``out[i] = v`` on an array the function made: a new version of `out`."""
        name = target.value.id
        array = self.read(name, target.value)
        if not (isinstance(array, Var) and array.name in self.owned):
            whose = "an argument" if isinstance(array, Var) and array.name in self.params \
                else "an array the function did not create"
            raise self.error(f"writing into {whose} ({name}) is not supported", target,
                             construct="assignment into an array",
                             hint=f"the caller's arrays are never modified: write into a copy "
                                  f"made in the function, e.g. `{name} = {name}.copy()` "
                                  f"or `np.zeros_like({name})`")
        index = self.index(target.slice)
        new = self.op(assign_index, (array, index, value))
        self.owned.add(new.name)
        self.bind_name(name, new, target)
        self.owned.add(self.env[name].name)

    def bind_name(self, name, value, node):
        if isinstance(value, (StaticTuple, _Callee)):
            self.env[name] = value                    # known at compile time: no statement
            return
        version = self.names.version(name) if name in self.env or name in self.params \
            else self.names.claim(name)
        op = self.fresh.pop(getattr(value, "name", None), None)
        if op is not None and op.target == value.name and op is self.body[-1]:
            op.target = version                       # name the last operation after the user's variable
            self.names.release_temp(value.name)
        else:
            self.use(value)
            self.body.append(Op(target=version, prim=copy_value, args=(value,), line=self.line))
        self.env[name] = Var(version)

    def read(self, name, node):
        if name in self.env:
            return self.env[name]
        if name in self.assigned or name in self.params:
            raise self.error(f"local variable {name!r} is used before it is assigned", node,
                             construct="unbound name",
                             hint="assign the variable before the line that reads it")
        value = self.source.lookup(name)
        if value is _MISSING:
            raise self.error(f"name {name!r} is not defined", node, construct="unknown name",
                             hint="define it before the function is first called")
        return self.constant(value, ast.Name(id=name, ctx=ast.Load()), node)

    def constant(self, value, spelling, node):
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)) \
                or callable(value) and not hasattr(value, "shape"):
            return _Callee(value, spelling)
        return Const(value=value, expr=spelling, key=ast.unparse(spelling))

    # -- expressions -------------------------------------------------------
    def use(self, atom):
        if isinstance(atom, Var):
            self.fresh.pop(atom.name, None)

    def op(self, prim, args, kwargs=(), func=None, method=None):
        args = [self.argument(a) for a in args]
        kwargs = [(k, self.argument(a)) for k, a in kwargs]
        target = self.names.temp()
        op = Op(target=target, prim=prim, args=tuple(args), kwargs=tuple(kwargs),
                line=self.line, func=func, method=method)
        self.body.append(op)
        self.fresh[target] = op
        if _makes_new_array(prim):
            self.owned.add(target)
        return Var(target)

    def argument(self, atom):
        """An atom as an operation's argument: tuples and lists become Packs."""
        if isinstance(atom, _Callee):
            if isinstance(atom.value, type) or atom.value is None:   # a dtype such as np.float32
                return Const(value=atom.value, expr=atom.spelling, key=ast.unparse(atom.spelling))
            raise self.error("a function cannot be used as a value here", self.current,
                             construct="function value",
                             hint="call the function; passing functions around is not supported")
        if isinstance(atom, StaticTuple):
            atom = atom.pack()
        for leaf in leaves(atom):
            self.use(leaf)
        return atom

    def expr(self, node):
        self.current = node
        found = unsupported(node)
        if found:
            raise self.refuse(node)
        if isinstance(node, ast.Constant):
            return Const(value=node.value, expr=ast.Constant(value=node.value), key=repr(node.value))
        if isinstance(node, ast.Name):
            return self.read(node.id, node)
        if isinstance(node, ast.BinOp):
            left, right = self.expr(node.left), self.expr(node.right)
            self.current = node
            return self.op(BINARY[type(node.op)], (left, right))
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand)
            self.current = node
            if isinstance(operand, Const) and isinstance(node.op, ast.USub) \
                    and isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
                return Const(value=-operand.value, expr=ast.Constant(value=-operand.value),
                             key=repr(-operand.value))
            return self.op(UNARY[type(node.op)], (operand,))
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise self.error("chained comparisons are not supported", node,
                                 construct="chained comparison",
                                 hint="compare two values at a time")
            left, right = self.expr(node.left), self.expr(node.comparators[0])
            self.current = node
            prim = COMPARE.get(type(node.ops[0]))
            if prim is None:
                raise self.error(f"the comparison `{ast.unparse(node)}` is not supported", node,
                                 construct=type(node.ops[0]).__name__,
                                 hint="use <, <=, >, >=, == or != between two numbers")
            return self.op(prim, (left, right))
        if isinstance(node, (ast.Tuple, ast.List)):
            items = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    inner = self.expr(elt.value)
                    if not isinstance(inner, StaticTuple):
                        raise self.refuse(elt)
                    items.extend(inner)
                else:
                    items.append(self.expr(elt))
            items = StaticTuple(items)
            items.is_list = isinstance(node, ast.List)
            return items
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.error(f"`{ast.unparse(node)}` is not supported", node,
                         construct=type(node).__name__,
                         hint="compute this value outside the function and pass it in")

    def subscript(self, node):
        value = self.expr(node.value)
        index = self.expr(node.slice) if not isinstance(node.slice, ast.Slice) else None
        if isinstance(value, StaticTuple) and isinstance(index, Const) and isinstance(index.value, int):
            try:
                return value[index.value]
            except IndexError:
                raise self.error("tuple index out of range", node, construct="indexing",
                                 hint="index within the tuple's length") from None
        if isinstance(value, (Var, Const)):
            return self.op(operator.getitem, (value, self.index(node.slice)))
        raise self.error("indexing is only supported on arrays and tuples", node,
                         construct="indexing", hint="index an array or a tuple built in the function")

    def index(self, node):
        """An index expression (`1:3, i, None, ...`) as an atom."""
        if isinstance(node, ast.Slice):
            part = (lambda p: None if p is None else self.scalar_index(p))
            return Slice(part(node.lower), part(node.upper), part(node.step))
        if isinstance(node, ast.Tuple):
            return Pack(items=tuple(self.index(e) for e in node.elts))
        value = self.expr(node)
        return value.pack() if isinstance(value, StaticTuple) else value

    def scalar_index(self, node):
        value = self.expr(node)
        if isinstance(value, StaticTuple):
            raise self.error("a slice bound must be a number", node, construct="slice",
                             hint="use integers for slice bounds")
        return value

    def attribute(self, node):
        base = self.expr(node.value)
        if isinstance(base, _Callee) or isinstance(base, Const):
            owner = base.value
            if isinstance(owner, types.ModuleType) or isinstance(base, _Callee) \
                    and isinstance(owner, type):
                try:
                    value = getattr(owner, node.attr)
                except AttributeError:
                    raise self.error(f"{ast.unparse(node.value)!s} has no attribute {node.attr!r}",
                                     node, construct="unknown attribute",
                                     hint="check the spelling of the attribute") from None
                return self.constant(value, copy.deepcopy(node), node)
        if isinstance(base, (Var, Const)) and node.attr in ATTRIBUTES:
            return self.op(ATTRIBUTES[node.attr], (base,), method=node.attr)
        raise self.error(f"attribute `.{node.attr}` of a value is not supported", node,
                         construct="attribute access",
                         hint=f"supported attributes are {', '.join(sorted(ATTRIBUTES))}")

    def callee(self, func):
        target = self.expr(func)
        if not isinstance(target, _Callee):
            if isinstance(func, ast.Attribute):
                raise self.error(f"method call `{ast.unparse(func)}(...)` is not supported",
                                 func, construct="method call",
                                 hint="call the module function instead, e.g. np.sum(x) for x.sum()")
            raise self.error(f"`{ast.unparse(func)}` is not callable", func, construct="call",
                             hint="call a function from a module, a builtin, or one with a rule")
        return target

    def call_arguments(self, node):
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                inner = self.expr(arg.value)
                if not isinstance(inner, StaticTuple):
                    raise self.error("*args is only supported for a tuple built in the function",
                                     arg, construct="starred argument",
                                     hint="pass the arguments one by one")
                args.extend(inner)
            else:
                args.append(self.expr(arg))
        kwargs = []
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error("**kwargs in a call is not supported", kw.value,
                                 construct="** argument", hint="pass keyword arguments by name")
            kwargs.append((kw.arg, self.expr(kw.value)))
        return args, kwargs

    def method_call(self, node, base):
        name = node.func.attr
        if name not in METHODS:
            raise self.error(f"method call `.{name}(...)` is not supported", node.func,
                             construct="method call",
                             hint="supported array methods are " + ", ".join(sorted(METHODS)))
        args, kwargs = self.call_arguments(node)
        self.current = node
        prim, normalise = METHODS[name]
        args = normalise(args)
        return self.op(prim, [base] + list(args), kwargs, func=copy.deepcopy(node.func), method=name)

    def call(self, node):
        if isinstance(node.func, ast.Attribute):
            base = self.expr(node.func.value)
            if isinstance(base, (Var, Const)) and not isinstance(getattr(base, "value", None),
                                                                types.ModuleType):
                return self.method_call(node, base)
        callee = self.callee(node.func)
        args, kwargs = self.call_arguments(node)
        self.current = node
        fn = callee.value
        if fn in (builtins.min, builtins.max, builtins.sum) and len(args) == 1 \
                and isinstance(args[0], StaticTuple) and not kwargs:
            args = list(args[0])                      # max([a, b]) is max(a, b)
            if fn is builtins.sum:
                return self.sum_of(args, node)
        return self.op(fn, args, kwargs, func=copy.deepcopy(callee.spelling))

    def sum_of(self, items, node):
        if not items:
            return Const(value=0, expr=ast.Constant(value=0), key="0")
        total = items[0]
        for item in items[1:]:
            total = self.op(BINARY[ast.Add], (total, item))
        return total


class _Callee:
    """A module, function or class named in the body: usable in calls and attribute chains."""

    def __init__(self, value, spelling):
        self.value = value
        self.spelling = spelling


def _is_docstring(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def stage(source):
    """The StagedFunction of a parsed user function."""
    return Stager(source).run()


def staged_source(staged):
    """The staged form as Python source, one operation per line."""
    return ast.unparse(ast.fix_missing_locations(staged.to_ast())) + "\n"
