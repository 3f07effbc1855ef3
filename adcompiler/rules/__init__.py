"""The registry of adjoint rules, filled by one module per namespace."""

from .registry import Registry, Rule, RuleError, adjoint, nondifferentiable, registry
from . import builtin, math, numpy  # noqa: F401  (registers the rules)
from . import numpy_elementwise, numpy_linalg, numpy_reductions, numpy_shapes  # noqa: F401

__all__ = ["Registry", "Rule", "RuleError", "adjoint", "nondifferentiable", "registry"]
