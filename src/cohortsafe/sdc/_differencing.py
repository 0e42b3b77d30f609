"""Differencing: a new table against the project's earlier released tables.

Two outputs whose populations differ by a few pupils reveal those pupils by
subtraction: "all pupils by region" and "all pupils but those in special education by
region" differ, region by region, by the handful of pupils in special education. The
check works on *populations*, not on published numbers, so it catches every way the
difference can arise (one more filter, one more or one fewer category, a moved
boundary).

A :class:`ReleaseHistory` keeps, for every released table of a project, the pupils
behind each released cell and behind the whole table, as 64-bit hashes of the pupil
pseudonyms in a DuckDB database (in memory, or a file the checker keeps with the
project). It is never published. For a new table, one join on the pupil gives, for
every pair of a new cell and a released cell that share pupils, their overlap, hence
their symmetric difference ``|A Δ B| = |A| + |B| - 2|A ∩ B|``. A new cell is flagged
when that difference is at least 1 and below the policy's ``differencing.threshold``;
flagged cells become primary suppressions (and secondary suppression protects them).
When the whole new table's population is such a small step from a released cell or
table, the table fails.

Limits: cells of a released table that share no pupil with the new cell are not
compared (their difference is the new cell itself, which the frequency rules cover);
published values of the earlier tables are not combined with the new table's
additivity (linked-table suppression), which a person reviewing should keep in mind.

>>> import pandas as pd
>>> from cohortsafe.sdc._table import crosstab
>>> pupils = pd.DataFrame({"pupil": [f"p{i}" for i in range(200)],
...                        "school": [f"s{i % 10}" for i in range(200)],
...                        "region": ["N", "S"] * 100,
...                        "special": [i < 4 for i in range(200)]})
>>> history = ReleaseHistory()
>>> first = crosstab(pupils, "region", pupil="pupil", school="school", history=history)
>>> history.record(first)
>>> second = crosstab(pupils[~pupils.special], "region", pupil="pupil", school="school",
...                   history=history)
>>> [(c.index["region"], c.status) for c in second.cells]
[('N', 'primary'), ('S', 'primary'), ('All', 'primary')]
>>> second.cell(region="N").reasons[0]
'differencing: differs from a cell of an earlier released output by fewer than 10 pupils'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import BoolArray
from cohortsafe.sdc._query import population_sql
from cohortsafe.sdc._source import Source
from cohortsafe.sdc._structure import TOTAL, Cells
from cohortsafe.sdc.rules import Differencing

if TYPE_CHECKING:
    from cohortsafe.sdc._table import CheckedTable, TableRequest

__all__ = ["WHOLE_TABLE", "Populations", "ReleaseHistory"]

WHOLE_TABLE = -1  # the cell number standing for the table's whole population


@dataclass(frozen=True)
class Populations:
    """The pupils (hashed) behind each cell of one table: rows of (cell, pupil)."""

    pairs: pa.Table  # columns: cell (int64), p (uint64)
    sizes: dict[int, int]


def _labels(cells: Cells) -> pa.Table:
    """One row per cell: its grouping set, its category per variable, its number."""
    columns: dict[str, Any] = {"gs": pa.array(cells.present, pa.int64())}
    for v, categories in enumerate(cells.categories):
        codes = cells.codes[:, v]
        values = [None if c == TOTAL else categories[c] for c in codes.tolist()]
        columns[f"v{v}"] = pa.array(values)
    columns["cell"] = pa.array(np.arange(cells.size), pa.int64())
    return pa.table(columns)


class ReleaseHistory:
    """Populations of a project's released tables; see the module docstring."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._db = duckdb.connect(str(path) if path is not None else ":memory:")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS populations (release INTEGER, cell BIGINT, p UBIGINT)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sizes (release INTEGER, cell BIGINT, n BIGINT)"
        )

    @property
    def releases(self) -> int:
        """How many tables have been recorded."""
        row = self._db.sql("SELECT count(DISTINCT release) FROM sizes").fetchall()
        return int(row[0][0])

    def close(self) -> None:
        self._db.close()

    def populations(self, source: Source, request: TableRequest, cells: Cells) -> Populations:
        """The pupils behind every cell of a new table (and behind the whole table)."""
        per_cell = population_sql(request.layout, pupil=request.pupil, values=request.values)
        found = source.query(per_cell).to_arrow_table()
        conditions = " AND ".join(
            ["pop.gs = lab.gs"]
            + [f"pop.v{v} IS NOT DISTINCT FROM lab.v{v}" for v in range(len(cells.categories))]
        )
        # the cell labels and the query's rows meet in a scratch database: a relation
        # only sees objects of its own connection, which the caller may not expose
        scratch = duckdb.connect()
        try:
            scratch.register("pop", found)
            scratch.register("lab", _labels(cells))
            pairs = scratch.sql(
                f"SELECT lab.cell AS cell, pop.p AS p FROM pop JOIN lab ON {conditions} "
                f"UNION ALL SELECT DISTINCT {WHOLE_TABLE}::BIGINT AS cell, p FROM pop"
            ).to_arrow_table()
        finally:
            scratch.close()
        numbers, counts = np.unique(pairs.column("cell").to_numpy(), return_counts=True)
        return Populations(pairs, dict(zip(numbers.tolist(), counts.tolist(), strict=True)))

    def flag(
        self, populations: Populations, cells: Cells, rule: Differencing
    ) -> tuple[BoolArray, bool]:
        """New cells a small step away from a released cell; and the whole table?"""
        flagged = np.zeros(cells.size, bool)
        if self.releases == 0:
            return flagged, False
        sizes = pa.table(
            {
                "cell": pa.array(list(populations.sizes), pa.int64()),
                "n": pa.array(list(populations.sizes.values()), pa.int64()),
            }
        )
        self._db.register("new_pairs", populations.pairs)
        self._db.register("new_sizes", sizes)
        try:
            rows = self._db.sql(
                f"""
                WITH shared AS (
                  SELECT np.cell AS new_cell, o.release, o.cell AS old_cell, count(*) AS k
                  FROM new_pairs np JOIN populations o ON np.p = o.p
                  GROUP BY ALL
                )
                SELECT DISTINCT s.new_cell
                FROM shared s
                JOIN new_sizes a ON a.cell = s.new_cell
                JOIN sizes b ON b.release = s.release AND b.cell = s.old_cell
                WHERE a.n + b.n - 2 * s.k BETWEEN 1 AND {rule.threshold - 1}
                """
            ).fetchall()
        finally:
            self._db.unregister("new_pairs")
            self._db.unregister("new_sizes")
        whole_table = False
        for (cell,) in rows:
            if cell == WHOLE_TABLE:
                whole_table = True
            else:
                flagged[int(cell)] = True
        if whole_table:
            grand = np.flatnonzero(cells.present == 0)
            if grand.size:
                flagged[grand] = True
                whole_table = False  # the grand total cell carries the flag
        return flagged, whole_table

    def record(self, table: CheckedTable) -> None:
        """Add a released table's populations (released cells and the whole table)."""
        populations = table._populations
        if not isinstance(populations, Populations):
            raise PolicyError("the table was checked without a release history")
        released = np.flatnonzero(table.released)
        keep = pa.array(np.concatenate([released, [WHOLE_TABLE]]).astype(np.int64))
        row = self._db.sql("SELECT coalesce(max(release), 0) + 1 FROM sizes").fetchall()
        release = int(row[0][0])
        self._db.register("new_pairs", populations.pairs)
        self._db.register("keep", pa.table({"cell": keep}))
        try:
            self._db.execute(
                f"INSERT INTO populations SELECT {release}, cell, p FROM new_pairs "
                "WHERE cell IN (SELECT cell FROM keep)"
            )
            self._db.execute(
                f"INSERT INTO sizes SELECT {release}, cell, count(*) FROM new_pairs "
                "WHERE cell IN (SELECT cell FROM keep) GROUP BY cell"
            )
        finally:
            self._db.unregister("new_pairs")
            self._db.unregister("keep")
