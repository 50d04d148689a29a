"""One error tree for everything a user can get wrong; the CLI maps each class to an exit code."""
from __future__ import annotations


class DeriveError(Exception):
    """The input or a derivation is wrong, not the program."""

    exit_code = 2


class UsageError(DeriveError):
    """A command-line argument or API argument is out of range (unknown name, K < 2, ...)."""

    exit_code = 2


class NotationError(DeriveError):
    """A notation would print two roles the same or is not valid LaTeX."""

    exit_code = 2


class ParseError(DeriveError):
    """Untrusted text could not be read; `column` is 1-based when known."""

    exit_code = 2

    def __init__(self, message: str, *, column: int | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


class VerificationError(DeriveError):
    """A displayed equality failed its numeric check: a bug in a derivation, never to be shown."""

    exit_code = 4


class SizeLimitError(DeriveError):
    """A size the derivation takes, but not yet in seconds: refused at once rather than minutes of silence."""

    exit_code = 6


class ToolMissingError(DeriveError):
    """An external tool (a TeX engine) is needed and not installed; the message says what to install."""

    exit_code = 5
