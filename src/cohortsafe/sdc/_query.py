"""The one DuckDB query that computes what every rule needs, margins included.

Steps, all inside one SQL statement:

1. ``fine``: one row per (finest cell, pupil, school), with the number of records and
   the sum, minimum and maximum of the value. Pseudonyms are replaced by their 64-bit
   hash, which halves the cost of the aggregations that follow; a hash collision can
   only merge two pupils (or schools) into one, which makes every rule stricter, never
   laxer.
2. ``by_ps``: the same per grouping set (``UNION ALL`` of one ``GROUP BY`` per set; the
   full set is ``fine`` itself). A margin cell's pupils and schools are thereby counted
   from the microdata, never by adding up its children (a pupil with results in two
   categories is one pupil of their total).
3. ``by_school`` and ``by_pupil``: per cell and school (distinct pupils, value) and per
   cell and pupil (records, value, extremes).
4. one row per cell: records, distinct pupils and schools, value sum, the largest
   schools' pupils and the largest contributions of pupils and of schools.

>>> import pandas as pd
>>> from cohortsafe.sdc._source import open_source
>>> from cohortsafe.sdc._structure import Layout
>>> frame = pd.DataFrame({"pupil": list("abcab"), "school": list("xxyxx"),
...                       "region": list("NNSSN"), "score": [1.0, 2.0, 3.0, 4.0, 5.0]})
>>> result = cell_statistics(open_source(frame), Layout(index=("region",)),
...     pupil="pupil", school="school", values="score", aggregate="mean",
...     school_top=2, value_top=2)
>>> sorted(zip(result.present.tolist(), result.stats.n_pupils.tolist(),
...            result.stats.value_sum.tolist()))
[(0, 3, 15.0), (1, 2, 7.0), (1, 2, 8.0)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import Aggregate, CellStats, IntArray
from cohortsafe.sdc._source import Source, quote
from cohortsafe.sdc._structure import Layout

__all__ = ["CellQuery", "cell_sql", "cell_statistics", "population_sql"]


@dataclass(frozen=True)
class CellQuery:
    """Rows of the per-cell query: grouping values, grouping set, statistics."""

    variables: tuple[pa.ChunkedArray, ...]
    present: IntArray
    stats: CellStats


def _base_sql(layout: Layout, pupil: str, school: str, values: str | None) -> tuple[str, list[str]]:
    names = [f"v{i}" for i in range(len(layout.variables))]
    select = [f"{quote(var)} AS {name}" for var, name in zip(layout.variables, names, strict=True)]
    select += [f"hash({quote(pupil)}) AS p", f"hash({quote(school)}) AS s"]
    where = [f"{quote(var)} IS NOT NULL" for var in layout.variables]
    if values is not None:
        select.append(f"CAST({quote(values)} AS DOUBLE) AS x")
        where.append(f"{quote(values)} IS NOT NULL")
    sql = f"SELECT {', '.join(select)} FROM {{source}} WHERE {' AND '.join(where)}"
    return sql, names


def _per_set(layout: Layout, names: list[str], keys: str, aggregates: str, table: str) -> str:
    parts = []
    for mask in layout.grouping_sets:
        cols = [name if mask >> i & 1 else f"NULL AS {name}" for i, name in enumerate(names)]
        group = [name for i, name in enumerate(names) if mask >> i & 1] + keys.split(", ")
        parts.append(
            f"SELECT {', '.join(cols)}, {mask} AS gs, {keys}, {aggregates} "
            f"FROM {table} GROUP BY {', '.join(group)}"
        )
    return "\nUNION ALL\n".join(parts)


def cell_sql(
    layout: Layout,
    *,
    pupil: str,
    school: str,
    values: str | None,
    school_top: int,
    value_top: int,
) -> str:
    """The SQL text of the per-cell statistics (``{source}`` names the data)."""
    base, names = _base_sql(layout, pupil, school, values)
    v = ", ".join(names)
    magnitude = values is not None
    fine_aggs = "count(*) AS n" + (
        ", sum(x) AS sx, min(x) AS mn, max(x) AS mx" if magnitude else ""
    )
    ps_aggs = "sum(n) AS n" + (", sum(sx) AS sx, min(mn) AS mn, max(mx) AS mx" if magnitude else "")
    by_ps_parts = []
    for mask in layout.grouping_sets:
        if mask == layout.full_set:
            cols = ", ".join(names)
            extra = ", sx, mn, mx" if magnitude else ""
            by_ps_parts.append(f"SELECT {cols}, {mask} AS gs, p, s, n{extra} FROM fine")
        else:
            cols_sel = [n if mask >> i & 1 else f"NULL AS {n}" for i, n in enumerate(names)]
            group = [n for i, n in enumerate(names) if mask >> i & 1] + ["p", "s"]
            by_ps_parts.append(
                f"SELECT {', '.join(cols_sel)}, {mask} AS gs, p, s, {ps_aggs} "
                f"FROM fine GROUP BY {', '.join(group)}"
            )
    by_ps = "\nUNION ALL\n".join(by_ps_parts)
    school_value = ", abs(sum(sx)) AS sx" if magnitude else ""
    pupil_value = ", sum(sx) AS sx, min(mn) AS mn, max(mx) AS mx" if magnitude else ""
    school_cols = ["count(*) AS n_schools"]
    if school_top:
        school_cols.append(f"max(np, {school_top}) AS school_top")
    if magnitude:
        school_cols.append("sum(sx) AS school_value_total")
        if value_top:
            school_cols.append(f"max(sx, {value_top}) AS school_value_top")
    pupil_cols = ["count(*) AS n_pupils", "sum(n) AS n_records"]
    if magnitude:
        pupil_cols += [
            "sum(sx) AS value_sum",
            "min(mn) AS value_min",
            "max(mx) AS value_max",
            "sum(abs(sx)) AS pupil_value_total",
        ]
        if value_top:
            pupil_cols.append(f"max(abs(sx), {value_top}) AS pupil_value_top")
    join = " AND ".join(["pc.gs = sc.gs"] + [f"pc.{n} IS NOT DISTINCT FROM sc.{n}" for n in names])
    school_select = ", ".join(f"sc.{c.split(' AS ')[-1]}" for c in school_cols)
    return f"""
WITH fine AS MATERIALIZED (
  SELECT {v}, p, s, {fine_aggs} FROM ({base}) GROUP BY {v}, p, s
),
by_ps AS MATERIALIZED (
{by_ps}
),
by_school AS (
  SELECT {v}, gs, s, count(*) AS np{school_value} FROM by_ps GROUP BY {v}, gs, s
),
by_pupil AS (
  SELECT {v}, gs, p, sum(n) AS n{pupil_value} FROM by_ps GROUP BY {v}, gs, p
),
school_cells AS (
  SELECT {v}, gs, {", ".join(school_cols)} FROM by_school GROUP BY {v}, gs
),
pupil_cells AS (
  SELECT {v}, gs, {", ".join(pupil_cols)} FROM by_pupil GROUP BY {v}, gs
)
SELECT pc.*, {school_select}
FROM pupil_cells pc JOIN school_cells sc ON {join}
"""


def population_sql(layout: Layout, *, pupil: str, values: str | None) -> str:
    """Distinct (cell, pupil) pairs: the population behind every cell, for differencing."""
    base, names = _base_sql(layout, pupil, pupil, values)
    v = ", ".join(names)
    return f"""
WITH fine AS MATERIALIZED (SELECT DISTINCT {v}, p FROM ({base}))
{_per_set(layout, names, "p", "count(*) AS n", "fine")}
"""


def _top(table: pa.Table, name: str, width: int, rows: int, dtype: type) -> np.ndarray:
    out: np.ndarray = np.zeros((rows, max(width, 2)), dtype=dtype)
    if width == 0 or name not in table.column_names:
        return out
    column = table.column(name).combine_chunks()
    lengths = column.value_lengths().to_numpy(zero_copy_only=False)
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(dtype)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for j in range(width):
        has = lengths > j
        out[has, j] = flat[starts[has] + j]
    return out


def _column(table: pa.Table, name: str, dtype: type) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(), dtype=dtype)


def cell_statistics(
    source: Source,
    layout: Layout,
    *,
    pupil: str,
    school: str,
    values: str | None,
    aggregate: Aggregate,
    school_top: int,
    value_top: int,
) -> CellQuery:
    """Run the per-cell query and return its rows as arrays."""
    source.require([*layout.variables, pupil, school, *([values] if values else [])])
    missing = source.query(
        f"SELECT count(*) FROM {{source}} WHERE {quote(pupil)} IS NULL OR {quote(school)} IS NULL"
    ).fetchall()
    if missing and missing[0][0]:
        raise PolicyError("every row needs a pupil and a school pseudonym; some are missing")
    magnitude = values is not None and aggregate != "count"
    sql = cell_sql(
        layout,
        pupil=pupil,
        school=school,
        values=values,
        school_top=school_top,
        value_top=value_top if magnitude else 0,
    )
    table = source.query(sql).to_arrow_table()
    rows = table.num_rows
    present = _column(table, "gs", np.int64)
    stats = CellStats(
        aggregate=aggregate,
        n_records=_column(table, "n_records", np.int64),
        n_pupils=_column(table, "n_pupils", np.int64),
        n_schools=_column(table, "n_schools", np.int64),
        school_top=_top(table, "school_top", school_top, rows, np.int64),
        value_sum=_column(table, "value_sum", np.float64) if values else np.zeros(rows),
        value_min=_column(table, "value_min", np.float64) if values else np.zeros(rows),
        value_max=_column(table, "value_max", np.float64) if values else np.zeros(rows),
        pupil_value_top=_top(
            table, "pupil_value_top", value_top if magnitude else 0, rows, np.float64
        ),
        pupil_value_total=(
            _column(table, "pupil_value_total", np.float64) if values else np.zeros(rows)
        ),
        school_value_top=_top(
            table, "school_value_top", value_top if magnitude else 0, rows, np.float64
        ),
        school_value_total=(
            _column(table, "school_value_total", np.float64) if values else np.zeros(rows)
        ),
    )
    variables = tuple(table.column(f"v{i}") for i in range(len(layout.variables)))
    return CellQuery(variables, present, stats)
