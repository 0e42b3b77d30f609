"""Synthetic growth data for the publication tests: a vault-shaped results table in DuckDB."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import numpy as np
import pyarrow as pa

PERIOD = "2025-2026"
DOMAINS = ("rekenen_wiskunde", "begrijpend_lezen", "spelling")


def results(
    sizes: Mapping[str, Mapping[int, int]],
    *,
    seed: int = 1,
    scale: Mapping[str, str] | None = None,
    effect: Mapping[str, float] | None = None,
) -> pa.Table:
    """M and E results of every pupil: ``sizes[school][jaargroep]`` pupils per group."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "school",
            "pupil",
            "schooljaar",
            "leergebied",
            "toetsmoment",
            "jaargroep",
            "vaardigheidsscore",
            "schaal",
        )
    }
    for school, groups in sizes.items():
        shift = (effect or {}).get(school, 0.0)
        for group, n in groups.items():
            for p in range(n):
                ability = rng.normal(0.0, 1.0) + shift
                for domain in DOMAINS:
                    for moment, t in (("M", 0.0), ("E", 0.5)):
                        rows["school"].append(school)
                        rows["pupil"].append(f"{school}-{group}-{p}")
                        rows["schooljaar"].append(PERIOD)
                        rows["leergebied"].append(domain)
                        rows["toetsmoment"].append(moment)
                        rows["jaargroep"].append(group)
                        score = 100 + 20 * (group - 3 + t) + 15 * ability + rng.normal(0, 5)
                        rows["vaardigheidsscore"].append(round(float(score), 1))
                        rows["schaal"].append((scale or {}).get(school, "cito-vs-3.0"))
    return pa.table(rows)


def connect(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.register("incoming", table)
    con.execute(
        "CREATE TABLE toetsresultaten AS SELECT *, CAST(jaargroep AS TINYINT) AS jg FROM incoming"
    )
    con.execute("ALTER TABLE toetsresultaten DROP COLUMN jaargroep")
    con.execute("ALTER TABLE toetsresultaten RENAME COLUMN jg TO jaargroep")
    return con


def country(schools: int = 20, pupils: int = 20) -> dict[str, dict[int, int]]:
    return {f"s{i:02d}": dict.fromkeys(range(4, 9), pupils) for i in range(schools)}


def with_registers(table: pa.Table, *, seed: int = 1) -> duckdb.DuckDBPyConnection:
    """``connect(table)`` plus leerlingen (a sex per pupil) and voorschool (a kind for most)."""
    con = connect(table)
    rows = table.select(["school", "pupil", "schooljaar", "jaargroep"]).to_pandas()
    rows = rows.drop_duplicates().reset_index(drop=True)
    rng = np.random.default_rng(seed)
    rows["geslacht"] = rng.choice(["M", "V", "X"], len(rows), p=[0.49, 0.49, 0.02])
    con.register("incoming_pupils", rows)
    con.execute("CREATE TABLE leerlingen AS SELECT * FROM incoming_pupils")
    care = rows[["pupil", "school", "schooljaar"]].copy()
    care["soort"] = rng.choice(["vve", "kinderdagverblijf", "peuterspeelzaal", ""], len(care))
    care["maanden"] = 12
    care = care[care["soort"] != ""]
    con.register("incoming_care", care)
    con.execute("CREATE TABLE voorschool AS SELECT * FROM incoming_care")
    schools = sorted(set(rows["school"]))
    where = {s: ["Utrecht", "Zuid-Holland", "Limburg", None][i % 4] for i, s in enumerate(schools)}
    reference = pa.table(
        {
            "school": schools,
            "schooljaar": [PERIOD] * len(schools),
            "schoolweging": [30.0] * len(schools),
            "provincie": pa.array([where[s] for s in schools], pa.string()),
        }
    )
    con.register("incoming_reference", reference)
    con.execute("CREATE TABLE school_reference AS SELECT * FROM incoming_reference")
    return con
