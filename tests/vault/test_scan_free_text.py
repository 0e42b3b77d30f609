"""The scan finds an identifier inside a cell, and not in the digit runs of hex pseudonyms."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cohortsafe.vault import scan
from tests.exportkit import BSNS, ONDERWIJSNUMMERS


def test_identifiers_inside_text_are_found_and_pseudonyms_are_not(tmp_path: Path) -> None:
    pseudonyms = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5000)]
    n = len(pseudonyms)
    tests = ["Cito LVS Rekenen-Wiskunde", "Cito LVS 3.0 2024-2025", f"Cito M6 {BSNS[1]}"]
    pq.write_table(
        pa.table(
            {
                "pupil": pseudonyms,
                "toets": [tests[i % 3] for i in range(n)],
                "schaal": [
                    f"iep-vs {ONDERWIJSNUMMERS[0]}" if i == 7 else "iep-vs" for i in range(n)
                ],
                "opmerking": ["Emma Rekenen" if i == 3 else "" for i in range(n)],
            }
        ),
        tmp_path / "t.parquet",
    )
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"))
    con.execute("CREATE TABLE files (path VARCHAR, tbl VARCHAR, schooljaar VARCHAR, rows BIGINT)")
    con.execute("CREATE TABLE deliveries (note VARCHAR)")
    con.execute("INSERT INTO deliveries VALUES ('received 1234.56.782'), ('fine')")
    con.close()
    found = {(f.where, f.column, f.looks_like, f.values) for f in scan(tmp_path)}
    assert found == {
        ("t.parquet", "toets", "a BSN or onderwijsnummer", 1),
        ("t.parquet", "schaal", "a BSN or onderwijsnummer", 1),
        ("t.parquet", "opmerking", "a name", 1),
        ("catalog.duckdb:deliveries", "note", "a BSN or onderwijsnummer", 1),
    }
