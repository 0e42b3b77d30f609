"""The export's free text that would leave the school: no identifier, no pupil's name.

Checked on the text as read, apart from the other rules of each column, so a
value is judged even when its row or its file has other problems; the length
is checked with the column's other rules.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

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
    # every column in one check: each regex is compiled once per export, not once per column
    present = [
        (files[f"{table}.csv"], column) for table, column in FREE_TEXT if f"{table}.csv" in files
    ]
    if not present:
        return []
    values = pa.concat_arrays([f.columns[column] for f, column in present])
    bounds = np.cumsum([0, *(f.num_rows for f, _ in present)])
    checks = [col.Checker(f.file, f.lines) for f, _ in present]
    for reason, rows in refusals(values, names=names):
        for (_, column), check, start, end in zip(
            present, checks, bounds, bounds[1:], strict=False
        ):
            check.flag(column, rows[start:end], reason)
    return [p for check in checks for p in check.problems]
