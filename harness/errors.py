"""The few exception classes of connector-harness, all under HarnessError."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.pickling import pickled_by_fields
from harness.render.style import printable


class HarnessError(Exception):
    """Base of every error connector-harness raises on purpose."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Location:
    """A place in an input file; line and column count from 1 (0: unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        if not self.column:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"

    @classmethod
    def of(cls, path: Path | str, line: int = 0, column: int = 0) -> Location:
        return cls(str(path), line, column)


class InputError(HarnessError, ValueError):
    """A workspace file is malformed or inconsistent; the run cannot go on (exit 2)."""

    def __init__(self, location: Location, problem: str, hint: str = "") -> None:
        self.location = location
        self.problem = problem
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.location}: {self.problem}"
        if self.hint:
            text += "\n  " + self.hint.replace("\n", "\n  ")
        return printable(text)


class InputErrors(HarnessError, ValueError):
    """Several input errors found in one pass, so that a user fixes them all at once."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = sorted(
            errors, key=lambda e: (e.location.file, e.location.line, e.location.column)
        )
        super().__init__("\n".join(error.render() for error in self.errors))


class UsageError(HarnessError, ValueError):
    """The command line or an option value is wrong (exit 2)."""


class SandboxError(HarnessError, RuntimeError):
    """The sandbox refused something at run time, e.g. a live call to a real network."""
