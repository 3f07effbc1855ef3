"""Array methods and attributes, and the NumPy functions they stand for.

``x.sum(axis=0)`` is staged as the primitive ``np.sum`` (so its adjoint rule
applies) but printed as the user wrote it.
"""

import operator

import numpy as np

from . import runtime


def _same(args):
    return args


def _packed(args):
    """``x.reshape(3, 4)`` takes its shape as separate numbers; ``np.reshape`` as one tuple."""
    from .ir import Pack
    if len(args) > 1:
        return [Pack(items=tuple(args))]
    return args


# method name -> (primitive, how its positional arguments map onto the primitive's)
METHODS = {
    "sum": (np.sum, _same), "mean": (np.mean, _same), "prod": (np.prod, _same),
    "max": (np.max, _same), "min": (np.min, _same), "var": (np.var, _same),
    "std": (np.std, _same), "cumsum": (np.cumsum, _same), "cumprod": (np.cumprod, _same),
    "dot": (np.dot, _same), "reshape": (np.reshape, _packed), "transpose": (np.transpose, _packed),
    "ravel": (np.ravel, _same), "flatten": (np.ravel, _same), "squeeze": (np.squeeze, _same),
    "swapaxes": (np.swapaxes, _same), "repeat": (np.repeat, _same), "clip": (np.clip, _same),
    "copy": (np.copy, _same), "astype": (runtime.astype, _same), "trace": (np.trace, _same),
    "diagonal": (np.diagonal, _same), "argmax": (np.argmax, _same), "argmin": (np.argmin, _same),
    "argsort": (np.argsort, _same), "all": (np.all, _same), "any": (np.any, _same),
    "round": (np.round, _same), "item": (runtime.item, _same),
}

# attribute name -> primitive
ATTRIBUTES = {
    "T": np.transpose, "shape": np.shape, "ndim": np.ndim, "size": np.size,
    "dtype": runtime.dtype_of,
}

_NEW_ARRAYS = {
    np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like,
    np.full_like, np.array, np.copy, np.eye, np.identity, np.arange, np.linspace,
    np.concatenate, np.stack, np.vstack, np.hstack, np.outer, np.dot, np.matmul, np.tile,
    runtime.astype, runtime.assign_index,
    operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg,
    operator.matmul, operator.floordiv, operator.mod,
}


def makes_new_array(prim):
    """Whether `prim` returns an array of its own (never a view of an argument)."""
    return isinstance(prim, np.ufunc) or _key(prim) in _NEW_ARRAYS


def _key(prim):
    try:
        hash(prim)
        return prim
    except TypeError:
        return None
