"""Learning growth per school, from the vault's results of one school year, in one pass.

A pupil's growth in a domain is their E score minus their M score of the same school year,
jaargroep, school and scale (the mean of a moment's scores when a test was taken twice);
pupils without both are left out of every figure. Scores on different scales are never
mixed: every figure belongs to one (domain, scale, jaargroep) cell.

:class:`GrowthCells` keeps, per cell and school, what the disclosure rules need (pupils,
value sums, extremes, the largest pupil values) and never a pupil's row, so the statistics
of "every school but one" are arithmetic on it. :meth:`GrowthCells.stats` gives them as
the engine's :class:`~cohortsafe.sdc._cellstats.CellStats` for any group of schools (the
school itself, the rest of the country, the schools of a fit), so the policy's own rule
objects judge them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from cohortsafe.sdc._cellstats import CellStats, FloatArray, IntArray

__all__ = ["MEASURES", "CellKey", "GrowthCells", "growth_cells", "pupil_growth"]

#: the three figures of every cell: mean M score, mean E score, mean growth (E - M)
MEASURES: tuple[str, ...] = ("m", "e", "groei")
#: how many largest pupil values per school the rules may need (n of (n, k), p %)
TOP = 3

_PUPILS = """
WITH scores AS (
    SELECT school, pupil, leergebied, schaal, jaargroep, toetsmoment,
           avg(vaardigheidsscore) AS score
    FROM toetsresultaten
    WHERE schooljaar = $period AND toetsmoment IN ('M', 'E') AND leergebied IN $domains
    GROUP BY ALL
)
SELECT school, pupil, leergebied, schaal, CAST(jaargroep AS INTEGER) AS jaargroep,
       max(score) FILTER (WHERE toetsmoment = 'M') AS m,
       max(score) FILTER (WHERE toetsmoment = 'E') AS e,
       e - m AS groei
FROM scores
GROUP BY school, pupil, leergebied, schaal, jaargroep
HAVING m IS NOT NULL AND e IS NOT NULL
"""

_MEASURE_SQL = ", ".join(
    f"sum({v}) AS sum_{v}, min({v}) AS min_{v}, max({v}) AS max_{v}, "
    f"sum(abs({v})) AS abs_{v}, max(abs({v}), {TOP}) AS top_{v}"
    for v in MEASURES
)
_CELLS = f"""
SELECT leergebied, schaal, jaargroep, school, count(DISTINCT pupil) AS pupils,
       sum(groei * groei) AS sq_groei, list(groei) AS values_groei, {_MEASURE_SQL}
FROM growth
GROUP BY ALL
ORDER BY leergebied, schaal, jaargroep, school
"""


def pupil_growth(
    con: duckdb.DuckDBPyConnection, period: str, domains: Sequence[str]
) -> duckdb.DuckDBPyRelation:
    """Every pupil's growth of ``period`` (one row per pupil, school, domain, scale, group)."""
    return con.sql(_PUPILS, params={"period": period, "domains": list(domains)})


@dataclass(frozen=True, order=True)
class CellKey:
    """One figure's population: a domain on one scale, in one jaargroep."""

    leergebied: str
    schaal: str
    jaargroep: int


@dataclass(frozen=True)
class _Cell:
    schools: tuple[str, ...]
    pupils: IntArray  # per school
    sums: dict[str, FloatArray]
    mins: dict[str, FloatArray]
    maxs: dict[str, FloatArray]
    abs_sums: dict[str, FloatArray]
    tops: dict[str, FloatArray]  # schools x TOP, largest |value| first, 0-padded
    sq_groei: FloatArray
    values: tuple[FloatArray, ...] = ()  # per school, its pupils' growth


class GrowthCells:
    """Per cell and school, the sums and extremes of the three measures."""

    def __init__(self, cells: dict[CellKey, _Cell]) -> None:
        self._cells = cells
        self._position = {
            key: {school: i for i, school in enumerate(cell.schools)} for key, cell in cells.items()
        }

    @classmethod
    def from_arrow(cls, table: pa.Table) -> GrowthCells:
        columns = table.to_pydict()
        groups: dict[CellKey, list[int]] = {}
        labels = zip(columns["leergebied"], columns["schaal"], columns["jaargroep"], strict=True)
        for i, (domain, scale, group) in enumerate(labels):
            groups.setdefault(CellKey(str(domain), str(scale), int(group)), []).append(i)
        numbers = {
            name: np.asarray(columns[name], dtype=np.float64)
            for name in columns
            if name.startswith(("sum_", "min_", "max_", "abs_", "sq_"))
        }
        tops = {v: _padded(columns[f"top_{v}"]) for v in MEASURES}
        pupils = np.asarray(columns["pupils"], dtype=np.int64)
        cells: dict[CellKey, _Cell] = {}
        for key, rows in groups.items():
            at = np.asarray(rows)
            cells[key] = _Cell(
                schools=tuple(str(columns["school"][i]) for i in rows),
                pupils=pupils[at],
                sums={v: numbers[f"sum_{v}"][at] for v in MEASURES},
                mins={v: numbers[f"min_{v}"][at] for v in MEASURES},
                maxs={v: numbers[f"max_{v}"][at] for v in MEASURES},
                abs_sums={v: numbers[f"abs_{v}"][at] for v in MEASURES},
                tops={v: tops[v][at] for v in MEASURES},
                sq_groei=numbers["sq_groei"][at],
                values=tuple(np.asarray(columns["values_groei"][i], np.float64) for i in rows),
            )
        return cls(cells)

    @property
    def keys(self) -> list[CellKey]:
        return sorted(self._cells)

    def schools(self) -> set[str]:
        return {school for cell in self._cells.values() for school in cell.schools}

    def keys_of(self, school: str) -> list[CellKey]:
        """The cells in which ``school`` has pupils with growth."""
        return [key for key in self.keys if school in self._position[key]]

    def school_count(self, key: CellKey) -> int:
        return len(self._cells[key].schools)

    def pupils(self, key: CellKey, school: str) -> int:
        return int(self._cells[key].pupils[self._position[key][school]])

    def growth_values(self, key: CellKey, school: str) -> FloatArray:
        """The growth of each of ``school``'s pupils in the cell."""
        return self._cells[key].values[self._position[key][school]]

    def school_means(self, key: CellKey, measure: str) -> tuple[tuple[str, ...], FloatArray]:
        """Each school's mean of ``measure`` in the cell (schools in cell order)."""
        cell = self._cells[key]
        return cell.schools, cell.sums[measure] / cell.pupils

    def mean(self, key: CellKey, measure: str, school: str | None = None) -> float:
        """The mean over the cell's pupils: of one school, or of all schools (None)."""
        cell = self._cells[key]
        if school is None:
            return float(cell.sums[measure].sum() / cell.pupils.sum())
        i = self._position[key][school]
        return float(cell.sums[measure][i] / cell.pupils[i])

    def growth_sd(self, key: CellKey) -> float:
        """The standard deviation of pupil growth over all schools of the cell."""
        cell = self._cells[key]
        n = float(cell.pupils.sum())
        if n < 2:
            return float("nan")
        total = float(cell.sums["groei"].sum())
        variance = (float(cell.sq_groei.sum()) - total * total / n) / (n - 1)
        return float(np.sqrt(max(variance, 0.0)))

    def populations(self, key: CellKey) -> dict[str, int]:
        """The pupils of each school in the cell."""
        cell = self._cells[key]
        return {school: int(n) for school, n in zip(cell.schools, cell.pupils, strict=True)}

    def stats(
        self, keys: Sequence[CellKey], measure: str, groups: Sequence[Collection[str]]
    ) -> CellStats:
        """The rules' statistics of ``measure`` in each of ``keys`` over the schools of the
        matching group (the school alone, the other schools, the schools of a fit)."""
        rows = [
            self._subset(self._cells[key], group) for key, group in zip(keys, groups, strict=True)
        ]
        size = len(rows)
        width = max([len(r.pupils) for r in rows] + [TOP])  # the rules index the largest few
        school_top = np.zeros((size, width), np.int64)
        school_value_top = np.zeros((size, width))
        pupil_value_top = np.zeros((size, TOP))
        for j, r in enumerate(rows):
            school_top[j, : len(r.pupils)] = np.sort(r.pupils)[::-1]
            # as the engine counts a school's share: the size of its net sum (docs/sdc.md)
            school_value_top[j, : len(r.pupils)] = np.sort(np.abs(r.sums[measure]))[::-1]
            if len(r.pupils):
                pooled = np.sort(r.tops[measure].ravel())[::-1][:TOP]
                pupil_value_top[j, : len(pooled)] = pooled

        def total(get: str) -> FloatArray:
            return np.asarray([getattr(r, get)[measure].sum() for r in rows], dtype=np.float64)

        def extreme(get: str, pick: str) -> FloatArray:
            values = [getattr(r, get)[measure] for r in rows]
            return np.asarray(
                [getattr(np, pick)(v) if len(v) else 0.0 for v in values], dtype=np.float64
            )

        n_pupils = np.asarray([r.pupils.sum() for r in rows], dtype=np.int64)
        return CellStats(
            aggregate="mean",
            n_records=n_pupils,
            n_pupils=n_pupils,
            n_schools=np.asarray([len(r.pupils) for r in rows], dtype=np.int64),
            school_top=school_top,
            value_sum=total("sums"),
            value_min=extreme("mins", "min"),
            value_max=extreme("maxs", "max"),
            pupil_value_top=pupil_value_top,
            pupil_value_total=total("abs_sums"),
            school_value_top=school_value_top,
            school_value_total=np.asarray([np.abs(r.sums[measure]).sum() for r in rows]),
        )

    @staticmethod
    def _subset(cell: _Cell, group: Collection[str]) -> _Cell:
        chosen = np.asarray([i for i, s in enumerate(cell.schools) if s in group], np.int64)
        return _Cell(
            schools=tuple(cell.schools[i] for i in chosen),
            pupils=cell.pupils[chosen],
            sums={v: a[chosen] for v, a in cell.sums.items()},
            mins={v: a[chosen] for v, a in cell.mins.items()},
            maxs={v: a[chosen] for v, a in cell.maxs.items()},
            abs_sums={v: a[chosen] for v, a in cell.abs_sums.items()},
            tops={v: a[chosen] for v, a in cell.tops.items()},
            sq_groei=cell.sq_groei[chosen],
        )


def _padded(lists: list[list[float] | None]) -> FloatArray:
    out = np.zeros((len(lists), TOP))
    for i, values in enumerate(lists):
        if values:
            out[i, : len(values)] = values[:TOP]
    return out


def growth_cells(
    con: duckdb.DuckDBPyConnection, period: str, domains: Sequence[str]
) -> GrowthCells:
    """The growth cells of every school in ``period`` (one DuckDB pass over the results)."""
    query = f"WITH growth AS ({_PUPILS}) {_CELLS}"
    table = con.sql(query, params={"period": period, "domains": list(domains)}).to_arrow_table()
    return GrowthCells.from_arrow(table)
