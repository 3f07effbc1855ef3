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
import numbers
import operator
import types

import numpy as np

from .frontend import _MISSING
from .ir import (BINARY, COMPARE, UNARY, Const, Effect, If, Loop, Op, Pack, Return, Slice,
                 StagedFunction, Var, copy_value, leaves)
from .methods import ATTRIBUTES, METHODS, makes_new_array as _makes_new_array
from . import runtime
from .runtime import appended, assign_index
from .names import Names
from .jumps import Jumps
from .tree import LEAF, leaf_name, leaf_paths
from .subset import unsupported


class StaticTuple(tuple):
    """A tuple or list display whose elements are atoms, unpacked at compile time."""
    is_list = False

    def pack(self):
        return Pack(items=tuple(a.pack() if isinstance(a, StaticTuple) else a for a in self),
                    is_list=self.is_list)


class Stager:
    def __init__(self, source, tuple_return=False, structures=None):
        self.source = source
        self.tuple_return = tuple_return
        self.structures = structures or {}
        node = source.node
        self.user_names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        self.params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        self.user_names.update(self.params)
        self.names = Names(self.user_names)
        self.body_ast = node.body if isinstance(node.body, list) else None
        if self.body_ast is not None:
            start = 1 if self.body_ast and _is_docstring(self.body_ast[0]) else 0
            self.body_ast = Jumps(self.names.version).function(copy.deepcopy(self.body_ast[start:]))
        self.assigned = {n.id for stmt in self.body_ast or () for n in ast.walk(stmt)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.unbound = {}           # names assigned on some paths only -> where
        self.env = {p: Var(p) for p in self.params}
        for param, structure in self.structures.items():   # a tree argument: one name a leaf
            self.env[param] = self.tree_of(param, structure, ())
        self.params = [name for p in self.params for name in (
            [leaf_name(p, path) for path in leaf_paths(self.structures[p])]
            if p in self.structures else [p])]
        self.names.taken.update(self.params)
        self.body = []
        self.fresh = {}            # temp name -> its Op, while nobody has read it yet
        self.owned = set()         # arrays the function made itself, so it may write into them
        self.inlining = []         # local functions being inlined, innermost last
        self.defined = set(self.params)   # names an operation has been given (one value each)
        self.returned = False

    def error(self, message, node, construct=None, hint=None):
        return self.source.error(message, node, construct=construct, hint=hint)

    def refuse(self, node):
        construct, hint = unsupported(node) or (type(node).__name__, None)
        return self.error(f"{construct} is not supported", node, construct=construct, hint=hint)

    def tree_of(self, param, structure, path):
        if structure == LEAF:
            return Var(leaf_name(param, path))
        if structure[0] == "dict":
            return StaticDict((key, self.tree_of(param, child, path + (key,)))
                              for key, child in zip(structure[1], structure[2]))
        items = StaticTuple(self.tree_of(param, child, path + (k,))
                            for k, child in enumerate(structure[1]))
        items.is_list = structure[0] == "list"
        return items

    # -- statements --------------------------------------------------------
    def run(self):
        node = self.source.node
        if isinstance(node, ast.Lambda):
            self.line = node.lineno
            self.emit_return(self.expr(node.body), node)
        else:
            for stmt in self.body_ast:
                if self.returned:
                    break
                self.line = stmt.lineno
                self.statement(stmt)
            if not self.returned:
                raise self.error("the function does not return a value", node.body[-1],
                                 construct="missing return",
                                 hint="end the function with `return <scalar>`")
        self.check_writes()
        name = self.source.name
        return StagedFunction(name=name, params=self.params, body=self.body,
                              source=self.source, user_names=set(self.names.taken),
                              temporaries=set(self.names.temporaries))

    def check_writes(self):
        """Refuse a write into an array or list that another name still sees.

        Python would change the other name's value too (a copy ``y = out`` or a
        view ``row = out[0]``); the staged form gives each version its own value.
        """
        from .analyze import walk_ops
        ops = list(walk_ops(self.body))
        for i, op in enumerate(ops):
            if op.prim not in (assign_index, appended):
                continue
            seen = {op.args[0].name}
            for earlier in ops[:i]:
                if (earlier.prim in _VIEWS or earlier.prim is copy_value and not earlier.joins) \
                        and any(isinstance(a, Var) and a.name in seen for a in earlier.args[:1]):
                    seen.add(earlier.target)
            aliases = seen - {op.args[0].name}
            late = [a.name for later in ops[i + 1:] for a in later.atoms()
                    if isinstance(a, Var) and a.name in aliases]
            ret = self.body[-1] if self.body and isinstance(self.body[-1], Return) else None
            if ret is not None and isinstance(ret.value, Var) and ret.value.name in aliases:
                late.append(ret.value.name)
            if late:
                node = ast.Expr(value=ast.Constant(None))
                node.lineno = op.line
                raise self.error(
                    f"this write would also change {late[0]!r}, which refers to the same data",
                    node, construct="write into shared data",
                    hint=f"take a copy where the other name is made, e.g. `{late[0]} = ... .copy()`")

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
        elif isinstance(stmt, ast.FunctionDef):
            self.define(stmt.name, stmt)
        elif isinstance(stmt, ast.If):
            self.if_statement(stmt)
        elif isinstance(stmt, ast.For):
            self.for_loop(stmt)
        elif isinstance(stmt, ast.While):
            self.while_loop(stmt)
        else:
            raise self.refuse(stmt)

    # -- control flow ------------------------------------------------------
    def block(self, stmts):
        """Stage statements into a list of their own (a branch or a loop body)."""
        outer, self.body = self.body, []
        for stmt in stmts:
            if self.returned:
                raise self.error("code after `return` in a block is not supported", stmt,
                                 construct="unreachable code", hint="remove it")
            self.line = stmt.lineno
            self.statement(stmt)
        staged, self.body = self.body, outer
        return staged

    def if_statement(self, stmt):
        test = self.expr(stmt.test)
        self.line = stmt.lineno
        if isinstance(test, Const):                   # decided when compiled: stage one branch
            for inner in stmt.body if test.value else stmt.orelse:
                self.line = inner.lineno
                self.statement(inner)
            return
        if isinstance(test, StaticTuple):
            raise self.error("a tuple as a condition is always true", stmt.test,
                             construct="tuple condition", hint="test a number or a comparison")
        self.use(test)
        before, defined = dict(self.env), set(self.defined)
        body = self.block(stmt.body)
        after_body, self.env = self.env, dict(before)
        in_body, self.defined = self.defined, set(defined)   # the else branch may reuse names
        orelse = self.block(stmt.orelse)
        after_orelse = self.env
        self.defined |= in_body
        self.env = self.merge(before, [(body, after_body), (orelse, after_orelse)], stmt)
        self.body.append(If(test=test, body=body, orelse=orelse, line=stmt.lineno))

    def merge(self, before, branches, node):
        """The environment after branches: a name that differs gets a new version,
        assigned by a copy at the end of each branch."""
        names = []
        for _, env in branches:
            names += [n for n in env if n not in names]
        merged = {}
        for name in names:
            values = [env.get(name) for _, env in branches]
            if all(v is not None and v == values[0] for v in values):
                merged[name] = values[0]
                continue
            if any(v is None for v in values) or any(
                    isinstance(v, (StaticTuple, StaticDict, _Callee, _LocalFunction)) for v in values):
                self.unbound[name] = node
                continue
            version = self.names.version(name)
            for (body, _), value in zip(branches, values):
                body.append(Op(target=version, prim=copy_value, args=(value,), line=self.line,
                               joins=True))
            if all(getattr(v, "name", None) in self.owned for v in values):
                self.owned.add(version)
            merged[name] = Var(version)
        return merged

    def carried_names(self, stmt):
        """User names the loop body assigns (or appends to) that hold a value before the loop."""
        assigned = []
        for node in ast.walk(ast.Module(body=stmt.body, type_ignores=[])):
            name = None
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name):        # out[i] = v changes out
                name = node.value.id
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "append" and isinstance(node.func.value, ast.Name):
                name = node.func.value.id
            if name is not None and name not in assigned:
                assigned.append(name)
        for name in assigned:                   # a list built here becomes a run-time list
            value = self.env.get(name)
            if isinstance(value, StaticTuple) and value.is_list:
                self.env[name] = self.op(copy_value, (value,))
        return [n for n in assigned if n in self.env], assigned

    def loop(self, stmt, header=None, prologue=None, index=None):
        """Stage a loop's header (a while test) and body, with its carried variables.

        A carried variable gets a new version, assigned by a copy before the loop
        and by a copy at the end of the body. `prologue` stages what starts each
        iteration (binding the loop variable); `index` is the loop variable's name.
        """
        if stmt.orelse:
            raise self.error(f"`{type(stmt).__name__.lower()} ... else` is not supported", stmt,
                             construct="loop else", hint="set a flag in the loop and test it after")
        carried, assigned = self.carried_names(stmt)
        versions = {}
        carries = 0
        for name in carried:
            self.use(self.env[name])
            versions[name] = self.names.version(name)
            self.body.append(Op(target=versions[name], prim=copy_value, args=(self.env[name],),
                                line=stmt.lineno, joins=True))
            if getattr(self.env[name], "name", None) in self.owned:   # still the function's own
                self.owned.add(versions[name])
            self.env[name] = Var(versions[name])
        before = dict(self.env)
        header_ops, self.body, outer = [], [], self.body
        if header is not None:
            self.body = header_ops
            header()
            self.body = []
        if prologue is not None:
            prologue()
        body = self.body
        self.body = outer
        body.extend(self.block(stmt.body))
        for name in carried:
            value = self.env.get(name)
            if value is None or isinstance(value, (StaticTuple, _Callee)):
                raise self.error(f"{name!r} does not hold a number or array at the end of the "
                                 "loop body", stmt, construct="loop variable",
                                 hint="assign it a value on every path through the loop body")
            if value != Var(versions[name]):
                self.use(value)
                body.append(Op(target=versions[name], prim=copy_value, args=(value,),
                               line=stmt.lineno, joins=True))
                carries += 1
        exit_flag = getattr(stmt, "exit_flag", None)
        exit_name = None
        if exit_flag is not None:                 # the flag's version at the end of the body
            exit_name = versions.get(exit_flag) or getattr(self.env.get(exit_flag), "name", None)
        self.env = before
        for name in assigned + ([index] if index else []):
            if name not in versions:
                self.env.pop(name, None)
                self.unbound[name] = stmt
        return header_ops, body, carries, exit_name

    def for_loop(self, stmt):
        spec = self.iteration(stmt)
        if isinstance(spec, StaticTuple):           # over a tuple built here: unrolled
            return self.unrolled(stmt, spec)
        range_args, descending, index_name, bind_elements = spec
        index = self.names.version(index_name) if index_name in self.env \
            or index_name in self.params else self.names.claim(index_name)

        def prologue():
            self.line = stmt.lineno
            self.env[index_name] = Var(index)
            if bind_elements is not None:
                bind_elements(Var(index))
        _, body, carries, exit_name = self.loop(stmt, prologue=prologue, index=index_name)
        self.body.append(Loop(body=body, line=stmt.lineno, target=index, range_args=range_args,
                              descending=descending, exit=exit_name, carries=carries))

    def iteration(self, stmt):
        """What a for loop runs over: a StaticTuple to unroll, or
        (range atoms, descending, name of the index, how to bind the elements)."""
        node, target = stmt.iter, stmt.target
        self.current = node
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords \
            and node.func.id not in self.env
        fn = self.source.lookup(node.func.id) if call else None
        if fn is range and isinstance(target, ast.Name):
            return tuple(self.scalar_index(a) for a in node.args), False, target.id, None
        if fn is reversed and len(node.args) == 1:
            inner = node.args[0]
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) \
                    and self.source.lookup(inner.func.id) is range and isinstance(target, ast.Name):
                return tuple(self.scalar_index(a) for a in inner.args), True, target.id, None
            return self.over([self.expr(inner)], target, descending=True)
        if fn is enumerate and len(node.args) == 1:
            if not (isinstance(target, ast.Tuple) and len(target.elts) == 2
                    and isinstance(target.elts[0], ast.Name)):
                raise self.error("unpack enumerate into two names: `for i, x in enumerate(xs)`",
                                 target, construct="enumerate", hint="name the index and the item")
            sequence = self.expr(node.args[0])
            if isinstance(sequence, StaticTuple):
                return StaticTuple(StaticTuple([_number(k), item]) for k, item in enumerate(sequence))
            return self.over([sequence], target.elts[1], index_name=target.elts[0].id)
        if fn is zip and node.args:
            for arg in node.args:
                if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) \
                        and self.source.lookup(arg.func.id) in (reversed, enumerate, zip):
                    raise self.error(f"{arg.func.id}() inside zip() is not supported", arg,
                                     construct=f"zip over {arg.func.id}()",
                                     hint="loop over range(len(...)) and index each sequence")
            sequences = [self.expr(a) for a in node.args]
            if all(isinstance(s, StaticTuple) for s in sequences):
                return StaticTuple(StaticTuple(items) for items in zip(*sequences))
            return self.over(sequences, target)
        return self.over([self.expr(node)], target)

    def over(self, sequences, target, descending=False, index_name=None):
        """A loop over the items of arrays or lists: ``for i in range(len(xs)): x = xs[i]``."""
        if len(sequences) == 1 and isinstance(sequences[0], StaticDict):
            sequences = [StaticTuple(Const(value=k, expr=ast.Constant(k), key=repr(k))
                                     for k in sequences[0])]
        if len(sequences) == 1 and isinstance(sequences[0], StaticTuple):
            return StaticTuple(reversed(sequences[0])) if descending else sequences[0]
        if not all(isinstance(s, Var) or isinstance(s, Const) and hasattr(s.value, "__len__")
                   for s in sequences):
            raise self.error("a for loop runs over range(...), an array, a list or a tuple",
                             self.current, construct="for loop over this value",
                             hint="loop over range(len(...)) and index")
        n = self.op(builtins.len, (sequences[0],), func=ast.Name(id="len", ctx=ast.Load()))
        for other in sequences[1:]:
            length = self.op(builtins.len, (other,), func=ast.Name(id="len", ctx=ast.Load()))
            n = self.op(builtins.min, (n, length), func=ast.Name(id="min", ctx=ast.Load()))

        def bind_elements(index):
            items = [self.op(operator.getitem, (s, index)) for s in sequences]
            self.bind(target, items[0] if len(items) == 1 else StaticTuple(items))
        return (n,), descending, index_name or "i", bind_elements

    def unrolled(self, stmt, items):
        exit_flag = getattr(stmt, "exit_flag", None)
        for k, item in enumerate(items):
            self.bind(stmt.target, item)
            inner = stmt.body
            if k and exit_flag is not None:
                guard = ast.If(test=ast.UnaryOp(op=ast.Not(),
                                                operand=ast.Name(id=exit_flag, ctx=ast.Load())),
                               body=stmt.body, orelse=[])
                inner = [ast.fix_missing_locations(ast.copy_location(guard, stmt))]
            for s in inner:
                self.line = s.lineno
                self.statement(s)

    def while_loop(self, stmt):
        tested = []

        def header():
            self.line = stmt.lineno
            test = self.expr(stmt.test)
            if isinstance(test, StaticTuple):
                raise self.error("a tuple as a condition is always true", stmt.test,
                                 construct="tuple condition", hint="test a comparison")
            self.use(test)
            tested.append(test)
        header_ops, body, carries, exit_name = self.loop(stmt, header=header)
        self.body.append(Loop(body=body, line=stmt.lineno, header=header_ops, test=tested[0],
                              exit=exit_name, carries=carries))

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
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr == "append" and isinstance(value.func.value, ast.Name) \
                and value.func.value.id in self.env:
            return self.append(value)
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

    def append(self, call):
        """``xs.append(v)``: a list known here grows at compile time; otherwise a new version."""
        name = call.func.value.id
        if len(call.args) != 1 or call.keywords:
            raise self.error("append takes one value", call, construct="append",
                             hint="append one value at a time")
        xs, value = self.env[name], self.expr(call.args[0])
        if isinstance(xs, StaticTuple) and xs.is_list:
            grown = StaticTuple(list(xs) + [value])
            grown.is_list = True
            self.env[name] = grown
            return
        if not isinstance(xs, Var):
            raise self.error(f"{name} is not a list", call, construct="append",
                             hint="append to a list created in the function with `[]`")
        self.bind_name(name, self.op(appended, (xs, value)), call)

    def emit_return(self, value, node):
        if isinstance(value, StaticDict):
            raise self.error("returning a dict is not supported", node, construct="dict return",
                             hint="return a tuple of the values instead")
        if isinstance(value, StaticTuple) and self.tuple_return:
            value = self.argument(value)
            self.body.append(Return(value=value, line=self.line))
            self.returned = True
            return
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
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (Var, Const)) \
                and not any(isinstance(t, ast.Starred) for t in target.elts):
            for k, element in enumerate(target.elts):    # a, b = f(x): a = t[0], b = t[1]
                self.bind(element, self.op(operator.getitem, (value, _number(k))))
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
        if isinstance(value, (StaticTuple, StaticDict, _Callee, _LocalFunction)) or \
                isinstance(value, Const) and isinstance(value.value, str):   # a key, a label
            self.env[name] = value                    # known at compile time: no statement
            return
        version = self.names.version(name) if name in self.env or name in self.params \
            or name in self.defined else self.names.claim(name)
        self.defined.add(version)
        op = self.fresh.pop(getattr(value, "name", None), None)
        if op is not None and op.target == value.name and op is self.body[-1]:
            op.target = version                       # name the last operation after the user's variable
            self.names.release_temp(value.name)
            if value.name in self.owned:
                self.owned.discard(value.name)
                self.owned.add(version)
        else:
            self.use(value)
            self.body.append(Op(target=version, prim=copy_value, args=(value,), line=self.line))
        self.env[name] = Var(version)

    def read(self, name, node):
        if name in self.env:
            return self.env[name]
        if name in self.unbound:
            raise self.error(f"{name!r} may have no value here: it is assigned on some paths only "
                             "(in one branch, or inside a loop that may not run)", node,
                             construct="possibly unbound name",
                             hint=f"assign {name} before the if or the loop, so it has a value "
                                  "on every path")
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
        if isinstance(value, _LocalFunction):
            return _Callee(value, spelling)
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
        if isinstance(atom, StaticDict):
            raise self.error("a dict cannot be passed to a function here", self.current,
                             construct="dict argument",
                             hint="pass its values, e.g. f(params['W'], params['b'])")
        if isinstance(atom, _LocalFunction):
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
        if isinstance(node, ast.Lambda):
            return _LocalFunction(node, self.defaults(node))
        if isinstance(node, ast.IfExp):
            return self.conditional(node)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node)
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
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise self.error("`**` in a dict display is not supported", node,
                                 construct="dict unpacking", hint="write the entries out")
            keys = [self.expr(k) for k in node.keys]
            if not all(isinstance(k, Const) for k in keys):
                raise self.error("dict keys must be constants", node, construct="dict display",
                                 hint="use string or number literals as keys")
            return StaticDict((k.value, self.expr(v)) for k, v in zip(keys, node.values))
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.error(f"`{ast.unparse(node)}` is not supported", node,
                         construct=type(node).__name__,
                         hint="compute this value outside the function and pass it in")

    def defaults(self, node):
        args = node.args
        if args.vararg or args.kwarg or args.posonlyargs:
            raise self.error("a local function takes plain parameters here", node,
                             construct="local function parameters",
                             hint="name each parameter; no *args, **kwargs or /")
        return [self.expr(d) for d in args.defaults], \
            [None if d is None else self.expr(d) for d in args.kw_defaults]

    def define(self, name, node):
        """A function defined in the body: inlined where it is called."""
        if node.decorator_list:
            raise self.error("decorated local functions are not supported", node,
                             construct="decorator", hint="define the function without decorators")
        self.env[name] = _LocalFunction(node, self.defaults(node))

    def inline(self, local, args, kwargs, node):
        """A call of a local function: its body staged here, its parameters bound to the
        arguments, the enclosing variables read as they are now (a closure)."""
        fn = local.node
        if local in self.inlining:
            raise self.error("a local function that calls itself is not supported", node,
                             construct="recursive local function",
                             hint="define the recursive function at module level")
        params = [a.arg for a in fn.args.args]
        kwonly = [a.arg for a in fn.args.kwonlyargs]
        positional_defaults, keyword_defaults = local.defaults
        bound = dict(zip(params, args))
        if len(args) > len(params):
            raise self.error("too many arguments", node, construct="call", hint="check the call")
        for k, v in kwargs:
            if k not in params + kwonly or k in bound:
                raise self.error(f"unexpected argument {k!r}", node, construct="call",
                                 hint="check the call")
            bound[k] = v
        for p, d in zip(params[len(params) - len(positional_defaults):], positional_defaults):
            bound.setdefault(p, d)
        for p, d in zip(kwonly, keyword_defaults):
            if d is not None:
                bound.setdefault(p, d)
        missing = [p for p in params + kwonly if p not in bound]
        if missing:
            raise self.error(f"missing argument {missing[0]!r}", node, construct="call",
                             hint="check the call")
        outer_env, outer_line = dict(self.env), self.line
        self.env.update(bound)
        self.inlining.append(local)
        try:
            if isinstance(fn, ast.Lambda):
                result = self.expr(fn.body)
            else:
                body = Jumps(self.names.version).function(copy.deepcopy(fn.body))
                if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
                    raise self.error("a local function must end by returning a value", fn,
                                     construct="local function", hint="add a return statement")
                for stmt in body[:-1]:
                    self.line = stmt.lineno
                    self.statement(stmt)
                self.line = body[-1].lineno
                result = self.expr(body[-1].value)
        finally:
            self.inlining.pop()
            self.env, self.line = outer_env, outer_line
        return result

    def conditional(self, node):
        """``a if c else b``: a branch in the staged form, merged into one name."""
        test = self.expr(node.test)
        if isinstance(test, Const):
            return self.expr(node.body if test.value else node.orelse)
        self.use(test)
        result = self.names.temp()
        branches = []
        for side in (node.body, node.orelse):
            outer, self.body = self.body, []
            value = self.expr(side)
            if isinstance(value, StaticTuple):
                raise self.error("a conditional expression must give a number or an array", side,
                                 construct="conditional tuple", hint="use an if statement")
            self.use(value)
            self.body.append(Op(target=result, prim=copy_value, args=(value,), line=self.line))
            branches.append(self.body)
            self.body = outer
        self.body.append(If(test=test, body=branches[0], orelse=branches[1], line=self.line))
        return Var(result)

    def boolean(self, node):
        """``a and b`` / ``a or b``, short-circuiting as Python does: branches in the staged form."""
        result = self.expr(node.values[0])
        for operand in node.values[1:]:
            if isinstance(result, StaticTuple):
                raise self.error("`and`/`or` on a tuple is not supported", node,
                                 construct="boolean operator", hint="compare numbers")
            self.use(result)
            merged = self.names.temp()
            outer, self.body = self.body, []
            value = self.expr(operand)
            self.use(value)
            self.body.append(Op(target=merged, prim=copy_value, args=(value,), line=self.line))
            evaluated, self.body = self.body, outer
            kept = [Op(target=merged, prim=copy_value, args=(result,), line=self.line)]
            if isinstance(node.op, ast.And):
                self.body.append(If(test=result, body=evaluated, orelse=kept, line=self.line))
            else:
                self.body.append(If(test=result, body=kept, orelse=evaluated, line=self.line))
            result = Var(merged)
        return result

    def subscript(self, node):
        value = self.expr(node.value)
        index = self.index(node.slice)
        if isinstance(value, StaticDict):
            if not isinstance(index, Const) or index.value not in value:
                raise self.error(f"key {ast.unparse(node.slice)} is not in the dict", node,
                                 construct="dict lookup",
                                 hint="look dicts up with constant keys they have")
            return value[index.value]
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
        if isinstance(base, Const) and not isinstance(base.value, (np.ndarray, numbers.Number)):
            try:                                  # an attribute of an object fixed here
                value = getattr(base.value, node.attr)
            except AttributeError:
                raise self.error(f"{ast.unparse(node.value)} has no attribute {node.attr!r}",
                                 node, construct="unknown attribute",
                                 hint="check the spelling of the attribute") from None
            return self.constant(value, copy.deepcopy(node), node)
        if isinstance(base, Var):                 # an attribute of an object passed in
            return self.op(runtime.attribute, (base,), method=node.attr)
        raise self.error(f"attribute `.{node.attr}` of a value is not supported", node,
                         construct="attribute access",
                         hint=f"supported attributes are {', '.join(sorted(ATTRIBUTES))}")

    def callee(self, func):
        target = self.expr(func)
        if isinstance(target, _LocalFunction):
            return _Callee(target, func)
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
        if name not in METHODS and isinstance(base, Var):   # a method of an object passed in
            args, kwargs = self.call_arguments(node)
            self.current = node
            return self.op(runtime.call_method, [base] + list(args), kwargs,
                           func=copy.deepcopy(node.func), method=name)
        if name not in METHODS:
            raise self.error(f"method call `.{name}(...)` is not supported", node.func,
                             construct="method call",
                             hint="supported array methods are " + ", ".join(sorted(METHODS)))
        args, kwargs = self.call_arguments(node)
        self.current = node
        prim, normalise = METHODS[name]
        args = normalise(args)
        return self.op(prim, [base] + list(args), kwargs, func=copy.deepcopy(node.func), method=name)

    def static_method(self, node, base):
        """``d.items()``, ``d.keys()``, ``d.values()``, ``d.get(k)`` of a dict known here."""
        name = node.func.attr
        if name == "keys":
            return StaticTuple(_number(k) if isinstance(k, (int, float)) else
                               Const(value=k, expr=ast.Constant(k), key=repr(k)) for k in base)
        if name == "values":
            return StaticTuple(base.values())
        if name == "items":
            keys = self.static_method(ast.Call(func=ast.Attribute(attr="keys"), args=[],
                                               keywords=[]), base)
            return StaticTuple(StaticTuple([k, v]) for k, v in zip(keys, base.values()))
        if name == "get" and node.args:
            key = self.expr(node.args[0])
            if isinstance(key, Const) and key.value in base:
                return base[key.value]
            return self.expr(node.args[1]) if len(node.args) > 1 else Const(
                value=None, expr=ast.Constant(None), key="None")
        raise self.error(f"dict method .{name}() is not supported", node, construct="dict method",
                         hint="use d[key], d.keys(), d.values(), d.items() or d.get(key)")

    def call(self, node):
        if isinstance(node.func, ast.Attribute):
            base = self.expr(node.func.value)
            if isinstance(base, StaticDict):
                return self.static_method(node, base)
            if isinstance(base, Var) or isinstance(base, Const) and isinstance(
                    base.value, (np.ndarray, numbers.Number)):
                return self.method_call(node, base)
        callee = self.callee(node.func)
        args, kwargs = self.call_arguments(node)
        self.current = node
        fn = callee.value
        if isinstance(fn, _LocalFunction):
            return self.inline(fn, args, kwargs, node)
        if fn is builtins.len and len(args) == 1 and isinstance(args[0], (StaticTuple, StaticDict)):
            return _number(len(args[0]))
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


class StaticDict(dict):
    """A dict whose keys are known here and whose values are atoms."""


class _LocalFunction:
    """A function defined in the differentiated function's body (or a lambda there)."""

    def __init__(self, node, defaults):
        self.node = node
        self.defaults = defaults


def _number(k):
    return Const(value=k, expr=ast.Constant(k), key=repr(k))


_VIEWS = {operator.getitem, np.reshape, np.transpose, np.ravel, np.squeeze, np.swapaxes,
          np.expand_dims, np.moveaxis, np.diagonal, np.broadcast_to, np.atleast_1d, np.atleast_2d}


class _Callee:
    """A module, function or class named in the body: usable in calls and attribute chains."""

    def __init__(self, value, spelling):
        self.value = value
        self.spelling = spelling


def _is_docstring(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def stage(source, tuple_return=False, structures=None):
    """The StagedFunction of a parsed user function (`tuple_return`: it may return a tuple;
    `structures`: parameters that are trees, by name, each taken as its leaves)."""
    return Stager(source, tuple_return, structures).run()


def staged_source(staged):
    """The staged form as Python source, one operation per line."""
    return ast.unparse(ast.fix_missing_locations(staged.to_ast())) + "\n"
