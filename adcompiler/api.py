"""The public API: `grad`, `value_and_grad` and `staged`."""

import functools
import inspect
import numbers
import weakref

import numpy as np

from . import runtime
from .analyze import array_kind, free_constants, shapes
from .calls import Calls
from .codegen import build, render, render_pair
from .errors import DifferentiationError
from .frontend import get_source
from .ir import Var
from .entry import float_guard, return_floats
from .lines import Line
from .names import Names
from .optimize import optimize
from .reverse import differentiate
from .rules import registry
from .stage import stage, staged_source
from .subset import check_subset
from .tree import flatten, is_tree, leaf_name, leaf_paths, unflatten

_SCALAR, _OTHER = "scalar", "other"
_PYTHON_SCALARS = (float, int)


_ARRAY_KINDS = [array_kind(n, False) for n in range(65)]
_FULL_ARRAY_KINDS = [array_kind(n, True) for n in range(65)]


def _kind(value):
    kind = type(value)
    if kind is float or kind is int:
        return _SCALAR
    if isinstance(value, np.ndarray):
        shape = value.shape
        return _ARRAY_KINDS[len(shape)] if 1 in shape else _FULL_ARRAY_KINDS[len(shape)]
    if isinstance(value, (numbers.Real, np.number, np.bool_)):
        return _SCALAR
    if value is None or isinstance(value, (str, bytes, type, tuple, list, dict)):
        return _OTHER
    return type(value)              # an object: its class says what its methods are


def _real_input(name, value):
    """A wrt argument as a real number or float array, or a TypeError saying why not."""
    if type(value) is float or type(value) is np.ndarray and value.dtype.kind == "f":
        return value
    if type(value) is int:
        return float(value)
    if isinstance(value, (bool, np.bool_)) or \
            isinstance(value, np.ndarray) and value.dtype == np.bool_:
        raise TypeError(f"cannot differentiate with respect to {name!r}: got a bool; "
                        "pass a real number")
    if isinstance(value, np.ndarray):
        if np.issubdtype(value.dtype, np.floating):
            return value
        if np.issubdtype(value.dtype, np.integer):
            return value.astype(np.float64)
    elif isinstance(value, np.floating):
        return value
    elif isinstance(value, (np.integer, numbers.Integral)):
        return float(value)
    elif isinstance(value, numbers.Real):
        return float(value)
    what = f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray) \
        else f"a value of type {type(value).__name__}"
    raise TypeError(f"cannot differentiate with respect to {name!r}: got {what}; "
                    "pass a real number or an array of real numbers")


def _as_gradient(g, x, owned):
    """The gradient `g` in the shape and float dtype of the argument `x`.

    An array the generated code allocated itself (`owned`) is handed over as
    it is; anything else is copied, so no gradient shares memory with an
    input, a global or another gradient.
    """
    if type(x) is float:
        return float(g)
    if isinstance(x, np.ndarray):
        if owned and type(g) is np.ndarray and g.shape == x.shape and g.dtype == x.dtype:
            return g
        return np.array(np.broadcast_to(g, x.shape), dtype=x.dtype)
    return type(x)(g)


class _Compiled:
    """One compiled variant: the generated function, its source, and which of the
    gradients it returns are arrays it allocated itself."""

    def __init__(self, function, source, owned):
        self.function = function
        self.source = source
        self.owned = owned


_cache = weakref.WeakKeyDictionary()      # user function -> {variant key: _Compiled}


class GradientFunction:
    """Everything about one gradient: its variants, compiled on demand, and the general call.

    A variant is specialised on the *kinds* of the parameters and of the
    globals read as values (a scalar, an array, anything else). The variant
    for plain floats is the fast entry `grad()` returns: it checks its
    arguments' types inline and sends anything else down `general`, which
    converts arguments and results and picks the right variant.
    """

    def __init__(self, fn, wrt=0, *, with_value=False):
        if getattr(fn, "__adcompiler_gradient__", False):
            raise DifferentiationError(
                f"{fn.__name__} is a gradient made by adcompiler; differentiating it again "
                "(grad of grad) is not supported yet", construct="grad of a gradient",
                hint="differentiate the original function, or write the derivative you "
                     "need as a Python function and differentiate that")
        self.fn = fn
        self.with_value = with_value
        self._source = get_source(fn)
        check_subset(self._source)
        self._signature = inspect.signature(fn)
        self._params = list(self._signature.parameters)
        self._tuple, self._wrt = _normalise_wrt(wrt, self._params, fn)
        self._positions = [self._params.index(w) for w in self._wrt]
        self._wrt_positions = list(zip(self._positions, self._wrt))
        self._variants = {}                    # (kinds, entry, rules version) -> _Compiled
        self._staged = None
        self._environment = None
        try:                                   # refuse what we can now, at grad() time
            self._staged = stage(self._source)
        except DifferentiationError as exc:
            if exc.construct != "unknown name":   # a global defined later is looked up on first use
                raise

    @property
    def ready(self):
        return self._staged is not None

    @property
    def staged_function(self):
        if self._staged is None:
            self._staged = stage(self._source)
        return self._staged

    # -- compiling ---------------------------------------------------------
    def variant(self, kinds, entry=False):
        """The compiled variant for `kinds`; `entry` gives the guarded fast entry for floats."""
        mine = self._variants.get((kinds, entry, registry.version))
        if mine is not None:
            return mine
        key = (tuple(self._wrt), self._tuple, self.with_value, kinds, entry, registry.version)
        per_function = _cache.setdefault(self.fn, {})
        if key not in per_function:
            per_function[key] = self._generate(kinds, entry)
        self._variants[(kinds, entry, registry.version)] = per_function[key]
        return per_function[key]

    def _generate(self, kinds, entry):
        structures = {p: k[1] for p, k in zip(self._params, kinds) if _is_tree_kind(k)}
        staged = stage(self._source, structures=structures) if structures \
            else self.staged_function
        constants = free_constants(staged)
        calls = Calls(registry)
        named_kinds = dict(zip(self._params + constants, kinds))
        wrt = list(self._wrt)
        for param, structure in structures.items():   # a tree: its leaves, each with its kind
            leaves = [leaf_name(param, path) for path in leaf_paths(structure)]
            named_kinds.update(zip(leaves, named_kinds.pop(param)[2]))
            if param in wrt:
                at = wrt.index(param)
                wrt[at:at + 1] = leaves
        known = shapes(staged, named_kinds, calls.callee_hook(stage, shapes))
        scalars = {name for name, shape in known.values.items() if shape.scalar}
        names = Names(staged.user_names, staged.temporaries)
        adjoint = differentiate(staged, wrt, registry, names, known, with_value=self.with_value,
                                as_tuple=self._tuple or bool(structures), calls=calls)
        output = adjoint.output
        if isinstance(output, Var) and output.name not in scalars:
            check = adjoint.namespace.name_for(runtime.must_be_scalar, "must_be_scalar")
            adjoint.lines.insert(_forward_end(adjoint.lines), Line(
                _call_statement(check, output.name)))
        optimize(adjoint, scalars)
        guard = None
        if entry:
            floats = set(self._wrt)
            return_floats(adjoint, floats, self.with_value)
            slow = adjoint.namespace.name_for(self.general, "slow_path")
            guard = float_guard(self._source.node.args, self._wrt, constants, slow,
                                lambda obj: adjoint.namespace.name_for(obj, obj.__name__))
        text = render(adjoint, self._source, self._wrt, guard=guard)
        function = build(text, adjoint.name, adjoint.namespace, self._source, entry=entry)
        calls.compile_pending(_compile_pair)
        text += "".join("\n\n" + pair_source for pair_source in calls.sources())
        return _Compiled(function, text, adjoint.owned_gradients)

    def _floats_kinds(self):
        return tuple(_SCALAR for _ in self._params) + tuple(
            _SCALAR for _ in free_constants(self.staged_function))

    def entry(self):
        """The fast entry: a plain function for float arguments, carrying .source and .staged."""
        compiled = self.variant(self._floats_kinds(), entry=True)
        function = compiled.function
        functools.update_wrapper(function, self.fn)
        function.source = compiled.source
        function.staged = staged_source(self.staged_function)
        function.general = self.general
        function.source_for = self.source_for
        function.__adcompiler_gradient__ = True
        self.entry_function = function
        return function

    def _environment_kinds(self):
        """Kinds of the globals and closure variables the function reads as values."""
        if self._environment is None:
            self._environment = [functools.partial(self._source.lookup, name)
                                 for name in free_constants(self.staged_function)]
        return tuple(_kind(read()) for read in self._environment)

    # -- calling -----------------------------------------------------------
    def arguments_and_kinds(self, args, kwargs):
        """All arguments in parameter order, those differentiated made real, and their kinds."""
        if kwargs or len(args) != len(self._params):
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments[p] for p in self._params)
        args = list(args)
        kinds = list(map(_kind, args))
        for pos, name in self._wrt_positions:
            if kinds[pos] is _OTHER and is_tree(args[pos]):   # a tuple, list or dict of them
                structure, leaves = flatten(args[pos])
                leaves = [_real_input(name, leaf) for leaf in leaves]
                args[pos] = unflatten(structure, leaves)
                kinds[pos] = ("tree", structure, tuple(map(_kind, leaves)))
            else:
                args[pos] = _real_input(name, args[pos])
                kinds[pos] = _kind(args[pos])
        if self._environment == []:
            return args, tuple(kinds)
        return args, tuple(kinds) + self._environment_kinds()

    def general(self, *args, **kwargs):
        """Call with any arguments: convert them, pick the variant, convert the gradients."""
        args, kinds = self.arguments_and_kinds(args, kwargs)
        if any(_is_tree_kind(k) for k in kinds):
            return self.general_trees(args, kinds)
        compiled = self.variant(kinds)
        self.last = compiled
        entry = self.entry_function
        if entry is not None and entry.source is not compiled.source \
                and any(k != _SCALAR for k in kinds):
            entry.source = compiled.source        # .source: the array variant that ran last
        result = compiled.function(*args)
        if self.with_value:
            value, grads = result
            return value, self._convert(grads, args, compiled.owned)
        return self._convert(result, args, compiled.owned)

    def general_trees(self, args, kinds):
        """A call with tuples, lists or dicts among the arguments: flattened into leaves."""
        compiled = self.variant(kinds)
        self.last = compiled
        flat = [leaf for a, k in zip(args, kinds)
                for leaf in (flatten(a)[1] if _is_tree_kind(k) else [a])]
        result = compiled.function(*flat)
        value, grads = result if self.with_value else (None, result)
        grads, owned, out = list(grads), list(compiled.owned), []
        for pos in self._positions:
            arg = args[pos]
            if _is_tree_kind(kinds[pos]):
                leaves = flatten(arg)[1]
                mine = [_as_gradient(g, x, o) for g, x, o in zip(grads, leaves, owned)]
                del grads[:len(leaves)], owned[:len(leaves)]
                out.append(unflatten(kinds[pos][1], mine))
            else:
                out.append(_as_gradient(grads.pop(0), arg, owned.pop(0)))
        result = tuple(out) if self._tuple else out[0]
        return (value, result) if self.with_value else result

    last = None
    entry_function = None

    def source_for(self, *args, **kwargs):
        """The generated source of the variant these arguments would run."""
        return self.variant(self.arguments_and_kinds(args, kwargs)[1]).source

    def _convert(self, grads, args, owned):
        if not self._tuple:
            return _as_gradient(grads, args[self._positions[0]], owned[0])
        return tuple(_as_gradient(g, args[p], mine)
                     for g, p, mine in zip(grads, self._positions, owned))

    def __repr__(self):
        kind = "value_and_grad" if self.with_value else "grad"
        return f"<{kind} of {self.fn.__qualname__} wrt {', '.join(self._wrt)}>"


class LazyGradient:
    """A gradient compiled on first use: its function reads globals not defined yet, or
    it can only be compiled for arrays (its rules depend on the arguments' shapes)."""

    def __init__(self, gradient):
        self._gradient = gradient
        self._entry = None
        functools.update_wrapper(self, gradient.fn)

    def _function(self):
        if self._entry is None:
            try:
                self._entry = self._gradient.entry()
            except DifferentiationError as exc:
                if not exc.depends_on_shapes:
                    raise
                self._entry = self._gradient.general
        return self._entry

    def __call__(self, *args, **kwargs):
        return self._function()(*args, **kwargs)

    @property
    def source(self):
        """The generated source of the variant used last (the float entry before any call)."""
        function = self._function()
        if self._gradient.last is not None:
            return self._gradient.last.source
        if getattr(function, "__func__", None) is GradientFunction.general:
            raise ValueError(f"the gradient of {self._gradient.fn.__qualname__} depends on the "
                             "shapes of its arguments: call it once, or use "
                             ".source_for(*example_arguments)")
        return function.source

    @property
    def staged(self):
        return staged_source(self._gradient.staged_function)

    def source_for(self, *args, **kwargs):
        return self._gradient.source_for(*args, **kwargs)

    def general(self, *args, **kwargs):
        return self._gradient.general(*args, **kwargs)

    def __repr__(self):
        return repr(self._gradient)


def _is_tree_kind(kind):
    return isinstance(kind, tuple) and kind and kind[0] == "tree"


def _compile_pair(pair, calls):
    """Generate and build the forward and backward functions of a call to a user function."""
    try:
        source = get_source(pair.fn)
        check_subset(source)
        staged = stage(source, tuple_return=True)
        known = shapes(staged, {p: pair.kinds.get(p, "other") for p in staged.params},
                       calls.callee_hook(stage, shapes))
        scalars = {name for name, shape in known.values.items() if shape.scalar}
        names = Names(staged.user_names, staged.temporaries)
        adjoint = differentiate(staged, pair.active, registry, names, known, pullback=True,
                                calls=calls, reserved={pair.forward: pair.forward.name,
                                                       pair.backward: pair.backward.name})
        optimize(adjoint, scalars)
        forward, backward = render_pair(adjoint, source, pair, names)
        pair.forward.cell.cell_contents = build(forward, pair.forward.name, adjoint.namespace,
                                                source, entry=True)
        pair.backward.cell.cell_contents = build(backward, pair.backward.name,
                                                 adjoint.namespace, source)
        pair.source = forward + "\n\n" + backward
    except BaseException:
        calls.forget(pair)
        raise


def _forward_end(lines):
    for i, line in enumerate(lines):
        if line.backward:
            return i
    return len(lines) - 1


def _call_statement(function, argument):
    import ast
    return ast.Expr(value=ast.Call(func=ast.Name(id=function, ctx=ast.Load()),
                                   args=[ast.Name(id=argument, ctx=ast.Load())], keywords=[]))


def _normalise_wrt(wrt, params, fn):
    """(is_tuple, [parameter names]) for a position, a name, or a tuple of them."""
    many = isinstance(wrt, (tuple, list))
    items = list(wrt) if many else [wrt]
    if many and not items:
        raise ValueError("wrt must name at least one parameter")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise TypeError(f"wrt entries are parameter positions or names, got {item!r}")
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise ValueError(f"wrt={item} is out of range: {fn.__name__} has "
                                 f"{len(params)} parameter(s) ({', '.join(params)})")
            item = params[item]
        elif item not in params:
            raise ValueError(f"wrt={item!r} is not a parameter of "
                             f"{fn.__name__}({', '.join(params)})")
        if item in names:
            raise ValueError(f"wrt names {item!r} twice")
        names.append(item)
    return many, names


def grad(fn=None, wrt=0):
    """The gradient of the scalar-valued function `fn`, as a function with the same signature.

    `wrt` is a parameter position, a parameter name, or a tuple of them: a
    single one gives a single gradient, a tuple gives a tuple. Usable as
    ``@grad`` and ``@grad(wrt=("x", "y"))``.
    """
    if fn is None:
        return functools.partial(grad, wrt=wrt)
    if inspect.ismethod(fn):
        return _bound(fn, wrt, with_value=False)
    return _gradient(GradientFunction(fn, wrt))


def value_and_grad(fn=None, wrt=0):
    """Like `grad`, but the function returns ``(value, gradient)`` from one forward sweep."""
    if fn is None:
        return functools.partial(value_and_grad, wrt=wrt)
    if inspect.ismethod(fn):
        return _bound(fn, wrt, with_value=True)
    return _gradient(GradientFunction(fn, wrt, with_value=True))


def _bound(method, wrt, with_value):
    """The gradient of a bound method: its object is a constant first argument."""
    def shift(item):
        return item + 1 if isinstance(item, int) and not isinstance(item, bool) and item >= 0 \
            else item
    wrt = tuple(shift(w) for w in wrt) if isinstance(wrt, (tuple, list)) else shift(wrt)
    inner = _gradient(GradientFunction(method.__func__, wrt, with_value=with_value))
    owner = method.__self__

    def bound(*args, **kwargs):
        return inner(owner, *args, **kwargs)
    functools.update_wrapper(bound, method)
    bound.staged = inner.staged
    bound.source_for = lambda *args, **kwargs: inner.source_for(owner, *args, **kwargs)
    try:                                # known now unless it depends on the arguments' kinds
        bound.source = inner.source
    except ValueError:
        pass
    bound.__adcompiler_gradient__ = True
    return bound


def _gradient(gradient):
    """The function to hand the user: the float entry, compiled now, where it can be."""
    if not gradient.ready:
        return LazyGradient(gradient)
    try:
        return gradient.entry()
    except DifferentiationError as exc:
        if not exc.depends_on_shapes:      # wrong for every argument: say so now
            raise
        return LazyGradient(gradient)


def staged(fn):
    """The staged single-assignment form of `fn`, as Python source."""
    source = get_source(fn)
    check_subset(source)
    return staged_source(stage(source))
