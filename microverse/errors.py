"""The one error type the command line turns into a clean message.

Every capability raises :class:`MicroverseError` (or a subclass) for bad input,
with the file, the item and the fix in the message, so the CLI can print one
line and exit non-zero instead of a traceback.
"""

from __future__ import annotations


class MicroverseError(Exception):
    """A user-facing error: what went wrong, where, and how to fix it."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, item: str | None = None,
                 fix: str | None = None) -> None:
        self.message = message
        self.file = file
        self.item = item
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = ", ".join(p for p in (self.file, self.item) if p)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" (fix: {self.fix})"
        return text
