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
    present = {key: files[f"{key[0]}.csv"] for key in FREE_TEXT if f"{key[0]}.csv" in files}
    checks = {key: col.Checker(f.file, f.lines) for key, f in present.items()}
    columns = {key: f.columns[key[1]] for key, f in present.items()}
    # the lengths are checked with each column's other rules
    for key, reason, rows in refusals(columns, lengths=False, names=names):
        checks[key].flag(key[1], rows, reason)
    return [p for check in checks.values() for p in check.problems]
