"""The export's free text that would leave the school: no identifier, no pupil's name.

Checked on the text as read, apart from the other rules of each column, so a
value is judged even when its row or its file has other problems; the length
is checked with the column's other rules.
"""

from __future__ import annotations

from cohortsafe.domain.freetext import FREE_TEXT, NameMatcher, refusals
from cohortsafe.lvs import _columns as col
from cohortsafe.lvs._csvfile import CsvColumns
from cohortsafe.lvs._problems import Problem

__all__ = ["free_text_problems"]


def free_text_problems(files: dict[str, CsvColumns]) -> list[Problem]:
    """Every delivered free-text cell that holds a BSN, onderwijsnummer or pupil's name."""
    pupils = files.get("leerlingen.csv")
    names = None
    if pupils is not None:
        c = pupils.columns
        names = NameMatcher.of_pupils(c["voornamen"], c["tussenvoegsel"], c["achternaam"])
    problems: list[Problem] = []
    for table, column in FREE_TEXT:
        f = files.get(f"{table}.csv")
        if f is None:
            continue
        check = col.Checker(f.file, f.lines)
        for reason, rows in refusals(f.columns[column], names=names):
            check.flag(column, rows, reason)
        problems += check.problems
    return problems
