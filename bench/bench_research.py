"""The research environment: building a project's extract, and re-checking a request.

    python bench/bench_research.py [--quick] [--only extract|recheck]

1. Building the extract of one project over a synthetic national set of 5 school years
   (about 7 M pupil-years and 30 M results; ``--quick``: a twentieth) with
   ``cohortsafe.research.build_extract``: the approved columns, pupil, school and record
   keyed with the project's key (an HMAC per distinct pupil and school, a keyed
   64-bit record id per row from AES), rows ordered by record, Parquet with zstd. The
   vault's pseudonyms are stand-ins of their real form (64 hex digits), since their
   size is most of what both sides write. The baseline is the strongest plain way to
   get the same columns out: one DuckDB
   ``COPY (SELECT …) TO … (FORMAT parquet, COMPRESSION zstd)`` of the vault's files,
   no pseudonyms. Both read the same Parquet files; the ratio is the figure (goal:
   ≤ 2×; 1.66× at national size on 2026-12-03).
   The extract is written a bucket at a time, so its memory stays bounded.
2. The server-side re-check of a 20-output request (tables, summaries, a histogram,
   percentiles and a regression) on the quick-size extract: every output computed from
   its specification and checked with the project's policy against a ledger, as
   ``request-submit`` does. The baseline is the same 20 statistics computed bare in
   DuckDB (no rule, no ledger).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import report  # noqa: E402
from cohortsafe.pseudonym import PROJECT, new_key  # noqa: E402
from cohortsafe.research import (  # noqa: E402
    OutputSpec,
    ProjectSpec,
    Workspace,
    build_extract,
    compute_output,
)
from cohortsafe.sdc import Ledger  # noqa: E402
from cohortsafe.vault import VAULT_SCHEMAS  # noqa: E402

YEARS = ("2021-2022", "2022-2023", "2023-2024", "2024-2025", "2025-2026")
PUPIL_YEARS = 7_000_000
RESULTS = 30_000_000
SCHOOLS = 6_000
APPROVED = {
    "leerlingen": ("geboortemaand", "geslacht", "jaargroep", "schooljaar"),
    "toetsresultaten": (
        "leergebied",
        "toetsmoment",
        "jaargroep",
        "schooljaar",
        "vaardigheidsscore",
    ),
}


def _ids(prefix: str, count: int) -> pa.Array:
    """Stand-ins shaped as the vault's pseudonyms: 64 hex digits, random to the eye."""
    return pa.array(
        [hashlib.sha256(f"{prefix}{i}".encode()).hexdigest() for i in range(count)], pa.string()
    )


def _write_vault(folder: Path, pupil_years: int, results: int) -> None:
    """Synthetic vault tables with the vault's schema, one Parquet file per school year
    and table, as the vault keeps them (pseudonyms are stand-ins of the vault's form)."""
    rng = np.random.default_rng(11)
    pupils = pupil_years // len(YEARS)
    per_year = results // len(YEARS)
    pupil_ids, school_ids = _ids("p", pupils), _ids("s", SCHOOLS)
    school_of_pupil = rng.integers(0, SCHOOLS, pupils)
    born = pa.array([f"{y}-{m:02d}" for y in range(2010, 2021) for m in range(1, 13)])
    domains = pa.array(["rekenen_wiskunde", "begrijpend_lezen", "spelling"])
    for name in ("leerlingen", "toetsresultaten"):
        (folder / name).mkdir(parents=True)
    for year in YEARS:
        group = rng.integers(1, 9, pupils).astype(np.int8)
        leerlingen = {
            "delivery_id": pa.repeat("d", pupils),
            "pupil": pupil_ids,
            "pupil_key": pa.repeat("k-pupil", pupils),
            "school": school_ids.take(school_of_pupil),
            "school_key": pa.repeat("k-school", pupils),
            "schooljaar": pa.repeat(year, pupils),
            "geboortemaand": born.take(rng.integers(0, len(born), pupils)),
            "geslacht": pa.array(["M", "V"]).take(rng.integers(0, 2, pupils)),
            "jaargroep": pa.array(group),
        }
        row_of = rng.integers(0, pupils, per_year)
        toetsresultaten = {
            "delivery_id": pa.repeat("d", per_year),
            "pupil": pupil_ids.take(row_of),
            "pupil_key": pa.repeat("k-pupil", per_year),
            "school": school_ids.take(school_of_pupil[row_of]),
            "school_key": pa.repeat("k-school", per_year),
            "schooljaar": pa.repeat(year, per_year),
            "toets": pa.repeat("Cito", per_year),
            "leergebied": domains.take(rng.integers(0, 3, per_year)),
            "toetsmoment": pa.array(["M", "E"]).take(rng.integers(0, 2, per_year)),
            "jaargroep": pa.array(group[row_of]),
            "afnamemaand": pa.repeat("2025-01", per_year),
            "vaardigheidsscore": pa.array(rng.normal(150, 20, per_year).round(1)),
            "schaal": pa.repeat("cito-vs-3.0", per_year),
            "niveau": pa.repeat("III", per_year),
        }
        for name, columns in (("leerlingen", leerlingen), ("toetsresultaten", toetsresultaten)):
            table = pa.table(columns).cast(VAULT_SCHEMAS[name])
            pq.write_table(table, folder / name / f"{year}.parquet", compression="zstd")


class _ParquetVault:
    """The part of :class:`cohortsafe.vault.Vault` an extract reads, over the same files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.con = duckdb.connect()

    def batches(self, name: str, rows: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        sql = f"SELECT * FROM read_parquet('{self.folder / name}/*.parquet')"
        yield from self.con.sql(sql).to_arrow_reader(rows)


def _copy_baseline(folder: Path, out: Path) -> None:
    con = duckdb.connect()
    out.mkdir()
    for table, columns in APPROVED.items():
        chosen = ", ".join(["pupil", "school", *columns])
        con.execute(
            f"COPY (SELECT {chosen} FROM read_parquet('{folder / table}/*.parquet')) "
            f"TO '{out / table}.parquet' (FORMAT parquet, COMPRESSION zstd)"
        )
    con.close()


def _extract_rows(quick: bool, work: Path) -> tuple[dict[str, object], Path]:
    scale = 20 if quick else 1
    pupil_years, results = PUPIL_YEARS // scale, RESULTS // scale
    vault_folder = work / "vault"
    _write_vault(vault_folder, pupil_years, results)
    spec = ProjectSpec("BENCH", APPROVED)
    key = new_key(PROJECT)
    # best of one run each: at full size a run takes minutes and the machine is shared
    start = time.perf_counter()
    _copy_baseline(vault_folder, work / "copy")
    baseline = time.perf_counter() - start
    vault = _ParquetVault(vault_folder)
    start = time.perf_counter()
    build_extract(vault, spec, key, work / "project")  # type: ignore[arg-type]
    built = time.perf_counter() - start
    row = {
        "pupil-years": pupil_years,
        "results": results,
        "DuckDB COPY (s)": round(baseline, 2),
        "build_extract (s)": round(built, 2),
        "ratio": round(built / baseline, 2),
    }
    return row, work / "project"


_BY = [["leergebied"], ["jaargroep"], ["schooljaar"], ["leergebied", "jaargroep"],
       ["schooljaar", "leergebied"], ["toetsmoment", "leergebied"]]  # fmt: skip


def _request_specs() -> list[dict[str, object]]:
    sql = "toetsresultaten"
    specs: list[dict[str, object]] = []
    for i, by in enumerate(_BY):
        specs.append({"name": f"count_{i}", "kind": "table", "table": sql, "index": by})
        specs.append({"name": f"mean_{i}", "kind": "table", "table": sql, "index": by,
                      "values": "vaardigheidsscore", "aggfunc": "mean"})  # fmt: skip
    for i, by in enumerate(_BY[:5]):
        specs.append({"name": f"summary_{i}", "kind": "summary", "table": sql,
                      "columns": ["vaardigheidsscore"], "by": by})  # fmt: skip
    specs.append({"name": "hist", "kind": "histogram", "table": sql, "column": "vaardigheidsscore",
                  "bins": [100, 125, 150, 175, 200]})  # fmt: skip
    specs.append({"name": "median", "kind": "percentiles", "table": sql,
                  "column": "vaardigheidsscore", "q": [0.5], "by": ["leergebied"]})  # fmt: skip
    specs.append({"name": "ols", "kind": "ols", "table": sql,
                  "formula": "vaardigheidsscore ~ leergebied + C(jaargroep)"})  # fmt: skip
    assert len(specs) == 20
    return specs


def _bare(workspace: Workspace, specs: list[OutputSpec]) -> None:
    for spec in specs:
        p = spec.parameters
        if spec.kind == "table":
            by = ", ".join(p["index"])
            value = "avg(vaardigheidsscore)" if p["values"] else "count(*)"
            workspace.arrow(f"SELECT {by}, {value} FROM toetsresultaten GROUP BY ALL")
        elif spec.kind == "summary":
            by = ", ".join(p["by"])
            workspace.arrow(
                f"SELECT {by}, count(*), avg(vaardigheidsscore), stddev(vaardigheidsscore) "
                "FROM toetsresultaten GROUP BY ALL"
            )
        elif spec.kind == "histogram":
            workspace.arrow(
                "SELECT floor(vaardigheidsscore / 25), count(*) FROM toetsresultaten GROUP BY 1"
            )
        elif spec.kind == "percentiles":
            workspace.arrow(
                "SELECT leergebied, quantile_cont(vaardigheidsscore, 0.5) FROM toetsresultaten "
                "GROUP BY 1"
            )
        else:
            import statsmodels.formula.api as smf

            smf.ols(
                str(p["formula"]), data=workspace.arrow(spec.checked(workspace.tables)).to_pandas()
            ).fit()


def _recheck_row(folder: Path, work: Path) -> dict[str, object]:
    specs = [OutputSpec.parse(s) for s in _request_specs()]
    with Workspace(folder) as workspace:
        start = time.perf_counter()
        _bare(workspace, specs)
        bare = time.perf_counter() - start
        ledger = Ledger.open(work / "ledger", project="BENCH")
        session = workspace.session(ledger)
        start = time.perf_counter()
        outcomes = [compute_output(workspace, session, spec).outcome for spec in specs]
        checked = time.perf_counter() - start
        ledger.close()
        rows = workspace.sql("SELECT count(*) FROM toetsresultaten").rows[0][0]
    return {
        "results": rows,
        "outputs": len(specs),
        "bare DuckDB (s)": round(bare, 2),
        "re-check (s)": round(checked, 2),
        "ratio": round(checked / bare, 1),
        "outcomes": ", ".join(f"{o} {outcomes.count(o)}" for o in sorted(set(outcomes))),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    with tempfile.TemporaryDirectory(prefix="bench-research-") as temp:
        work = Path(temp)
        if only in (None, "extract"):
            extract_row, _ = _extract_rows(quick, work / "national")
            shutil.rmtree(work / "national")
            report(
                "research_extract",
                "Building a project's extract of 5 school years next to a bare DuckDB COPY",
                [extract_row],
                ["one run each; both read the same vault Parquet files and write Parquet (zstd)"],
            )
        if only in (None, "recheck"):
            _, small = _extract_rows(True, work / "small")
            report(
                "research_recheck",
                "Re-checking a 20-output request on the server next to the bare statistics",
                [_recheck_row(small, work / "small")],
                ["every output computed from its specification and checked with a ledger"],
            )


if __name__ == "__main__":
    main()
