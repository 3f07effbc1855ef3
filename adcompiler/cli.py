"""The ``adcompiler`` command line.

    adcompiler show FILE:FUNC [--wrt NAMES] [--staged] [--value] [--color WHEN]

Exit codes: 0 success, 1 the function cannot be differentiated
(``DifferentiationError``), 2 usage errors (bad FILE:FUNC, missing file or
function, bad --wrt, the file fails to import).
"""

import argparse
import contextlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import re
import sys
import uuid

PROG = "adcompiler"

EXIT_OK = 0
EXIT_DIFF_ERROR = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
Source-to-source automatic differentiation for Python.
Shows the Python code that adcompiler generates for your functions."""

_EPILOG = """\
examples:
  adcompiler show model.py:loss                 gradient of loss w.r.t. its first parameter
  adcompiler show model.py:loss --wrt w,b       gradient w.r.t. parameters w and b
  adcompiler show model.py:loss --wrt 0,1       the same, by position
  adcompiler show model.py:loss --value         code returning (value, gradient)
  adcompiler show model.py:loss --staged        the staged single-assignment form
  adcompiler show pkg/nets.py:Net.forward       a method, via a dotted name

run 'adcompiler COMMAND --help' for the options of a command."""

_SHOW_EPILOG = """\
examples:
  adcompiler show model.py:loss --wrt w,b
  adcompiler show model.py:loss --value --color never > loss_grad.py

FILE is imported as a module (its top level runs, an
'if __name__ == "__main__":' block does not); its directory is put first
on sys.path meanwhile so that it can import its sibling modules."""


class CLIError(Exception):
    """A usage problem: printed as one 'adcompiler: error:' line, exit 2."""


# --------------------------------------------------------------------------
# argument parsing

def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     title="commands")
    commands.required = True

    show = commands.add_parser(
        "show",
        help="print the generated gradient code of a function",
        description="Print the Python source adcompiler generates for FUNC\n"
                    "defined in FILE: its gradient (default), its value and\n"
                    "gradient (--value), or its staged form (--staged).",
        epilog=_SHOW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("target", metavar="FILE:FUNC",
                      help="a Python file and a function in it, e.g. "
                           "model.py:loss or nets.py:Net.forward")
    show.add_argument("--wrt", metavar="NAMES",
                      help="comma-separated parameter names or positions to "
                           "differentiate with respect to, e.g. x,y or 0,1 "
                           "(default: the first parameter)")
    mode = show.add_mutually_exclusive_group()
    mode.add_argument("--staged", action="store_true",
                      help="print the staged single-assignment form instead "
                           "of the gradient")
    mode.add_argument("--value", action="store_true",
                      help="print code that returns (value, gradient) "
                           "(value_and_grad) instead of the gradient alone")
    add_color_option(show)
    show.set_defaults(handler=cmd_show)
    return parser


def add_color_option(parser):
    parser.add_argument("--color", dest="color",
                        choices=("auto", "always", "never"), default="auto",
                        help="colour the output: auto (default) colours when "
                             "stdout is a terminal and NO_COLOR is not set")


# --------------------------------------------------------------------------
# helpers shared by commands

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def parse_target(spec):
    """Split 'path/to/file.py:func.name' into (path, func_name).

    The split is at the last colon, so a path that itself contains colons
    (``C:\\x\\m.py:f``) still works.
    """
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise CLIError(f"expected FILE:FUNC (for example model.py:loss), got {spec!r}")
    if not _DOTTED.match(name):
        raise CLIError(f"{name!r} is not a valid function name in {spec!r}")
    return path, name


def parse_wrt(text):
    """'x,y' -> ('x', 'y'); '0' -> 0; 'x' -> 'x'; None -> None.

    One item gives a single value, several give a tuple; digits become ints.
    """
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise CLIError(f"--wrt: empty name in {text!r}; give names or positions "
                       "separated by commas, e.g. --wrt x,y")
    parsed = []
    for item in items:
        if item.isdigit() and item.isascii():
            parsed.append(int(item))
        elif item.isidentifier():
            parsed.append(item)
        else:
            raise CLIError(f"--wrt: {item!r} is neither a parameter name nor a "
                           "position (a non-negative integer)")
    return parsed[0] if len(parsed) == 1 else tuple(parsed)


def check_wrt(func, func_name, wrt):
    """Reject --wrt names/positions that ``func`` does not have (best effort:
    skipped when the signature cannot be determined)."""
    if wrt is None:
        return
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return
    listing = ", ".join(params) if params else "none"
    for item in (wrt if isinstance(wrt, tuple) else (wrt,)):
        if isinstance(item, int):
            if item >= len(params):
                raise CLIError(f"--wrt: position {item} is out of range: "
                               f"{func_name} has {len(params)} parameter(s) ({listing})")
        elif item not in params:
            raise CLIError(f"--wrt: {func_name} has no parameter {item!r} "
                           f"(parameters: {listing})")


@contextlib.contextmanager
def _path_first(directory):
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        try:
            sys.path.remove(directory)
        except ValueError:
            pass


@contextlib.contextmanager
def loaded_module(path):
    """Import the file at ``path`` under a fresh module name.

    The module stays in ``sys.modules`` and its directory first on ``sys.path``
    until the block ends (the library may look functions' globals up through
    their module).  Errors raised by the file's top level propagate.
    """
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a Python file")
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "module"
    module_name = f"_adcompiler_user_{stem}_{uuid.uuid4().hex[:12]}"
    loader = importlib.machinery.SourceFileLoader(module_name, path)
    spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    directory = os.path.dirname(os.path.abspath(path))
    from adcompiler.errors import DifferentiationError
    with _path_first(directory):
        sys.modules[module_name] = module
        try:
            try:
                spec.loader.exec_module(module)
            except DifferentiationError:
                raise                 # e.g. a decorator of ours at top level
            except (Exception, SystemExit) as exc:
                raise ImportFailed(path, exc) from exc
            yield module
        finally:
            sys.modules.pop(module_name, None)


class ImportFailed(Exception):
    """The user's file raised while being imported (exit 2)."""

    def __init__(self, path, exc):
        super().__init__(path, exc)
        self.path = path
        self.exc = exc

    def __str__(self):
        exc = self.exc
        if isinstance(exc, SystemExit):
            detail = f"SystemExit({exc.code!r})"
        else:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return f"importing {self.path} failed: {detail}"


def resolve(module, path, dotted):
    obj = module
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            where = path if i == 0 else f"{'.'.join(parts[:i])} in {path}"
            hint = ""
            if i == 0:
                funcs = sorted(name for name, value in vars(module).items()
                               if inspect.isfunction(value)
                               and getattr(value, "__module__", None) == module.__name__)
                if funcs:
                    hint = f" (functions defined there: {', '.join(funcs)})"
            raise CLIError(f"no function {part!r} in {where}{hint}") from None
    if not callable(obj):
        raise CLIError(f"{dotted!r} in {path} is not a function "
                       f"(it is a {type(obj).__name__})")
    return obj


def use_color(choice, stream=None):
    if choice == "always":
        return True
    if choice == "never":
        return False
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR"):     # https://no-color.org: set and non-empty
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def emit(text, color):
    if not text.endswith("\n"):
        text += "\n"
    if color:
        from adcompiler.highlight import highlight
        text = highlight(text)
    sys.stdout.write(text)
    sys.stdout.flush()


def _library():
    """The compiler's public API, imported only when a command needs it."""
    return importlib.import_module("adcompiler.api")


# --------------------------------------------------------------------------
# commands

def cmd_show(args):
    path, func_name = parse_target(args.target)
    wrt = parse_wrt(args.wrt)
    if args.staged and wrt is not None:
        raise CLIError("--wrt has no effect with --staged")
    with loaded_module(path) as module:
        func = resolve(module, path, func_name)
        check_wrt(func, func_name, wrt)
        api = _library()
        if args.staged:
            source = api.staged(func)
        else:
            make = api.value_and_grad if args.value else api.grad
            result = make(func) if wrt is None else make(func, wrt=wrt)
            source = result.source
    emit(source, use_color(args.color))
    return EXIT_OK


# --------------------------------------------------------------------------
# entry point

def _error(message):
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv=None):
    """Run the command line; returns the exit code (never calls sys.exit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:       # --help, or an argparse usage error
        code = stop.code
        if code is None:
            return EXIT_OK
        return code if isinstance(code, int) else EXIT_USAGE

    from adcompiler.errors import DifferentiationError

    try:
        return args.handler(args)
    except (CLIError, ImportFailed) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except DifferentiationError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_DIFF_ERROR
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, as other tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
