"""Code lists and school years."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.domain import SchoolYear, childcare_code, domain_code, moment_code, sex_code
from cohortsafe.errors import IdentifierError


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Rekenen-Wiskunde", "rekenen_wiskunde"),
        ("rekenen", "rekenen_wiskunde"),
        ("Begrijpend lezen", "begrijpend_lezen"),
        ("Spelling", "spelling"),
        ("Technisch lezen", "technisch_lezen"),
        ("DMT", "technisch_lezen"),
        ("Woordenschat", "woordenschat"),
        ("Geschiedenis", None),
    ],
)
def test_leergebied_labels(label: str, code: str | None) -> None:
    assert domain_code(label) == code


def test_other_codes() -> None:
    assert [moment_code(x) for x in ("M", "e", "Eind", "B")] == ["M", "E", "E", None]
    assert [sex_code(x) for x in ("m", "V", "X", "O", "?")] == ["M", "V", "X", "X", None]
    assert [childcare_code(x) for x in ("KDV", "Peuterspeelzaal", "VVE", "oppas")] == [
        "kinderdagverblijf",
        "peuterspeelzaal",
        "vve",
        None,
    ]


@given(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
def test_every_day_falls_in_exactly_one_school_year(day: dt.date) -> None:
    year = SchoolYear.containing(day)
    assert year.first_day <= day <= year.last_day
    assert SchoolYear.parse(str(year)) == year


@pytest.mark.parametrize("text", ["2025-2027", "2025", "25-26", "2026-2025"])
def test_malformed_school_years(text: str) -> None:
    with pytest.raises(IdentifierError):
        SchoolYear.parse(text)


def test_spans_run_forward() -> None:
    assert len(SchoolYear.span("2020-2021..2025-2026")) == 6
    with pytest.raises(IdentifierError):
        SchoolYear.span("2025-2026..2020-2021")
