"""Batched checking and preparing give exactly what one delivery at a time gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.pseudonym import KeyChain, OfficePseudonyms, PseudonymKey
from cohortsafe.vault import (
    prepare_deliveries,
    prepare_delivery,
    validate_deliveries,
    validate_delivery,
)
from tests.office.kit import ONDERWIJSNUMMERS, Pupil, pupils, tables

KEYS = OfficePseudonyms(
    KeyChain((PseudonymKey("p", "pupil", "11" * 32),)),
    KeyChain((PseudonymKey("s", "school", "22" * 32),)),
    KeyChain((PseudonymKey("l", "link", "33" * 32),)),
)


def _manifest(
    school: SchoolCode, period: SchoolYear, n: int, study: str | None = None
) -> dict[str, Any]:
    return {
        "delivery_id": f"d{n}",
        "school": {"brin": school.brin, "vestiging": school.vestiging},
        "period": str(period),
        "created_at": f"2026-0{n}-01T00:00:00",
        "domains": ["rekenen_wiskunde", "begrijpend_lezen", "spelling"],
        "study": study,
    }


def _batch() -> list[tuple[dict[str, Any], dict[str, pa.Table]]]:
    a, b = SchoolCode("12AB", "00"), SchoolCode("34CD", "01")
    bad = tables(pupils(3), SchoolYear(2024), b)
    bad["toetsresultaten"] = bad["toetsresultaten"].set_column(
        4, "schooljaar", pa.array(["2023-2024"] * bad["toetsresultaten"].num_rows)
    )
    temporary = Pupil(ONDERWIJSNUMMERS[0], born=dt.date(2017, 5, 1))
    return [
        (
            _manifest(a, SchoolYear(2024), 1, "S"),
            tables(pupils(4), SchoolYear(2024), a, special=True),
        ),
        (_manifest(b, SchoolYear(2024), 2), bad),
        (_manifest(a, SchoolYear(2025), 3), tables([*pupils(2), temporary], SchoolYear(2025), a)),
    ]


def test_problems_land_on_the_delivery_they_belong_to() -> None:
    batch = _batch()
    together = validate_deliveries(batch)
    assert together == [validate_delivery(m, t) for m, t in batch]
    assert together[0] == []
    assert together[2] == []
    assert together[1] == [
        "toetsresultaten.schooljaar: 6 row(s) with another school year than the package's"
    ]


def test_a_pupil_of_another_delivery_is_still_unknown() -> None:
    (first, second, _) = _batch()
    foreign = first[1]["leerlingen"].column("pgn")[3]  # a pupil of the first delivery only
    stray = second[1]["voorschool"].set_column(0, "pgn", pa.array([foreign] * 3))
    problems = validate_deliveries([first, (second[0], {**second[1], "voorschool": stray})])
    assert problems[0] == []
    assert any("voorschool.pgn" in p for p in problems[1])


def test_batched_rows_equal_one_by_one() -> None:
    batch = [item for i, item in enumerate(_batch()) if i != 1]
    together = prepare_deliveries(batch, KEYS)
    alone = [prepare_delivery(m, t, KEYS) for m, t in batch]
    for mine, reference in zip(together, alone, strict=True):
        assert mine.delivery_id == reference.delivery_id
        assert mine.school == reference.school
        assert sorted(mine.tables) == sorted(reference.tables)
        for name in mine.tables:
            assert mine.tables[name].equals(reference.tables[name]), name
        assert mine.linkage.equals(reference.linkage)
    assert "bijzonder" in together[0].tables
    assert "bijzonder" not in together[1].tables
