"""The office refuses free text with an identifier, whatever the school's software let through.

The deliveries are crafted as a school that skipped its own checks would sign them;
the scan then finds an identifier planted inside a cell of a vault file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cohortsafe.app.office import services
from cohortsafe.domain import SchoolYear
from tests.office.kit import BSNS, ONDERWIJSNUMMERS, Office, pupils, tables

pytestmark = pytest.mark.django_db
PERIOD = SchoolYear(2024)


def _crafted(table: str, column: str, value: str) -> dict[str, pa.Table]:
    raw = tables(pupils(3), PERIOD)
    rows = raw[table]
    index = rows.schema.get_field_index(column)
    cells = rows.column(column).to_pylist()
    cells[1] = value
    if column == "toets":  # an honest name beside it, whose digits are no BSN
        cells[0] = "Cito LVS 3.0 2024-2025 Rekenen (M6)"
    raw[table] = rows.set_column(index, rows.schema.field(index), pa.array(cells, pa.string()))
    return raw


ATTACKS = [
    ("toetsresultaten", "toets", f"Cito M6 {BSNS[1]}", "BSN or onderwijsnummer"),
    ("toetsresultaten", "toets", f"Cito {ONDERWIJSNUMMERS[1]}", "BSN or onderwijsnummer"),
    ("toetsresultaten", "toets", "Cito 1234.56.782", "BSN or onderwijsnummer"),
    ("toetsresultaten", "toets", "Cito zie piet@school.nl", "characters other than"),
    ("toetsresultaten", "toets", "Cito " + "x" * 80, "longer than 80"),
    ("toetsresultaten", "schaal", ONDERWIJSNUMMERS[0], "outside the code list"),
    ("toetsresultaten", "schaal", f"cito-vs-3.0 {ONDERWIJSNUMMERS[0]}", "outside the code list"),
    ("leerlingen", "huisnummertoevoeging", BSNS[4], "BSN or onderwijsnummer"),
    ("leerlingen", "huisnummertoevoeging", "A\nB", "characters other than"),
]


@pytest.mark.parametrize(("table", "column", "value", "reason"), ATTACKS)
def test_a_delivery_with_an_identifier_in_free_text_is_refused(
    office: Office, table: str, column: str, value: str, reason: str
) -> None:
    path = office.delivery([], PERIOD, raw_tables=_crafted(table, column, value))
    (report,) = office.receive(path)
    assert report.status == "refused"
    assert report.reason is not None
    assert f"{table}.{column}: 1 row(s)" in report.reason
    assert reason in report.reason
    for secret in (value, *BSNS, *ONDERWIJSNUMMERS, "piet"):
        assert secret not in report.reason
    with services.open_vault() as vault:
        assert vault.table("toetsresultaten").num_rows == 0


@pytest.mark.parametrize(
    ("cell", "looks_like"),
    [
        (f"Cito M6 {BSNS[1]}", "a BSN or onderwijsnummer"),
        (f"{ONDERWIJSNUMMERS[0]} spelling", "a BSN or onderwijsnummer"),
        ("Rekenen 1234.56.782", "a BSN or onderwijsnummer"),
        ("Rekenen Daan", "a name"),
        ("Spelling (van der Meer)", "a name"),
    ],
)
def test_the_scan_finds_an_identifier_inside_a_cell(
    office: Office, home: Path, cell: str, looks_like: str
) -> None:
    office.receive(office.delivery(pupils(2)))
    assert services.scan_vault(actor="test") == []
    pq.write_table(
        pa.table({"toets": ["Cito Rekenen", cell, cell]}),
        home / "vault" / "data" / "stray.parquet",
    )
    found = services.scan_vault(actor="test")
    assert [(f.where, f.column, f.looks_like, f.values) for f in found] == [
        ("data/stray.parquet", "toets", looks_like, 1)
    ]
    assert cell not in str(found[0])
