"""Names in generated code: fresh ones for the compiler, and the outside objects it refers to."""

class Names:
    """Hands out fresh, deterministic names that collide with nothing the user wrote."""

    def __init__(self, taken, temporaries=()):
        self.taken = set(taken)
        self.temporaries = set(temporaries)   # names handed out by temp(), here or before
        self._temps = 0

    def claim(self, name):
        self.taken.add(name)
        return name

    def version(self, base):
        """`base` if free, else `base_1`, `base_2`, ..."""
        if base not in self.taken:
            return self.claim(base)
        i = 1
        while f"{base}_{i}" in self.taken:
            i += 1
        return self.claim(f"{base}_{i}")

    def temp(self):
        while True:
            self._temps += 1
            name = f"t{self._temps}"
            if name not in self.taken:
                self.temporaries.add(name)
                return self.claim(name)

    def is_temp(self, name):
        """Whether `name` is one of the compiler's temporaries (`t1`, `t2`, ...)."""
        return name in self.temporaries

    def release_temp(self, name):
        """Give back the temporary handed out last (it was renamed after a user variable)."""
        if name == f"t{self._temps}":
            self._temps -= 1
        self.taken.discard(name)
        self.temporaries.discard(name)

    def adjoint(self, name):
        """`d` + name, or `d_` + name, `d_name_1`, ... when the user has those names."""
        for candidate in ("d" + name, "d_" + name):
            if candidate not in self.taken:
                return self.claim(candidate)
        return self.version("d_" + name)


class Namespace:
    """The outside objects generated code refers to, by names it can use.

    An object the user's code can already see (``np``, ``math`` under any
    alias) is called by the user's name for it; anything else (a runtime
    helper, a module the user never imported) is bound under its own name.
    """

    def __init__(self, source, names, local_names):
        self.source = source
        self.names = names
        self.locals = set(local_names)
        self.extra = {}                      # name -> object bound for the generated code
        self._chosen = {}                    # id(object) -> name

    def name_for(self, obj, preferred):
        key = id(obj)
        if key not in self._chosen:
            name = self._user_name(obj, preferred)
            if name is None:
                name = self.names.version(preferred)
                self.extra[name] = obj
            self._chosen[key] = name
        return self._chosen[key]

    def snapshot(self, obj, name):
        """Bind `obj` under `name` in the generated code itself, so a later rebinding of the
        user's global `name` cannot pair one function's values with another's rule."""
        key = id(obj)
        if key in self._chosen and self.extra.get(self._chosen[key]) is obj:
            return self._chosen[key]
        if name in self.extra and self.extra[name] is not obj or name in self.locals:
            name = self.names.version(name)
        self.names.claim(name)
        self.extra[name] = obj
        self._chosen[key] = name
        return name

    def reserve(self, obj, name):
        """Bind `obj` under exactly `name` (a pair function's own name, as it is printed)."""
        self.names.claim(name)
        self.extra[name] = obj
        self._chosen[id(obj)] = name
        return name

    def _user_name(self, obj, preferred):
        if preferred not in self.locals and self.source.lookup(preferred) is obj:
            return self.names.claim(preferred)
        for name, value in self.source.fn.__globals__.items():
            if value is obj and name not in self.locals and not name.startswith("_"):
                return self.names.claim(name)
        return None
