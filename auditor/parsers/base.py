"""What every parser shares: where a value came from and how a parse fails."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the evidence: a file (and line) or a probe/command name."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class ConfigParseError(Exception):
    """Input that the format's grammar rejects, or that exceeds a safety bound.

    The message is one line, safe to print: it never repeats more than a short excerpt of the input.
    """

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = " ".join(message.split())[:300]
        super().__init__(str(self))

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"
