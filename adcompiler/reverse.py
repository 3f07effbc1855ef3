"""Reverse mode: the forward sweep, then each active operation's adjoint rule in reverse order.

Rules are inlined with the user's names substituted: ``sigx = math.tanh(u)``
and the tanh rule give ``du += (1 - sigx * sigx) * dsigx``. Every backward
statement remembers the user line it comes from.
"""

import ast
import builtins
import copy
import inspect
import operator
from dataclasses import dataclass, field

import numpy as np

from . import runtime
from .analyze import (BASIC_INDEX, SCALAR, active_names, fixed_number, is_elementwise, kept,
                      kept_axis, walk_ops)
from .runtime import SHAPE_ONLY
from .calls import kind_of
from .frontend import _MISSING
from .ir import Const, If, Loop, Op, Pack, Slice, Var, _subscript, copy_value, leaves
from .lines import Line, kill
from .names import Namespace


@dataclass
class Adjoint:
    """The generated gradient function before optimisation."""
    name: str
    params: list
    lines: list                        # forward sweep, backward sweep, return
    keep: set = field(default_factory=set)   # names the return statement must keep
    adjoint_of: dict = field(default_factory=dict)   # adjoint name -> primal name
    namespace: Namespace = None
    output: object = None             # the output atom
    gradient_names: list = field(default_factory=list)   # per wrt parameter; None for a zero
    seed: str = None                  # a backward function's argument: the output's adjoint
    seeded: set = field(default_factory=set)   # adjoints that hold a value from the start
    live_out: set = field(default_factory=set)  # names read after the end (a pair's output)
    owned_gradients: tuple = ()       # per wrt parameter: an array the code allocated itself
    shapes: object = None             # what analyze.shapes knows of the primal names
    active: set = field(default_factory=set)   # primal names with an adjoint (float values)


class Reverser:
    def __init__(self, staged, wrt, registry, names, shapes, with_value=False, as_tuple=False,
                 pullback=False, calls=None):
        self.as_tuple = as_tuple
        self.pullback = pullback
        self.calls = calls
        self.shapes = shapes
        self.staged = staged
        self.source = staged.source
        self.wrt = list(wrt)
        self.registry = registry
        self.names = names
        self.with_value = with_value
        self.active = active_names(staged, wrt, registry)
        local_names = set(staged.params) | {op.target for op in walk_ops(staged.body)}
        self.namespace = Namespace(self.source, names, local_names)
        self.adjoints = {}             # primal name -> adjoint name
        self.counters = {}             # id(loop) -> the name counting its iterations
        self.saved_names = {}          # target of a call to a user function -> its residuals

    def adjoint(self, name):
        if name not in self.adjoints:
            self.adjoints[name] = self.names.adjoint(name)
        return self.adjoints[name]

    def run(self, function_name):
        body = self.staged.body
        ret = body[-1]
        output = ret.value
        lines = self.forward(body[:-1])
        seed, seeded = None, set()
        if self.pullback:                    # the output's adjoint comes in as an argument
            seed, seeded, seeding = self.seed_from_argument(output, ret.line)
            lines.extend(seeding)
            lines.extend(self.backward_block(body[:-1]))
        elif isinstance(output, Var) and output.name in self.active:
            lines.append(Line(_assign(self.adjoint(output.name), ast.Constant(1.0)),
                              origin=ret.line, backward=True))
            lines.extend(self.backward_block(body[:-1]))
        grads = [ast.Name(id=self.adjoints[p], ctx=ast.Load()) if p in self.adjoints
                 else ast.Constant(0.0) for p in self.wrt]
        result = ast.Tuple(elts=grads, ctx=ast.Load()) if self.as_tuple or self.pullback \
            else grads[0]
        if self.with_value:
            result = ast.Tuple(elts=[output.to_ast(), result], ctx=ast.Load())
        lines.append(Line(ast.Return(value=result)))
        return Adjoint(name=function_name, params=list(self.staged.params), lines=lines,
                       keep={self.adjoints[p] for p in self.wrt if p in self.adjoints},
                       adjoint_of={v: k for k, v in self.adjoints.items()},
                       namespace=self.namespace, output=output,
                       gradient_names=[self.adjoints.get(p) for p in self.wrt],
                       seed=seed, seeded=seeded,
                       live_out={leaf.name for leaf in leaves(output) if isinstance(leaf, Var)}
                       if self.pullback else set(), shapes=self.shapes, active=set(self.active))

    def seed_from_argument(self, output, line):
        """The backward function's argument: the output's adjoint, or a sequence of them."""
        if isinstance(output, Var) and output.name in self.active:
            name = self.adjoint(output.name)
            return name, {name}, []
        seed = self.names.version("dout")
        seeding = [Line(node, origin=line, backward=True)
                   for node in self.distribute(output, ast.Name(id=seed, ctx=ast.Load()))]
        return seed, set(), seeding

    # -- calls to the user's functions: a forward/backward pair -------------------
    def calls_user_function(self, op):
        return self.calls is not None and self.calls.handles(op.prim)

    def pair_of(self, op):
        """The pair for this call, and the atoms of its active parameters in order."""
        bound = self.calls.bind(op)
        params = list(inspect.signature(op.prim).parameters)
        active = [p for p in params if p in bound and any(
            isinstance(leaf, Var) and leaf.name in self.active for leaf in leaves(bound[p]))]
        kinds = {p: kind_of(self.shape_of(bound[p])) if p in bound else "other" for p in params}
        pair = self.calls.request(op.prim, active, kinds)
        return pair, [bound[p] for p in active]

    def forward_call(self, op):
        pair, _ = self.pair_of(op)
        saved = self.saved_names.setdefault(op.target, self.names.version(op.target + "_saved"))
        call = ast.Call(func=ast.Name(id=self.namespace.reserve(pair.forward, pair.forward.name),
                                      ctx=ast.Load()),
                        args=[a.to_ast() for a in op.args],
                        keywords=[ast.keyword(arg=k, value=a.to_ast()) for k, a in op.kwargs])
        pair_target = ast.Tuple(elts=[ast.Name(id=op.target, ctx=ast.Store()),
                                      ast.Name(id=saved, ctx=ast.Store())], ctx=ast.Store())
        return Line(ast.Assign(targets=[pair_target], value=call), origin=op.line)

    def backward_call(self, op):
        pair, atoms = self.pair_of(op)
        if not atoms:
            return []
        grads = self.names.version(pair.forward.name[:-len("_forward")] + "_grads")
        backward = self.namespace.reserve(pair.backward, pair.backward.name)
        lines = [Line(_assign(grads, ast.Call(
            func=ast.Name(id=backward, ctx=ast.Load()),
            args=[ast.Name(id=self.saved_names[op.target], ctx=ast.Load()),
                  ast.Name(id=self.adjoint(op.target), ctx=ast.Load())], keywords=[])),
            origin=op.line, backward=True)]
        for k, atom in enumerate(atoms):
            part = ast.Subscript(value=ast.Name(id=grads, ctx=ast.Load()), slice=ast.Constant(k),
                                 ctx=ast.Load())
            lines.extend(Line(node, origin=op.line, backward=True)
                         for node in self.distribute(atom, part))
        return lines

    def distribute(self, atom, value):
        """``d<atom> += value``; for a tuple passed in, item k of value to its item k."""
        if isinstance(atom, Pack):
            return [node for k, item in enumerate(atom.items) for node in self.distribute(
                item, ast.Subscript(value=copy.deepcopy(value), slice=ast.Constant(k),
                                    ctx=ast.Load()))]
        if isinstance(atom, Var) and atom.name in self.active:
            return [ast.AugAssign(target=ast.Name(id=self.adjoint(atom.name), ctx=ast.Store()),
                                  op=ast.Add(), value=value)]
        return []

    # -- the forward sweep: the staged function, with loop counters --------------
    def resolved(self, op):
        """A method call on an object, as a call of its class's function with the object first."""
        if inspect.ismethod(op.prim) and isinstance(op.func, ast.Attribute) \
                and self.calls is not None and self.calls.handles(op.prim.__func__):
            owner = Const(value=op.prim.__self__, expr=op.func.value, key=ast.unparse(op.func.value))
            return Op(target=op.target, prim=op.prim.__func__, args=(owner,) + tuple(op.args),
                      kwargs=op.kwargs, line=op.line, func=op.func, method=op.func.attr)
        if op.prim is not runtime.call_method:
            return op
        token = self.shapes.of(op.args[0]).token
        cls = token[1] if isinstance(token, tuple) and token[0] == "object" else None
        function = inspect.getattr_static(cls, op.method, None) if cls is not None else None
        if not inspect.isfunction(function):
            return op
        return Op(target=op.target, prim=function, args=op.args, kwargs=op.kwargs, line=op.line,
                  func=op.func, method=op.method)

    def forward(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, Op):
                stmt = self.resolved(stmt)
            if isinstance(stmt, If):
                out.append(Line(ast.If(test=stmt.test.to_ast(), body=[], orelse=[]),
                                origin=stmt.line, body=self.forward(stmt.body),
                                orelse=self.forward(stmt.orelse), tag=id(stmt)))
            elif isinstance(stmt, Loop):
                out.extend(self.forward_loop(stmt))
            else:
                if isinstance(stmt, Op) and stmt.func is None and not stmt.method \
                        and inspect.isfunction(stmt.prim) and stmt.prim is not copy_value:
                    helper = self.namespace.name_for(stmt.prim, stmt.prim.__name__)
                    stmt.func = ast.Name(id=helper, ctx=ast.Load())   # a runtime helper
                if isinstance(stmt, Op) and stmt.target in self.active \
                        and isinstance(stmt.func, ast.Name) and stmt.method is None:
                    stmt.func = ast.Name(id=self.namespace.snapshot(stmt.prim, stmt.func.id),
                                         ctx=ast.Load())   # the function whose rule applies
                if isinstance(stmt, Op) and stmt.target in self.active \
                        and self.calls_user_function(stmt):
                    out.append(self.forward_call(stmt))
                    continue
                line = Line(stmt.to_ast(), origin=stmt.line)
                if isinstance(stmt, Op) and stmt.prim in (runtime.assign_index, runtime.appended):
                    index = stmt.args[1] if stmt.prim is runtime.assign_index else None
                    line.update = (stmt.args[0], index, stmt.args[-1])
                out.append(line)
        return out

    def counter(self, loop):
        """The name counting a loop's iterations, where the backward sweep needs it."""
        if loop.is_while or loop.exit is not None:
            if id(loop) not in self.counters:
                self.counters[id(loop)] = self.names.version("count")
            return self.counters[id(loop)]
        return None

    def forward_loop(self, loop):
        count = self.counter(loop)
        body = []
        if loop.is_while and loop.test_ast() is None:
            body += self.forward(loop.header)
            leave = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=loop.test.to_ast()),
                           body=[], orelse=[])
            body.append(Line(leave, origin=loop.line, body=[Line(ast.Break())], orelse=None))
        if count:
            body.append(Line(ast.AugAssign(target=ast.Name(id=count, ctx=ast.Store()),
                                           op=ast.Add(), value=ast.Constant(1))))
        body += self.forward(loop.body)
        for line in body[len(body) - loop.carries:] if loop.carries else []:
            line.carry = True
        if loop.exit is not None:
            body.append(Line(ast.If(test=ast.Name(id=loop.exit, ctx=ast.Load()), body=[],
                                    orelse=[]), body=[Line(ast.Break())], orelse=None))
        head = loop.to_ast(body=[ast.Pass()])
        head.body = []
        if isinstance(head, ast.While) and loop.test_ast() is None:
            head.test = ast.Constant(True)
        lines = [Line(_assign(count, ast.Constant(0)))] if count else []
        lines.append(Line(head, origin=loop.line, body=body, tag=id(loop)))
        return lines

    # -- the backward sweep: statements in reverse, blocks mirrored ----------------
    def backward_block(self, stmts):
        out = []
        for stmt in reversed(stmts):
            if isinstance(stmt, Op):
                if stmt.target in self.active:
                    out.extend(self.backward(stmt))
            elif isinstance(stmt, If):
                body, orelse = self.backward_block(stmt.body), self.backward_block(stmt.orelse)
                out.append(Line(ast.If(test=stmt.test.to_ast(), body=[], orelse=[]),
                                origin=stmt.line, backward=True, body=body, orelse=orelse,
                                tag=id(stmt)))
            elif isinstance(stmt, Loop):
                out.extend(self.backward_loop(stmt))
        return out

    def backward_loop(self, loop):
        """The loop reversed: iterations in reverse order, each body reversed.

        The carried variables' copies at the end of the body come first; their
        adjoints are then handed on to the previous iteration (a kill marks the
        point), and every name the body defines starts each iteration afresh.
        """
        carries = loop.body[len(loop.body) - loop.carries:] if loop.carries else []
        rest = loop.body[:len(loop.body) - loop.carries]
        carried = {op.target for op in carries}
        handed_on = self.backward_block(carries)
        body_rest = self.backward_block(rest)
        fresh = {op.target for op in walk_ops(loop.body)} - carried
        body = [kill(self.adjoints[n], loop.line) for n in sorted(fresh) if n in self.adjoints]
        body += handed_on
        body += [kill(self.adjoints[n], loop.line) for n in sorted(carried) if n in self.adjoints]
        body += body_rest
        count = self.counter(loop)
        if loop.is_while:
            target = self.names.version("_") if "_" in self.names.taken else self.names.claim("_")
            iterable = ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                                args=[ast.Name(id=count, ctx=ast.Load())], keywords=[])
        else:
            target = loop.target
            iterable = loop.iterable_ast()
            if count is not None:
                rng = iterable.args[0] if loop.descending else iterable
                if loop.descending:
                    rng = ast.Subscript(value=rng, slice=ast.Slice(step=ast.Constant(-1)),
                                        ctx=ast.Load())
                iterable = ast.Subscript(value=rng, slice=ast.Slice(
                    upper=ast.Name(id=count, ctx=ast.Load())), ctx=ast.Load())
                iterable = ast.Call(func=ast.Name(id="reversed", ctx=ast.Load()),
                                    args=[iterable], keywords=[])
            elif loop.descending:
                iterable = iterable.args[0]
            else:
                iterable = ast.Call(func=ast.Name(id="reversed", ctx=ast.Load()),
                                    args=[iterable], keywords=[])
        head = ast.For(target=ast.Name(id=target, ctx=ast.Store()), iter=iterable, body=[],
                       orelse=[])
        return [Line(head, origin=loop.line, backward=True, body=body, tag=id(loop))]

    # -- one operation's adjoint ---------------------------------------------
    def backward(self, op):
        op = self.resolved(op)
        if op.prim is operator.mul and len(op.args) == 2 and isinstance(op.args[0], Var) \
                and op.args[0] == op.args[1]:
            op = Op(target=op.target, prim=runtime.square, args=op.args[:1], line=op.line)
        if self.calls_user_function(op):
            return self.backward_call(op)
        rule, binding = self.registry.find(op.prim, op.args, op.kwargs, self.shape_of)
        if rule is None:
            raise self.no_rule(op)
        return [Line(node, origin=op.line, backward=True)
                for node in Template(rule, binding, op, self).statements()]

    def shape_donor(self, node):
        """For an argument read only for its shape: a parameter (or an earlier value) known to
        have the same shape, so the value itself need not be kept for the backward sweep."""
        if not isinstance(node, ast.Name):
            return node
        shape = self.shapes.values.get(node.id)
        if shape is None or shape.scalar or shape.token == "nothing":
            return node
        donor = self.donors.get(shape.token)
        return ast.Name(id=donor, ctx=ast.Load()) if donor is not None else node

    @property
    def donors(self):
        if self._donors is None:
            self._donors = {}
            top = [op.target for op in self.staged.body if isinstance(op, Op)]
            # a parameter, else a named value (kept anyway, more often than a temporary)
            top.sort(key=lambda name: name in self.staged.temporaries)
            for name in list(self.staged.params) + top:
                shape = self.shapes.values.get(name)
                if shape is not None and not shape.scalar:
                    self._donors.setdefault(shape.token, name)
        return self._donors

    _donors = None

    def shape_of(self, value):
        if isinstance(value, (Slice, Pack)) or isinstance(value, Const) and (
                value.value is None or value.value is Ellipsis):
            return BASIC_INDEX if _basic_index(value, self.shapes) else self.shapes.new()
        if isinstance(value, (Var, Const)):
            return self.shapes.of(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return SCALAR
        return self.shapes.new()

    def no_rule(self, op):
        written = self.as_written(op.value_ast())
        name = f"`{ast.unparse(op.func)}`" if op.func is not None else \
            f"the operator in `{ast.unparse(written)}`"
        active = [f"`{ast.unparse(self.as_written(a.to_ast()))}`" for a in op.atoms()
                  if isinstance(a, Var) and a.name in self.active]
        node = ast.Expr(value=op.value_ast())
        node.lineno = op.line
        known = self.registry.has_rule(op.prim)
        if known:
            what = f"{name} is not differentiable when called as `{ast.unparse(written)}`"
        else:
            what = f"no adjoint rule for {name}, which is called here with active " \
                   f"argument{'s' if len(active) > 1 else ''} {', '.join(active)}"
        if op.prim is runtime.attribute:
            name = f"attribute .{op.method}"
            what = f"no adjoint rule for the attribute `.{op.method}` of active {active[0]}" \
                if active else what
            hint = (f"an attribute has no adjoint rule: use a function for `.{op.method}` "
                    "(register one with @adcompiler.adjoint if it has none), or make the "
                    "object constant")
        else:
            hint = f"register a rule with @adcompiler.adjoint({_spelling(op)}), or make its " \
                   "arguments constant"
        error = self.source.error(what, node, construct=f"call to {name}", hint=hint)
        # its rules may fit arguments of other shapes; a method depends on its object's class
        error.depends_on_shapes = known or op.prim is runtime.call_method
        return error


    def as_written(self, node):
        """An expression of the staged code with its temporaries replaced by what they stand
        for, so a message shows ``np.fft.fft(x * 2)`` rather than ``t2``."""
        if self._definitions is None:
            self._definitions = {op.target: op for op in walk_ops(self.staged.body)
                                 if op.target in self.staged.temporaries and not op.joins}
        return _AsWritten(self._definitions).visit(copy.deepcopy(node))

    _definitions = None


class _AsWritten(ast.NodeTransformer):
    def __init__(self, definitions, depth=0):
        self.definitions, self.depth = definitions, depth

    def visit_Name(self, node):
        op = self.definitions.get(node.id)
        if op is None or self.depth > 8:
            return node
        return _AsWritten(self.definitions, self.depth + 1).visit(op.value_ast())


class Template:
    """One rule instantiated for one operation: the rule's names replaced by the user's."""

    def __init__(self, rule, binding, op, reverser):
        self.rule = rule
        self.binding = binding
        self.op = op
        self.reverser = reverser
        self.temps = {}

    def atom(self, value):
        if isinstance(value, (Var, Const, Pack, Slice)):
            return value
        return Const(value=value, expr=ast.Constant(value), key=repr(value))

    def is_active(self, atom):
        return isinstance(atom, Var) and atom.name in self.reverser.active

    def statements(self):
        out = []
        rule = self.rule
        for stmt in rule.body:
            if isinstance(stmt, ast.Assign):
                name = stmt.targets[0].id
                self.temps[name] = self.reverser.names.version(name)
                out.append(_assign(self.temps[name], self.substitute(stmt.value)))
                continue
            if isinstance(stmt.target, ast.Subscript):      # dx[index] += e
                element = self.atom(self.binding[stmt.target.value.id[1:]])
                if self.is_active(element):
                    out.append(self.accumulate_into_part(stmt, element))
                continue
            param = stmt.target.id[1:]
            if param == rule.vararg:
                elements = self.binding[param]
                for element in elements:
                    if self.is_active(element):
                        out.append(self.accumulate(stmt, element, {param: element}))
            else:
                element = self.atom(self.binding[param])
                if isinstance(element, Pack):
                    out.extend(self.accumulate_items(stmt, element))
                elif self.is_active(element):
                    out.append(self.accumulate(stmt, element, {}))
        return out

    def accumulate_into_part(self, stmt, element):
        target = copy.deepcopy(stmt.target)
        target.value = ast.Name(id=self.reverser.adjoint(element.name), ctx=ast.Load())
        target.slice = self.substitute_index(target.slice)
        return ast.AugAssign(target=target, op=copy.copy(stmt.op),
                             value=self.substitute(stmt.value))

    def substitute_index(self, node):
        if isinstance(node, ast.Name) and node.id in self.binding:
            return copy.deepcopy(_subscript(self.atom(self.binding[node.id])))
        return self.substitute(node)

    def accumulate_items(self, stmt, pack, value=None):
        """``dxs += E`` for a list of arrays: E is a sequence, item k goes to element k
        (a nested list's items likewise, one level down)."""
        active = [(k, item) for k, item in enumerate(pack.items) if self.has_active(item)]
        if not active:
            return []
        parts = self.reverser.names.version("parts")
        out = [_assign(parts, self.substitute(stmt.value) if value is None else value)]
        for k, item in active:
            part = ast.Subscript(value=ast.Name(id=parts, ctx=ast.Load()),
                                 slice=ast.Constant(k), ctx=ast.Load())
            if isinstance(item, Pack):
                out.extend(self.accumulate_items(stmt, item, part))
                continue
            target = ast.Name(id=self.reverser.adjoint(item.name), ctx=ast.Store())
            out.append(ast.AugAssign(target=target, op=copy.copy(stmt.op), value=part))
        return out

    def has_active(self, atom):
        if isinstance(atom, Pack):
            return any(self.has_active(item) for item in atom.items)
        return self.is_active(atom)

    def elementwise(self):
        return is_elementwise(self.op.prim)

    def accumulate(self, stmt, element, extra):
        target = ast.Name(id=self.reverser.adjoint(element.name), ctx=ast.Store())
        return ast.AugAssign(target=target, op=copy.copy(stmt.op),
                             value=self.substitute(stmt.value, extra))

    def substitute(self, expr, extra=None):
        return _Substitute(self, extra or {}).visit(copy.deepcopy(expr))


class _Substitute(ast.NodeTransformer):
    def __init__(self, template, extra):
        self.t = template
        self.extra = extra

    def visit_Call(self, node):
        elided = self.unbroadcast(node)
        if elided is not None:
            return elided
        written = self.power_slope(node)
        if written is not None:
            return written
        helper = self.t.rule.namespace.get(node.func.id) if isinstance(node.func, ast.Name) else None
        self.generic_visit(node)
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred) and isinstance(arg.value, _Spread):
                args.extend(arg.value.items)
            else:
                args.append(arg)
        node.args = _without_defaults(helper, args) if _is_helper(helper) else args
        position = SHAPE_ONLY.get(helper) if _is_helper(helper) else None
        if position is not None and position < len(node.args):
            node.args[position] = self.t.reverser.shape_donor(node.args[position])
        return node

    def power_slope(self, node):
        """``power_slope(a, b)`` with b a number in the source: ``b * a ** (b - 1)`` written
        out, which simplifies (``2 * x``); a zero exponent leaves a structural zero."""
        t = self.t
        if not (isinstance(node.func, ast.Name)
                and t.rule.namespace.get(node.func.id) is runtime.power_slope
                and len(node.args) == 2 and isinstance(node.args[1], ast.Name)
                and node.args[1].id in t.binding):
            return None
        exponent = t.atom(t.binding[node.args[1].id])
        if not (isinstance(exponent, Const) and fixed_number(exponent)):
            return None
        a, b = self.visit(node.args[0]), self.visit(copy.deepcopy(node.args[1]))
        return ast.BinOp(left=b, op=ast.Mult(), right=ast.BinOp(
            left=a, op=ast.Pow(), right=ast.BinOp(left=copy.deepcopy(b), op=ast.Sub(),
                                                  right=ast.Constant(1))))

    def unbroadcast(self, node):
        """``unbroadcast(g, x)`` in an elementwise rule, where shapes are known: `g` or a sum."""
        t = self.t
        func = node.func
        if not (isinstance(func, ast.Name) and t.rule.namespace.get(func.id) is runtime.unbroadcast
                and len(node.args) == 2 and isinstance(node.args[1], ast.Name)
                and node.args[1].id in t.binding and t.elementwise()):
            return None
        target = t.reverser.shape_of(t.atom(t.binding[node.args[1].id]))
        result = t.reverser.shapes.of(Var(t.op.target))
        if target.token == result.token:
            return self.visit(node.args[0])
        total = ast.Attribute(value=ast.Name(id=t.reverser.namespace.name_for(np, "np"),
                                             ctx=ast.Load()), attr="sum", ctx=ast.Load())
        if target.scalar:
            return ast.Call(func=total, args=[self.visit(node.args[0])], keywords=[])
        axis = kept_axis(target)
        if axis is not None and target == kept(result, axis):
            # a keepdims reduction of the result's shape: sum over that axis, keeping it
            return ast.Call(func=total, args=[self.visit(node.args[0])], keywords=[
                ast.keyword(arg="axis", value=ast.Constant(axis)),
                ast.keyword(arg="keepdims", value=ast.Constant(True))])
        if target.full and target.ndim is not None and result.ndim is not None:
            # a full operand's axes are the result's last ones: sum over the leading others
            extra = result.ndim - target.ndim
            if extra == 0:
                return self.visit(node.args[0])
            axes = ast.Constant(0) if extra == 1 else ast.Tuple(
                elts=[ast.Constant(i) for i in range(extra)], ctx=ast.Load())
            return ast.Call(func=total, args=[self.visit(node.args[0])],
                            keywords=[ast.keyword(arg="axis", value=axes)])
        return None

    def visit_Subscript(self, node):
        t = self.t
        if isinstance(node.slice, ast.Name) and node.slice.id in t.binding:
            index = t.atom(t.binding[node.slice.id])
            node.value = self.visit(node.value)
            node.slice = copy.deepcopy(_subscript(index))
            return node
        return self.generic_visit(node)

    def visit_Starred(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == self.t.rule.vararg:
            items = [self.t.atom(a).to_ast() for a in self.t.binding[self.t.rule.vararg]]
            return ast.Starred(value=_Spread(items), ctx=ast.Load())
        return self.generic_visit(node)

    def visit_Name(self, node):
        t = self.t
        rule = t.rule
        name = node.id
        if name in self.extra:
            return copy.deepcopy(t.atom(self.extra[name]).to_ast())
        if name == rule.out:
            return ast.Name(id=t.op.target, ctx=ast.Load())
        if name == "d" + rule.out:
            return ast.Name(id=t.reverser.adjoint(t.op.target), ctx=ast.Load())
        if name in t.binding and name != rule.vararg:
            return copy.deepcopy(t.atom(t.binding[name]).to_ast())
        if name in t.temps:
            return ast.Name(id=t.temps[name], ctx=ast.Load())
        obj = rule.namespace.get(name, vars(builtins).get(name, _MISSING))
        if obj is _MISSING:
            raise NameError(f"rule {rule.fn.__qualname__}: unknown name {name!r}")
        return ast.Name(id=t.reverser.namespace.name_for(obj, name), ctx=ast.Load())


class _Spread(ast.expr):
    """Placeholder for `*xs` in a variadic rule, replaced by the elements."""
    _fields = ()

    def __init__(self, items):
        super().__init__()
        self.items = items


def _basic_index(atom, shapes):
    """An index that picks each element at most once: numbers, slices, None and ``...``."""
    if isinstance(atom, Pack):
        return all(_basic_index(item, shapes) for item in atom.items)
    if isinstance(atom, Slice):
        return True
    if isinstance(atom, Const):
        return atom.value is None or atom.value is Ellipsis or \
            isinstance(atom.value, int) and not isinstance(atom.value, bool)
    return isinstance(atom, Var) and shapes.of(atom).scalar


def _is_helper(obj):
    """A helper function of adcompiler's own (not the user's, not NumPy's)."""
    return inspect.isfunction(obj) and obj.__module__.startswith("adcompiler.")


def _without_defaults(helper, args):
    """A runtime helper's arguments without the trailing ones that equal its defaults."""
    defaults = [p.default for p in inspect.signature(helper).parameters.values()]
    while args and len(args) <= len(defaults) and _is_default(args[-1], defaults[len(args) - 1]):
        args = args[:-1]
    return args


def _is_default(arg, default):
    return isinstance(arg, ast.Constant) and default is not inspect.Parameter.empty \
        and type(arg.value) is type(default) and arg.value == default


def _assign(name, value):
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _spelling(op):
    if op.func is not None:
        return ast.unparse(op.func)
    return f"operator.{getattr(op.prim, '__name__', 'op')}"


def differentiate(staged, wrt, registry, names, shapes, *, with_value=False, as_tuple=False,
                  pullback=False, calls=None, reserved=None):
    """The Adjoint of a staged function with respect to the parameters `wrt`.

    It returns one gradient, or a tuple of them when `as_tuple`.
    """
    suffix = "_value_and_grad" if with_value else "_grad"
    name = names.version(staged.name + suffix)
    reverser = Reverser(staged, wrt, registry, names, shapes, with_value, as_tuple, pullback, calls)
    for obj, reserved_name in (reserved or {}).items():   # a pair's own functions, by their names
        reverser.namespace.reserve(obj, reserved_name)
    return reverser.run(name)

