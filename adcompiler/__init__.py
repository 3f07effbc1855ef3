"""adcompiler: source-to-source automatic differentiation for Python.

    from adcompiler import grad

    @grad(wrt=("x", "y"))
    def f(x, y):
        return x * y + math.sin(x)

    dx, dy = f(1.0, 2.0)
    print(f.source)          # the generated gradient, as Python
"""

from .api import grad, staged, value_and_grad
from .check import GradientCheckError, check_grads
from .errors import DifferentiationError
from .rules import RuleError, adjoint, nondifferentiable, registry
from .runtime import stop_gradient

__all__ = ["grad", "value_and_grad", "staged", "check_grads", "GradientCheckError",
           "DifferentiationError", "adjoint", "nondifferentiable", "registry", "RuleError",
           "stop_gradient"]
__version__ = "0.1.0"
