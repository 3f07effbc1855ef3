"""The one error users see when their code leaves the supported subset."""


class DifferentiationError(Exception):
    """Code that adcompiler cannot differentiate.

    The message names the file, line and construct, shows the source line,
    and says what to do instead.
    """

    depends_on_shapes = False     # True where another argument kind might compile

    def __init__(self, message, *, filename=None, lineno=None, construct=None,
                 source_line=None, hint=None):
        self.filename = filename
        self.lineno = lineno
        self.construct = construct
        self.source_line = source_line
        self.hint = hint
        self.reason = message
        super().__init__(self._format())

    def _format(self):
        where = ""
        if self.filename is not None:
            where = f"{self.filename}, line {self.lineno}: " if self.lineno else f"{self.filename}: "
        text = f"{where}{self.reason}"
        if self.source_line:
            text += f"\n    {self.source_line.strip()}"
        if self.hint:
            text += f"\nHint: {self.hint}"
        return text
