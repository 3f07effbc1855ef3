"""Property tests over random programs with branches and loops.

Hypothesis builds a function of 2 or 3 scalar inputs from assignments (one
safe operation each: + - *, tanh, sin, division by ``1 + v * v``, ``v ** 2``),
``if``/``else`` on comparisons of variables (sometimes joined by ``and``,
``or``, ``not``), ``for`` loops over ``range(1..4)`` that carry variables,
``while`` loops with a bounded counter (``while k < 3 and ...:``), and
``break``/``continue``. The program is written to a module under
``tmp_path``, imported, differentiated with respect to every input, and
compared with central finite differences at inputs in [-2, 2].

Finite differences mean nothing where a step crosses a branch threshold. The
module also holds a *probe* copy of the function whose float comparisons go
through ``_gt``/``_lt``, which record each comparison's outcome and its
distance from the threshold. An example is skipped (``assume``) when some
comparison at the point is within ``MARGIN`` of its threshold, or when any
finite-difference point takes a different path.

Magnitudes stay bounded without rejecting examples: outside loops a variable
gets an operation only when its bound stays under ``LIMIT``; inside a loop each
assigned variable has a fixed bound (at least the input bound) that every
assignment to it must respect, so the bound holds after any number of
iterations.

One compiler bug remains that the generator reaches: `break`/`continue` in an
inner loop whose enclosing loop has no jump of its own is refused. The main
test therefore lets an inner loop jump only when its enclosing loops jump too
(each loop that may jump starts its body with ``if ...: break`` or
``continue``); ``test_programs_with_any_jumps_fail_only_with_the_known_bug``
drops that restriction and accepts that one refusal and nothing else, and
``test_jump_in_inner_loop_of_a_loop_without_jumps`` is the expected failure.
"""

import ast
import importlib.util
import itertools
import os

from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from adcompiler import DifferentiationError, GradientCheckError, check_grads, grad
from adcompiler.check import DEFAULT_STEP

LIMIT = 12.0
INPUT_BOUND = 2.0
MARGIN = 1e-3
FD_REFINEMENTS = 4                 # finite-difference steps down to DEFAULT_STEP / 4 ** 4
MAX_LOOP_DEPTH = 2
MAX_IF_DEPTH = 2
CONSTANTS = {"0.5": 0.5, "2": 2.0, "(-1.5)": 1.5, "0.75": 0.75}
THRESHOLDS = ["0.5", "(-0.5)", "1", "0"]

PROBE_HELPERS = '''
_path = []


def _gt(a, b):
    _path.append((a > b, abs(a - b)))
    return a > b


def _lt(a, b):
    _path.append((a < b, abs(a - b)))
    return a < b
'''


class _Frame:
    """A loop being generated: the variables it may assign and whether it may jump."""

    def __init__(self, targets, jumps):
        self.targets = targets
        self.jumps = jumps
        self.assigned = set()


class Builder:
    """Generates one program as lines of (indent, plain text, probe text)."""

    def __init__(self, draw, inputs, nested_jumps):
        self.draw = draw
        self.nested_jumps = nested_jumps
        self.inputs = inputs
        self.floats = {name: INPUT_BOUND for name in inputs}   # readable floats -> bound
        self.ints = {}                                          # loop indices, counters -> max
        self.loops = []
        self.if_depth = 0
        self.lines = []
        self.scopes = [[]]                                      # names first assigned per block
        self.names = itertools.count()
        self.budget = draw(st.integers(4, 14))                # simple statements, roughly

    # -- output -------------------------------------------------------------------
    def emit(self, indent, plain, probe=None):
        self.lines.append((indent, plain, plain if probe is None else probe))

    def source(self, name, probe):
        body = "\n".join("    " * (indent + 1) + (p if probe else t)
                         for indent, t, p in self.lines)
        return f"def {name}({', '.join(self.inputs)}):\n{body}\n"

    # -- what may be read and assigned ------------------------------------------------
    def operand(self, floats):
        """A float variable, an int (loop index or counter) or a constant: (text, bound)."""
        pick = self.draw(st.integers(0, 5))
        if pick == 0:
            text = self.draw(st.sampled_from(sorted(CONSTANTS)))
            return text, CONSTANTS[text]
        if pick == 1 and self.ints:
            name = self.draw(st.sampled_from(sorted(self.ints)))
            return name, float(self.ints[name])
        name = self.draw(st.sampled_from(sorted(floats)))
        return name, floats[name]

    def expression(self, limit):
        """One safe operation on readable values whose bound is at most `limit`."""
        floats = self.floats
        a = self.draw(st.sampled_from(sorted(floats)))
        ba = floats[a]
        b, bb = self.operand(floats)
        options = [
            (f"math.sin({a})", 1.0),
            (f"math.tanh({a})", 1.0),
            (f"math.tanh({a} * {b})", 1.0),
            (f"{a} ** 2", ba * ba),
            (f"{a} + {b}", ba + bb),
            (f"{a} - {b}", ba + bb),
            (f"{b} - {a}", ba + bb),
            (f"{a} * {b}", ba * bb),
            (f"{a} / (1 + {b} * {b})", ba),
            (f"{b} / (1 + {a} * {a})", bb),
            (f"0.5 * {a} + math.tanh({b})", 0.5 * ba + 1.0),
        ]
        return self.draw(st.sampled_from([o for o in options if o[1] <= limit]))

    def condition(self):
        """A condition: (plain text, probe text). Float comparisons are probed."""
        def comparison():
            floats = self.floats
            if self.ints and self.draw(st.integers(0, 3)) == 0:
                name = self.draw(st.sampled_from(sorted(self.ints)))
                text = f"{name} {self.draw(st.sampled_from(['>', '<', '==']))} " \
                       f"{self.draw(st.integers(0, 2))}"
                return text, text
            a = self.draw(st.sampled_from(sorted(floats)))
            if self.draw(st.booleans()):
                b = self.draw(st.sampled_from(sorted(floats)))
                if b == a:
                    b = self.draw(st.sampled_from(THRESHOLDS))
            else:
                b = self.draw(st.sampled_from(THRESHOLDS))
            op = self.draw(st.sampled_from([">", "<"]))
            helper = "_gt" if op == ">" else "_lt"
            return f"{a} {op} {b}", f"{helper}({a}, {b})"

        shape = self.draw(st.sampled_from(["one", "one", "one", "and", "or", "not"]))
        first = comparison()
        if shape == "not":
            return f"not {first[0]}", f"not {first[1]}"
        if shape in ("and", "or"):
            second = comparison()
            return f"{first[0]} {shape} {second[0]}", f"{first[1]} {shape} {second[1]}"
        return first

    # -- statements ---------------------------------------------------------------------
    def assign(self, indent, target=None):
        self.budget -= 1
        frame = self.loops[-1] if self.loops else None
        if target is None:
            choices = ["new"]
            if frame is not None:
                choices += sorted(frame.targets) * 2
            else:
                choices += sorted(self.floats) * 2
            target = self.draw(st.sampled_from(choices))
        if target == "new":
            target = f"v{next(self.names)}"
            text, bound = self.expression(LIMIT)
            self.scopes[-1].append(target)
            self.floats[target] = bound
        elif frame is not None:                      # the loop's fixed bound for it
            text, bound = self.expression(self.floats[target])
        else:
            text, bound = self.expression(LIMIT)
            self.floats[target] = max(self.floats[target], bound) if self.if_depth else bound
        for loop in self.loops:
            loop.assigned.add(target)
        self.emit(indent, f"{target} = {text}")

    def block(self, indent, size, completes=None, keep=False):
        """Statements of one block; names first assigned in it are dropped at its end.
        `completes` is the loop whose body this is: its targets not assigned yet get an
        assignment at the end (before a final return)."""
        kinds = [self.draw(st.sampled_from(["assign", "assign", "assign", "if", "for", "while",
                                            "jump", "return"]))
                 for _ in range(size)]
        kinds = [k for k in kinds if self.allowed(k)] or ["assign"]
        if "return" in kinds:                        # a return ends its block
            kinds = [k for k in kinds if k != "return"] + ["return"]
        self.scopes.append([])
        for kind in kinds:
            if kind == "return":
                self.complete(indent, completes)
                self.emit(indent, f"return {self.expression(LIMIT)[0]}")
            elif kind == "assign" or self.budget <= 0:
                self.assign(indent)
            elif kind == "if":
                self.if_statement(indent)
            elif kind in ("for", "while"):
                self.loop(indent, kind)
            elif kind == "jump":
                self.jump(indent)
        if kinds[-1] != "return":
            self.complete(indent, completes)
        for name in self.scopes.pop() if not keep else ():
            self.floats.pop(name, None)
            self.ints.pop(name, None)

    def complete(self, indent, frame):
        """Assign every target of the loop `frame` its body has not assigned yet."""
        if frame is not None:
            for name in sorted(frame.targets - frame.assigned):
                self.assign(indent, target=name)

    def allowed(self, kind):
        if kind in ("for", "while"):
            return len(self.loops) < MAX_LOOP_DEPTH and self.budget > 1
        if kind == "if":
            return self.if_depth < MAX_IF_DEPTH and self.budget > 1
        if kind == "jump":
            return bool(self.loops) and self.loops[-1].jumps
        if kind == "return":
            return bool(self.loops or self.if_depth) and self.draw(st.booleans())
        return True

    def if_statement(self, indent):
        plain, probe = self.condition()
        self.emit(indent, f"if {plain}:", f"if {probe}:")
        self.if_depth += 1
        self.block(indent + 1, self.draw(st.integers(1, 2)))
        if self.draw(st.booleans()):
            self.emit(indent, "else:")
            self.block(indent + 1, self.draw(st.integers(1, 2)))
        self.if_depth -= 1

    def jump(self, indent):
        plain, probe = self.condition()
        word = self.draw(st.sampled_from(["break", "continue"]))
        self.emit(indent, f"if {plain}:", f"if {probe}:")
        self.emit(indent + 1, word)

    def loop(self, indent, kind):
        # An inner loop assigns only what its outer loop does: their bounds are fixed for
        # the outer loop already, and at least INPUT_BOUND, so sin and tanh always fit.
        pool = sorted(self.loops[-1].targets) if self.loops else sorted(self.floats)
        targets = set(self.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2,
                                         unique=True)))
        if not self.loops:
            for name in targets:                     # the bound every iteration must respect
                self.floats[name] = max(self.floats[name], INPUT_BOUND)
        jumps = self.draw(st.integers(0, 2)) == 0 and (
            self.nested_jumps or all(frame.jumps for frame in self.loops))
        trips = self.draw(st.integers(1, 4))
        index = f"{'i' if kind == 'for' else 'k'}{next(self.names)}"
        if kind == "for":
            header = f"for {index} in range({trips}):"
            self.emit(indent, header)
        else:
            self.emit(indent, f"{index} = 0")
        frame = _Frame(targets, jumps)
        self.loops.append(frame)
        self.ints[index] = trips
        if kind == "while":
            plain, probe = f"{index} < {trips}", f"{index} < {trips}"
            if self.draw(st.booleans()):
                extra = self.condition()
                plain, probe = f"{plain} and ({extra[0]})", f"{probe} and ({extra[1]})"
            self.emit(indent, f"while {plain}:", f"while {probe}:")
            self.emit(indent + 1, f"{index} = {index} + 1")
        if jumps and not self.nested_jumps:
            self.jump(indent + 1)                    # surely a jump of its own
        self.block(indent + 1, self.draw(st.integers(1, 3)), completes=frame)
        self.loops.pop()
        if kind == "for":
            del self.ints[index]                     # not readable after the loop
        else:
            self.scopes[-1].append(index)            # the counter lives in this block


@st.composite
def programs(draw, nested_jumps=False):
    """(module source, number of inputs): the function `f` and its probe `f_probe`."""
    n_inputs = draw(st.integers(2, 3))
    builder = Builder(draw, [f"x{i}" for i in range(n_inputs)], nested_jumps)
    builder.block(0, draw(st.integers(2, 5)), keep=True)
    while builder.budget > 0:                            # use up the statements
        builder.assign(0)
    floats = sorted(builder.floats)
    last = draw(st.lists(st.sampled_from(floats), min_size=1, max_size=3, unique=True))
    joiner = draw(st.sampled_from([" + ", " * ", " - "]))
    builder.emit(0, f"return {joiner.join(last)}")
    source = "import math\n" + PROBE_HELPERS + "\n\n" + builder.source("f", False) + \
        "\n\n" + builder.source("f_probe", True)
    return source, n_inputs


_unique = itertools.count()


def load(directory, source):
    name = f"random_control_{os.getpid()}_{next(_unique)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def path_at(module, args):
    del module._path[:]
    module.f_probe(*args)
    return list(module._path)


def skip_near_thresholds(module, args, step=DEFAULT_STEP):
    """Skip a point near a branch threshold, or one whose finite differences change path."""
    path = path_at(module, args)
    assume(all(margin > MARGIN for _, margin in path))
    outcomes = [taken for taken, _ in path]
    for k, x in enumerate(args):
        h = step * max(1.0, abs(x))
        for shifted in (x - h, x + h):
            moved = list(args)
            moved[k] = shifted
            assume([taken for taken, _ in path_at(module, moved)] == outcomes)
    return path


inputs_box = st.floats(min_value=-INPUT_BOUND, max_value=INPUT_BOUND, allow_nan=False)


def run_program(tmp_path, program, xs):
    source, n_inputs = program
    note(source)
    module = load(tmp_path, source)
    args = tuple(xs[:n_inputs])
    assert module.f(*args) == module.f_probe(*args)
    skip_near_thresholds(module, args)
    wrt = tuple(range(n_inputs))
    gradients = grad(module.f, wrt=wrt)(*args)
    assert len(gradients) == n_inputs and all(type(g) is float for g in gradients)
    # Loops can grow derivatives, and higher ones, so much (tanh(k * v) iterated, say) that
    # the truncation error of the default step exceeds rtol: then smaller steps, each 16
    # times more accurate, until one agrees (on the same path).
    first = None
    for k in range(FD_REFINEMENTS + 1):
        step = DEFAULT_STEP / 4 ** k
        if k:
            skip_near_thresholds(module, args, step=step)
        try:
            check_grads(module.f, args, wrt=wrt, rtol=1e-5, atol=1e-6, step=step)
            return
        except GradientCheckError as exc:
            first = first or exc
    raise first


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(program=programs(), xs=st.lists(inputs_box, min_size=3, max_size=3))
def test_random_control_program_matches_finite_differences(tmp_path, program, xs):
    run_program(tmp_path, program, xs)


def _refuses_nested_jump(exc):
    return isinstance(exc, DifferentiationError) and exc.construct in ("Break", "Continue")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(program=programs(nested_jumps=True), xs=st.lists(inputs_box, min_size=3, max_size=3))
def test_programs_with_any_jumps_fail_only_with_the_known_bug(tmp_path, program, xs):
    """Jumps anywhere: correct gradients, or the refusal of a jump in an inner loop
    (the known bug, see below), and nothing else."""
    try:
        run_program(tmp_path, program, xs)
    except DifferentiationError as exc:
        if not _refuses_nested_jump(exc):
            raise
        event("refused: jump in an inner loop of a loop without jumps")


NESTED_JUMP = """\
import math


def f(x0, x1):
    for i0 in range(3):
        x1 = math.tanh(x1 * x0)
        for i1 in range(2):
            if x1 > 0.5:
                break
            x0 = x0 + 0.5 * x1
    return x0 + x1
"""


def test_jump_in_inner_loop_of_a_loop_without_jumps(tmp_path):
    module = load(tmp_path, NESTED_JUMP)
    check_grads(module.f, (0.3, -0.2), wrt=(0, 1))


def test_the_generator_makes_loops_branches_and_jumps():
    """The strategy does produce what the property tests claim to cover."""
    seen = {"if ": 0, "else:": 0, "for ": 0, "while ": 0, "break": 0, "continue": 0,
            " and ": 0, " or ": 0, "not ": 0, "math.tanh": 0, "math.sin": 0, "** 2": 0,
            "/ (1 + ": 0, "nested loop": 0, "early return": 0}

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(program=programs())
    def collect(program):
        tree = ast.parse(program[0])
        f = next(node for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name == "f")
        text = ast.unparse(f)
        for key in seen:
            seen[key] += key in text
        loops = [n for n in ast.walk(f) if isinstance(n, (ast.For, ast.While))]
        seen["nested loop"] += any(inner is not loop and isinstance(inner, (ast.For, ast.While))
                                   for loop in loops for inner in ast.walk(loop))
        seen["early return"] += sum(isinstance(n, ast.Return) for n in ast.walk(f)) > 1
    collect()
    assert all(seen.values()), seen
