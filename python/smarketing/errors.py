"""Exceptions raised by smarketing.

Every error from the C++ core arrives as one of these, with the problems the
core found attached: a Playbook lists all of its mistakes at once, a lead or a
table names the field, column and row to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "SmarketingError",
    "Problem",
    "PlaybookError",
    "LeadError",
    "ColumnError",
    "InputError",
    "DataWarning",
]


@dataclass(frozen=True)
class Problem:
    """One mistake, with where it is.

    Attributes:
        path: The offending field, e.g. ``personas[2].criteria[0].weight``, or
            for tables ``leads.<column>`` / ``events.<column>``.
        message: What is wrong and, where possible, what would be right.
        line: 1-based line in the source document; 0 when unknown.
        column: 1-based column in the source document; 0 when unknown.
        file: The source document, when known.
    """

    path: str
    message: str
    line: int = 0
    column: int = 0
    file: str = ""

    def __str__(self) -> str:
        where = ""
        if self.file:
            where += f"{self.file}:"
        if self.line:
            where += f"{self.line}:{self.column}:"
        prefix = f"{where} " if where else ""
        path = f"{self.path}: " if self.path else ""
        return f"{prefix}{path}{self.message}"


class SmarketingError(Exception):
    """Base class of every smarketing error.

    Attributes:
        problems: Every problem found, possibly empty.
        code: The core's status code name (``INVALID_ARGUMENT``, ``NOT_FOUND``...).
    """

    def __init__(self, message: str, problems: Sequence[Problem] = (), code: str = "") -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems)
        self.code = code


class PlaybookError(SmarketingError, ValueError):
    """A Playbook that cannot be read or is not valid; ``problems`` lists every mistake."""


class LeadError(SmarketingError, ValueError):
    """A lead the core refuses.

    Attributes:
        path: The field to fix, e.g. ``leads[17].events[3].occurred_at``.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = (), code: str = "") -> None:
        super().__init__(message, problems, code)
        self.path = self.problems[0].path if self.problems else ""


class ColumnError(LeadError, KeyError):
    """A table column that cannot be read: missing, unknown, of the wrong type, or
    holding a value that is not allowed (None, NaN) where one is required.

    Attributes:
        table: ``"leads"`` or ``"events"``.
        column: The column's name.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = (), code: str = "") -> None:
        super().__init__(message, problems, code)
        table, _, column = self.path.partition(".")
        self.table = table
        self.column = column

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class InputError(SmarketingError, ValueError):
    """An argument or file smarketing cannot use (bad bytes, unknown format, unreadable file)."""


def _from_status(subject: str, code: str, message: str,
                 problems: Sequence[tuple[str, str, int, int, str]]) -> SmarketingError:
    """Builds the exception for a core status; called by the native module only."""
    found = [Problem(path, text, line, column, file)
             for path, text, line, column, file in problems]
    paths = [p.path for p in found]
    if code in ("NOT_FOUND", "DATA_LOSS"):
        return InputError(message, found, code)
    if any(p.startswith(("leads.", "events.")) for p in paths):
        return ColumnError(message, found, code)
    if subject == "playbook":
        return PlaybookError(message, found, code)
    if subject == "lead":
        return LeadError(message, found, code)
    return InputError(message, found, code)


class DataWarning(UserWarning):
    """Data that the Playbook's conditions cannot read as intended: scores
    are computed, but some rules silently never match (numbers or booleans
    written as text, keys with dots, types changing between rows).

    Raised as a warning by :func:`smarketing.score_frame`, once per column;
    :func:`smarketing.check_data` lists every problem.

    Attributes:
        kind: ``"number_as_text"``, ``"bool_as_text"``, ``"type_mismatch"``,
            ``"mixed_types"`` or ``"unreachable_key"``.
        column: The data column, e.g. ``"leads.attributes.age"``.
        rule: The Playbook path of the condition, e.g.
            ``"fit_rules[3].when.range"`` ("" for a column's own problem).
    """

    def __init__(self, message: str, kind: str = "", column: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.column = column
        self.rule = rule
