"""An independent attacker on a set of released outputs: the judge of the combined check.

This is a test helper, written without any of ``cohortsafe.sdc``'s disclosure code (a
second implementation path, numpy/scipy/pandas only), so that a property test can hold
the release ledger's combined check against it. Three parts:

**Microdata** — :func:`make_microdata` draws small random record sets: a record id,
pupil, school (some pupils *movers* with records at two schools), categorical variables
(``region`` constant within a school; ``domain``, ``year`` per record; ``gender`` per
pupil), ``attempt`` (pupils with *retakes* have several records of one domain and
year) and a non-negative ``score``.

**Released outputs** — independent of the engine: a :class:`ReleasedOutput` is a list
of :class:`ReleasedCell`, each a :class:`Filter` over records, a statistic (``count``,
``sum``, ``mean``), the value column and the published value. :func:`table_output`
builds them with plain pandas group-bys; :func:`from_checked_table`,
:func:`from_checked_output` and :func:`from_session` translate what a
``cohortsafe.sdc.Session`` released (cells whose value is shown; ``"All"`` labels are
margins) back into filters on the microdata.

**The attacker** — :func:`disclosed`. Records that no released cell separates (the same
set of released cells contains them) form an *atom*. The attacker knows which atoms
exist (the combinations of categories that occur) and, by linear programming (HiGHS,
``scipy.optimize.linprog``), bounds the total of any union of atoms:

- *count space*: unknowns ``n_a >= 0`` per atom, one equation per released count cell;
- *sum space* (one per value column): unknowns ``x_r >= 0`` per record, one equation per
  released sum cell (``sum x_r = sum``) and mean cell (``sum x_r = mean * n``, the
  number of records ``n`` being known). Records of one atom are interchangeable in these
  equations, so the programme runs on atom sums; a group that cuts through an atom
  (a pupil, a school) has the interval ``[min of the atoms inside it, max of the atoms
  it touches]``, exactly what the per-record programme gives.

It judges every pupil, every school, and the unions of atoms listed in
:func:`disclosed` whose records have fewer than ``min_pupils`` pupils, fewer than
``min_schools`` schools, or are dominated by one or two schools. A group is *disclosed*
when its interval does not reach the protection levels of
``cohortsafe/sdc/rules/secondary_suppression.py`` around its true total: ``percent`` %
of it, at least ``minimum_count`` (counts; bounds rounded to whole records, as an
attacker may) or ``minimum_value`` (sums), the lower level capped at the value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linprog

if TYPE_CHECKING:
    from cohortsafe.sdc import CheckedOutput, CheckedTable, Session

__all__ = [
    "ALL",
    "Disclosure",
    "Filter",
    "Group",
    "Protection",
    "ReleasedCell",
    "ReleasedOutput",
    "Statistic",
    "disclosed",
    "from_checked_output",
    "from_checked_table",
    "from_session",
    "inconsistent",
    "interval",
    "make_microdata",
    "table_output",
]

Statistic = Literal["count", "sum", "mean"]
GroupKind = Literal["pupil", "school", "atoms"]
ALL = "All"  # the label of a margin, as pandas and the Session write it
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


# --- microdata ---------------------------------------------------------------------


def make_microdata(
    seed: int,
    *,
    n_pupils: int = 120,
    n_schools: int = 8,
    n_regions: int = 3,
    movers: float = 0.05,
    retakes: float = 0.1,
    domains: Sequence[str] = ("read", "spell", "math"),
    years: Sequence[int] = (2024, 2025),
) -> pd.DataFrame:
    """Random records: ``record, pupil, school, region, domain, year, gender, attempt,
    score``.

    Each pupil has a gender and a home school; schools lie in one region each. A pupil
    has one to three results (domain and year drawn per result); a share ``movers`` of
    pupils has one more result at a second school, a share ``retakes`` one more
    attempt (``attempt`` 2) of one of its results. Scores are non-negative, one decimal.
    """
    rng = np.random.default_rng(seed)
    school_region = {
        f"s{k}": f"r{(k % n_regions) if k < n_regions else rng.integers(n_regions)}"
        for k in range(n_schools)
    }
    schools = list(school_region)
    rows: list[dict[str, Any]] = []
    for i in range(n_pupils):
        pupil = f"p{i}"
        gender = str(rng.choice(["f", "m"]))
        home = schools[int(rng.integers(n_schools))]
        results = []
        for _ in range(int(rng.integers(1, 4))):
            results.append((home, str(rng.choice(list(domains))), int(rng.choice(list(years))), 1))
        if rng.random() < movers:
            other = schools[int(rng.integers(n_schools))]
            if other != home:
                results.append(
                    (other, str(rng.choice(list(domains))), int(rng.choice(list(years))), 1)
                )
        if rng.random() < retakes:
            school, domain, year, _ = results[int(rng.integers(len(results)))]
            results.append((school, domain, year, 2))
        for school, domain, year, attempt in results:
            rows.append(
                {
                    "pupil": pupil,
                    "school": school,
                    "region": school_region[school],
                    "domain": domain,
                    "year": year,
                    "gender": gender,
                    "attempt": attempt,
                    "score": round(float(rng.gamma(9.0, 6.0)), 1),
                }
            )
    frame = pd.DataFrame.from_records(rows)
    frame.insert(0, "record", np.arange(len(frame)))
    return frame


# --- released outputs --------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A conjunction of conditions on records; the empty filter takes every record.

    ``isin``: the column's value is one of these; ``ranges``: ``low <= value < high``
    (None for an open end); ``present``: the column is not missing.
    """

    isin: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    ranges: tuple[tuple[str, float | None, float | None], ...] = ()
    present: tuple[str, ...] = ()

    @classmethod
    def where(cls, **conditions: Any) -> Filter:
        """``Filter.where(region="r0", year=[2024, 2025])``: equality or membership."""
        isin = []
        for column, wanted in conditions.items():
            values = (
                tuple(wanted) if isinstance(wanted, list | tuple | set | frozenset) else (wanted,)
            )
            isin.append((column, values))
        return cls(isin=tuple(isin))

    def __and__(self, other: Filter) -> Filter:
        return Filter(
            self.isin + other.isin,
            self.ranges + other.ranges,
            tuple(dict.fromkeys(self.present + other.present)),
        )

    def mask(self, data: pd.DataFrame) -> BoolArray:
        """Which records of ``data`` pass."""
        keep = np.ones(len(data), bool)
        for column, values in self.isin:
            keep &= data[column].isin(list(values)).to_numpy()
        for column, low, high in self.ranges:
            series = data[column]
            keep &= series.notna().to_numpy()
            if low is not None:
                keep &= (series >= low).to_numpy()
            if high is not None:
                keep &= (series < high).to_numpy()
        for column in self.present:
            keep &= data[column].notna().to_numpy()
        return keep

    def columns(self) -> tuple[str, ...]:
        names = [c for c, _ in self.isin] + [c for c, _, _ in self.ranges] + list(self.present)
        return tuple(dict.fromkeys(names))

    def describe(self) -> str:
        parts = [f"{c}={v[0]!r}" if len(v) == 1 else f"{c} in {list(v)!r}" for c, v in self.isin]
        parts += [f"{lo}<={c}<{hi}" for c, lo, hi in self.ranges]
        return " & ".join(parts) or "all records"


@dataclass(frozen=True)
class ReleasedCell:
    """One published number: a statistic over the records a filter takes."""

    filter: Filter
    statistic: Statistic
    column: str | None
    value: float
    label: str = ""

    def __post_init__(self) -> None:
        if (self.column is None) != (self.statistic == "count"):
            raise ValueError("a count has no value column; a sum or mean needs one")

    def records(self, data: pd.DataFrame) -> BoolArray:
        """The records behind the cell (for a sum or mean: those with a value)."""
        keep = self.filter.mask(data)
        if self.column is not None:
            keep &= data[self.column].notna().to_numpy()
        return keep


@dataclass(frozen=True)
class ReleasedOutput:
    """The released cells of one output (a table, a summary, a histogram)."""

    uid: str
    cells: tuple[ReleasedCell, ...]


def _statistic(
    data: pd.DataFrame, keep: BoolArray, statistic: Statistic, column: str | None
) -> float:
    if statistic == "count":
        return float(keep.sum())
    assert column is not None
    values = data.loc[keep, column].dropna()
    if statistic == "sum":
        return float(values.sum())
    return float(values.mean()) if len(values) else math.nan


def table_output(
    uid: str,
    data: pd.DataFrame,
    index: Sequence[str],
    columns: Sequence[str] = (),
    *,
    statistic: Statistic = "count",
    column: str | None = None,
    base: Filter | None = None,
    margins: bool = True,
    hide: Callable[[Mapping[str, Any]], bool] | None = None,
) -> ReleasedOutput:
    """A table computed with pandas, as :class:`ReleasedCell` s.

    Cells are the observed combinations of ``index`` x ``columns`` (pandas' crosstab)
    over the records ``base`` takes; with ``margins`` also the pandas margins (``"All"``
    for all index variables together, for all column variables together, and both).
    Without index variables the table is one cell, the total.
    ``hide(labels)`` True leaves a cell out (a suppressed cell); empty means are left
    out.
    """
    base = base or Filter()
    keep = base.mask(data)
    if column is not None:
        keep &= data[column].notna().to_numpy()
    sub = data.loc[keep]
    rows = _combinations(sub, index)
    cols = _combinations(sub, columns) if columns else [()]
    row_keys: list[tuple[Any, ...] | None] = [*rows, *([None] if margins and index else [])]
    col_keys: list[tuple[Any, ...] | None] = (
        [*cols, *([None] if margins else [])] if columns else [()]
    )
    cells = []
    for row in row_keys:
        for col in col_keys:
            labels: dict[str, Any] = {}
            labels.update(
                dict.fromkeys(index, ALL) if row is None else dict(zip(index, row, strict=True))
            )
            if columns:
                labels.update(
                    dict.fromkeys(columns, ALL)
                    if col is None
                    else dict(zip(columns, col, strict=True))
                )
            if hide is not None and hide(labels):
                continue
            cell_filter = base & Filter.where(**{k: v for k, v in labels.items() if v != ALL})
            value = _statistic(data, cell_filter.mask(data), statistic, column)
            if math.isnan(value):
                continue
            cells.append(
                ReleasedCell(cell_filter, statistic, column, value, f"{uid}[{_label_text(labels)}]")
            )
    return ReleasedOutput(uid, tuple(cells))


def _combinations(data: pd.DataFrame, names: Sequence[str]) -> list[tuple[Any, ...]]:
    if not names:
        return [()]
    found = data[list(names)].drop_duplicates().sort_values(list(names))
    return [tuple(r) for r in found.itertuples(index=False, name=None)]


def _label_text(labels: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


def from_checked_table(uid: str, table: CheckedTable, base: Filter | None = None) -> ReleasedOutput:
    """The cells a ``CheckedTable`` shows, as filters on the microdata.

    ``base`` takes the records of the frame the table was computed from (the filter the
    researcher applied before calling the session). A cell's filter is ``base`` and, per
    variable of the table, its label (``margins_name`` totals the variable). Cells the
    table does not show (suppressed, or every cell of a withheld table) are not released.
    Percentages (``normalize``) are not modelled and raise.
    """
    request = table.request
    if request.normalize is not None:
        raise NotImplementedError("percentage tables are not modelled by this attacker")
    statistic = cast(Statistic, request.aggfunc)
    if statistic not in ("count", "sum", "mean"):
        raise NotImplementedError(f"statistic {statistic!r} is not modelled")
    column = request.values if statistic != "count" else None
    base = base or Filter()
    cells = []
    for cell in table.cells:
        if cell.value is None or cell.status != "ok":
            continue
        labels = {**cell.index, **cell.columns}
        wanted = {k: v for k, v in labels.items() if v != request.margins_name}
        cell_filter = base & Filter.where(**wanted)
        if column is not None:
            cell_filter = cell_filter & Filter(present=(column,))
        cells.append(
            ReleasedCell(
                cell_filter, statistic, column, float(cell.value), f"{uid}[{_label_text(labels)}]"
            )
        )
    return ReleasedOutput(uid, tuple(cells))


def from_checked_output(
    uid: str, output: CheckedTable | CheckedOutput, base: Filter | None = None
) -> ReleasedOutput:
    """A session output's released cells: tables, ``describe`` (count and mean; the
    standard deviation and median are not linear and left out) and histograms (bins as
    ``low <= value < high`` counts). Regressions and percentiles release nothing the
    attacker models.
    """
    from cohortsafe.sdc import CheckedTable

    if isinstance(output, CheckedTable):
        return from_checked_table(uid, output, base)
    base = base or Filter()
    cells: list[ReleasedCell] = []
    if output.kind == "summary":
        by = list(output.details.get("by", []))
        for row in output.rows:
            if row.get("status") != "ok":
                continue
            column = str(row["column"])
            labels = {k: row[k] for k in by}
            wanted = {k: v for k, v in labels.items() if v != ALL}
            cell_filter = base & Filter.where(**wanted) & Filter(present=(column,))
            text = f"{uid}[{_label_text(labels) or 'all'}; {column}]"
            if row.get("count") is not None:
                cells.append(ReleasedCell(cell_filter, "count", None, float(row["count"]), text))
            if row.get("mean") is not None:
                cells.append(ReleasedCell(cell_filter, "mean", column, float(row["mean"]), text))
    elif output.kind == "histogram":
        column = str(output.details["column"])
        for row in output.rows:
            if row.get("status") != "ok" or row.get("count") is None:
                continue
            if row["bin"] == ALL:
                cell_filter = base & Filter(present=(column,))
            else:
                cell_filter = base & Filter(ranges=((column, row["low"], row["high"]),))
            cells.append(
                ReleasedCell(
                    cell_filter, "count", None, float(row["count"]), f"{uid}[bin {row['bin']}]"
                )
            )
    return ReleasedOutput(uid, tuple(cells))


def from_session(
    session: Session,
    bases: Mapping[str, Filter] | None = None,
    *,
    exceptions: bool = False,
) -> list[ReleasedOutput]:
    """Every output a session would release (``finalise``): failed outputs show nothing,
    unless ``exceptions`` and the researcher asked one. ``bases[uid]`` is the filter
    behind each output's input frame (default: all records)."""
    bases = bases or {}
    released = []
    for uid, output in session.outputs.items():
        if output.outcome == "fail" and not (exceptions and output.exception):
            continue
        released.append(from_checked_output(uid, output.result, bases.get(uid)))
    return released


def inconsistent(
    microdata: pd.DataFrame, released: Iterable[ReleasedOutput], *, tolerance: float = 1e-6
) -> list[ReleasedCell]:
    """Released cells whose published value is not their statistic over the microdata
    (a wrong translation of an output would make the attacker judge something else)."""
    data = microdata.reset_index(drop=True)
    wrong = []
    for output in released:
        for cell in output.cells:
            value = _statistic(data, cell.records(data), cell.statistic, cell.column)
            if not abs(value - cell.value) <= tolerance * max(1.0, abs(value)):
                wrong.append(cell)
    return wrong


# --- the attacker ------------------------------------------------------------------


@dataclass(frozen=True)
class Protection:
    """Which groups are sensitive and how far an attacker must stay from their totals.

    Defaults are the ``research`` policy's: 10 pupils, 3 schools, protection 30 % with
    at least 3 (counts) or 1.0 (sums); a group is *dominated* when one school has more
    than 50 % of its pupils (the policy's (1, 50) limit; its (2, 67) limit would also
    make a sensitive group of the sum of two suppressed cells of one row, which cell
    suppression never protects, so it is left to :meth:`from_policy`).
    """

    min_pupils: int = 10
    min_schools: int = 3
    dominance: tuple[tuple[int, float], ...] = ((1, 50.0),)
    percent: float = 30.0
    minimum_count: int = 3
    minimum_value: float = 1.0

    @classmethod
    def from_policy(cls, policy: Any, *, all_dominance_limits: bool = False) -> Protection:
        """The thresholds of a ``cohortsafe.sdc.Policy`` (its parameters only); of the
        dominance limits only the one-school ones unless ``all_dominance_limits``."""
        secondary = policy.secondary_suppression
        limits = tuple(policy.school_dominance.limits) if policy.school_dominance else ()
        if not all_dominance_limits:
            limits = tuple((n, p) for n, p in limits if n == 1)
        return cls(
            min_pupils=policy.min_pupils.threshold if policy.min_pupils else 1,
            min_schools=policy.min_schools.threshold if policy.min_schools else 1,
            dominance=limits,
            percent=secondary.percent,
            minimum_count=secondary.minimum_count,
            minimum_value=secondary.minimum_value,
        )

    def levels(self, value: float, *, count: bool) -> tuple[float, float]:
        """(lower, upper) protection levels around a true total."""
        level = abs(value) * self.percent / 100.0
        if count:
            level = max(math.ceil(level - 1e-9), float(self.minimum_count))
        else:
            level = max(level, self.minimum_value)
        return min(level, abs(value)), level


@dataclass(frozen=True)
class Group:
    """A group of records the attacker judges: a pupil, a school or a union of atoms."""

    kind: GroupKind
    label: str
    records: tuple[int, ...]  # record ids
    pupils: int
    schools: int
    why: str  # what makes it sensitive


@dataclass(frozen=True)
class Disclosure:
    """A group whose total the released outputs pin down.

    ``space`` is ``"count"`` or ``"sum:<column>"``; ``low``/``high`` what the attacker
    proves (counts rounded to whole records); ``exact`` when they coincide.
    ``outputs`` are those whose equations carry the proof (non-zero LP duals).
    """

    group: Group
    space: str
    true: float
    low: float
    high: float
    lower: float
    upper: float
    exact: bool
    outputs: tuple[str, ...]
    cells: tuple[str, ...] = field(default=(), repr=False)

    def describe(self) -> str:
        how = "exactly" if self.exact else "within protection"
        return (
            f"{self.group.kind} {self.group.label} ({self.group.why}): {self.space} "
            f"{how} in [{self.low:g}, {self.high:g}] using {', '.join(self.outputs)}"
        )


@dataclass
class _Space:
    """One linear system over atoms: ``A z = b``, ``z >= 0``, with a pool of feasible
    points (the truth and every LP solution) that proves safety without a programme."""

    name: str
    count: bool
    matrix: FloatArray  # equations x atoms
    rhs: FloatArray
    cell_outputs: list[str]
    cell_labels: list[str]
    truth: FloatArray  # per atom
    points: list[FloatArray]
    present: BoolArray  # atoms whose records carry the value (the others are 0)
    cache: dict[tuple[frozenset[int], str], tuple[float, tuple[int, ...]]] = field(
        default_factory=dict
    )
    programmes: int = 0

    def bound(
        self, atoms: frozenset[int], sense: Literal["min", "max"], *, whole: bool = False
    ) -> tuple[float, tuple[int, ...]]:
        """min or max of the atoms' total, and the equations its proof uses; ``whole``
        rounds it to whole records inwards, as an attacker on counts may."""
        value, used = self._bound(atoms, sense)
        if whole and not math.isinf(value):
            value = float(math.ceil(value - 1e-6) if sense == "min" else math.floor(value + 1e-6))
        return value, used

    def _bound(
        self, atoms: frozenset[int], sense: Literal["min", "max"]
    ) -> tuple[float, tuple[int, ...]]:
        if not atoms:
            return 0.0, ()
        key = (atoms, sense)
        if key in self.cache:
            return self.cache[key]
        k = self.matrix.shape[1]
        objective = np.zeros(k)
        objective[list(atoms)] = 1.0 if sense == "min" else -1.0
        if self.matrix.shape[0] == 0:
            answer: tuple[float, tuple[int, ...]] = (0.0, ()) if sense == "min" else (math.inf, ())
            self.cache[key] = answer
            return answer
        self.programmes += 1
        bounds = [(0.0, None) if p else (0.0, 0.0) for p in self.present]
        result = linprog(objective, A_eq=self.matrix, b_eq=self.rhs, bounds=bounds, method="highs")
        if result.status == 3:  # unbounded above
            answer = (math.inf, ())
        elif result.status != 0:
            raise RuntimeError(f"attacker LP failed in {self.name}: {result.message}")
        else:
            duals = np.asarray(result.eqlin.marginals)
            used = tuple(int(i) for i in np.flatnonzero(np.abs(duals) > 1e-9))
            value = float(result.fun) if sense == "min" else -float(result.fun)
            answer = (value, used)
            self.points.append(np.asarray(result.x, float))
        self.cache[key] = answer
        return answer

    def pooled(
        self, inner: Sequence[frozenset[int]], outer: Sequence[frozenset[int]]
    ) -> tuple[FloatArray, FloatArray]:
        """Per group: smallest inner total and largest outer total over known points."""
        points = np.vstack(self.points)  # points x atoms

        def totals(sets: Sequence[frozenset[int]]) -> FloatArray:
            indicator = np.zeros((len(sets), points.shape[1]))
            for i, s in enumerate(sets):
                indicator[i, list(s)] = 1.0
            return indicator @ points.T  # groups x points

        return totals(inner).min(axis=1), totals(outer).max(axis=1)


def disclosed(
    microdata: pd.DataFrame,
    released: Iterable[ReleasedOutput],
    *,
    protection: Protection | None = None,
    pupil: str = "pupil",
    school: str = "school",
    record: str = "record",
    max_union: int = 3,
    max_unions: int = 3_000,
    mean_counts_known: bool = False,
    atoms: Literal["observed", "possible"] = "observed",
    random_points: int = 8,
    seed: int = 0,
) -> list[Disclosure]:
    """Every sensitive group whose total the released outputs disclose.

    Groups judged:

    1. every pupil and every school (all their records);
    2. every atom, and every union of 2 … ``max_union`` atoms each with fewer than
       ``min_pupils`` pupils or fewer than ``min_schools`` schools (a union with too few
       pupils or schools holds no other atom), for each size with at most ``max_unions``
       such unions (larger sizes are skipped);
    3. for every two released cells, their intersection and both differences (the
       unions differencing attacks aim at, however many atoms they hold);

    atoms and unions are kept when their records have fewer than ``min_pupils`` pupils,
    fewer than ``min_schools`` schools or a school share beyond the dominance limits.
    Each group is judged in the count space (only groups that are unions of atoms: the
    count space knows no pupils) and in the sum space of every value column with
    released sums or means.

    ``mean_counts_known``: the number of records behind a released mean (which the sum
    space assumes known) also enters the count space as an equation.

    ``atoms``: ``"observed"`` (the default) takes the attacker to know which
    combinations of categories occur (structural zeros known: an atom with no records
    has no unknown); ``"possible"`` gives every combination of the filtered columns'
    categories (and value ranges) its unknown, records or not: the attacker knows only
    the categories. The weaker attacker misses attacks that rest on an empty
    combination, such as a recode whose definition is public.
    """
    protection = protection or Protection()
    data = microdata.reset_index(drop=True)
    system = _System.build(data, released, mean_counts_known, atoms)
    if system is None:
        return []
    cells, atom_of, atom_cells, observed, spaces = (
        system.cells,
        system.atom_of,
        system.atom_cells,
        system.observed,
        system.spaces,
    )
    n_atoms = atom_cells.shape[1]
    rng = np.random.default_rng(seed)
    for space in spaces:
        for _ in range(random_points):  # a few vertices make the pool cover more
            picked = frozenset(int(a) for a in np.flatnonzero(rng.random(n_atoms) < 0.5))
            if picked:
                space.bound(picked, "max")
                space.bound(picked, "min")

    groups = _groups(
        data, cells, atom_cells, atom_of, observed, protection, pupil, school, max_union, max_unions
    )
    ids = data[record].to_numpy()
    found: list[Disclosure] = []
    for space in spaces:
        if space.count:
            values = np.ones(len(data))
            carries = np.ones(len(data), bool)
        else:
            column = space.name.split(":", 1)[1]
            carries = data[column].notna().to_numpy()
            values = np.nan_to_num(data[column].to_numpy(float))
        unit = bool(((values[carries] >= 0) & (values[carries] <= 1)).all())
        as_count = space.count or unit  # a sum of 0/1 values is protected as a count
        judged = [
            g
            for g in groups
            if carries[g.positions].any() and not (space.count and g.inner != g.atoms)
        ]
        for start in range(0, len(judged), _CHUNK):
            chunk = judged[start : start + _CHUNK]
            low_pool, high_pool = space.pooled([g.inner for g in chunk], [g.atoms for g in chunk])
            for g, candidate in enumerate(chunk):
                true = float(values[candidate.positions].sum())
                lower, upper = protection.levels(true, count=as_count)
                tol = 1e-6 * max(1.0, abs(true))
                floor_, ceiling = true - lower + tol, true + upper - tol
                low_bad = high_bad = False
                low, high = float(low_pool[g]), float(high_pool[g])
                if low > floor_:
                    low = space.bound(candidate.inner, "min", whole=space.count)[0]
                    low_bad = low > floor_
                if high < ceiling:
                    high = space.bound(candidate.atoms, "max", whole=space.count)[0]
                    high_bad = high < ceiling
                if not (low_bad or high_bad):
                    continue
                # a disclosure: both bounds exactly, for the report
                low, min_used = space.bound(candidate.inner, "min", whole=space.count)
                high, max_used = space.bound(candidate.atoms, "max", whole=space.count)
                used = sorted(set((min_used if low_bad else ()) + (max_used if high_bad else ())))
                found.append(
                    Disclosure(
                        group=candidate.group(data, ids, cells),
                        space=space.name,
                        true=true,
                        low=low,
                        high=high,
                        lower=lower,
                        upper=upper,
                        exact=high - low <= tol,
                        outputs=tuple(dict.fromkeys(space.cell_outputs[i] for i in used)),
                        cells=tuple(space.cell_labels[i] for i in used),
                    )
                )
    return found


_CHUNK = 128  # groups judged per refresh of the pool of feasible points


@dataclass
class _System:
    """The released cells, the atoms they cut the records into and the spaces."""

    cells: list[tuple[str, ReleasedCell]]
    atom_of: IntArray  # per record
    atom_cells: BoolArray  # cells x atoms (observed ones first)
    observed: int  # atoms with records
    spaces: list[_Space]

    @classmethod
    def build(
        cls,
        data: pd.DataFrame,
        released: Iterable[ReleasedOutput],
        mean_counts_known: bool,
        atoms: Literal["observed", "possible"],
    ) -> _System | None:
        cells = [(o.uid, c) for o in released for c in o.cells]
        if not cells:
            return None
        member = np.vstack([c.records(data) for _, c in cells])  # cells x records
        # atoms: records with the same column of `member`
        _, inverse = np.unique(member.T, axis=0, return_inverse=True)
        atom_of: IntArray = np.asarray(inverse, np.intp).reshape(-1)
        observed = int(atom_of.max()) + 1
        atom_cells = np.zeros((len(cells), observed), bool)
        atom_cells[:, atom_of] = member
        if atoms == "possible":
            empty = _empty_combinations(data, [c for _, c in cells], atom_cells)
            atom_cells = np.hstack([atom_cells, empty])
        spaces = _spaces(data, cells, atom_cells, atom_of, observed, mean_counts_known)
        return cls(cells, atom_of, atom_cells, observed, spaces)


def interval(
    microdata: pd.DataFrame,
    released: Iterable[ReleasedOutput],
    records: Iterable[int],
    *,
    space: str = "count",
    record: str = "record",
    mean_counts_known: bool = False,
    atoms: Literal["observed", "possible"] = "observed",
) -> tuple[float, float]:
    """What the attacker proves about the total of these records (record ids) in a
    space (``"count"`` or ``"sum:<column>"``), as :func:`disclosed` judges it: the LP
    minimum over the atoms the records fill and maximum over the atoms they touch
    (counts not rounded). Unreleased spaces and untouched records give ``(0, inf)``."""
    data = microdata.reset_index(drop=True)
    wanted = set(records)
    positions = np.flatnonzero(data[record].isin(wanted).to_numpy())
    if len(positions) != len(wanted):
        raise ValueError("records not in the microdata")
    system = _System.build(data, released, mean_counts_known, atoms)
    chosen = [s for s in system.spaces if s.name == space] if system else []
    if system is None or not chosen:
        return 0.0, math.inf
    inside = np.bincount(system.atom_of[positions], minlength=system.atom_cells.shape[1])
    sizes = np.bincount(system.atom_of, minlength=system.atom_cells.shape[1])
    touched = frozenset(int(a) for a in np.flatnonzero(inside))
    inner = frozenset(a for a in touched if inside[a] == sizes[a])
    return chosen[0].bound(inner, "min")[0], chosen[0].bound(touched, "max")[0]


@dataclass
class _Candidate:
    """A group to judge: its records and the atoms it fills and touches."""

    kind: GroupKind
    name: str | None  # the pupil or school; None for a union of atoms
    positions: IntArray
    inner: frozenset[int]  # atoms all of whose records are in the group
    atoms: frozenset[int]  # atoms with a record in the group
    pupils: int
    schools: int
    why: str

    def group(
        self, data: pd.DataFrame, ids: npt.NDArray[Any], cells: Sequence[tuple[str, ReleasedCell]]
    ) -> Group:
        label = self.name
        if label is None:  # the values the group's records share, of the filtered columns
            names = dict.fromkeys(n for _, c in cells for n in c.filter.columns())
            parts = []
            for name in names:
                shared = pd.unique(data[name].to_numpy()[self.positions])
                if len(shared) == 1:
                    value = shared[0].item() if isinstance(shared[0], np.generic) else shared[0]
                    parts.append(f"{name}={value!r}")
            label = ", ".join(parts) or f"{len(self.positions)} records"
        return Group(
            self.kind,
            label,
            tuple(sorted(int(i) for i in ids[self.positions])),
            self.pupils,
            self.schools,
            self.why,
        )


def _empty_combinations(
    data: pd.DataFrame, cells: Sequence[ReleasedCell], atom_cells: BoolArray
) -> BoolArray:
    """Cell memberships (cells x new atoms) of the combinations of categories no record
    has, one column per membership pattern no observed atom has."""
    domains: dict[str, list[Any]] = {}
    for cell in cells:
        for name, values in cell.filter.isin:
            domains.setdefault(name, list(pd.unique(data[name].dropna())))
            domains[name].extend(v for v in values if v not in domains[name])
    edges: dict[str, set[float]] = {}
    for cell in cells:
        for name, low, high in cell.filter.ranges:
            edges.setdefault(name, set()).update(e for e in (low, high) if e is not None)
    for name, cut in edges.items():  # one value per interval between the edges
        points = sorted(cut)
        domains[name] = [points[0] - 1.0, *points, *domains.get(name, [])]
    names = list(domains)
    size = math.prod(len(v) for v in domains.values())
    if size > 200_000:
        raise ValueError("too many combinations of categories for atoms='possible'")
    combos = pd.DataFrame(list(itertools.product(*domains.values())), columns=names)
    for cell in cells:  # a possible record has every value column
        for needed in (*cell.filter.present, cell.column):
            if needed is not None and needed not in combos:
                combos[needed] = 0.0
    member = np.vstack([c.records(combos) for c in cells])  # cells x combinations
    known = {row.tobytes() for row in atom_cells.T}
    new = {col.tobytes(): col for col in member.T if col.tobytes() not in known}
    if not new:
        return np.zeros((len(cells), 0), bool)
    return np.column_stack(list(new.values()))


def _spaces(
    data: pd.DataFrame,
    cells: Sequence[tuple[str, ReleasedCell]],
    atom_cells: BoolArray,
    atom_of: npt.NDArray[np.intp],
    observed: int,
    mean_counts_known: bool,
) -> list[_Space]:
    """The count space and one sum space per value column; atoms from ``observed`` on
    are combinations without records (truth 0)."""
    n_atoms = atom_cells.shape[1]
    sizes = np.bincount(atom_of, minlength=n_atoms).astype(float)
    spaces = []
    count_rows = [
        i
        for i, (_, c) in enumerate(cells)
        if c.statistic == "count" or (mean_counts_known and c.statistic == "mean")
    ]
    rhs = [
        cells[i][1].value if cells[i][1].statistic == "count" else float(atom_cells[i] @ sizes)
        for i in count_rows
    ]
    spaces.append(
        _Space(
            "count",
            True,
            atom_cells[count_rows].astype(float).reshape(len(count_rows), n_atoms),
            np.asarray(rhs, float),
            [cells[i][0] for i in count_rows],
            [cells[i][1].label for i in count_rows],
            sizes,
            [sizes.copy()],
            np.ones(n_atoms, bool),
        )
    )
    value_columns = dict.fromkeys(c.column for _, c in cells if c.column is not None)
    for column in value_columns:
        assert column is not None
        values = np.nan_to_num(data[column].to_numpy(float))
        truth = np.bincount(atom_of, weights=values, minlength=n_atoms).astype(float)
        rows = [i for i, (_, c) in enumerate(cells) if c.column == column]
        rhs_sum = []
        for i in rows:
            cell = cells[i][1]
            if cell.statistic == "sum":
                rhs_sum.append(cell.value)
            else:  # the attacker knows how many records the mean is over
                rhs_sum.append(cell.value * float(atom_cells[i] @ sizes))
        # an atom none of whose records carries the value adds nothing to a sum
        present = np.zeros(n_atoms, bool)
        present[atom_of[data[column].notna().to_numpy()]] = True
        present[observed:] = True  # a possible record could carry any value
        spaces.append(
            _Space(
                f"sum:{column}",
                False,
                atom_cells[rows].astype(float),
                np.asarray(rhs_sum, float),
                [cells[i][0] for i in rows],
                [cells[i][1].label for i in rows],
                truth,
                [truth.copy()],
                present,
            )
        )
    return spaces


def _groups(
    data: pd.DataFrame,
    cells: Sequence[tuple[str, ReleasedCell]],
    atom_cells: BoolArray,
    atom_of: IntArray,
    observed: int,
    protection: Protection,
    pupil: str,
    school: str,
    max_union: int,
    max_unions: int,
) -> list[_Candidate]:
    """The groups to judge (see :func:`disclosed`); atoms from ``observed`` on have no
    records (they enter unions, never make one)."""
    pupil_code = pd.factorize(data[pupil])[0]
    school_code = pd.factorize(data[school])[0]
    n_atoms = atom_cells.shape[1]
    order = np.argsort(atom_of, kind="stable")
    bounds = np.searchsorted(atom_of[order], np.arange(n_atoms + 1))
    atom_records = [order[bounds[a] : bounds[a + 1]] for a in range(n_atoms)]
    # (school, pupil) pairs per atom: enough to count pupils, schools and school shares
    atom_pairs = [
        frozenset(zip(school_code[r].tolist(), pupil_code[r].tolist(), strict=True))
        for r in atom_records
    ]

    def profile(pairs: frozenset[tuple[int, int]] | set[tuple[int, int]]) -> tuple[int, int, str]:
        per_school: dict[int, int] = {}
        for s, _ in pairs:
            per_school[s] = per_school.get(s, 0) + 1
        n_pupils = len({p for _, p in pairs})
        n_schools = len(per_school)
        reasons = []
        if n_pupils < protection.min_pupils:
            reasons.append(f"{n_pupils} pupils")
        if n_schools < protection.min_schools:
            reasons.append(f"{n_schools} schools")
        if not reasons:
            # a mover counts at each of its schools, as in the dominance rule
            shares = sorted(per_school.values(), reverse=True)
            for n, percent in protection.dominance:
                if sum(shares[:n]) * 100.0 > percent * n_pupils:
                    reasons.append(f"{n} school(s) over {percent:g} % of pupils")
                    break
        return n_pupils, n_schools, "; ".join(reasons)

    out: list[_Candidate] = []
    seen: set[frozenset[int] | tuple[int, ...]] = set()

    def whole(atoms: frozenset[int]) -> None:
        # the records of a union are those of its observed atoms, and the attacker's
        # tightest name for them leaves the empty combinations out
        atoms = frozenset(a for a in atoms if a < observed)
        if not atoms or atoms in seen:
            return
        seen.add(atoms)
        pairs: set[tuple[int, int]] = set().union(*(atom_pairs[a] for a in atoms))
        n_pupils, n_schools, why = profile(pairs)
        if why and pairs:
            positions = np.sort(np.concatenate([atom_records[a] for a in sorted(atoms)]))
            out.append(_Candidate("atoms", None, positions, atoms, atoms, n_pupils, n_schools, why))

    def person(kind: GroupKind, name: str, positions: IntArray) -> None:
        touched = frozenset(int(a) for a in np.unique(atom_of[positions]))
        inside = np.bincount(atom_of[positions], minlength=n_atoms)
        inner = frozenset(a for a in touched if inside[a] == len(atom_records[a]))
        key: frozenset[int] | tuple[int, ...] = (
            touched if inner == touched else tuple(positions.tolist())
        )
        if key in seen:
            return
        seen.add(key)
        pairs = set(
            zip(school_code[positions].tolist(), pupil_code[positions].tolist(), strict=True)
        )
        n_pupils, n_schools, why = profile(pairs)
        out.append(
            _Candidate(kind, name, positions, inner, touched, n_pupils, n_schools, why or kind)
        )

    for name, where in pd.Series(np.arange(len(data))).groupby(data[pupil].to_numpy()):
        person("pupil", str(name), where.to_numpy())
    for name, where in pd.Series(np.arange(len(data))).groupby(data[school].to_numpy()):
        person("school", str(name), where.to_numpy())
    small = []
    for a in range(observed):
        whole(frozenset((a,)))
        n_pupils, n_schools, _ = profile(atom_pairs[a])
        if n_pupils < protection.min_pupils or n_schools < protection.min_schools:
            small.append(a)
    for size in range(2, max_union + 1):
        if math.comb(len(small), size) > max_unions:
            break
        for combo in itertools.combinations(small, size):
            whole(frozenset(combo))
    cell_atoms = list(dict.fromkeys(frozenset(np.flatnonzero(row).tolist()) for row in atom_cells))
    for first, second in itertools.combinations(cell_atoms, 2):
        for union in (first & second, first - second, second - first):
            whole(union)
    # the ones whose LP solutions help the most first: single atoms, then small groups
    out.sort(key=lambda c: (len(c.atoms), c.kind != "atoms"))
    return out
