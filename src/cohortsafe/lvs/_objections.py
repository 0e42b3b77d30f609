"""Reading a list of objections exported by the school's administration system (LAS).

The list names the pupil by leerlingnummer and the date the objection was
received; a column with who objected (``van``, ``naam`` or ``ouder``) is used
when present. Like an export, the list is accepted whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cohortsafe.lvs import _columns as col
from cohortsafe.lvs._csvfile import read_columns
from cohortsafe.lvs._problems import Problem

_FROM_COLUMNS = ("van", "naam", "ouder", "ouder_verzorger")
_DATE_COLUMNS = ("datum", "ontvangen", "datum_bezwaar")


@dataclass(frozen=True)
class ObjectionRow:
    line: int
    leerlingnummer: str
    received_on: dt.date | None  # None when the date was rejected
    received_from: str | None


def read_objection_list(path: Path, *, today: dt.date) -> tuple[list[ObjectionRow], list[Problem]]:
    """The rows of the list and the problems that reject it (file, line, column).

    Rows come back even when there are problems, so the caller can check the
    leerlingnummers against its register and report everything in one pass.
    """
    if not path.is_file():
        return [], [Problem(path.name, None, None, "file does not exist")]
    f = read_columns(path)
    if f.problems and not f.columns:
        return [], f.problems
    problems = list(f.problems)
    date_column = next((c for c in _DATE_COLUMNS if c in f.columns), None)
    for required, present in (
        ("leerlingnummer", "leerlingnummer" in f.columns),
        ("datum", date_column is not None),
    ):
        if not present:
            problems.append(Problem(path.name, 1, required, "required column is missing"))
    if problems:
        return [], problems
    assert date_column is not None  # checked just above
    check = col.Checker(path.name, f.lines)
    numbers = col.text(
        check, "leerlingnummer", f.columns["leerlingnummer"], required=True, max_length=20
    )
    days = col.date(check, date_column, f.columns[date_column], not_after=today)
    rows_repeated, firsts = col.duplicates([numbers])
    for row, first in zip(rows_repeated, firsts, strict=True):
        check.flag_row("leerlingnummer", int(row), f"leerlingnummer also on line {f.lines[first]}")
    from_column = next((c for c in _FROM_COLUMNS if c in f.columns), None)
    who = f.columns[from_column].to_pylist() if from_column else [None] * f.num_rows
    bad_date = {p.line for p in check.problems if p.column == date_column}
    rows = [
        ObjectionRow(int(line), number, None if line in bad_date else day, name or None)
        for line, number, day, name in zip(
            f.lines, numbers.to_pylist(), days.to_pylist(), who, strict=True
        )
        if number
    ]
    return rows, check.problems
