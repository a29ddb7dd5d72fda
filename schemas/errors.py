"""The one error type the CLI turns into a one-line message and exit code 1."""

from __future__ import annotations


class StigscapError(Exception):
    """A problem with the user's input or environment, reported as `file:line: problem`.

    Never carries secrets; `str()` is exactly the line the CLI prints.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line:
                where += f":{self.line}"
            where += ": "
        # one line, always
        return where + " ".join(self.message.split())
