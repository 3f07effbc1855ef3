"""The Python subset adcompiler differentiates, and what it says about the rest.

One table serves both the quick syntactic check made when `grad()` is called
and the staging pass, so the two always agree.
"""

import ast


# node type -> (what the user wrote, what to do instead)
UNSUPPORTED = {
    ast.AsyncFor: ("an async for loop", "use a plain function"),
    ast.With: ("a with statement", "move the with block outside the differentiated function"),
    ast.AsyncWith: ("an async with statement", "use a plain function"),
    ast.Try: ("a try statement", "handle errors outside the differentiated function"),
    ast.Raise: ("a raise statement", "check inputs outside the differentiated function"),
    ast.Assert: ("an assert statement", "check inputs outside the differentiated function"),
    ast.Global: ("a global statement", "pass the value in as an argument and return results"),
    ast.Nonlocal: ("a nonlocal statement", "pass the value in as an argument and return results"),
    ast.Delete: ("a del statement", "leave the name unused instead of deleting it"),
    ast.Import: ("an import inside the function", "import at module level"),
    ast.ImportFrom: ("an import inside the function", "import at module level"),
    ast.ClassDef: ("a class definition", "define classes at module level"),
    ast.AsyncFunctionDef: ("an async function", "use a plain function"),
    ast.Yield: ("yield", "differentiate a function that returns a value, not a generator"),
    ast.YieldFrom: ("yield from", "differentiate a function that returns a value, not a generator"),
    ast.Await: ("await", "use a plain function"),
    ast.ListComp: ("a list comprehension", "write the elements out, or use array operations"),
    ast.SetComp: ("a set comprehension", "write the elements out"),
    ast.DictComp: ("a dict comprehension", "write the elements out"),
    ast.GeneratorExp: ("a generator expression", "write the elements out, or use array operations"),
    ast.NamedExpr: ("an assignment expression (:=)", "assign with a separate statement"),
    ast.JoinedStr: ("an f-string", "format strings outside the differentiated function"),
    ast.Set: ("a set display", "use a tuple"),
    ast.Match: ("a match statement", "use if/elif/else statements"),
}


def unsupported(node):
    """(construct, hint) when `node` is outside the subset, else None."""
    return UNSUPPORTED.get(type(node))


def check_subset(source):
    """Raise DifferentiationError at the first construct outside the subset.

    A syntactic check only, made when `grad()` is called; staging catches the
    rest (unknown names, method calls, ...) when the function is compiled.
    """
    node = source.node
    body = node.body if isinstance(node.body, list) else [node.body]
    for stmt in body:
        for sub in ast.walk(stmt):
            found = unsupported(sub)
            if found:
                construct, hint = found
                raise source.error(f"{construct} is not supported", sub,
                                   construct=construct, hint=hint)
    _check_signature(source)


def _check_signature(source):
    args = source.node.args
    if args.vararg or args.kwarg:
        star = args.vararg or args.kwarg
        raise source.error("*args and **kwargs parameters are not supported", star,
                           construct="variadic parameters",
                           hint="name each parameter explicitly")
