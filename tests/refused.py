"""Functions outside the supported subset. The line each must be refused at ends in `# refused`."""
# flake8: noqa
import math

import numpy as np


def for_else(x):
    for i in range(3):  # refused
        x = x * 2
    else:
        x = x + 1
    return x


def while_else(x):
    while x < 10:  # refused
        x = x * 2
    else:
        x = x + 1
    return x


def assigned_in_one_branch_only(x):
    if x > 0:
        y = x * 2
    return y  # refused


def loop_variable_after_the_loop(x):
    for i in range(3):
        z = x * i
    return z  # refused


def loop_over_a_number(x):
    s = 0.0
    for v in 3:  # refused
        s = s + v
    return s * x


def with_statement(x):
    with open("f") as fh:  # refused
        pass
    return x


def try_statement(x):
    try:  # refused
        y = 1 / x
    except ZeroDivisionError:
        y = 0.0
    return y


def yield_statement(x):
    yield x  # refused


def global_statement(x):
    global COUNTER  # refused
    return x


def del_statement(x):
    y = x * 2
    del y  # refused
    return x


def list_comprehension(x):
    ys = [x * i for i in range(3)]  # refused
    return ys[0]


def generator_expression(x):
    return sum(x * i for i in range(3))  # refused


def class_definition(x):
    class A:  # refused
        pass
    return x


def recursive_local_function(x):
    def power(z, n):
        return z if n <= 1 else z * power(z, n - 1)  # refused
    return power(x, 3)


def local_function_as_a_value(x):
    square = lambda z: z * z
    return sum(map(square, (x, x)))  # refused


def dict_lookup_with_a_missing_key(x):
    d = {"a": x}
    return d["b"]  # refused


def walrus(x):
    return (y := x * 2) + y  # refused


def import_inside(x):
    import math as m  # refused
    return m.sin(x)


def non_scalar_return(x):
    return x, 2 * x  # refused


def no_return(x):
    y = x * 2  # refused


def return_none(x):
    return  # refused


def raise_statement(x):
    raise ValueError("no")  # refused


def assert_statement(x):
    assert x > 0  # refused
    return x


def method_call(x):
    y = x.conjugate()  # refused
    return y


def attribute_on_value(x):
    y = x.real  # refused
    return y


def write_into_argument(x):
    x[0] = 2.0  # refused
    return np.sum(x)


def write_into_a_view_of_an_argument(x):
    y = x.reshape(-1)
    y[0] = 2.0  # refused
    return np.sum(y)


def unknown_name(x):
    return x * not_defined_anywhere  # refused


def no_rule_for_active_call(x):
    return x + math.gamma(x)  # refused


def fstring(x):
    print(f"{x}")  # refused
    return x


def starred_unpacking(x):
    a, *b = x, x, x  # refused
    return a


def chained_comparison(x):
    y = (0 < x < 1) * x  # refused
    return y


def kwargs_call(x):
    opts = {}
    return math.exp(x, **opts)  # refused


def used_before_assignment(x):
    z = y * x  # refused
    y = 2.0
    return z


def star_args(*xs):  # refused
    return xs[0]
