"""Every construct outside the subset raises a DifferentiationError naming the right line."""

import inspect
import math
import os
import re

import numpy as np
import pytest

from adcompiler import DifferentiationError, grad, staged

from . import refused

CASES = [name for name, fn in vars(refused).items()
         if inspect.isfunction(fn) and fn.__module__ == refused.__name__]


def refused_line(fn):
    """The line of `fn` marked `# refused`."""
    lines, start = inspect.getsourcelines(fn)
    marked = [start + i for i, text in enumerate(lines) if text.rstrip().endswith("# refused")]
    assert len(marked) == 1, f"{fn.__name__} must mark exactly one line"
    return marked[0]


def raise_error(fn):
    """grad() refuses at once, or, for what needs the function's globals, on first use."""
    g = grad(fn)
    g(1.5)


@pytest.mark.parametrize("name", CASES)
def test_refused_with_file_line_and_hint(name):
    fn = getattr(refused, name)
    with pytest.raises(DifferentiationError) as info:
        raise_error(fn)
    err = info.value
    assert err.lineno == refused_line(fn), str(err)
    assert os.path.basename(err.filename) == "refused.py"
    assert err.hint, f"{name}: the error must say what to do instead"
    message = str(err)
    assert f"line {err.lineno}" in message and "refused.py" in message
    # the offending source line is shown
    shown = inspect.getsourcelines(fn)[0][err.lineno - inspect.getsourcelines(fn)[1]].strip()
    assert shown in message


@pytest.mark.parametrize("name", ["for_else", "while_else", "with_statement", "recursive_local_function",
                                  "non_scalar_return", "list_comprehension",
                                  "assigned_in_one_branch_only"])
def test_syntactic_refusals_come_at_grad_time(name):
    with pytest.raises(DifferentiationError):
        grad(getattr(refused, name))


def test_the_error_names_the_construct():
    with pytest.raises(DifferentiationError, match="for ... else"):
        grad(refused.for_else)
    with pytest.raises(DifferentiationError, match="tuple of 2 values; the output must be a scalar"):
        grad(refused.non_scalar_return)
    with pytest.raises(DifferentiationError, match=r"math\.gamma"):
        grad(refused.no_rule_for_active_call)(1.5)
    with pytest.raises(DifferentiationError, match=r"@adcompiler\.adjoint"):
        grad(refused.no_rule_for_active_call)(1.5)


def test_a_call_without_rule_on_constants_is_just_called():
    def f(x, n):
        return x * math.gamma(n)
    assert grad(f)(2.0, 4.0) == pytest.approx(6.0)


def test_staged_refuses_too():
    with pytest.raises(DifferentiationError) as info:
        staged(refused.while_else)
    assert info.value.lineno == refused_line(refused.while_else)


def test_builtin_has_no_source():
    with pytest.raises(DifferentiationError, match="source"):
        grad(math.sin)


def test_function_from_exec_has_no_source():
    namespace = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(DifferentiationError, match="no source") as info:
        grad(namespace["f"])
    assert "define the function in a file" in str(info.value)


def test_non_scalar_output_at_run_time_names_the_shape():
    np = pytest.importorskip("numpy")

    def f(x):
        return x * 2.0
    with pytest.raises(TypeError, match=r"must return a scalar.*shape \(3,\)"):
        grad(f)(np.ones(3))


@pytest.mark.parametrize("bad", ["a string", None, ["a"], {"x": None}, 1 + 2j, True])
def test_non_numbers_for_wrt_are_type_errors(bad):
    def f(x):
        return x * x
    with pytest.raises(TypeError, match="cannot differentiate with respect to 'x'"):
        grad(f)(bad)


def test_bad_wrt_is_rejected_at_grad_time():
    def f(x, y):
        return x * y
    with pytest.raises(ValueError, match="not a parameter"):
        grad(f, wrt="z")
    with pytest.raises(ValueError, match="out of range"):
        grad(f, wrt=2)
    with pytest.raises(TypeError):
        grad(f, wrt=1.5)
    with pytest.raises(ValueError, match="twice"):
        grad(f, wrt=("x", 0))


def fft_of_double(x):
    return np.sum(np.fft.fft(x * 2).real)


def fft_power(x):
    return np.sum(np.square(np.fft.rfft(np.sin(x) + 1)))


def test_a_missing_rule_is_reported_with_the_expressions_as_written():
    with pytest.raises(DifferentiationError) as attribute:
        grad(fft_of_double)(np.ones(4))
    assert "the attribute `.real` of active `np.fft.fft(x * 2)`" in str(attribute.value)
    with pytest.raises(DifferentiationError) as function:
        grad(fft_power)(np.ones(4))
    message = str(function.value).splitlines()[0]
    assert "no adjoint rule for `np.fft.rfft`" in message
    assert "active argument `np.sin(x) + 1`" in message
    assert not re.search(r"\bt\d+\b", message)           # no temporaries of the compiler
