"""School feedback reports for every school of a synthetic national year, against the bare
DuckDB query of the same figures.

    python bench/bench_reports.py [--quick]

A vault-shaped results table (M and E scores of three domains on two scales, jaargroep 3
to 8) for 6,000 schools of about 230 pupils (``--quick``: 300 schools) lives in an
in-memory DuckDB database, as the vault's views do. Timed in the same run:

- **cohortsafe**: ``growth_cells`` (one pass over the results) and then, for every school,
  ``school_report`` (the school_report policy on its own figures, the research policy's
  cell rules on the other schools and on the fit, the predicted line) and the HTML page;
  per report and in total. PDF is timed for a sample of reports (WeasyPrint), since the
  office makes PDF only on request;
- **DuckDB bare**: one query giving the same figures unprotected: every school's pupils
  and mean M, E and growth per domain, scale and jaargroep, next to the national means of
  its cell, fetched as Arrow.

The ratio is cohortsafe's total over DuckDB bare. No goal is asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import report  # noqa: E402
from cohortsafe.publish import (  # noqa: E402
    ReportBasis,
    ReportHeading,
    growth_cells,
    render_report_html,
    render_report_pdf,
    school_report,
)
from cohortsafe.sdc import load_policy  # noqa: E402

PERIOD = "2025-2026"
DOMAINS = ("rekenen_wiskunde", "begrijpend_lezen", "spelling")

BARE = """
WITH scores AS (
    SELECT school, pupil, leergebied, schaal, jaargroep, toetsmoment,
           avg(vaardigheidsscore) AS score
    FROM toetsresultaten WHERE schooljaar = $period AND toetsmoment IN ('M', 'E')
    GROUP BY ALL
), growth AS (
    SELECT school, pupil, leergebied, schaal, jaargroep,
           max(score) FILTER (WHERE toetsmoment = 'M') AS m,
           max(score) FILTER (WHERE toetsmoment = 'E') AS e
    FROM scores GROUP BY ALL HAVING m IS NOT NULL AND e IS NOT NULL
), by_school AS (
    SELECT school, leergebied, schaal, jaargroep, count(*) AS pupils,
           avg(m) AS m, avg(e) AS e, avg(e - m) AS groei
    FROM growth GROUP BY ALL
), national AS (
    SELECT leergebied, schaal, jaargroep, avg(m) AS nm, avg(e) AS ne, avg(e - m) AS ngroei
    FROM growth GROUP BY ALL
)
SELECT * FROM by_school JOIN national USING (leergebied, schaal, jaargroep)
"""


def national_year(schools: int, seed: int = 7) -> tuple[pa.Table, dict[str, float]]:
    """M and E results of every pupil (vectorised), and a schoolweging per school."""
    rng = np.random.default_rng(seed)
    per_group = rng.integers(15, 55, size=(schools, 6))  # jaargroep 3..8
    effect = rng.normal(0.0, 0.3, schools)
    scale = np.where(rng.random(schools) < 0.7, "cito-vs-3.0", "boom-vs")
    school_of = np.repeat(np.arange(schools), per_group.sum(axis=1))
    group = np.concatenate([np.repeat(np.arange(3, 9), row) for row in per_group])
    pupils = len(school_of)
    ability = rng.normal(0.0, 1.0, pupils) + effect[school_of]
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("i", "d", "mo", "score")}
    for d in range(len(DOMAINS)):
        for moment, t in (("M", 0.0), ("E", 0.5)):
            present = rng.random(pupils) >= 0.04
            idx = np.flatnonzero(present)
            score = 100 + 20 * (group[idx] - 3 + t) + 15 * ability[idx] + rng.normal(0, 5, len(idx))
            columns["i"].append(idx)
            columns["d"].append(np.full(len(idx), d))
            columns["mo"].append(np.full(len(idx), moment))
            columns["score"].append(np.round(score, 1))
    i = np.concatenate(columns["i"])
    names = np.char.add("s", np.arange(schools).astype(str)).astype(object)
    table = pa.table(
        {
            "school": pa.array(names[school_of[i]], pa.string()),
            "pupil": pa.array(np.char.add("p", i.astype(str)).astype(object), pa.string()),
            "schooljaar": pa.array(np.full(len(i), PERIOD, dtype=object), pa.string()),
            "leergebied": pa.array(np.asarray(DOMAINS, dtype=object)[np.concatenate(columns["d"])]),
            "toetsmoment": pa.array(np.concatenate(columns["mo"]).astype(object), pa.string()),
            "jaargroep": pa.array(group[i].astype(np.int8)),
            "vaardigheidsscore": pa.array(np.concatenate(columns["score"])),
            "schaal": pa.array(scale[school_of[i]].astype(object), pa.string()),
        }
    )
    weging = {
        str(names[s]): float(np.clip(30 - 12 * effect[s] + rng.normal(0, 2), 20, 40))
        for s in range(schools)
    }
    return table, weging


def main() -> None:
    quick = "--quick" in sys.argv
    schools = 300 if quick else 6000
    table, weging = national_year(schools)
    con = duckdb.connect(":memory:")
    con.register("incoming", table)
    con.execute("CREATE TABLE toetsresultaten AS SELECT * FROM incoming")
    con.unregister("incoming")

    start = time.perf_counter()
    con.sql(BARE, params={"period": PERIOD}).to_arrow_table()
    bare = time.perf_counter() - start

    start = time.perf_counter()
    cells = growth_cells(con, PERIOD, DOMAINS)
    read = time.perf_counter() - start
    basis = ReportBasis(
        cells, PERIOD, load_policy("school_report"), load_policy("research"), weging
    )
    names = sorted(cells.schools())
    start = time.perf_counter()
    pages = []
    withheld = 0
    for name in names:
        made = school_report(basis, name)
        withheld += made.withheld
        pages.append(render_report_html(made, ReportHeading(name.upper())))
    each = time.perf_counter() - start
    sample = pages[:: max(1, len(pages) // 10)][:10]
    start = time.perf_counter()
    for page in sample:
        render_report_pdf(page)
    pdf = (time.perf_counter() - start) / len(sample)
    total = read + each
    rows = [
        {
            "schools": len(names),
            "results": table.num_rows,
            "DuckDB bare s": round(bare, 2),
            "growth read s": round(read, 2),
            "reports s": round(each, 2),
            "per report ms": round(1000 * each / len(names), 1),
            "total s": round(total, 2),
            "total / bare": round(total / bare, 1),
            "PDF per report ms": round(1000 * pdf, 0),
            "withheld": withheld,
        }
    ]
    report(
        "reports",
        "School reports for a national year",
        rows,
        [
            "DuckDB bare computes the same means unprotected in one query; cohortsafe adds the "
            "rules on each school's own figures, on the other schools of every cell and on the "
            "fit, the predicted line and the HTML page.",
            f"PDF: the mean of {len(sample)} reports by WeasyPrint, made only with --pdf.",
        ],
    )


if __name__ == "__main__":
    main()
