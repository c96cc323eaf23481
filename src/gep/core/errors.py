"""Errors that reach the user.

``InputError`` is for anything the user can fix (a file, a key, a value): the CLI prints its one-line
message and exits with code 2. Anything else is an internal error (exit 1).
"""

from __future__ import annotations


class InputError(Exception):
    """A problem with the user's input; ``str(err)`` is one line: what, where, and what to do."""

    def __init__(self, message: str, *, problems: list[str] | None = None):
        self.problems = list(problems) if problems else [message]
        super().__init__(message)

    @classmethod
    def many(cls, problems: list[str]) -> "InputError":
        """Bundle several one-line problems into one error (all reported together)."""
        head = f"{len(problems)} problem(s) found in the inputs" if len(problems) > 1 else problems[0]
        return cls(head, problems=problems)

    def lines(self) -> list[str]:
        return self.problems

    def __reduce__(self):
        # raised inside a dask worker process, the error travels back pickled: keep every problem line
        return (self.__class__, (str(self),), {"problems": self.problems})


def problem(where: str, what: str, fix: str) -> str:
    """Format one problem as a single line: ``where: what; fix``."""
    return f"{where}: {what}; {fix}"


class ConservationError(RuntimeError):
    """An accounting identity failed (Σ classes + nodata ≠ region area): a bug or corrupt input, never ignored."""
