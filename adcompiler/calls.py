"""Calls to the user's own functions: each callee gets a forward/backward pair.

``h = dense(x, W, b)`` in a differentiated function becomes, in the forward
sweep, ``h, h_saved = dense_forward(x, W, b)`` (the value, and what the
backward sweep will need), and in the backward sweep
``dense_grads = dense_backward(h_saved, dh)``, whose items accumulate into
the adjoints of the active arguments. A pair is compiled once per callee and
*signature* (which parameters are active, and the kinds of the arguments),
and reused by every caller; recursion works because the pair's functions are
reached through closure cells filled in after compiling.
"""

import hashlib
import inspect
import linecache
import os
import sysconfig
import types

from .analyze import array_kind, parse_array_kind

_LIBRARY_PATHS = tuple(os.path.realpath(p) for p in {
    sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})


def is_user_function(obj, registry):
    """A Python function of the user's (not a library's), with no adjoint rule of its own."""
    if not inspect.isfunction(obj) or registry.has_rule(obj):
        return False
    filename = os.path.realpath(obj.__code__.co_filename)
    if filename.startswith(_LIBRARY_PATHS) or (obj.__module__ or "").startswith("adcompiler"):
        return False
    return bool(linecache.getlines(obj.__code__.co_filename, obj.__globals__))   # has source


class CellRef:
    """A closure cell shared by every generated function that calls one pair function."""

    def __init__(self, name):
        self.name = name
        self.cell = types.CellType()


class Pair:
    """The forward and backward functions of one callee and signature."""

    def __init__(self, fn, active, kinds, preferred):
        self.fn = fn
        self.active = active            # parameter names with an adjoint, in signature order
        self.kinds = kinds              # parameter name -> kind
        self.forward = CellRef(preferred + "_forward")
        self.backward = CellRef(preferred + "_backward")
        self.source = None


def _short(kind):
    """s (scalar), a2 (a full 2-d array), b2 (one with an axis of length 1), o (other)."""
    if kind == "scalar":
        return "s"
    array = parse_array_kind(kind)
    if array is not None:
        return ("a" if array[1] else "b") + str(array[0])
    return "o"


def kind_of(shape):
    """The kind (as in api._kind) a Shape stands for."""
    if shape is None or not hasattr(shape, "scalar"):
        return "other"
    token = shape.token
    if isinstance(token, tuple) and token[0] == "object":
        return token[1]                     # an object of a user class: its class
    if shape.scalar:
        return "scalar"
    if shape.ndim is not None:
        return array_kind(shape.ndim, shape.full)
    return "other"


class Calls:
    """The pairs a compilation needs, compiled from a worklist (never recursively)."""

    _pairs = {}                         # (fn, active, kinds) -> Pair, for every compilation

    def __init__(self, registry):
        self.registry = registry
        self.used = []                  # pairs reached from the function being compiled

    def handles(self, prim):
        return is_user_function(prim, self.registry)

    def request(self, fn, active, kinds):
        key = (fn, tuple(active), tuple(sorted(kinds.items(), key=repr)), self.registry.version)
        pair = self._pairs.get(key)
        if pair is None:
            pair = self._pairs[key] = Pair(fn, list(active), dict(kinds),
                                           self._pair_name(fn, active, kinds))
        if pair not in self.used:
            self.used.append(pair)
        return pair

    def _pair_name(self, fn, active, kinds):
        """A name that says which signature: the function's own name when every parameter is
        active, else with the active ones; a short digest of the kinds tells apart the rest.
        It depends only on the signature, so the source is the same whatever ran before."""
        name = fn.__name__ if fn.__name__.isidentifier() else "function"
        params = list(inspect.signature(fn).parameters)
        if list(active) != params:
            name += "_wrt_" + ("_".join(active) or "nothing")
        shapes = [kinds.get(p, "other") for p in params]
        if any(k != "scalar" for k in shapes):       # e.g. dense_a2a2a1: arrays of 2, 2, 1 dims
            name += "_" + "".join(_short(k) for k in shapes)
        taken = {p.forward.name for k, p in self._pairs.items() if k[0] is fn}
        if name + "_forward" in taken:              # same kinds, other classes of objects
            digest = hashlib.sha1(repr(sorted(kinds.items(), key=repr)).encode()).hexdigest()[:4]
            name += "_" + digest
        return name

    def bind(self, op):
        """The call's atoms by parameter name (defaults are not included)."""
        signature = inspect.signature(op.prim)
        try:
            bound = signature.bind(*op.args, **dict(op.kwargs))
        except TypeError as exc:
            raise TypeError(f"calling {op.prim.__name__}: {exc}") from None
        return dict(bound.arguments)

    def compile_pending(self, compile_pair):
        """Compile every requested pair not compiled yet, including those they request."""
        done = 0
        while done < len(self.used):
            pair = self.used[done]
            done += 1
            if pair.source is None:
                pair.source = ""                 # being compiled: a recursive request reuses it
                compile_pair(pair, self)

    def forget(self, pair):
        """Drop a pair whose compilation failed, so no one reuses its empty cells."""
        self._pairs.pop(next((k for k, v in self._pairs.items() if v is pair), None), None)
        if pair in self.used:
            self.used.remove(pair)

    _outputs = {}                       # (fn, kinds) -> the kind of the value it returns

    def output_kind(self, op, arg_shapes, kwarg_shapes, stage, shapes):
        """The kind of what a call to a user function returns, from its own analysis."""
        if not self.handles(op.prim):
            return None
        try:
            bound = inspect.signature(op.prim).bind(*arg_shapes, **kwarg_shapes)
        except TypeError:
            return "other"
        kinds = tuple((p, kind_of(bound.arguments.get(p)))
                      for p in inspect.signature(op.prim).parameters)
        key = (op.prim, kinds)
        if key in self._outputs:
            return self._outputs[key]
        from .frontend import get_source
        from .ir import Var
        try:
            staged = stage(get_source(op.prim), tuple_return=True)
        except Exception:                   # refused later, with the right message
            return "other"
        output = staged.body[-1].value
        if not isinstance(output, Var):
            number = isinstance(getattr(output, "value", None), (int, float))
            self._outputs[key] = "scalar" if number else "other"
            return self._outputs[key]
        guess = "scalar"                    # what a recursive call returns, until known
        for _ in range(3):
            self._outputs[key] = guess
            known = shapes(staged, dict(kinds), self.callee_hook(stage, shapes))
            found = kind_of(known.values.get(output.name))
            if found == guess:
                break
            guess = found
        else:
            found = "other"
        self._outputs[key] = found
        return found

    def callee_hook(self, stage, shapes):
        """The hook `analyze.shapes` calls for a call's result."""
        return lambda op, args, kwargs: self.output_kind(op, args, kwargs, stage, shapes)

    def sources(self):
        return [pair.source for pair in self.used if pair.source]
