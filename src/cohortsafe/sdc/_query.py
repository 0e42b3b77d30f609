"""The one DuckDB query that computes what every rule needs, margins included.

Steps, all inside one SQL statement (:func:`school_level` runs first: a scan per
school that finds the variables constant within each school, which step 2 exploits).
Pseudonyms are replaced by their 64-bit hash, which halves the cost of every
aggregation; a hash collision can only merge two pupils (or schools) into one, which
makes every rule stricter, never laxer.

1. ``fine``: one row per (finest cell, pupil, school) with the sum of the value;
   ``pupils``: one row per pupil with its lowest and highest school, so ``movers``, the
   pupils with results at more than one school (a few percent), are known.
2. Every other pupil has one school, so per grouping set one row per (cell, pupil) of
   them, aggregated from ``fine`` (the full set is ``fine`` itself, the grand total
   ``pupils``), is also the row per (cell, pupil, school). A margin cell's pupils are
   thereby counted from the microdata, never by adding up its children (a pupil with
   results in two categories is one pupil of their total). ``parts``: those rows per
   (cell, school): pupils, value, largest contributions.
3. Movers: the same rows per grouping set, per (cell, school) for the school rules (a
   mover is a pupil of each of its schools) and per (cell, pupil) for the pupil rules
   (one pupil, with its whole contribution).
4. ``records``: records, value sum and extremes per cell, straight from the rows, and
   the rows without a pupil or school pseudonym (any such row refuses the table).
5. One row per cell: records, distinct pupils and schools, value sum and extremes, the
   largest schools' pupils and the largest contributions of pupils and of schools.

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
import pyarrow.compute as pc

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import Aggregate, CellStats, IntArray
from cohortsafe.sdc._source import Source, present, quote
from cohortsafe.sdc._structure import Layout

__all__ = ["CellQuery", "cell_sql", "cell_statistics", "population_sql", "school_level"]


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
    # a row whose pupil is its school is as good as anonymous: the columns were mixed up
    select.append(
        f"{quote(pupil)} IS NULL OR {quote(school)} IS NULL "
        f"OR CAST({quote(pupil)} AS VARCHAR) = CAST({quote(school)} AS VARCHAR) AS anonymous"
    )
    where = [f"{quote(var)} IS NOT NULL" for var in layout.variables]
    if values is not None:
        select.append(f"CAST({quote(values)} AS DOUBLE) AS x")
        where.append(present(quote(values)))
    sql = f"SELECT {', '.join(select)} FROM {{source}} WHERE {' AND '.join(where)}"
    return sql, names


def _set_select(names: list[str], mask: int) -> tuple[str, list[str]]:
    """Columns of one grouping set (totalled variables as NULL) and its GROUP BY list."""
    cols = [name if mask >> i & 1 else f"NULL AS {name}" for i, name in enumerate(names)]
    return ", ".join(cols), [name for i, name in enumerate(names) if mask >> i & 1]


def _per_set(layout: Layout, names: list[str], keys: str, aggregates: str, table: str) -> str:
    parts = []
    for mask in layout.grouping_sets:
        cols, group = _set_select(names, mask)
        parts.append(
            f"SELECT {cols}, {mask} AS gs, {keys}, {aggregates} "
            f"FROM {table} GROUP BY {', '.join([*group, keys])}"
        )
    return "\nUNION ALL\n".join(parts)


def _set_rows(
    layout: Layout, names: list[str], magnitude: bool, *, settled: bool, school_level: int = 0
) -> str:
    """(cell, pupil, school) rows of every grouping set, from ``settled`` or ``moved``.

    For pupils with one school (``settled``), a variable constant within each school
    (a bit of ``school_level``) adds nothing to (pupil, school): a set that totals
    only such variables has the fine rows themselves, and a set that shows only such
    variables has one row per pupil, taken from ``pupils``. Other sets are aggregated.
    """
    table = "settled" if settled else "moved"
    value, total = (", sx", ", sum(sx) AS sx") if magnitude else ("", "")
    parts = []
    for mask in layout.grouping_sets:
        cols, group = _set_select(names, mask)
        if settled and mask != layout.full_set and mask & ~school_level == 0:
            parts.append(f"SELECT {cols}, {mask} AS gs, p, s{value} FROM pupils WHERE s = s2")
        elif mask == layout.full_set or (settled and layout.full_set & ~mask & ~school_level == 0):
            parts.append(f"SELECT {cols}, {mask} AS gs, p, s{value} FROM {table}")
        else:
            keys = ", ".join([*group, "p", "s"])
            parts.append(f"SELECT {cols}, {mask} AS gs, p, s{total} FROM {table} GROUP BY {keys}")
    return "\n  UNION ALL ".join(parts)


def cell_sql(
    layout: Layout,
    *,
    pupil: str,
    school: str,
    values: str | None,
    school_top: int,
    value_top: int,
    school_level: int = 0,
) -> str:
    """The SQL text of the per-cell statistics (``{source}`` names the data).

    ``school_level`` marks (bit ``i`` for variable ``i``) the variables known to be
    constant within each school of the data (:func:`school_level`); it makes the
    query cheaper, and wrong if the claim is false.
    """
    base, names = _base_sql(layout, pupil, school, values)
    v = ", ".join(names)
    magnitude = values is not None
    tops = magnitude and value_top > 0

    def when(text: str, condition: bool = magnitude) -> str:
        return text if condition else ""

    part_aggs = "count(*) AS np" + when(", sum(abs(sx)) AS pvt, sum(sx) AS ssx")
    part_aggs += when(f", max(abs(sx), {value_top}) AS ptop", tops)
    mover_tops = when(", list(abs(sx)) AS ptop", tops)
    # a settled pupil has one school, so one value of each school-level variable
    at_school = "".join(
        f", any_value({name}) AS {name}" for i, name in enumerate(names) if school_level >> i & 1
    )
    school_cols = ["count(*) AS n_schools"]
    if school_top:
        school_cols.append(f"max(np, {school_top}) AS school_top")
    if magnitude:
        school_cols.append("sum(abs(ssx)) AS school_value_total")
        if value_top:
            school_cols.append(f"max(abs(ssx), {value_top}) AS school_value_top")
    sets = ", ".join(f"({', '.join(_set_select(names, mask)[1])})" for mask in layout.grouping_sets)
    grouping = " + ".join(f"(1 - GROUPING({name})) * {1 << i}" for i, name in enumerate(names))
    records = "count(*) AS n_records, count(*) FILTER (WHERE anonymous) AS n_anonymous" + when(
        ", sum(x) AS value_sum, min(x) AS value_min, max(x) AS value_max"
    )

    def on(alias: str) -> str:
        keys = [f"pc.{name} IS NOT DISTINCT FROM {alias}.{name}" for name in names]
        return " AND ".join([f"pc.gs = {alias}.gs", *keys])

    select = ["pc.*", "r.n_records", "r.n_anonymous"]
    select += when("r.value_sum r.value_min r.value_max").split()
    select += [f"sc.{column.split(' AS ')[-1]}" for column in school_cols]
    joins = f"JOIN school_cells sc ON {on('sc')} JOIN records r ON {on('r')}"
    pupil_top = ""
    if tops:
        pupil_top = f""",
pupil_top AS (
  SELECT {v}, gs, max(t, {value_top}) AS pupil_value_top FROM (
    SELECT {v}, gs, unnest(ptop) AS t FROM parts
    UNION ALL SELECT {v}, gs, unnest(ptop) FROM mover_pupils
  ) GROUP BY {v}, gs
)"""
        select.append("t.pupil_value_top")
        joins += f" JOIN pupil_top t ON {on('t')}"
    return f"""
WITH fine AS MATERIALIZED (
  SELECT {v}, p, s{when(", sum(x) AS sx")} FROM ({base}) GROUP BY {v}, p, s
),
pupils AS MATERIALIZED (
  SELECT p, min(s) AS s, max(s) AS s2{when(", sum(sx) AS sx")}{at_school} FROM fine GROUP BY p
),
movers AS MATERIALIZED (
  SELECT p FROM pupils WHERE s <> s2
),
settled AS (
  SELECT * FROM fine ANTI JOIN movers USING (p)
),
moved AS MATERIALIZED (
  SELECT * FROM fine SEMI JOIN movers USING (p)
),
parts AS MATERIALIZED (
  SELECT {v}, gs, s, {part_aggs} FROM (
  {_set_rows(layout, names, magnitude, settled=True, school_level=school_level)}
  ) GROUP BY {v}, gs, s
),
mover_rows AS MATERIALIZED (
  {_set_rows(layout, names, magnitude, settled=False)}
),
mover_parts AS (
  SELECT {v}, gs, s, count(*) AS np{when(", sum(sx) AS ssx")} FROM mover_rows GROUP BY {v}, gs, s
),
mover_pupils AS (
  SELECT {v}, gs, count(*) AS np{when(", sum(abs(sx)) AS pvt")}{mover_tops} FROM (
    SELECT {v}, gs, p{when(", sum(sx) AS sx")} FROM mover_rows GROUP BY {v}, gs, p
  ) GROUP BY {v}, gs
),
by_school AS (
  SELECT {v}, gs, s, sum(np)::BIGINT AS np{when(", sum(ssx) AS ssx")} FROM (
    SELECT {v}, gs, s, np{when(", ssx")} FROM parts
    UNION ALL SELECT {v}, gs, s, np{when(", ssx")} FROM mover_parts
  ) GROUP BY {v}, gs, s
),
school_cells AS (
  SELECT {v}, gs, {", ".join(school_cols)} FROM by_school GROUP BY {v}, gs
),
pupil_cells AS (
  SELECT {v}, gs, sum(np)::BIGINT AS n_pupils{when(", sum(pvt) AS pupil_value_total")} FROM (
    SELECT {v}, gs, np{when(", pvt")} FROM parts
    UNION ALL SELECT {v}, gs, np{when(", pvt")} FROM mover_pupils
  ) GROUP BY {v}, gs
),
records AS (
  SELECT {v}, ({grouping})::INTEGER AS gs, {records}
  FROM ({base}) GROUP BY GROUPING SETS ({sets})
){pupil_top}
SELECT {", ".join(select)}
FROM pupil_cells pc {joins}
"""


def _school_level_sql(layout: Layout, *, pupil: str, school: str, values: str | None) -> str:
    """One row: per variable, whether each school of the table's rows has one value of it."""
    base, names = _base_sql(layout, pupil, school, values)
    per_school = ", ".join(f"min({name}) = max({name}) AS {name}" for name in names)
    constant = ", ".join(f"coalesce(bool_and({name}), true) AS {name}" for name in names)
    return f"SELECT {constant} FROM (SELECT {per_school} FROM ({base}) GROUP BY s)"


def school_level(
    source: Source, layout: Layout, *, pupil: str, school: str, values: str | None
) -> int:
    """The variables with one value per school in the table's rows, as bits for
    :func:`cell_sql` (bit ``i`` for variable ``i``)."""
    (constant,) = source.query(
        _school_level_sql(layout, pupil=pupil, school=school, values=values)
    ).fetchall()
    return sum(1 << i for i, flag in enumerate(constant) if flag)


def record_top_sql(layout: Layout, *, pupil: str, school: str, width: int) -> str:
    """Per cell the record counts of its ``width`` pupils with the most records."""
    base, names = _base_sql(layout, pupil, school, None)
    v = ", ".join(names)
    return f"""
WITH fine AS MATERIALIZED (SELECT {v}, p, count(*) AS nr FROM ({base}) GROUP BY {v}, p),
per AS ({_per_set(layout, names, "p", "sum(nr) AS nr", "fine")})
SELECT {v}, gs, max(nr, {width}) AS record_top FROM per GROUP BY {v}, gs
"""


def _record_top(
    source: Source,
    layout: Layout,
    table: pa.Table,
    n_records: IntArray,
    n_pupils: IntArray,
    *,
    pupil: str,
    school: str,
    width: int,
    share: float,
) -> IntArray:
    """The records of each cell's ``width`` pupils with most records (see ``nk_dominance``).

    Only a cell whose other pupils (one record each at least) leave room for the top ones
    to exceed ``share`` % can fail; when no cell can, the extra query is skipped.
    """
    out: IntArray = np.zeros((table.num_rows, max(width, 2)), dtype=np.int64)
    if width == 0:
        return out
    most = n_records - np.maximum(n_pupils - width, 0)  # the top pupils' records at most
    if not ((n_records > n_pupils) & (most * 100.0 > share * n_records)).any():
        return out
    found = source.query(record_top_sql(layout, pupil=pupil, school=school, width=width))
    names = [f"v{i}" for i in range(len(layout.variables))]
    tops = {
        (row["gs"], *(row[n] for n in names)): row["record_top"]
        for row in found.to_arrow_table().to_pylist()
    }
    keys = zip(
        table.column("gs").to_pylist(), *(table.column(n).to_pylist() for n in names), strict=True
    )
    for i, key in enumerate(keys):
        counts = sorted(tops.get(key) or [], reverse=True)[:width]
        out[i, : len(counts)] = counts
    return out


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
    record_top: int = 0,
    record_share: float = 100.0,
) -> CellQuery:
    """Run the per-cell query and return its rows as arrays.

    ``record_top`` / ``record_share``: the (n, k) of record dominance in count tables
    (0: not needed)."""
    if pupil == school:
        raise PolicyError("the pupil and the school must be two distinct columns")
    source.require([*layout.variables, pupil, school, *([values] if values else [])])
    magnitude = values is not None and aggregate != "count"
    sql = cell_sql(
        layout,
        pupil=pupil,
        school=school,
        values=values,
        school_top=school_top,
        value_top=value_top if magnitude else 0,
        school_level=school_level(source, layout, pupil=pupil, school=school, values=values),
    )
    table = source.query(sql).to_arrow_table()
    if pc.max(table.column("n_anonymous")).as_py():
        raise PolicyError(
            "every row needs a pupil and a school pseudonym, in two distinct columns; "
            "some are missing or the same"
        )
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
        pupil_record_top=_record_top(
            source,
            layout,
            table,
            _column(table, "n_records", np.int64),
            _column(table, "n_pupils", np.int64),
            pupil=pupil,
            school=school,
            width=record_top if aggregate == "count" else 0,
            share=record_share,
        ),
    )
    variables = tuple(table.column(f"v{i}") for i in range(len(layout.variables)))
    return CellQuery(variables, present, stats)
