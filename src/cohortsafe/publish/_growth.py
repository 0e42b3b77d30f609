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

from cohortsafe.sdc._cellstats import BoolArray, CellStats, FloatArray, IntArray

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
        self._wholes: dict[tuple[CellKey, str, str], _Whole] = {}

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

    def mask(
        self, key: CellKey, *, only: Collection[str] = (), without: Collection[str] = ()
    ) -> BoolArray:
        """The cell's schools as a mask: those in ``only`` (when given), less ``without``."""
        position = self._position[key]
        if only:
            chosen = np.zeros(len(position), dtype=bool)
            chosen[[position[s] for s in only if s in position]] = True
        else:
            chosen = np.ones(len(position), dtype=bool)
        chosen[[position[s] for s in without if s in position]] = False
        return chosen

    def among(self, key: CellKey, schools: Collection[str]) -> BoolArray:
        """The mask of the cell's schools that are in ``schools`` (a large set)."""
        return np.asarray([s in schools for s in self._cells[key].schools], dtype=bool)

    def names(self, key: CellKey) -> tuple[str, ...]:
        return self._cells[key].schools

    def stats(
        self, keys: Sequence[CellKey], measure: str, groups: Sequence[BoolArray]
    ) -> CellStats:
        """The rules' statistics of ``measure`` in each of ``keys`` over the schools its
        mask chooses (the school alone, the other schools, the schools of a fit).

        The rules look at the few largest schools and pupils of a cell (at most the
        dominance rules' n), so only the ``TOP`` largest are kept."""
        size = len(keys)
        n_pupils = np.zeros(size, np.int64)
        n_schools = np.zeros(size, np.int64)
        school_top = np.zeros((size, TOP), np.int64)
        school_value_top = np.zeros((size, TOP))
        pupil_value_top = np.zeros((size, TOP))
        value_sum, value_min, value_max = np.zeros(size), np.zeros(size), np.zeros(size)
        pupil_total, school_total = np.zeros(size), np.zeros(size)
        for j, (key, group) in enumerate(zip(keys, groups, strict=True)):
            cell = self._cells[key]
            at = np.flatnonzero(group)
            if not len(at):
                continue
            pupils = cell.pupils[at]
            sums = cell.sums[measure][at]
            n_pupils[j], n_schools[j] = int(pupils.sum()), len(at)
            school_top[j, : min(TOP, len(at))] = _largest(pupils)
            # as the engine counts a school's share: the size of its net sum (docs/sdc.md)
            school_value_top[j, : min(TOP, len(at))] = _largest(np.abs(sums))
            pooled = _largest(cell.tops[measure][at].ravel())
            pupil_value_top[j, : len(pooled)] = pooled
            value_sum[j] = sums.sum()
            value_min[j] = cell.mins[measure][at].min()
            value_max[j] = cell.maxs[measure][at].max()
            pupil_total[j] = cell.abs_sums[measure][at].sum()
            school_total[j] = np.abs(sums).sum()
        return CellStats(
            aggregate="mean",
            n_records=n_pupils,
            n_pupils=n_pupils,
            n_schools=n_schools,
            school_top=school_top,
            value_sum=value_sum,
            value_min=value_min,
            value_max=value_max,
            pupil_value_top=pupil_value_top,
            pupil_value_total=pupil_total,
            school_value_top=school_value_top,
            school_value_total=school_total,
        )

    def stats_without(
        self,
        keys: Sequence[CellKey],
        measure: str,
        without: Collection[str],
        *,
        among: Sequence[BoolArray] | None = None,
        tag: str = "all",
    ) -> CellStats:
        """:meth:`stats` over every school of each cell (or of its ``among`` mask, cached
        under ``tag``) but ``without``: the whole cell's figures worked out once, less the
        few schools left out, so a report costs the same in a small or a national year."""
        masks = None
        if len(without) > _FEW:  # a large board: the general way
            masks = []
            for j, key in enumerate(keys):
                mask = self.mask(key, without=without)
                masks.append(mask if among is None else mask & among[j])
            return self.stats(keys, measure, masks)
        size = len(keys)
        counts = {
            "n_pupils": np.zeros(size, np.int64),
            "n_schools": np.zeros(size, np.int64),
            "school_top": np.zeros((size, TOP), np.int64),
        }
        out = {
            "school_value_top": np.zeros((size, TOP)),
            "pupil_value_top": np.zeros((size, TOP)),
            "value_sum": np.zeros(size),
            "value_min": np.zeros(size),
            "value_max": np.zeros(size),
            "pupil_value_total": np.zeros(size),
            "school_value_total": np.zeros(size),
        }
        for j, key in enumerate(keys):
            whole = self._whole(key, measure, None if among is None else among[j], tag)
            position = self._position[key]
            gone = [position[s] for s in without if s in position and whole.member[position[s]]]
            cell = self._cells[key]
            left = whole.schools - len(gone)
            if left <= 0:
                continue
            counts["n_pupils"][j] = whole.pupils - int(cell.pupils[gone].sum())
            counts["n_schools"][j] = left
            out["value_sum"][j] = whole.sum - float(cell.sums[measure][gone].sum())
            out["pupil_value_total"][j] = whole.abs_sum - float(cell.abs_sums[measure][gone].sum())
            out["school_value_total"][j] = whole.net_abs - float(
                np.abs(cell.sums[measure][gone]).sum()
            )
            skip = set(gone)
            counts["school_top"][j] = _first(whole.by_pupils, skip, cell.pupils, TOP)
            out["school_value_top"][j] = _first(whole.by_net, skip, np.abs(cell.sums[measure]), TOP)
            out["value_min"][j] = _first(whole.by_min, skip, cell.mins[measure], 1)[0]
            out["value_max"][j] = _first(whole.by_max, skip, cell.maxs[measure], 1)[0]
            kept = [v for v, owner in whole.pupil_tops if owner not in skip][:TOP]
            out["pupil_value_top"][j, : len(kept)] = kept
        return CellStats(
            aggregate="mean",
            n_records=counts["n_pupils"],
            n_pupils=counts["n_pupils"],
            n_schools=counts["n_schools"],
            school_top=counts["school_top"],
            value_sum=out["value_sum"],
            value_min=out["value_min"],
            value_max=out["value_max"],
            pupil_value_top=out["pupil_value_top"],
            pupil_value_total=out["pupil_value_total"],
            school_value_top=out["school_value_top"],
            school_value_total=out["school_value_total"],
        )

    def _whole(self, key: CellKey, measure: str, among: BoolArray | None, tag: str) -> _Whole:
        cache = (key, measure, tag)
        found = self._wholes.get(cache)
        if found is None:
            cell = self._cells[key]
            member = np.ones(len(cell.schools), bool) if among is None else among
            at = np.flatnonzero(member)
            depth = TOP + _FEW
            sums = cell.sums[measure]

            def order(values: np.ndarray, descending: bool = True) -> np.ndarray:
                picked = at[np.argsort(-values[at] if descending else values[at], kind="stable")]
                return picked[:depth]

            tops = cell.tops[measure][at]
            owners = np.repeat(at, tops.shape[1])
            flat = tops.ravel()
            best = np.argsort(-flat, kind="stable")[: TOP * (1 + _FEW)]
            found = self._wholes[cache] = _Whole(
                member=member,
                schools=len(at),
                pupils=int(cell.pupils[at].sum()),
                sum=float(sums[at].sum()),
                abs_sum=float(cell.abs_sums[measure][at].sum()),
                net_abs=float(np.abs(sums[at]).sum()),
                by_pupils=order(cell.pupils),
                by_net=order(np.abs(sums)),
                by_min=order(cell.mins[measure], descending=False),
                by_max=order(cell.maxs[measure]),
                pupil_tops=[(float(flat[i]), int(owners[i])) for i in best],
            )
        return found


#: up to this many schools left out, a report uses the cell's figures less theirs
_FEW = 16


@dataclass(frozen=True)
class _Whole:
    """A cell's (or its masked part's) totals and orders, for :meth:`stats_without`."""

    member: BoolArray
    schools: int
    pupils: int
    sum: float
    abs_sum: float
    net_abs: float
    by_pupils: np.ndarray  # school positions, largest first (the first few)
    by_net: np.ndarray
    by_min: np.ndarray  # smallest first
    by_max: np.ndarray
    pupil_tops: list[tuple[float, int]]  # (|value|, school position), largest first


def _first(order: np.ndarray, skip: set[int], values: np.ndarray, n: int) -> np.ndarray:
    """The values of the first ``n`` schools of ``order`` not in ``skip`` (0-padded)."""
    picked = [values[i] for i in order if int(i) not in skip][:n]
    out = np.zeros(n, dtype=values.dtype)
    out[: len(picked)] = picked
    return out


def _largest(values: np.ndarray) -> np.ndarray:
    """The ``TOP`` largest of ``values``, largest first."""
    if len(values) > TOP:
        values = np.partition(values, len(values) - TOP)[-TOP:]
    return np.sort(values)[::-1]


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
