"""Nested tuples, lists and dicts of arrays and numbers ("trees") as arguments.

A tree argument is flattened into its leaves when the gradient is called; the
generated code takes one parameter per leaf (``params["W1"]`` becomes
``params_W1``), and the gradients are put back into the same structure.
"""

import re

LEAF = ("leaf",)


def flatten(value):
    """(structure, leaves) of a nested tuple, list or dict."""
    if isinstance(value, dict):
        parts = [flatten(v) for v in value.values()]
        return ("dict", tuple(value.keys()), tuple(p[0] for p in parts)), \
            [leaf for p in parts for leaf in p[1]]
    if isinstance(value, (list, tuple)):
        parts = [flatten(v) for v in value]
        kind = "list" if isinstance(value, list) else "tuple"
        return (kind, tuple(p[0] for p in parts)), [leaf for p in parts for leaf in p[1]]
    return LEAF, [value]


def unflatten(structure, leaves):
    """The inverse of `flatten`: leaves put back into the structure."""
    leaves = iter(leaves)

    def build(node):
        if node == LEAF:
            return next(leaves)
        if node[0] == "dict":
            return {k: build(child) for k, child in zip(node[1], node[2])}
        items = [build(child) for child in node[1]]
        return items if node[0] == "list" else tuple(items)
    return build(structure)


def is_tree(value):
    return isinstance(value, (dict, list, tuple))


def leaf_paths(structure):
    """The path (a tuple of keys and positions) of each leaf, in order."""
    if structure == LEAF:
        return [()]
    keys = structure[1] if structure[0] == "dict" else range(len(structure[1]))
    children = structure[2] if structure[0] == "dict" else structure[1]
    return [(key,) + rest for key, child in zip(keys, children) for rest in leaf_paths(child)]


def leaf_name(param, path):
    """A readable identifier for a leaf: ``params["W1"]`` is ``params_W1``."""
    parts = [param] + [re.sub(r"\W", "_", str(p)) for p in path]
    return "_".join(parts)
