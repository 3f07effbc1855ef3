"""Adjoint rules: one Python template per primitive, inlined into generated code.

A rule's parameters are the primitive's output and inputs; ``d`` + a name is
that name's adjoint. The body accumulates into input adjoints::

    @adjoint(math.tanh)
    def _(out, x):
        dx += (1 - out * out) * dout

Other names in the body are local temporaries or globals of the rule's module
(``math``, helpers from ``adcompiler.runtime``). A parameter with a literal
default (``axis=None``) takes it when the call leaves it out. ``dx[index] += e``
accumulates into part of an adjoint, in place (the compiler starts `dx` from
zeros where it must). A ``*xs``
parameter makes a variadic rule: a statement ``dxs += ...`` is applied to each
element, with ``xs`` standing for that element and ``*xs`` for all of them.
"""

import ast
import inspect
import textwrap


class RuleError(ValueError):
    """A malformed adjoint rule, rejected when it is registered."""


class Rule:
    """A parsed adjoint template for one primitive."""

    def __init__(self, fn, when=None):
        self.fn = fn
        self.when = when
        self.namespace = fn.__globals__
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if not params or params[0].kind not in (params[0].POSITIONAL_ONLY,
                                                params[0].POSITIONAL_OR_KEYWORD):
            raise RuleError(f"rule {fn.__qualname__}: the first parameter must name the output")
        self.out = params[0].name
        self.inputs = sig.replace(parameters=params[1:])
        self.vararg = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
        for p in params[1:]:
            if p.kind is p.VAR_KEYWORD:
                raise RuleError(f"rule {fn.__qualname__}: **{p.name} is not allowed")
            if p.default is not p.empty and not _is_literal(p.default):
                raise RuleError(f"rule {fn.__qualname__}: the default of {p.name!r} must be a "
                                "literal (None, a number, a bool or a string)")
        self.param_names = [p.name for p in params]
        self.body = self._parse()
        self._validate()

    def _parse(self):
        try:
            text = textwrap.dedent(inspect.getsource(self.fn))
        except (OSError, TypeError) as exc:
            raise RuleError(f"rule {self.fn.__qualname__}: cannot read its source ({exc})") from None
        node = ast.parse(text).body[0]
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]                          # the docstring
        return body

    def _validate(self):
        name = self.fn.__qualname__
        adjoints = {"d" + p for p in self.param_names[1:]}
        dout = "d" + self.out
        for stmt in self.body:
            if isinstance(stmt, ast.AugAssign):
                target = getattr(stmt.target, "id", None)
                if isinstance(stmt.target, ast.Subscript):   # d<input>[index] += ...
                    target = getattr(stmt.target.value, "id", None)
                if target not in adjoints or not isinstance(stmt.op, (ast.Add, ast.Sub)):
                    raise RuleError(
                        f"rule {name}, line `{ast.unparse(stmt)}`: only `d<input> += ...` or "
                        f"`d<input> -= ...` may accumulate, with <input> one of "
                        f"{', '.join(self.param_names[1:]) or 'no inputs'}")
            elif isinstance(stmt, ast.Assign):
                if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                    raise RuleError(f"rule {name}, line `{ast.unparse(stmt)}`: a temporary is "
                                    "assigned to one plain name")
                if stmt.targets[0].id in adjoints | set(self.param_names) | {dout}:
                    raise RuleError(f"rule {name}, line `{ast.unparse(stmt)}`: do not assign "
                                    f"to an input, the output or an adjoint; use `+=`")
            else:
                raise RuleError(f"rule {name}, line `{ast.unparse(stmt)}`: a rule body holds "
                                "only `d<input> += ...` and temporary assignments")
            for sub in ast.walk(stmt.value):
                if isinstance(sub, ast.Name) and sub.id in adjoints:
                    raise RuleError(f"rule {name}, line `{ast.unparse(stmt)}`: read only "
                                    f"{dout}, not another input's adjoint")
        if not any(isinstance(s, ast.AugAssign) for s in self.body):
            raise RuleError(f"rule {name}: the body accumulates into no input adjoint")

    def bind(self, args, kwargs):
        """Map the rule's input names to the call's atoms, or None when it does not fit."""
        try:
            bound = self.inputs.bind(*args, **dict(kwargs))
        except TypeError:
            return None
        mapping = dict(bound.arguments)
        for p in self.inputs.parameters.values():
            if p.name not in mapping and p.kind is not p.VAR_POSITIONAL:
                mapping[p.name] = p.default
        if self.vararg:
            mapping[self.vararg] = tuple(mapping.get(self.vararg, ()))
        return mapping


def _is_literal(value):
    return value is None or isinstance(value, (bool, int, float, str))


class Registry:
    """Every primitive the compiler knows: adjoint rules and non-differentiable functions."""

    def __init__(self):
        self._rules = {}
        self._constant = set()
        self.version = 0                 # changes with every registration: compiled code keys on it

    def adjoint(self, *primitives, when=None):
        """Register the decorated template as the adjoint rule of each primitive.

        A later registration overrides an earlier one for calls it fits.
        `when`, if given, is called with the Shape of each input (by name) and
        says whether the rule applies: a rule for 2-D matrices, say, ahead of
        a general one.
        """
        if not primitives:
            raise TypeError("adjoint() needs the primitive(s) the rule is for")

        def register(fn):
            rule = Rule(fn, when)
            self.version += 1
            for prim in primitives:
                self._rules.setdefault(_key(prim), []).insert(0, rule)
                self._constant.discard(_key(prim))
            return fn
        return register

    def nondifferentiable(self, *primitives):
        """Mark primitives whose output is a constant: integer-valued, boolean, piecewise constant."""
        self.version += 1
        for prim in primitives:
            self._constant.add(_key(prim))
        return primitives[0] if len(primitives) == 1 else primitives

    def is_constant(self, prim):
        return _key(prim) in self._constant

    def has_rule(self, prim):
        return _key(prim) in self._rules

    def find(self, prim, args, kwargs, shape_of=None):
        """The first rule of `prim` that fits the call, with its binding; else (None, None).

        `shape_of(atom)` gives the Shape of an argument, for rules with a `when`.
        """
        for rule in self._rules.get(_key(prim), ()):
            binding = rule.bind(args, kwargs)
            if binding is None:
                continue
            if rule.when is not None:
                if shape_of is None or not rule.when(**{
                        name: shape_of(value) for name, value in binding.items()
                        if name in rule.when.__code__.co_varnames[:rule.when.__code__.co_argcount]}):
                    continue
            return rule, binding
        return None, None


def _key(prim):
    try:
        hash(prim)
        return prim
    except TypeError:
        return id(prim)


registry = Registry()
adjoint = registry.adjoint
nondifferentiable = registry.nondifferentiable
