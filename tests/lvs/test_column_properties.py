"""Property tests of the vectorised parsers against Python's own understanding."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.lvs import _columns as col


def _checker(n: int) -> col.Checker:
    return col.Checker("f.csv", np.arange(2, n + 2))


@given(
    st.lists(st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)), min_size=1, max_size=30),
    st.booleans(),
)
def test_existing_dates_parse_in_both_notations(days: list[dt.date], dutch: bool) -> None:
    text = [d.strftime("%d-%m-%Y") if dutch else d.isoformat() for d in days]
    check = _checker(len(days))
    parsed = col.date(check, "d", pa.array(text))
    assert check.problems == []
    assert parsed.to_pylist() == days


@given(st.integers(1900, 2999), st.integers(0, 13), st.integers(0, 32))
def test_a_date_is_accepted_exactly_when_it_exists(year: int, month: int, day: int) -> None:
    try:
        dt.date(year, month, day)
        exists = True
    except ValueError:
        exists = False
    check = _checker(1)
    col.date(check, "d", pa.array([f"{day:02d}-{month:02d}-{year}"]))
    assert (check.problems == []) == exists


@given(
    st.lists(st.decimals(-999, 9999, places=2, allow_nan=False), min_size=1, max_size=20),
    st.booleans(),
)
def test_decimals_with_comma_or_point(values: list[object], comma: bool) -> None:
    text = [str(v).replace(".", ",") if comma else str(v) for v in values]
    check = _checker(len(values))
    parsed = col.decimal(check, "x", pa.array(text), -1000, 10000)
    assert check.problems == []
    assert parsed.to_pylist() == [float(str(v)) for v in values]


@given(st.lists(st.text(max_size=6), min_size=1, max_size=20))
def test_integers_are_accepted_exactly_when_python_agrees(texts: list[str]) -> None:
    stripped = [t.strip() for t in texts]
    check = _checker(len(texts))
    col.integer(check, "n", pa.array(stripped), 1, 8, pa.int8())
    flagged = {p.line for p in check.problems}
    for index, text in enumerate(stripped):
        ok = text.isascii() and text.isdigit() and 1 <= int(text) <= 8
        assert (index + 2 not in flagged) == ok
