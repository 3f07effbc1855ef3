"""Check gradients against central finite differences.

``check_grads(f, args)`` computes the analytic gradient of a scalar-valued
``f`` (with :func:`adcompiler.api.grad`, or a gradient function you pass in),
differentiates ``f`` numerically element by element, and raises
:class:`GradientCheckError` with a table of the worst mismatches when the two
disagree.  It returns ``None`` when they agree.

Only numpy is needed; the compiler itself is imported lazily so this module
can also check hand-written gradients.
"""

import inspect
import math
from collections import namedtuple

import numpy as np

__all__ = ["GradientCheckError", "Mismatch", "check_grads"]

#: Default relative step: the cube root of float64 machine epsilon (~6e-6)
#: balances truncation error (~h**2) against rounding error (~eps / h).
DEFAULT_STEP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)

#: One failing gradient entry.  ``argument`` is the parameter name (or the
#: position when the name is unknown); ``index`` is ``"-"`` for a scalar
#: argument and the numpy index tuple for an array.  For a gradient of the
#: wrong shape, ``analytic`` and ``numeric`` are ``"shape (...)"`` strings.
Mismatch = namedtuple("Mismatch", "argument index analytic numeric rel_error")

_REAL_KINDS = "iuf"   # numpy dtype kinds treated as real numbers


class GradientCheckError(AssertionError):
    """Analytic and numeric gradients disagree.

    ``rows`` holds every :class:`Mismatch` found, worst first; the message
    shows a header and a table of the worst few.
    """

    def __init__(self, message, rows=()):
        super().__init__(message)
        self.rows = list(rows)


def check_grads(f, args, wrt=None, *, kwargs=None, rtol=1e-5, atol=1e-7,
                step=None, grad_fn=None, most=10):
    """Compare the gradients of scalar-valued f at args with central finite differences.

    args     tuple/list of positional arguments (a single other value means a 1-tuple).
    wrt      position (int), parameter name (str), or a tuple/list of them;
             None checks every real-valued positional argument.
    kwargs   extra keyword arguments passed to f (and grad_fn) unchanged.
    rtol, atol
             an entry fails when |a - n| > atol + rtol * max(|a|, |n|);
             a NaN or infinite entry always fails.
    step     relative finite-difference step; h = step * max(1, |x_i|).
    grad_fn  called as grad_fn(*args, **kwargs), returns one gradient per wrt
             entry; default: adcompiler.api.grad(f, wrt=positions).
    most     how many of the worst entries the error message lists.

    Returns None on success, raises GradientCheckError on a mismatch and
    TypeError if f does not return a real scalar.
    """
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    kwargs = {} if kwargs is None else dict(kwargs)
    step = DEFAULT_STEP if step is None else float(step)
    if not step > 0:
        raise ValueError(f"step must be positive, got {step}")

    positions = _resolve_wrt(f, args, wrt)
    names = _positional_names(f)
    labels = [names[p] if p < len(names) else p for p in positions]

    _scalar_output(f(*args, **kwargs))           # fail early on a bad output
    analytic = _analytic_grads(f, args, kwargs, positions, grad_fn)

    rows, failed, total = [], 0, 0
    for label, pos, grad in zip(labels, positions, analytic):
        numeric = _numeric_grad(f, args, kwargs, pos, step)
        found = _compare(label, grad, numeric, rtol, atol)
        total += numeric.size
        failed += numeric.size if _is_shape_row(found) else len(found)
        rows.extend(found)
    if rows:
        rows.sort(key=_badness, reverse=True)
        raise GradientCheckError(_report(rows, failed, total, rtol, atol, most), rows)
    return None


# ---------------------------------------------------------------- arguments

def _is_real(value):
    """True for a real number or an array of real numbers (bools excluded)."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in _REAL_KINDS
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.integer, np.floating))


def _is_floating(value):
    """A float, a NumPy floating scalar, or an array of floats."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    return isinstance(value, (float, np.floating))


def _positional_names(f):
    """Names of f's positional parameters in order ([] if not introspectable)."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds]


def _resolve_wrt(f, args, wrt):
    """Turn wrt (None, int, str, or a tuple/list of them) into a list of positions."""
    if wrt is None:                      # floats only: an int argument is usually a count
        positions = [i for i, a in enumerate(args) if _is_floating(a)]
        if not positions:
            raise ValueError("f has no floating-point positional argument to check; "
                             "name the arguments with wrt=")
        return positions
    entries = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
    if not entries:
        raise ValueError("wrt is empty")
    positions = [_position(f, args, entry) for entry in entries]
    if len(set(positions)) != len(positions):
        raise ValueError(f"wrt names an argument twice: {wrt!r}")
    for pos in positions:
        if not _is_real(args[pos]):
            raise TypeError(f"argument {pos} is a {type(args[pos]).__name__}, "
                            "not a real number or real array; cannot check its gradient")
    return positions


def _position(f, args, entry):
    """Position in args of one wrt entry (an int position or a parameter name)."""
    if isinstance(entry, str):
        names = _positional_names(f)
        if entry not in names:
            raise ValueError(f"{entry!r} is not a positional parameter of f")
        pos = names.index(entry)
    elif isinstance(entry, (int, np.integer)) and not isinstance(entry, (bool, np.bool_)):
        pos = int(entry) + (len(args) if entry < 0 else 0)
    else:
        raise TypeError(f"wrt entries must be ints or parameter names, got {entry!r}")
    if not 0 <= pos < len(args):
        raise ValueError(f"wrt entry {entry!r} is beyond the {len(args)} positional arguments")
    return pos


# ---------------------------------------------------------------- gradients

def _scalar_output(value):
    """The output of f as a float; TypeError unless it is a real scalar."""
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in _REAL_KINDS + "b":
        raise TypeError(f"f must return a real scalar, got {type(value).__name__} "
                        f"of shape {arr.shape} and dtype {arr.dtype}")
    return float(arr.reshape(()))


def _analytic_grads(f, args, kwargs, positions, grad_fn):
    """One analytic gradient per position, from grad_fn or adcompiler's grad."""
    if grad_fn is None:
        from adcompiler.api import grad
        grad_fn = grad(f, wrt=tuple(positions))
    result = grad_fn(*args, **kwargs)
    if len(positions) == 1 and not isinstance(result, tuple):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(positions):
        got = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise GradientCheckError(f"gradient function returned {got} gradients, "
                                 f"expected a tuple of {len(positions)}")
    return tuple(result)


def _numeric_grad(f, args, kwargs, pos, step):
    """Central-difference gradient of f with respect to args[pos], as float64.

    The argument is differenced on a float64 copy; args itself is untouched.
    """
    base = np.array(args[pos], dtype=np.float64)      # always a copy
    scalar = base.ndim == 0 and not isinstance(args[pos], np.ndarray)
    grad = np.empty_like(base)

    def value_at(x):
        new_args = list(args)
        new_args[pos] = (np.float64(x) if isinstance(args[pos], np.generic) else float(x)) \
            if scalar else x
        return _scalar_output(f(*new_args, **kwargs))

    for index in np.ndindex(base.shape):
        xi = base[index]
        h = step * max(1.0, abs(xi))
        up, down = base.copy(), base.copy()
        up[index], down[index] = xi + h, xi - h
        # Divide by the representable step (up - down), not by 2h.
        grad[index] = (value_at(up) - value_at(down)) / (up[index] - down[index])
    return grad


# ---------------------------------------------------------------- comparing

def _compare(label, analytic, numeric, rtol, atol):
    """Mismatch rows for one argument (empty when everything agrees)."""
    want = _shape_text(numeric.shape)
    arr = np.asarray(analytic)
    if analytic is None or arr.dtype.kind not in _REAL_KINDS + "b":
        return [Mismatch(label, "-", f"type {type(analytic).__name__}", want, math.inf)]
    if arr.shape != numeric.shape:
        return [Mismatch(label, "-", _shape_text(arr.shape), want, math.inf)]

    a = arr.astype(np.float64)
    diff = np.abs(a - numeric)
    scale = np.maximum(np.abs(a), np.abs(numeric))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale <= atol, 0.0, diff / scale)
    bad = ~np.isfinite(a) | ~np.isfinite(numeric) | (diff > atol + rtol * scale)

    rows = []
    for idx in np.argwhere(bad):
        idx = tuple(int(i) for i in idx)
        shown = "-" if numeric.ndim == 0 else idx
        rows.append(Mismatch(label, shown, float(a[idx]), float(numeric[idx]), float(rel[idx])))
    return rows


def _shape_text(shape):
    return f"shape {shape}"


def _is_shape_row(rows):
    """True if rows report a whole gradient of the wrong shape or type."""
    return bool(rows) and isinstance(rows[0].analytic, str)


def _badness(row):
    """Sort key: relative error, with NaN counted as the worst."""
    return math.inf if math.isnan(row.rel_error) else row.rel_error


# ---------------------------------------------------------------- reporting

def _report(rows, failed, total, rtol, atol, most):
    """Header line plus an aligned table of the worst `most` rows."""
    shape_rows = [r for r in rows if isinstance(r.analytic, str)]
    lines = [f"gradient check failed: {failed} of {total} entries differ "
             f"(rtol={rtol:g}, atol={atol:g})"]
    for r in shape_rows:
        lines.append(f"gradient for argument {r.argument!r} has {r.analytic}, "
                     f"expected {r.numeric}")
    shown = rows[:most]
    table = [("argument", "index", "analytic", "numeric", "rel. error")]
    table += [(str(r.argument), str(r.index), _num(r.analytic), _num(r.numeric),
               _num(r.rel_error)) for r in shown]
    widths = [max(len(row[c]) for row in table) for c in range(5)]
    for row in table:
        left = [row[c].ljust(widths[c]) for c in range(2)]
        right = [row[c].rjust(widths[c]) for c in range(2, 5)]
        lines.append("  ".join(left + right).rstrip())
    if len(rows) > len(shown):
        lines.append(f"... and {len(rows) - len(shown)} more")
    return "\n".join(lines)


def _num(value):
    """Compact text for a number (strings pass through)."""
    return value if isinstance(value, str) else f"{value:.6g}"
