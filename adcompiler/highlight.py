"""Terminal (ANSI) syntax colouring of Python source, using only ``tokenize``.

The colouring never changes the text: removing the escape sequences from the
result gives back exactly the input.  Every character of the output that is not
part of an escape sequence is copied, in order, from the input; the tokens only
decide where colour spans start and stop.
"""

import builtins
import keyword
import tokenize

__all__ = ["highlight", "RESET"]

RESET = "\x1b[0m"

KEYWORD = "\x1b[1;35m"    # bold magenta: def, return, for, if, ...
CONSTANT = "\x1b[35m"     # magenta: True, False, None
BUILTIN = "\x1b[1;36m"    # bold cyan: range, len, print, ...
DEFNAME = "\x1b[1;34m"    # bold blue: the name after def / class
DECORATOR = "\x1b[34m"    # blue: @decorator
NUMBER = "\x1b[33m"       # yellow
STRING = "\x1b[32m"       # green
COMMENT = "\x1b[3;90m"    # italic grey
OPERATOR = "\x1b[36m"     # plain cyan: + - * / = < ... (brackets, commas stay plain)

_CONSTANTS = frozenset({"True", "False", "None"})
_KEYWORDS = frozenset(keyword.kwlist) - _CONSTANTS
_BUILTINS = frozenset(
    name for name in dir(builtins)
    if not name.startswith("_") and name not in keyword.kwlist
)
# Punctuation that is left uncoloured so that operators stand out a little.
_PLAIN_OPS = frozenset({"(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "..."})

# Token types that exist only in some Python versions (3.12+ splits f-strings).
_STRING_TYPES = {tokenize.STRING}
for _name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END",
              "TSTRING_START", "TSTRING_MIDDLE", "TSTRING_END"):
    if hasattr(tokenize, _name):
        _STRING_TYPES.add(getattr(tokenize, _name))
_STRING_TYPES = frozenset(_STRING_TYPES)


def _split_lines(source):
    """Split on ``\\n`` only, keeping line ends (``str.splitlines`` would also
    split on form feeds and other characters that tokenize keeps in a line)."""
    parts = source.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


_LINE_BOUNDARY = frozenset({tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                            tokenize.DEDENT})


def _colour_for(tok, prev, before_prev):
    """The escape sequence for ``tok`` (or None), given the previous
    significant token ``prev`` and the (non-comment) token before that."""
    kind, text = tok.type, tok.string
    if kind == tokenize.COMMENT:
        return COMMENT
    if kind in _STRING_TYPES:
        return STRING
    if kind == tokenize.NUMBER:
        return NUMBER
    if kind == tokenize.OP:
        return None if text in _PLAIN_OPS else OPERATOR
    if kind != tokenize.NAME:
        return None
    after_dot = prev is not None and prev.type == tokenize.OP and prev.string == "."
    if prev is not None and prev.type == tokenize.NAME and prev.string in ("def", "class"):
        return DEFNAME
    if (prev is not None and prev.type == tokenize.OP and prev.string == "@"
            and (before_prev is None or before_prev.type in _LINE_BOUNDARY)):
        return DECORATOR                 # @name at the start of a line, not a @ b
    if after_dot:
        return None                      # attribute access: np.sum, obj.type
    if text in _CONSTANTS:
        return CONSTANT
    if text in _KEYWORDS:
        return KEYWORD
    if text in _BUILTINS:
        return BUILTIN
    return None


def highlight(source: str) -> str:
    """Return ``source`` with ANSI colour codes for a terminal.

    If the source cannot be tokenized (or already contains escape characters)
    it is returned unchanged.
    """
    if not source or "\x1b" in source:
        return source
    lines = _split_lines(source)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    total = len(source)

    def offset(row, col):
        if row - 1 >= len(lines):
            return total
        return min(starts[row - 1] + col, total)

    try:
        tokens = list(tokenize.generate_tokens(iter(lines).__next__))
    except Exception:   # TokenError, IndentationError, SyntaxError, ...
        return source

    out = []
    pos = 0
    prev = None          # previous significant token
    last = None          # previous token other than a comment
    before_prev = None   # the token (other than a comment) just before ``prev``
    for tok in tokens:
        colour = _colour_for(tok, prev, before_prev)
        if tok.type not in _LINE_BOUNDARY and tok.type not in (tokenize.COMMENT,
                                                                tokenize.ENDMARKER):
            before_prev = last
            prev = tok
        if tok.type != tokenize.COMMENT:
            last = tok
        if colour is None or not tok.string:
            continue
        start = offset(*tok.start)
        end = offset(*tok.end)
        if start < pos or end <= start:
            continue                      # defensive: never reorder or repeat text
        out.append(source[pos:start])
        out.append(colour)
        out.append(source[start:end])
        out.append(RESET)
        pos = end
    out.append(source[pos:])
    return "".join(out)
