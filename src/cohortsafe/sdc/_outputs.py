"""Outputs other than tables: regressions, histograms, percentiles, summary statistics.

Each returns a :class:`CheckedOutput`: what may be released (a list of rows, values
``None`` where withheld), the outcome ``pass`` / ``review`` / ``fail`` and the reasons.

- **Regressions** (statsmodels OLS and logit results): released with their coefficient
  table only when the residual degrees of freedom reach the policy's ``residual_df``.
- **Histograms**: bins are cells of a one-dimensional count table with its total, so
  every cell rule and the secondary suppression apply. The outermost bins are
  open-ended (``extremes``): with ``bins=k`` the inner edges are equally spaced between
  two percentiles that lie twice ``percentiles.min_pupils_each_side`` pupils in from each
  end; given edges are inner edges.
- **Percentiles**: per group (cells of a count table, whose rules apply first), each
  percentile needs the policy's number of distinct pupils strictly below and above it.
- **Summary statistics**: count, mean and standard deviation (and the median under the
  percentile rule) per group; the groups are the cells of a mean table, so every rule
  for magnitude tables applies. Minimum and maximum are refused.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> frame = pd.DataFrame({"pupil": [f"p{i}" for i in range(300)],
...                       "school": [f"s{i % 12}" for i in range(300)],
...                       "score": rng.normal(200, 20, 300)})
>>> out = percentiles(frame, "score", [0.01, 0.5], pupil="pupil", school="school")
>>> [(row["q"], row["status"]) for row in out.rows]
[(0.01, 'primary'), (0.5, 'ok')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._policy import DEFAULT_POLICY, Policy, load_policy
from cohortsafe.sdc._regression import regression_reasons
from cohortsafe.sdc._source import Source, open_source, present, quote
from cohortsafe.sdc._table import CheckedTable, Outcome, crosstab

__all__ = [
    "CheckedOutput",
    "check_regression",
    "histogram",
    "percentiles",
    "summary_statistics",
]

_GROUP = "__cohortsafe_group__"
_ALL = "All"


@dataclass(frozen=True)
class Base:
    """A table an output rests on, the data it was computed from, what it publishes."""

    table: CheckedTable
    source: Source
    spaces: tuple[str, ...]


@dataclass(frozen=True)
class CheckedOutput:
    """A checked output other than a table: rows to release, outcome and reasons."""

    kind: str
    outcome: Outcome
    reasons: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    details: dict[str, Any] = field(default_factory=dict)
    table: CheckedTable | None = None
    #: the tables the output's published values rest on, with the data each was
    #: computed from and the spaces it publishes (for the release ledger; never written)
    bases: tuple[Base, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "details": self.details,
            "rows": [dict(r) for r in self.rows],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(list(self.rows))


def _outcome(reasons: Sequence[str], review: bool = False) -> Outcome:
    return "fail" if reasons else ("review" if review else "pass")


# --- regressions -----------------------------------------------------------------


def check_regression(
    results: Any,
    policy: str | Policy | Any = DEFAULT_POLICY,
    *,
    kind: str = "ols",
    pupil: Any = None,
    school: Any = None,
) -> CheckedOutput:
    """Check a fitted statsmodels model (OLS, WLS, logit, …) as the cells it rests on.

    ``pupil`` and ``school`` hold each row's pseudonyms (Series aligned with the data the
    model was fitted on, or arrays of its rows); without them the model fails, since
    nothing can be counted in pupils. The checks (:mod:`._regression`): residual degrees
    of freedom in distinct pupils with non-zero weight; at least the school threshold of
    schools; every level of every categorical term (the reference level too) and every
    dummy or interaction cell a cell under the frequency and school rules; an outcome
    constant within such a group (separation); standard errors that are huge or undefined.
    The coefficient table is what may be released; nothing of it when the check fails.
    """
    checked_policy = load_policy(policy)
    df_resid = float(getattr(results, "df_resid", np.nan))
    reasons = regression_reasons(results, checked_policy, pupil=pupil, school=school)
    params = pd.Series(results.params)
    bse = pd.Series(results.bse, index=params.index)
    statistic = pd.Series(results.tvalues, index=params.index)
    pvalues = pd.Series(results.pvalues, index=params.index)
    interval = pd.DataFrame(results.conf_int(), index=params.index)
    rows = []
    for name in params.index:
        released = not reasons
        rows.append(
            {
                "term": str(name),
                "estimate": float(params[name]) if released else None,
                "std_error": float(bse[name]) if released else None,
                "statistic": float(statistic[name]) if released else None,
                "p_value": float(pvalues[name]) if released else None,
                "ci_low": float(interval.loc[name].iloc[0]) if released else None,
                "ci_high": float(interval.loc[name].iloc[1]) if released else None,
            }
        )
    details: dict[str, Any] = {
        "model": kind,
        "df_resid": df_resid,
        "nobs": float(getattr(results, "nobs", np.nan)),
    }
    for name in ("rsquared", "rsquared_adj", "prsquared", "llf"):
        value = getattr(results, name, None)
        if value is not None and not reasons:
            details[name] = float(value)
    return CheckedOutput(kind, _outcome(reasons), tuple(reasons), tuple(rows), details)


# --- groups: a table of the groups decides which groups may show anything --------


def _grouped(source: Source, by: Sequence[str]) -> tuple[Source, tuple[str, ...]]:
    """The data with a constant group column when there is no grouping."""
    if by:
        return source, tuple(by)
    relation = source.query(f"SELECT *, '{_ALL}' AS {quote(_GROUP)} FROM {{source}}")
    return Source(relation, f"{source.name}_grouped"), (_GROUP,)


def _group_key(cell_index: Mapping[str, Any], by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(cell_index[name] for name in by)


def _labels(key: tuple[Any, ...], by: Sequence[str]) -> dict[str, Any]:
    return dict(zip(by, key, strict=True)) if by else {}


# --- percentiles -------------------------------------------------------------------


def percentiles(
    data: Any,
    column: str,
    q: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    pupil: str,
    school: str,
    by: str | Sequence[str] = (),
    policy: str | Policy | Any = DEFAULT_POLICY,
    source: Source | None = None,
) -> CheckedOutput:
    """Checked percentiles of ``column``, overall or per group of ``by``.

    Groups are checked as cells of a count table (primary groups show nothing);
    percentiles are not additive, so no secondary suppression is needed for them.
    """
    checked_policy = load_policy(policy)
    quantiles = [float(x) for x in q]
    if not quantiles or not all(0.0 < x < 1.0 for x in quantiles):
        raise PolicyError("percentiles must lie strictly between 0 and 1")
    groups_by = (by,) if isinstance(by, str) else tuple(by)
    base = source if source is not None else open_source(data)
    if source is not None and not groups_by:
        keys: tuple[str, ...] = (_GROUP,)
    else:
        base, keys = _grouped(base, groups_by)
    source = base
    source.require([column, pupil, school])
    groups = crosstab(
        None,
        keys,
        pupil=pupil,
        school=school,
        values=column,
        aggfunc="count",
        policy=checked_policy,
        margins=bool(groups_by),
        suppress=False,
        source=source,
    )
    status = {_group_key(c.index, keys): c for c in groups.cells}
    group_cols = ", ".join(quote(k) for k in keys)
    value = quote(column)
    rows: list[dict[str, Any]] = []
    rule = checked_policy.percentiles
    sets = [f"({group_cols})"] + (["()"] if groups_by else [])
    for quantile in quantiles:
        sql = f"""
            WITH data AS (SELECT {group_cols}, {quote(pupil)} AS __cs_p, {value} AS __cs_x
                          FROM {{source}} WHERE {present(value)}),
            cut AS (SELECT {group_cols}, GROUPING({group_cols}) AS __cs_g,
                           quantile_cont(__cs_x, {quantile}) AS __cs_v
                    FROM data GROUP BY GROUPING SETS ({", ".join(sets)}))
            SELECT {", ".join(f"cut.{quote(k)}" for k in keys)}, cut.__cs_g, cut.__cs_v,
                   count(DISTINCT data.__cs_p) FILTER (WHERE data.__cs_x < cut.__cs_v)
                       AS __cs_below,
                   count(DISTINCT data.__cs_p) FILTER (WHERE data.__cs_x > cut.__cs_v)
                       AS __cs_above
            FROM cut JOIN data ON {
            " AND ".join(f"(cut.__cs_g > 0 OR cut.{quote(k)} = data.{quote(k)})" for k in keys)
        }
            GROUP BY ALL
        """
        for record in source.query(sql).to_arrow_table().to_pylist():
            total = bool(record["__cs_g"])
            key = tuple(_ALL if total else record[k] for k in keys)
            group = status.get(key)
            reasons: list[str] = []
            if group is None or group.status != "ok":
                reasons = list(group.reasons) if group is not None else []
                state = "primary" if group is None or group.status == "primary" else group.status
            elif rule is not None and bool(
                rule.flags(np.array([record["__cs_below"]]), np.array([record["__cs_above"]]))[0]
            ):
                reasons, state = [rule.reason()], "primary"
            else:
                state = "ok"
            rows.append(
                {
                    **_labels(key, groups_by),
                    "q": quantile,
                    "value": float(record["__cs_v"]) if state == "ok" else None,
                    "status": state,
                    "reasons": reasons,
                }
            )
    if rule is not None:
        _space_out(source, rows, keys, groups_by, column, pupil, rule)
    order = {k: i for i, k in enumerate(status)}
    rows.sort(
        key=lambda r: (order.get(tuple(r.get(k, _ALL) for k in groups_by) or (_ALL,), 0), r["q"])
    )
    # a count of a group that could be recovered is no concern here: none is published
    table_reasons = [r for r in groups.reasons if not r.startswith("secondary_suppression")]
    review = any(c.review for c in groups.cells)
    return CheckedOutput(
        "percentiles",
        _outcome(table_reasons, review),
        tuple(table_reasons),
        tuple(rows),
        {"column": column, "by": list(groups_by)},
        groups,
        # a percentile tells where a group's records lie: kept as the group's count
        (Base(groups, source, ("count",)),),
    )


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool | int | float):
        return repr(value)
    raise PolicyError("a group label must be text or a number")


def _space_out(
    source: Source,
    rows: list[dict[str, Any]],
    keys: tuple[str, ...],
    groups_by: tuple[str, ...],
    column: str,
    pupil: str,
    rule: Any,
) -> None:
    """Withhold published percentiles with too few pupils between them and the next lower
    published one of their group: a grid of percentiles would otherwise list the scores of
    almost every pupil. Walks up each group's percentiles, keeping one only when enough
    distinct pupils lie strictly between it and the last kept."""
    value = quote(column)
    by_group: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if row["status"] == "ok":
            key = tuple(row.get(k, _ALL) for k in groups_by)
            by_group.setdefault(key, []).append(row)
    for key, found in by_group.items():
        where = [present(value)]
        if groups_by and _ALL not in key:
            where += [f"{quote(k)} = {_literal(v)}" for k, v in zip(keys, key, strict=True)]
        kept: dict[str, Any] | None = None
        for row in sorted(found, key=lambda r: (r["value"], r["q"])):
            if kept is not None:
                (count,) = source.query(
                    f"SELECT count(DISTINCT {quote(pupil)}) FROM {{source}} WHERE "
                    + " AND ".join(
                        [*where, f"{value} > {kept['value']!r}", f"{value} < {row['value']!r}"]
                    )
                ).fetchall()[0]
                if int(count) < rule.min_pupils_each_side:
                    row.update(value=None, status="primary", reasons=[rule.between_reason()])
                    continue
            kept = row


# --- histograms --------------------------------------------------------------------


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least ``raw``."""
    power = 10.0 ** np.floor(np.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw * (1 - 1e-12):
            return float(factor * power)
    return float(10.0 * power)  # pragma: no cover - 10 always qualifies


def _inner_edges(source: Source, column: str, pupil: str, bins: int, beyond: int) -> list[float]:
    """Round inner edges over the range that leaves well over the threshold of pupils
    outside each end.

    The range is cut by percentiles over pupils (each pupil's mean value, so a pupil
    with many results weighs one), twice the threshold in from each end; the edges are
    then multiples of a round step (1, 2, 2.5 or 5 times a power of ten) inside it, so
    no edge is one pupil's score and the open outer bins hide the extremes.
    """
    value = quote(column)
    per_pupil = (
        f"SELECT avg({value}) AS __cs_x FROM {{source}} WHERE {present(value)} "
        f"GROUP BY {quote(pupil)}"
    )
    row = source.query(f"SELECT count(*) FROM ({per_pupil})").fetchall()
    pupils = int(row[0][0])
    margin = 2 * beyond
    if pupils <= 2 * margin:
        return []
    low_q, high_q = margin / pupils, 1.0 - margin / pupils
    low, high = source.query(
        f"SELECT quantile_cont(__cs_x, {low_q}), quantile_cont(__cs_x, {high_q}) FROM ({per_pupil})"
    ).fetchall()[0]
    if low is None or high is None or not high > low:
        return []
    # bins - 2 inner bins between the edges (the two outer bins are open): at most ``bins``
    step = _nice_step((high - low) / max(bins - 2, 1))
    first, last = int(np.ceil(low / step - 1e-9)), int(np.floor(high / step + 1e-9))
    decimals = max(0, int(-np.floor(np.log10(step))) + 1)
    return [round(k * step, decimals) for k in range(first, last + 1)]


def histogram(
    data: Any,
    column: str,
    bins: int | Sequence[float] = 10,
    *,
    pupil: str,
    school: str,
    policy: str | Policy | Any = DEFAULT_POLICY,
    suppress: bool = True,
) -> CheckedOutput:
    """A checked histogram of ``column``: counts per bin, outermost bins open-ended."""
    checked_policy = load_policy(policy)
    source = open_source(data)
    source.require([column, pupil, school])
    if isinstance(bins, int):
        if bins < 2:
            raise PolicyError("a histogram needs at least 2 bins")
        rule = checked_policy.percentiles
        beyond = rule.min_pupils_each_side if rule is not None else 1
        edges = _inner_edges(source, column, pupil, bins, beyond)
    else:
        edges = sorted(float(e) for e in bins)
    value = quote(column)
    cases = " ".join(f"WHEN {value} < {edge!r} THEN {i}" for i, edge in enumerate(edges))
    binned = source.query(
        f"SELECT *, CASE {cases} ELSE {len(edges)} END AS __cs_bin FROM {{source}} "
        f"WHERE {present(value)}"
        if edges
        else f"SELECT *, 0 AS __cs_bin FROM {{source}} WHERE {present(value)}"
    )
    binned_source = Source(binned, f"{source.name}_bins")
    table = crosstab(
        None,
        "__cs_bin",
        pupil=pupil,
        school=school,
        policy=checked_policy,
        suppress=suppress,
        source=binned_source,
    )
    bounds = [-np.inf, *edges, np.inf]
    rows = []
    for cell in table.cells:
        number = cell.index["__cs_bin"]
        if number == _ALL:
            low, high = None, None
        else:
            low = None if np.isinf(bounds[number]) else bounds[number]
            high = None if np.isinf(bounds[number + 1]) else bounds[number + 1]
        rows.append(
            {
                "bin": "All" if number == _ALL else int(number),
                "low": low,
                "high": high,
                "count": cell.value,
                "status": cell.status,
                "reasons": list(cell.reasons),
            }
        )
    return CheckedOutput(
        "histogram",
        table.outcome,
        table.reasons,
        tuple(rows),
        {"column": column, "inner_edges": edges},
        table,
        (Base(table, binned_source, ("count",)),),
    )


# --- summary statistics ------------------------------------------------------------

_STATISTICS = ("count", "mean", "std", "median")


def summary_statistics(
    data: Any,
    columns: str | Sequence[str],
    *,
    pupil: str,
    school: str,
    by: str | Sequence[str] = (),
    statistics: Sequence[str] = ("count", "mean", "std"),
    policy: str | Policy | Any = DEFAULT_POLICY,
    suppress: bool = True,
) -> CheckedOutput:
    """Count, mean, standard deviation (and median) per group, under the table rules."""
    checked_policy = load_policy(policy)
    names = (columns,) if isinstance(columns, str) else tuple(columns)
    groups_by = (by,) if isinstance(by, str) else tuple(by)
    reasons: list[str] = []
    wanted = []
    for statistic in statistics:
        if checked_policy.extremes is not None and checked_policy.extremes.refuses(statistic):
            reasons.append(checked_policy.extremes.reason())
        elif statistic not in _STATISTICS:
            raise PolicyError(f"statistics are chosen from {', '.join(_STATISTICS)}")
        else:
            wanted.append(statistic)
    if reasons:
        return CheckedOutput(
            "summary",
            "fail",
            tuple(dict.fromkeys(reasons)),
            (),
            {"columns": list(names), "by": list(groups_by)},
        )
    source, keys = _grouped(open_source(data), groups_by)
    rows: list[dict[str, Any]] = []
    tables = []
    bases: list[Base] = []
    for name in names:
        source.require([name])
        table = crosstab(
            None,
            keys,
            pupil=pupil,
            school=school,
            values=name,
            aggfunc="mean",
            policy=checked_policy,
            margins=bool(groups_by),
            suppress=suppress,
            source=source,
        )
        tables.append(table)
        spaces = tuple(
            space
            for statistic, space in (("count", "count"), ("mean", "sum"), ("std", "square"))
            if statistic in wanted
        )
        bases.append(Base(table, source, spaces))
        group_cols = ", ".join(quote(k) for k in keys)
        sets = [f"({group_cols})"] + (["()"] if groups_by else [])
        extra = (
            source.query(
                f"SELECT {group_cols}, GROUPING({group_cols}) AS __cs_g, "
                f"count({quote(name)}) AS __cs_n, stddev_samp({quote(name)}) AS __cs_sd "
                f"FROM {{source}} WHERE {present(quote(name))} "
                f"GROUP BY GROUPING SETS ({', '.join(sets)})"
            )
            .to_arrow_table()
            .to_pylist()
        )
        spread = {tuple(_ALL if r["__cs_g"] else r[k] for k in keys): r for r in extra}
        medians: dict[tuple[Any, ...], dict[str, Any]] = {}
        if "median" in wanted:
            found = percentiles(
                None,
                name,
                [0.5],
                pupil=pupil,
                school=school,
                by=groups_by,
                policy=checked_policy,
                source=source,
            )
            for found_row in found.rows:
                labels = tuple(found_row.get(k, _ALL) for k in groups_by) or (_ALL,)
                medians[labels] = found_row
        for cell in table.cells:
            key = _group_key(cell.index, keys)
            shown = cell.value is not None
            record = spread.get(key, {})
            row: dict[str, Any] = {**_labels(key, groups_by), "column": name}
            if "count" in wanted:
                row["count"] = int(record.get("__cs_n", 0)) if shown else None
            if "mean" in wanted:
                row["mean"] = cell.value
            if "std" in wanted:
                sd = record.get("__cs_sd")
                row["std"] = float(sd) if shown and sd is not None else None
            if "median" in wanted:
                median = medians.get(key)
                row["median"] = median["value"] if shown and median else None
            row["status"] = cell.status
            row["reasons"] = list(cell.reasons)
            rows.append(row)
    table_reasons = [r for t in tables for r in t.reasons]
    review = any(c.review for t in tables for c in t.cells)
    return CheckedOutput(
        "summary",
        _outcome(table_reasons, review),
        tuple(table_reasons),
        tuple(rows),
        {"columns": list(names), "by": list(groups_by)},
        tables[0] if len(tables) == 1 else None,
        tuple(bases),
    )
