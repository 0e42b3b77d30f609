"""The office's reference data: one school characteristic per school location and school year.

CBS's *schoolweging* (20 to 40; higher means a population whose results are expected to
be lower) comes from CBS's own registers, never from a school's delivery. The file is
``brinvest;schooljaar;schoolweging`` with a header, one row per school and year; a decimal
point or comma. A fourth column ``provincie`` may name the school's province (one of the
twelve, as :data:`PROVINCES` spells them; empty when unknown), for the public tables by
region. It is judged as a whole: one bad line and nothing is loaded, and every problem is
reported with its line, as the LVS imports are.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "schoolweging.csv"
>>> _ = path.write_text("brinvest;schooljaar;schoolweging\\n12AB00;2025-2026;31,4\\n")
>>> [(r.school.code, str(r.year), r.weging) for r in read_reference(path).rows]
[('12AB00', '2025-2026', 31.4)]
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import CohortsafeError

__all__ = [
    "PROVINCES",
    "REFERENCE_COLUMNS",
    "REGION_COLUMN",
    "WEGING_RANGE",
    "ReferenceFile",
    "ReferenceRow",
    "read_reference",
]

REFERENCE_COLUMNS = ("brinvest", "schooljaar", "schoolweging")
REGION_COLUMN = "provincie"
#: the twelve provinces, as CBS names them (a region is a public code, never free text)
PROVINCES: tuple[str, ...] = (
    "Groningen",
    "Fryslân",
    "Drenthe",
    "Overijssel",
    "Flevoland",
    "Gelderland",
    "Utrecht",
    "Noord-Holland",
    "Zuid-Holland",
    "Zeeland",
    "Noord-Brabant",
    "Limburg",
)
_PROVINCE_OF = {p.lower(): p for p in PROVINCES} | {"friesland": "Fryslân", "fryslan": "Fryslân"}
WEGING_RANGE = (20.0, 40.0)
_MOST_BYTES = 50 * 1024 * 1024  # the country's schools over decades take well under 1 MB
_MOST_PROBLEMS = 50


@dataclass(frozen=True)
class ReferenceRow:
    school: SchoolCode
    year: SchoolYear
    weging: float
    province: str | None = None


@dataclass(frozen=True)
class ReferenceFile:
    """The rows of a file, or why it cannot be loaded (``problems``: line, reason)."""

    rows: tuple[ReferenceRow, ...]
    problems: tuple[tuple[int, str], ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.problems and bool(self.rows)


def _weging(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    low, high = WEGING_RANGE
    return value if math.isfinite(value) and low <= value <= high else None


def read_reference(path: Path) -> ReferenceFile:
    """Read and check ``path``; raises (OSError) only when it cannot be read at all."""
    with path.open("rb") as handle:
        data = handle.read(_MOST_BYTES + 1)
    if len(data) > _MOST_BYTES:
        return ReferenceFile((), ((0, "the file is larger than 50 MB: this is no reference file"),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ReferenceFile((), ((0, "the file is not UTF-8 text"),))
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = [c.strip().lower() for c in lines[0]] if lines else []
    if header not in (list(REFERENCE_COLUMNS), [*REFERENCE_COLUMNS, REGION_COLUMN]):
        wanted = ";".join(REFERENCE_COLUMNS)
        return ReferenceFile(
            (), ((1, f"the first line must be the header {wanted} (and ;{REGION_COLUMN})"),)
        )
    width = len(header)
    rows: list[ReferenceRow] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        found = _row(cells, width)
        if isinstance(found, str):
            problems.append((number, found))
        else:
            key = (found.school.code, str(found.year))
            if key in seen:
                problems.append((number, f"the school and year of line {seen[key]} again"))
            else:
                seen[key] = number
                rows.append(found)
        if len(problems) >= _MOST_PROBLEMS:
            break
    if not rows and not problems:
        problems.append((2, "the file holds no rows"))
    return ReferenceFile(tuple(rows), tuple(problems))


def _row(cells: list[str], width: int) -> ReferenceRow | str:
    """One line's row, or why it is wrong (never quoting the line: it may be anything)."""
    if len(cells) != width:
        return f"{len(cells)} fields, where there must be {width}"
    code, year, weging = (c.strip() for c in cells[:3])
    province = None
    if width > len(REFERENCE_COLUMNS) and cells[3].strip():
        province = _PROVINCE_OF.get(cells[3].strip().lower())
        if province is None:
            return "the provincie is not one of the twelve provinces (e.g. Utrecht)"
    try:
        school = SchoolCode.parse(code.upper())
    except CohortsafeError:
        return "the brinvest is not a BRIN code and vestiging number (e.g. 12AB00)"
    try:
        period = SchoolYear.parse(year)
    except CohortsafeError:
        return "the schooljaar is not a school year (e.g. 2025-2026)"
    value = _weging(weging)
    if value is None:
        low, high = WEGING_RANGE
        return f"the schoolweging is not a number from {low:g} to {high:g}"
    return ReferenceRow(school, period, value, province)
