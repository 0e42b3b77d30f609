"""Vectorised parsers for the text columns of an export.

Each parser turns a column of trimmed text into typed values and flags the rows
it cannot accept. Work per row stays in Arrow and NumPy; Python only sees each
*distinct* code once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.lvs._problems import Problem

_DUTCH_DATE = r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})$"
_ISO_DATE = r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$"
_INTEGER = r"^\d{1,9}$"
_DECIMAL = r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$"


class Checker:
    """Collects the rows of one file that fail a check, with the line of each."""

    def __init__(self, file: str, lines: np.ndarray) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def flag(self, column: str | None, bad: np.ndarray, reason: str) -> None:
        for index in np.flatnonzero(bad):
            self.problems.append(Problem(self.file, int(self.lines[index]), column, reason))

    def flag_row(self, column: str | None, index: int, reason: str) -> None:
        self.problems.append(Problem(self.file, int(self.lines[index]), column, reason))


def _mask(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as NumPy, nulls as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def is_empty(values: pa.Array) -> np.ndarray:
    return _mask(pc.equal(pc.utf8_length(values), 0))


def text(
    check: Checker, column: str, values: pa.Array, *, required: bool, max_length: int = 200
) -> pa.Array:
    """Free text: required ones may not be empty; empty optional ones become null."""
    empty = is_empty(values)
    if required:
        check.flag(column, empty, "value is missing")
    check.flag(
        column,
        _mask(pc.greater(pc.utf8_length(values), max_length)),
        f"value is longer than {max_length} characters",
    )
    if required:
        return values
    return pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), values)


def integer(
    check: Checker, column: str, values: pa.Array, low: int, high: int, arrow_type: pa.DataType
) -> pa.Array:
    """Whole numbers between ``low`` and ``high``."""
    empty = is_empty(values)
    shape_ok = _mask(pc.match_substring_regex(values, _INTEGER))
    check.flag(column, empty, "value is missing")
    check.flag(column, ~empty & ~shape_ok, "not a whole number")
    numbers = np.zeros(len(values), dtype=np.int64)
    if shape_ok.any():
        numbers[shape_ok] = np.asarray(
            pc.cast(values.filter(pa.array(shape_ok)), pa.int64()).to_numpy()
        )
    out_of_range = shape_ok & ((numbers < low) | (numbers > high))
    check.flag(column, out_of_range, f"must be between {low} and {high}")
    return pa.array(numbers, type=pa.int64()).cast(arrow_type, safe=False)


def decimal(check: Checker, column: str, values: pa.Array, low: float, high: float) -> pa.Array:
    """Decimal numbers with a comma or a point, between ``low`` and ``high``."""
    empty = is_empty(values)
    shape_ok = _mask(pc.match_substring_regex(values, _DECIMAL))
    check.flag(column, empty, "value is missing")
    check.flag(column, ~empty & ~shape_ok, "not a number")
    numbers = np.zeros(len(values), dtype=np.float64)
    if shape_ok.any():
        dotted = pc.replace_substring(values.filter(pa.array(shape_ok)), ",", ".")
        numbers[shape_ok] = np.asarray(pc.cast(dotted, pa.float64()).to_numpy())
    check.flag(
        column,
        shape_ok & ((numbers < low) | (numbers > high)),
        f"must be between {low:g} and {high:g}",
    )
    return pa.array(numbers, type=pa.float64())


def _date_parts(values: pa.Array, pattern: str) -> tuple[np.ndarray, ...]:
    parts = pc.extract_regex(values, pattern)
    matched = _mask(pc.is_valid(parts))
    out = []
    for key in ("y", "m", "d"):
        field = pc.struct_field(parts, key)
        ints = pc.cast(pc.fill_null(field, "0"), pa.int64())
        out.append(np.asarray(ints.to_numpy(zero_copy_only=False), dtype=np.int64))
    return matched, out[0], out[1], out[2]


def date(
    check: Checker,
    column: str,
    values: pa.Array,
    *,
    not_after: dt.date | None = None,
    not_before: dt.date | None = None,
) -> pa.Array:
    """Dates written ``dd-mm-jjjj`` (or with / or .) or ISO ``jjjj-mm-dd`` that exist.

    Rows it rejects come back as null.
    """
    empty = is_empty(values)
    dutch, y1, m1, d1 = _date_parts(values, _DUTCH_DATE)
    iso, y2, m2, d2 = _date_parts(values, _ISO_DATE)
    year = np.where(dutch, y1, y2)
    month = np.where(dutch, m1, m2)
    day = np.where(dutch, d1, d2)
    shaped = dutch | iso
    check.flag(column, empty, "value is missing")
    check.flag(column, ~empty & ~shaped, "not a date (dd-mm-jjjj or jjjj-mm-dd)")

    plausible = shaped & (year >= 1900) & (year <= 2999) & (month >= 1) & (month <= 12)
    safe_year = np.where(plausible, year, 2000)
    safe_month = np.where(plausible, month, 1)
    first = ((safe_year - 1970) * 12 + (safe_month - 1)).astype("datetime64[M]")
    days_in_month = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(
        np.int64
    )
    exists = plausible & (day >= 1) & (day <= days_in_month)
    check.flag(column, shaped & ~exists, "date does not exist")
    days = first.astype("datetime64[D]") + np.where(exists, day - 1, 0)
    accepted = exists
    if not_after is not None:
        future = exists & (days > np.datetime64(not_after))
        check.flag(column, future, "date lies in the future")
        accepted = exists & ~future
    if not_before is not None:
        early = exists & (days < np.datetime64(not_before))
        check.flag(column, early, f"date lies before {not_before:%d-%m-%Y}")
        accepted = accepted & ~early
    # A rejected date becomes null, so later checks of the same cell (within the school
    # year?) skip it instead of reporting the one mistake a second time.
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=~accepted)


def code(
    check: Checker,
    column: str,
    values: pa.Array,
    mapper: Callable[[str], str | None],
    *,
    required: bool = True,
    what: str = "code",
) -> pa.Array:
    """Map each distinct value through ``mapper``; rows it rejects are flagged."""
    encoded = values.dictionary_encode()
    mapped = [mapper(v) if v else None for v in encoded.dictionary.to_pylist()]
    result = pa.array(mapped, type=pa.string()).take(encoded.indices)
    empty = is_empty(values)
    unknown = _mask(pc.is_null(result)) & ~empty
    if required:
        check.flag(column, empty, "value is missing")
    check.flag(column, unknown, f"unknown {what}")
    return result


def duplicates(keys: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose key repeats an earlier row: (their indices, the index of the first)."""
    table = pa.table({f"k{i}": key for i, key in enumerate(keys)})
    table = table.append_column("row", pa.array(np.arange(table.num_rows)))
    first = table.group_by([f"k{i}" for i in range(len(keys))], use_threads=False).aggregate(
        [("row", "min")]
    )
    if first.num_rows == table.num_rows:
        # the usual case, and the join below costs milliseconds even for a small file
        none = np.zeros(0, dtype=np.int64)
        return none, none
    joined = table.join(first, [f"k{i}" for i in range(len(keys))], join_type="inner")
    rows = np.asarray(joined.column("row").to_numpy())
    firsts = np.asarray(joined.column("row_min").to_numpy())
    repeat = rows != firsts
    order = np.argsort(rows[repeat])
    return rows[repeat][order], firsts[repeat][order]
