"""The public API: grad, value_and_grad, staged, .source, wrt handling, types and caching."""

import inspect
import linecache
import math
import math as m
import traceback
from math import exp, tanh

import numpy as np
import pytest

import adcompiler
from adcompiler import check_grads, grad, staged, value_and_grad

SCALE = 2.5


def poly(x, y):
    return x * x * y + 3 * y


def test_bare_decorator_differentiates_the_first_parameter():
    @grad
    def f(x, y):
        return x * x * y
    assert f(3.0, 2.0) == 12.0


def test_wrt_by_position_name_and_tuple():
    assert grad(poly, wrt=1)(3.0, 2.0) == 12.0
    assert grad(poly, wrt="y")(3.0, 2.0) == 12.0
    assert grad(poly, wrt=-1)(3.0, 2.0) == 12.0
    assert grad(poly, wrt=("x", 1))(3.0, 2.0) == (12.0, 12.0)
    assert grad(poly, wrt=(0,))(3.0, 2.0) == (12.0,)
    assert grad(wrt=("y", "x"))(poly)(3.0, 2.0) == (12.0, 12.0)


def test_value_and_grad_gives_value_and_gradient():
    value, (dx, dy) = value_and_grad(poly, wrt=(0, 1))(3.0, 2.0)
    assert value == poly(3.0, 2.0)
    assert (dx, dy) == (12.0, 12.0)
    value, dx = value_and_grad(poly)(3.0, 2.0)
    assert (value, dx) == (24.0, 12.0)


def test_signature_name_and_original_are_kept():
    g = grad(poly)
    assert g.__name__ == "poly"
    assert inspect.signature(g) == inspect.signature(poly)
    assert g.__wrapped__ is poly


def test_keyword_and_default_arguments():
    def f(x, y=2.0, *, z=1.0):
        return x * y * z
    g = grad(f, wrt=("x", "z"))
    assert g(3.0) == (2.0, 6.0)
    assert g(3.0, z=2.0) == (4.0, 6.0)
    assert g(x=1.0, y=5.0, z=2.0) == (10.0, 5.0)


def test_ints_are_real_numbers_and_give_float_gradients():
    dx, dy = grad(poly, wrt=(0, 1))(3, 2)
    assert (dx, dy) == (12.0, 12.0)
    assert type(dx) is float and type(dy) is float


def test_float32_stays_float32():
    dx = grad(poly)(np.float32(3.0), 2.0)
    assert isinstance(dx, np.float32) and dx == 12.0
    dx = grad(poly)(np.array(3.0, dtype=np.float32), 2.0)
    assert dx.dtype == np.float32 and dx.shape == ()


def test_gradient_of_a_constant_output_is_zero():
    def f(x, y):
        return y * 2.0
    assert grad(f)(1.0, 3.0) == 0.0
    assert type(grad(f)(1, 3.0)) is float


def test_source_reads_like_a_backward_pass():
    src = grad(poly, wrt=("x", "y")).source
    assert src.startswith("def poly_grad(x, y):")
    assert "# backward" in src and "return dx, dy" in src
    for line in src.split("# backward")[1].splitlines()[1:-1]:
        assert "# line " in line, line


def test_source_is_deterministic():
    first = grad(poly, wrt=(0, 1)).source
    adcompiler.api._cache.clear()
    assert grad(poly, wrt=(0, 1)).source == first


def test_compiled_once_and_cached(monkeypatch):
    calls = []
    generate = adcompiler.api.GradientFunction._generate

    def counting(self, kinds, entry):
        calls.append((kinds, entry))
        return generate(self, kinds, entry)
    monkeypatch.setattr(adcompiler.api.GradientFunction, "_generate", counting)

    def f(x, y):
        return x * y
    g = grad(f)
    g(1.0, 2.0), g(2.0, 3.0), grad(f)(4.0, 5.0), g.source
    assert len(calls) == 1                   # one compile for float arguments
    g(1, 2), g(np.float64(1.0), 2.0)
    assert len(calls) == 2                   # ints and NumPy scalars share the scalar variant
    assert grad(f, wrt=(0,))(1.0, 2.0) == (2.0,)
    assert len(calls) == 3                   # a different wrt is a different gradient


def test_the_float_entry_checks_types_and_keeps_defaults():
    def f(x, y=2.0, *, z=3.0):
        return x * y * z
    g = grad(f)
    assert g.source.startswith("def f_grad(x, y=2.0, *, z=3.0):")
    assert "if type(x) is not float" in g.source
    assert g(1.0) == 6.0 and g(1.0, z=1.0) == 2.0 and g(1, 1, z=1) == 1.0
    assert type(g(1)) is float


def test_a_global_that_changes_kind_gets_its_own_variant():
    global SCALE
    def f(x):
        return SCALE * x * x
    g = grad(f)
    assert g(1.0) == 5.0
    old = SCALE
    try:
        SCALE = np.array([1.0, 2.0])
        with pytest.raises(TypeError, match="must return a scalar"):
            g(1.0)
    finally:
        SCALE = old
    assert g(1.0) == 5.0


def test_staged_form_names_every_operation():
    def f(x, y):
        z = x * y + math.sin(x)
        z = z * 2
        return z
    text = staged(f)
    assert text.splitlines()[0] == "def f(x, y):"
    body = [ln.strip() for ln in text.splitlines()[1:]]
    assert body == ["t1 = x * y", "t2 = math.sin(x)", "z = t1 + t2", "z_1 = z * 2", "return z_1"]
    assert grad(f).staged == text


def test_names_resolve_by_identity_not_spelling():
    def f(x):
        return m.sin(x) + exp(x) + tanh(x)
    check_grads(f, (0.3,))
    from . import aliased
    check_grads(aliased.f, (0.3,))
    src = grad(aliased.f).source
    assert "m.cos(x)" in src                # the user's own name for the math module
    assert "xp.pi" in src and "math" not in src.replace("m.", "")


def test_module_constants_are_read():
    def f(x):
        return SCALE * x * x
    assert grad(f)(2.0) == pytest.approx(10.0)


def test_lambda():
    g = grad(lambda x: x * x + 3 * x)
    assert g(2.0) == 7.0
    h, k = grad(lambda a, b: a * b, wrt=(0, 1)), grad(lambda a: a ** 3)
    assert h(2.0, 5.0) == (5.0, 2.0) and k(2.0) == 12.0


def test_nested_function_and_closure_reads_the_live_value():
    def make(k):
        def f(x):
            return tanh(k * x)
        return f
    f = make(2.0)
    check_grads(f, (0.4,))
    assert grad(f)(0.0) == pytest.approx(2.0)

    def outer():
        scale = 1.0

        def f(x):
            return scale * x * x

        g = grad(f)
        first = g(3.0)
        scale = 10.0
        return first, g(3.0)
    assert outer() == (6.0, 60.0)


def test_user_variables_named_like_adjoints():
    def f(x, dx):
        d_x = x * dx
        return d_x * x
    assert grad(f)(3.0, 2.0) == 12.0
    assert grad(f, wrt=1)(3.0, 2.0) == 9.0
    check_grads(f, (3.0, 2.0))


def test_user_variables_named_like_temporaries_and_versions():
    def f(x, t1):
        x_1 = x * t1
        t2 = x_1 + x
        x = t2 * t2
        return x + math.sin(x)
    check_grads(f, (0.7, 1.3))


def test_tuple_packing_and_unpacking():
    def f(x, y):
        a, b = x * 2, y
        a, b = b, a
        pair = (a, b)
        c, d = pair
        return c * d + pair[0]
    assert grad(f, wrt=(0, 1))(1.0, 3.0) == (6.0, 3.0)


def test_augmented_assignment():
    def f(x):
        y = x
        y += x
        y *= x
        y -= 1
        y /= 2
        y **= 2
        return y
    check_grads(f, (1.3,))


def test_docstring_and_print_are_fine(capsys):
    def f(x):
        """A docstring."""
        print("x =", x)
        return x * x
    assert grad(f)(3.0) == 6.0
    assert "x = 3.0" in capsys.readouterr().out


def test_traceback_shows_the_generated_line():
    def f(x):
        return math.sqrt(x)
    g = grad(f)
    with pytest.raises(ZeroDivisionError) as info:
        g(0.0)
    frames = traceback.extract_tb(info.tb)
    last = frames[-1]
    assert last.filename.startswith("<adcompiler f_grad")
    assert last.line and "dx" in last.line
    assert linecache.getline(last.filename, last.lineno).strip() == last.line


def test_gradient_source_is_a_module_level_callable_again():
    # the generated code uses only constructs the compiler accepts
    src = grad(poly, wrt=(0, 1)).source
    assert "must_be_scalar" not in src
    compile(src, "<test>", "exec")
