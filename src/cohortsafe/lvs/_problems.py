"""A problem with an export: where it is and why, never the offending value.

One systematic error (a date column in the wrong form) fails every row of a
file; :func:`group_problems` folds such problems into one group per file,
column and reason, with the count and every line, so a report stays short.

>>> ps = [Problem("t.csv", n, "afnamedatum", "not a date") for n in range(2, 1002)]
>>> (group,) = group_problems(ps)
>>> print(group)
t.csv [afnamedatum]: not a date — 1,000 rows, lines 2, 3, 4, 5, 6 …
>>> print(group_problems(ps[:1])[0])
t.csv:2 [afnamedatum]: not a date
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "ProblemGroup", "group_problems"]

#: How many line numbers the text of a group shows; the JSON keeps all of them.
SHOWN_LINES = 5


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an export is rejected: file, line (header = 1), column, reason."""

    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """The problems of one file, column and reason: how many, and on which lines."""

    file: str
    column: str | None
    reason: str
    count: int
    lines: tuple[int, ...]  # every line, in order; empty for a problem of the whole file

    def __str__(self) -> str:
        if self.count == 1:
            line = self.lines[0] if self.lines else None
            return str(Problem(self.file, line, self.column, self.reason))
        where = self.file + (f" [{self.column}]" if self.column else "")
        shown = ", ".join(str(n) for n in self.lines[:SHOWN_LINES])
        more = " …" if len(self.lines) > SHOWN_LINES else ""
        at = f", lines {shown}{more}" if self.lines else ""
        return f"{where}: {self.reason} — {self.count:,} rows{at}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "column": self.column,
            "reason": self.reason,
            "count": self.count,
            "lines": list(self.lines),
        }


def group_problems(problems: Iterable[Problem]) -> list[ProblemGroup]:
    """One group per (file, column, reason), in the order each first occurs."""
    lines: dict[tuple[str, str | None, str], list[int]] = {}
    counts: dict[tuple[str, str | None, str], int] = {}
    for p in problems:
        key = (p.file, p.column, p.reason)
        counts[key] = counts.get(key, 0) + 1
        found = lines.setdefault(key, [])
        if p.line is not None:
            found.append(p.line)
    return [
        ProblemGroup(file, column, reason, counts[(file, column, reason)], tuple(sorted(found)))
        for (file, column, reason), found in lines.items()
    ]
