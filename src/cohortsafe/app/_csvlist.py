"""Small CSV lists people write by hand (one row per school), read with line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cohortsafe.domain import SchoolCode
from cohortsafe.errors import IdentifierError
from cohortsafe.lvs import Problem

__all__ = ["CsvList", "read_list"]


@dataclass
class CsvList:
    """The rows (line number, values by lower-case column) and the problems that reject the list."""

    name: str = ""
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def by_school(self, problems: list[Problem]) -> Iterator[tuple[int, str, dict[str, str]]]:
        """(line, BRINVEST, row) for each row whose ``school`` is a valid code seen once.

        A malformed or repeated code is added to ``problems`` and its row skipped.
        """
        seen: dict[str, int] = {}
        for line, row in self.rows:
            try:
                code = SchoolCode.parse(row["school"]).code
            except IdentifierError as error:
                problems.append(Problem(self.name, line, "school", str(error)))
                continue
            if code in seen:
                problems.append(Problem(self.name, line, "school", f"also on line {seen[code]}"))
                continue
            seen[code] = line
            yield line, code, row


def read_list(path: Path, required: tuple[str, ...]) -> CsvList:
    """Read ``path`` (UTF-8, ``,`` or ``;``); every column in ``required`` must be present."""
    name = path.name
    if not path.is_file():
        return CsvList(problems=[Problem(name, None, None, "file does not exist")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else "cannot be read"
        return CsvList(problems=[Problem(name, None, None, reason)])
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return CsvList(problems=[Problem(name, 1, None, "no header line")])
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in required if c not in header]
    if missing:
        return CsvList(
            problems=[Problem(name, 1, c, "required column is missing") for c in missing]
        )
    found = CsvList(name)
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            found.problems.append(
                Problem(name, line, None, f"{len(values)} fields, the header has {len(header)}")
            )
            continue
        found.rows.append((line, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    if not found.rows and not found.problems:
        found.problems.append(Problem(name, None, None, "the list holds no rows"))
    return found
