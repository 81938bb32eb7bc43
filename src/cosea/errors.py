"""Errors shared by every capability.

Every error raised on bad input names the file (or source) and, where it can,
the line or entry and the problem, so a user can fix the input without reading
a traceback.
"""

from __future__ import annotations

from pathlib import Path


class CoseaError(Exception):
    """Base class for errors a user can act on; the CLI prints them without a traceback."""


class InputError(CoseaError):
    """A file or record could not be read; carries where and why."""

    def __init__(
        self,
        source: str | Path | None,
        problem: str,
        *,
        line: int | None = None,
        entry: str | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.problem = problem
        self.line = line
        self.entry = entry
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.entry:
            where += f" [{self.entry}]"
        return f"{where}: {self.problem}"


class ValidationFailed(CoseaError):
    """Several problems found while validating one file; each names its entry."""

    def __init__(self, source: str | Path, problems: list[str]) -> None:
        self.source = str(source)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.source}: {len(problems)} problem(s)\n{lines}")


class NotFound(CoseaError):
    """A named thing (list, case, alert, technique) does not exist."""
