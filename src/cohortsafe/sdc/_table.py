"""Checked tables from microdata: counts, sums and means with every cell's status.

:func:`crosstab` is the whole pipeline: one DuckDB query for the per-cell statistics
(margins included, :mod:`._query`), the policy's cell rules (:mod:`._check`), optional
differencing against earlier releases (:mod:`._differencing`), secondary suppression
(:mod:`._suppress`) and the display rules of the policy (percent clipping, withholding).
The result is a :class:`CheckedTable`: each cell is ``ok``, ``primary`` or ``secondary``
with its reasons, and the table as a whole ``pass``, ``review`` or ``fail``.

A primary or secondary cell's value is never part of what the table shows (``None``
in :meth:`CheckedTable.to_dict`, NaN in :meth:`CheckedTable.to_frame`).

>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "pupil": [f"p{i}" for i in range(74)],
...     "school": [f"s{i % 8}" for i in range(70)] + ["s0"] * 4,
...     "region": ["A"] * 30 + ["B"] * 40 + ["C"] * 4,
...     "domain": ["x", "y"] * 37,
... })
>>> table = crosstab(frame, index="region", columns="domain", pupil="pupil", school="school")
>>> table.outcome
'pass'
>>> [(c.index["region"], c.columns["domain"], c.value, c.status)
...  for c in table.cells if c.columns["domain"] == "x"]
[('A', 'x', None, 'secondary'), ('B', 'x', 20, 'ok'), ('C', 'x', None, 'primary'),
 ('All', 'x', 37, 'ok')]
>>> table.cell(region="C", domain="x").reasons[0]
'min_pupils: fewer than 10 pupils'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._audit import AuditReport, audit
from cohortsafe.sdc._cellstats import Aggregate, BoolArray, CellStats, FloatArray
from cohortsafe.sdc._check import RuleOutcome, apply_rules
from cohortsafe.sdc._grid import Grid
from cohortsafe.sdc._policy import DEFAULT_POLICY, Policy, load_policy
from cohortsafe.sdc._query import CellQuery, cell_statistics
from cohortsafe.sdc._source import Source, open_source
from cohortsafe.sdc._structure import (
    TOTAL,
    Cells,
    Layout,
    Totals,
    build_cells,
    equations,
    grid_coordinates,
)
from cohortsafe.sdc._suppress import Suppression, SuppressionProblem, protect
from cohortsafe.sdc.rules import SecondarySuppression

if TYPE_CHECKING:
    from cohortsafe.sdc._differencing import ReleaseHistory

__all__ = [
    "AGGREGATES",
    "Cell",
    "CheckedTable",
    "Outcome",
    "Status",
    "SuppressionSummary",
    "TableRequest",
    "crosstab",
    "pivot_table",
]

Status = Literal["ok", "primary", "secondary"]
Outcome = Literal["pass", "review", "fail"]
Normalize = Literal["all", "index", "columns"]
AGGREGATES: tuple[Aggregate, ...] = ("count", "sum", "mean")
DEFAULT_MARGINS_NAME = "All"
_STATUS: tuple[Status, ...] = ("ok", "primary", "secondary")


@dataclass(frozen=True)
class TableRequest:
    """What was asked for: variables, statistic, totals and the identifying columns."""

    index: tuple[str, ...]
    columns: tuple[str, ...]
    pupil: str
    school: str
    values: str | None = None
    aggfunc: str = "count"
    margins: bool = True
    totals: Totals = "axes"
    normalize: Normalize | None = None
    margins_name: str = DEFAULT_MARGINS_NAME
    suppress: bool = True

    @property
    def layout(self) -> Layout:
        return Layout(self.index, self.columns, self.margins, self.totals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": list(self.index),
            "columns": list(self.columns),
            "values": self.values,
            "aggfunc": self.aggfunc,
            "margins": self.margins,
            "totals": self.totals,
            "normalize": self.normalize,
            "suppress": self.suppress,
        }


@dataclass(frozen=True)
class Cell:
    """One published cell: labels, the value shown (None when suppressed), status."""

    index: Mapping[str, Any]
    columns: Mapping[str, Any]
    value: float | int | None
    status: Status
    reasons: tuple[str, ...] = ()
    review: tuple[str, ...] = ()
    margin: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": dict(self.index),
            "columns": dict(self.columns),
            "value": self.value,
            "status": self.status,
            "reasons": list(self.reasons),
            "review": list(self.review),
        }


@dataclass(frozen=True)
class SuppressionSummary:
    """How the complementary cells were chosen (no cell values)."""

    method: str
    optimal: bool
    cost: str
    primary: int
    secondary: int
    rounds: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "optimal": self.optimal,
            "cost": self.cost,
            "primary": self.primary,
            "secondary": self.secondary,
            "rounds": self.rounds,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, eq=False)
class CheckedTable:
    """A table with the status and reasons of every cell; see the module docstring."""

    request: TableRequest
    policy: Policy
    outcome: Outcome
    reasons: tuple[str, ...]
    suppression: SuppressionSummary | None
    _cells: Cells
    _status: np.ndarray
    _rules: RuleOutcome
    _values: FloatArray
    _additive: FloatArray
    _model: BoolArray
    _notes: tuple[tuple[str, ...], ...] = field(default=())
    _withheld: bool = False
    _upper: FloatArray = field(default_factory=lambda: np.zeros(0))
    _lower: FloatArray = field(default_factory=lambda: np.zeros(0))
    _populations: Any = None  # pupils behind each cell, kept only for a release history

    @property
    def size(self) -> int:
        return self._cells.size

    @property
    def released(self) -> BoolArray:
        """Which cells show their value."""
        if self._withheld:
            return np.zeros(self.size, bool)
        return np.asarray(self._status == 0)

    def _shown(self, i: int) -> float | int | None:
        if not self.released[i]:
            return None
        value = float(self._values[i])
        if np.isnan(value):
            return None
        if self.request.aggfunc == "count" and self.request.normalize is None:
            return round(value)
        return value

    @functools.cached_property
    def cells(self) -> tuple[Cell, ...]:
        """Every cell, margins included, in reading order (rows, then columns)."""
        margin = self._cells.is_margin
        out = []
        for i in range(self.size):
            index, columns = self._cells.labels(i, self.request.margins_name)
            status = _STATUS[int(self._status[i])]
            reasons: list[str] = []
            if status == "primary":
                reasons = self._rules.primary_reasons(i)
            elif status == "secondary":
                reasons = [_SECONDARY_REASON]
            notes = self._notes[i] if self._notes else ()
            out.append(
                Cell(
                    index=index,
                    columns=columns,
                    value=self._shown(i),
                    status=status,
                    reasons=(*reasons, *notes),
                    review=tuple(self._rules.review_reasons(i)),
                    margin=bool(margin[i]),
                )
            )
        return tuple(out)

    def cell(self, **labels: Any) -> Cell:
        """The cell with these labels (``"All"`` for a total), e.g. ``cell(region="A")``."""
        names = set(self.request.index) | set(self.request.columns)
        if set(labels) != names:
            raise PolicyError("name every variable of the table to pick a cell")
        for candidate in self.cells:
            merged = {**candidate.index, **candidate.columns}
            if all(merged[k] == v for k, v in labels.items()):
                return candidate
        raise KeyError("no such cell")

    @property
    def counts(self) -> dict[Status, int]:
        """Number of cells per status."""
        return {s: int((self._status == i).sum()) for i, s in enumerate(_STATUS)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: request, outcome, reasons, suppression and every cell."""
        return {
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "policy": self.policy.identity(),
            "request": self.request.as_dict(),
            "withheld": self._withheld,
            "suppression": self.suppression.as_dict() if self.suppression else None,
            "counts": self.counts,
            "cells": [c.as_dict() for c in self.cells],
        }

    def _frame(self, values: Sequence[Any]) -> pd.DataFrame:
        request = self.request
        if not self.cells:  # a refused table shows nothing
            return pd.DataFrame()
        records = []
        for cell, value in zip(self.cells, values, strict=True):
            records.append({**cell.index, **cell.columns, "__value__": value})
        frame = pd.DataFrame.from_records(records)
        if not request.columns:
            result = frame.set_index(list(request.index))[["__value__"]]
            result.columns = [request.aggfunc]
            return result
        wide = frame.pivot_table(
            index=list(request.index),
            columns=list(request.columns),
            values="__value__",
            aggfunc="first",
            sort=False,
            dropna=False,
        )
        # the pivot spans every combination of labels; rows and columns that hold no cell
        # (a subtotal the table does not have) would read as suppressed: only cells stay
        rows = _labels([c.index for c in self.cells], request.index)
        columns = _labels([c.columns for c in self.cells], request.columns)
        return wide.reindex(index=rows, columns=columns)

    def to_frame(self) -> pd.DataFrame:
        """The released table as pandas would show it; suppressed cells are NaN."""
        values = [np.nan if c.value is None else c.value for c in self.cells]
        return self._frame(values)

    def outcome_frame(self) -> pd.DataFrame:
        """Per cell ``ok`` or its status and reasons, shaped like :meth:`to_frame`."""
        texts = [
            "ok"
            if c.status == "ok" and not c.review
            else "; ".join((c.status, *c.reasons, *c.review))
            for c in self.cells
        ]
        return self._frame(texts)

    def audit(self) -> AuditReport:
        """What an attacker can prove about each suppressed cell (see :mod:`._audit`).

        Cell numbers in the report index :attr:`cells`.
        """
        model = np.flatnonzero(self._model)
        matrix = equations(self._cells, self._model)
        extra = np.zeros(0)
        if self.request.normalize is not None:
            known, extra = _known_totals(
                self._cells, self._model, self._additive, self.request.normalize
            )
            matrix = _with_known_totals(matrix, known, extra.size)
        none = np.zeros(extra.size, bool)
        report = audit(
            matrix,
            np.concatenate([self._additive[model], extra]),
            suppressed=np.concatenate([(self._status != 0)[model], none]),
            primary=np.concatenate([(self._status == 1)[model], none]),
            upper=np.concatenate([self._upper[model], np.zeros(extra.size)]),
            lower=np.concatenate([self._lower[model], np.zeros(extra.size)]),
        )
        remapped = tuple(
            type(i)(int(model[i.cell]), i.low, i.high, i.primary, i.protected)
            for i in report.intervals
        )
        return AuditReport(remapped, report.attacker)


_SECONDARY_REASON = (
    "secondary_suppression: suppressed so that no primary cell can be recovered from the "
    "published cells"
)


def _scatter(query: CellQuery, position: np.ndarray, size: int) -> CellStats:
    """Statistics for every cell; empty cells (not in the query) get zeros."""
    stats = query.stats

    def spread(array: np.ndarray) -> np.ndarray:
        shape = (size, *array.shape[1:])
        out = np.zeros(shape, dtype=array.dtype)
        out[position] = array
        return out

    return CellStats(
        aggregate=stats.aggregate,
        n_records=spread(stats.n_records),
        n_pupils=spread(stats.n_pupils),
        n_schools=spread(stats.n_schools),
        school_top=spread(stats.school_top),
        value_sum=spread(stats.value_sum),
        value_min=spread(stats.value_min),
        value_max=spread(stats.value_max),
        pupil_value_top=spread(stats.pupil_value_top),
        pupil_value_total=spread(stats.pupil_value_total),
        school_value_top=spread(stats.school_value_top),
        school_value_total=spread(stats.school_value_total),
        pupil_record_top=spread(stats.pupil_record_top),
    )


def _denominators(cells: Cells, counts: FloatArray, normalize: Normalize) -> FloatArray:
    """For each cell, the total it is a percentage of (summed from the inner cells)."""
    n_index = len(cells.layout.index)
    target = cells.codes.copy()
    if normalize in ("all", "index"):
        target[:, n_index:] = TOTAL
    if normalize in ("all", "columns"):
        target[:, :n_index] = TOTAL
    inner = np.flatnonzero(cells.present == cells.layout.full_set)
    denominators = np.zeros(cells.size)
    kept = target != TOTAL
    for signature in np.unique(kept, axis=0):
        rows = np.flatnonzero((kept == signature).all(axis=1))
        projected = cells.codes[inner].copy()
        projected[:, ~signature] = TOTAL
        keys, group = np.unique(cells.keys(projected), return_inverse=True)
        sums = np.bincount(group, weights=counts[inner], minlength=keys.size)
        wanted = cells.keys(target[rows])
        found = np.searchsorted(keys, wanted)
        found = np.minimum(found, keys.size - 1)
        denominators[rows] = np.where(keys[found] == wanted, sums[found], 0.0)
    return denominators


def _as_names(value: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    names = tuple(value)
    if not all(isinstance(v, str) for v in names):
        raise PolicyError(f"{what} must be column names")
    return names


def crosstab(
    data: Any,
    index: str | Sequence[str],
    columns: str | Sequence[str] | None = None,
    *,
    pupil: str,
    school: str,
    values: str | None = None,
    aggfunc: str | None = None,
    policy: str | Policy | Any = DEFAULT_POLICY,
    margins: bool = True,
    totals: Totals = "axes",
    normalize: bool | Normalize = False,
    margins_name: str = DEFAULT_MARGINS_NAME,
    suppress: bool = True,
    history: ReleaseHistory | None = None,
    source: Source | None = None,
) -> CheckedTable:
    """A checked cross tabulation of ``data`` (see the module docstring).

    ``aggfunc`` is ``count`` (the number of records, the default without ``values``),
    ``sum`` or ``mean`` of ``values``. ``normalize`` (count tables) shows percentages of
    the grand total (``"all"`` or ``True``), of each row (``"index"``) or of each column
    (``"columns"``). ``suppress`` chooses complementary cells; without it, primary cells
    are still hidden and the table fails when they could be recovered. ``history`` holds
    the project's earlier releases for the differencing check.
    """
    checked_policy = load_policy(policy)
    aggregate: Aggregate = cast(Aggregate, aggfunc or ("mean" if values is not None else "count"))
    request = TableRequest(
        index=_as_names(index, "index"),
        columns=_as_names(columns, "columns"),
        pupil=pupil,
        school=school,
        values=values,
        aggfunc=aggregate,
        margins=margins,
        totals=totals,
        normalize=("all" if normalize is True else normalize) or None,
        margins_name=margins_name,
        suppress=suppress,
    )
    layout = request.layout  # validates the variables
    if checked_policy.extremes is not None and checked_policy.extremes.refuses(aggregate):
        return _refused(request, checked_policy, layout, checked_policy.extremes.reason())
    if aggregate not in AGGREGATES:
        raise PolicyError("aggfunc must be count, sum or mean")
    if aggregate != "count" and values is None:
        raise PolicyError(f"aggfunc {aggregate!r} needs a values column")
    if request.normalize is not None:
        if request.normalize not in ("all", "index", "columns"):
            raise PolicyError("normalize must be 'all', 'index' or 'columns'")
        if aggregate != "count":
            raise PolicyError("normalize applies to count tables only")
    src = source if source is not None else open_source(data)
    query = cell_statistics(
        src,
        layout,
        pupil=pupil,
        school=school,
        values=values,
        aggregate=aggregate,
        school_top=checked_policy.school_top_needed,
        value_top=checked_policy.value_top_needed,
        **_record_dominance(checked_policy),
    )
    if query.present.size == 0:
        raise PolicyError("the data have no rows with a value for every grouping variable")
    cells, position = build_cells(layout, query.variables, query.present)
    for v, categories in enumerate(cells.categories):
        if margins and margins_name in categories:
            name = layout.variables[v]
            raise PolicyError(f"column {name!r} has a category named like the margins")
    stats = _scatter(query, position, cells.size)
    outcome = apply_rules(checked_policy, stats)
    populations = None
    table_reasons: list[str] = []
    if history is not None:
        populations = history.populations(src, request, cells)
        rule = checked_policy.differencing
        if rule is not None:
            flagged, whole_table = history.flag(populations, cells, rule)
            if flagged.any():
                outcome = outcome.with_primary(rule.reason(), flagged)
            if whole_table:
                table_reasons.append(
                    f"{rule.name}: the table's pupils differ from an earlier released "
                    f"output's by fewer than {rule.threshold}"
                )
    return _finish(request, checked_policy, cells, stats, outcome, populations, table_reasons)


def pivot_table(
    data: Any,
    values: str,
    index: str | Sequence[str],
    columns: str | Sequence[str] | None = None,
    *,
    aggfunc: str = "mean",
    pupil: str,
    school: str,
    **options: Any,
) -> CheckedTable:
    """:func:`crosstab` in pandas' ``pivot_table`` argument order (mean by default)."""
    return crosstab(
        data,
        index,
        columns,
        values=values,
        aggfunc=aggfunc,
        pupil=pupil,
        school=school,
        **options,
    )


def _refused(request: TableRequest, policy: Policy, layout: Layout, reason: str) -> CheckedTable:
    empty = Cells(
        layout,
        tuple(() for _ in layout.variables),
        np.zeros((0, len(layout.variables)), np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, bool),
    )
    none = np.zeros((0, 0), bool)
    return CheckedTable(
        request=request,
        policy=policy,
        outcome="fail",
        reasons=(reason,),
        suppression=None,
        _cells=empty,
        _status=np.zeros(0, np.int8),
        _rules=RuleOutcome((), none, none),
        _values=np.zeros(0),
        _additive=np.zeros(0),
        _model=np.zeros(0, bool),
    )


def _finish(
    request: TableRequest,
    policy: Policy,
    cells: Cells,
    stats: CellStats,
    outcome: RuleOutcome,
    populations: Any,
    table_reasons: list[str],
) -> CheckedTable:
    counts = stats.n_records.astype(np.float64)
    own_total = np.zeros(cells.size, bool)
    if request.aggfunc == "count":
        additive = counts
        shown = counts.copy()
        if request.normalize is not None:
            denominators = _denominators(cells, counts, request.normalize)
            own_total = counts == denominators  # a total of itself: always 100 %
            with np.errstate(divide="ignore", invalid="ignore"):
                shown = np.where(denominators > 0, counts * 100.0 / denominators, np.nan)
    elif request.aggfunc == "sum":
        additive = stats.value_sum
        shown = np.where(stats.empty, np.nan, stats.value_sum)
    else:
        additive = stats.value_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.where(stats.empty, np.nan, stats.value_sum / counts)

    primary = outcome.primary
    if request.normalize is not None:
        primary = primary & ~own_total  # a share of 100 % tells nothing about anyone
    zero_model = policy.zero_cells is not None and policy.zero_cells.action == "suppress"
    model = cells.observed | (zero_model & ~cells.observed)
    status = np.where(primary, 1, 0).astype(np.int8)
    upper = np.zeros(cells.size)
    lower = np.zeros(cells.size)
    reasons: list[str] = list(table_reasons)
    summary: SuppressionSummary | None = None
    protection = policy.secondary_suppression
    if primary.any():
        # without secondary suppression in the policy, the default levels still decide
        # whether the primary cells alone can be recovered (the table then fails)
        levels = protection if protection is not None else SecondarySuppression()
        upper, lower = levels.levels(
            additive, count_table=request.aggfunc == "count" or _counts_ones(stats)
        )
        upper, lower = np.where(primary, upper, 0.0), np.where(primary, lower, 0.0)
    model_index = np.flatnonzero(model)
    matrix = equations(cells, model) if request.margins else sp.csr_array((0, model_index.size))
    # a percentage table's group totals are known: extra, unsuppressible variables
    extra = np.zeros(0)
    if request.normalize is not None:
        known, extra = _known_totals(cells, model, counts, request.normalize)
        matrix = _with_known_totals(matrix, known, extra.size)
    n_extra = extra.size
    if primary.any():
        if request.suppress and protection is not None:
            cost = (
                np.abs(additive[model_index])
                if protection.cost == "value"
                else np.ones(model_index.size)
            )
            placed = grid_coordinates(cells, model) if not n_extra else None
            eligible = np.ones(model_index.size + n_extra, bool)
            eligible[model_index.size :] = False
            if request.normalize is not None:
                eligible[: model_index.size] = ~own_total[model_index]
            problem = SuppressionProblem.build(
                matrix,
                np.concatenate([additive[model_index], extra]),
                np.concatenate([primary[model_index], np.zeros(n_extra, bool)]),
                upper=np.concatenate([upper[model_index], np.zeros(n_extra)]),
                lower=np.concatenate([lower[model_index], np.zeros(n_extra)]),
                cost=np.concatenate([cost, np.zeros(n_extra)]),
                eligible=eligible,
                grid=Grid(*placed) if placed is not None else None,
            )
            result: Suppression = protect(
                problem,
                exact_cell_limit=protection.exact_cell_limit,
                time_limit=protection.time_limit_seconds,
            )
            chosen = np.zeros(cells.size, bool)
            chosen[model_index] = result.suppressed[: model_index.size]
            status = np.where(primary, 1, np.where(chosen, 2, 0)).astype(np.int8)
            summary = SuppressionSummary(
                method=result.method,
                optimal=result.optimal,
                cost=protection.cost,
                primary=int(primary.sum()),
                secondary=int((status == 2).sum()),
                rounds=result.rounds,
                seconds=result.seconds,
            )
            if result.timed_out:
                reasons.append(
                    "secondary_suppression: the protection could not be verified within "
                    f"time_limit_seconds ({protection.time_limit_seconds:g}); raise it or "
                    "publish a smaller table"
                )
            elif not result.protected:
                reasons.append(
                    "secondary_suppression: some primary cells cannot be protected in this "
                    "table; publish it without margins or with coarser categories"
                )
        elif request.margins or n_extra:
            no_extra = np.zeros(n_extra, bool)
            report = audit(
                matrix,
                np.concatenate([additive[model_index], extra]),
                suppressed=np.concatenate([primary[model_index], no_extra]),
                primary=np.concatenate([primary[model_index], no_extra]),
                upper=np.concatenate([upper[model_index], np.zeros(n_extra)]),
                lower=np.concatenate([lower[model_index], np.zeros(n_extra)]),
            )
            if not report.passed:
                reasons.append(
                    "secondary_suppression: primary cells could be recovered from the "
                    "margins; check with suppression to choose complementary cells"
                )

    notes: tuple[tuple[str, ...], ...] = ()
    if request.normalize is not None and policy.percent_clip is not None:
        clipped, below, above = policy.percent_clip.clip(shown)
        clip = (below | above) & ~own_total & (status == 0)
        shown = np.where(clip, clipped, shown)
        notes = tuple(
            (policy.percent_clip.reason(True),)
            if c and b
            else (policy.percent_clip.reason(False),)
            if c and a
            else ()
            for c, b, a in zip(clip, below, above, strict=True)
        )

    withheld = False
    if policy.withhold is not None:
        inner = ~cells.is_margin & cells.observed
        released = int(((status == 0) & inner).sum())
        if policy.withhold.withholds(released=released, cells=int(inner.sum())):
            withheld = True
            reasons.append(policy.withhold.reason())

    review = outcome.review.any()
    result_outcome: Outcome = "fail" if reasons else ("review" if review else "pass")
    table = CheckedTable(
        request=request,
        policy=policy,
        outcome=result_outcome,
        reasons=tuple(reasons),
        suppression=summary,
        _cells=cells,
        _status=status,
        _rules=outcome,
        _values=shown,
        _additive=additive,
        _model=model,
        _notes=notes,
        _withheld=withheld,
        _upper=upper,
        _lower=lower,
        _populations=populations,
    )
    return table


def _labels(labels: Sequence[Mapping[str, Any]], names: Sequence[str]) -> pd.Index:
    """The distinct label combinations of ``names``, in the cells' order, as an index."""
    seen = list(dict.fromkeys(tuple(label[n] for n in names) for label in labels))
    if len(names) == 1:
        return pd.Index([key[0] for key in seen], name=names[0])
    return pd.MultiIndex.from_tuples(seen, names=list(names))


def _counts_ones(stats: CellStats) -> bool:
    """Whether every value lies in [0, 1]: a sum of such values is (at most) a count of
    pupils, and gets the protection of a count, not the far smaller one of a magnitude."""
    if not stats.is_magnitude:
        return False
    held = stats.n_records > 0
    if not held.any():
        return False
    return bool(stats.value_min[held].min() >= 0.0 and stats.value_max[held].max() <= 1.0)


def _record_dominance(policy: Policy) -> dict[str, Any]:
    """The (n, k) of record dominance in count tables, for the cell query."""
    rule = policy.nk_dominance
    if rule is None or "pupil" not in rule.units:
        return {}
    return {"record_top": rule.n, "record_share": rule.k}


def _known_totals(
    cells: Cells, model: BoolArray, counts: FloatArray, normalize: Normalize
) -> tuple[sp.csr_array, FloatArray]:
    """What a percentage table tells whatever it suppresses: each group's total.

    The shares of a row (``index``), a column (``columns``) or the table (``all``) add up
    to 100 %, published or not, so the attacker knows each group's total. In counts that
    is one extra, known variable per group with the equation
    ``Σ inner cells of the group − total = 0``; the attacker is taken to know the count
    behind the 100 % as well (a stronger attacker than the shares alone make, so a
    pattern that defeats it is safe). Returns the equations over the model cells followed
    by the group totals, and the totals.
    """
    model_index = np.flatnonzero(model)
    inner = model_index[cells.present[model_index] == cells.layout.full_set]
    n_index = len(cells.layout.index)
    target = cells.codes[inner].copy()
    if normalize in ("all", "index"):
        target[:, n_index:] = TOTAL
    if normalize in ("all", "columns"):
        target[:, :n_index] = TOTAL
    keys, group = np.unique(cells.keys(target), return_inverse=True)
    n_groups = keys.size
    columns = np.searchsorted(model_index, inner)
    matrix = sp.csr_array(
        (
            np.concatenate([-np.ones(inner.size), np.ones(n_groups)]),
            (
                np.concatenate([group, np.arange(n_groups)]),
                np.concatenate([columns, model_index.size + np.arange(n_groups)]),
            ),
        ),
        shape=(n_groups, model_index.size + n_groups),
    )
    totals = np.bincount(group, weights=counts[inner], minlength=n_groups).astype(np.float64)
    return matrix, totals


def _with_known_totals(matrix: sp.csr_array, known: sp.csr_array, n_totals: int) -> sp.csr_array:
    """The table's equations with zero columns for the totals, then the totals' equations."""
    widened = sp.hstack([matrix, sp.csr_array((matrix.shape[0], n_totals))])
    return sp.csr_array(sp.vstack([widened, known]))
