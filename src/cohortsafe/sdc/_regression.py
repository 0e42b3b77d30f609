"""What a regression publishes about the groups it rests on, checked as cells.

Residual degrees of freedom alone let a model through that is a lookup table: a dummy
for one pupil returns that pupil's score, region dummies return a suppressed cell's
mean, a model on one school's pupils (or with school fixed effects) returns school
means, one pupil's row repeated eleven times counts as eleven observations, and a
weighted fit with three non-zero weights counts every row. So the model is checked on
its rows as fitted (after missing values were dropped), with the pupils and schools
behind them:

- degrees of freedom are distinct pupils with non-zero weight minus the model's rank
  (``residual_df``);
- the rows rest on at least ``min_schools`` schools;
- every column of the design that takes two values (a dummy, a level of a categorical
  term, an interaction cell), both of its sides, and the reference level of every
  categorical term of a formula, are groups that must pass ``min_pupils``,
  ``min_schools`` and ``school_dominance`` (on pupils) as table cells do; a group
  whose outcome is one value (perfect separation, or a group of identical scores)
  fails;
- standard errors that are not finite or exceed 10⁶ (a saturated or separated model)
  fail.

Reasons name the term (the design's column label), never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cohortsafe.sdc._policy import Policy

__all__ = ["FEW_VALUES", "FittedRows", "fitted_rows", "regression_reasons"]

_HUGE_STANDARD_ERROR = 1e6
#: a column of at most this many distinct values is checked (and kept in the ledger)
#: as one group per value; one of more values is treated as a measurement
FEW_VALUES = 12


def _rows(values: Any, results: Any, n: int) -> np.ndarray | None:
    """``values`` for the rows the model used, or None when they cannot be aligned."""
    if values is None:
        return None
    labels = getattr(getattr(results.model, "data", None), "row_labels", None)
    if isinstance(values, pd.Series) and labels is not None and len(labels) == n:
        try:
            return np.asarray(values.loc[labels])
        except KeyError:
            return None
    array = np.asarray(values)
    return array if array.shape[:1] == (n,) else None


def _group_reasons(
    term: str, side: str, pupils: np.ndarray, schools: np.ndarray, policy: Policy
) -> list[str]:
    found: list[str] = []
    n_pupils = len(np.unique(pupils))
    where = f"regression: the pupils {side} {term!r}"
    if policy.min_pupils is not None and n_pupils < policy.min_pupils.threshold:
        found.append(f"{where} are fewer than {policy.min_pupils.threshold}")
    schools_needed = policy.min_schools.threshold if policy.min_schools is not None else 0
    if len(np.unique(schools)) < schools_needed:
        found.append(f"{where} are at fewer than {schools_needed} schools")
    if policy.school_dominance is not None and n_pupils:
        pairs = pd.DataFrame({"p": pupils, "s": schools}).drop_duplicates()
        held = np.sort(pairs.groupby("s").size().to_numpy())[::-1]
        for n, percent in policy.school_dominance.limits:
            if held[:n].sum() * 100.0 > percent * n_pupils:
                found.append(f"{where} are mostly at {n} school(s) (more than {percent:g}%)")
    return found


def _groups(results: Any, exog: np.ndarray, names: list[str]) -> list[tuple[str, str, Any]]:
    """(term, side, row mask) of every group the design publishes something about."""
    groups: list[tuple[str, str, Any]] = []
    for j, name in enumerate(names):
        levels = np.unique(exog[:, j])
        if len(levels) == 2:
            groups.append((name, "with", exog[:, j] == levels[1]))
            groups.append((name, "without", exog[:, j] == levels[0]))
        elif len(levels) <= FEW_VALUES:
            # a column of a few values is a coding of groups: one value for one pupil
            # and another for the rest is a dummy for that pupil
            groups += [(name, "at one value of", exog[:, j] == level) for level in levels]
    design = getattr(getattr(results.model, "data", None), "design_info", None)
    for term, columns in getattr(design, "term_name_slices", {}).items():
        block = exog[:, columns]
        if block.shape[1] > 1 and np.isin(block, (0.0, 1.0)).all():
            groups.append((term, "in the reference level of", (block == 0).all(axis=1)))
    return groups


def _used(results: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The design, the outcome and the mask of the rows the fit rests on (non-zero weight)."""
    model = results.model
    exog = np.asarray(model.exog, dtype=np.float64)
    endog = np.asarray(model.endog, dtype=np.float64)
    weights = np.asarray(getattr(model, "weights", 1.0), dtype=np.float64)
    used = np.broadcast_to(weights != 0, (exog.shape[0],)) & np.isfinite(endog)
    return exog[used], endog[used], used


@dataclass(frozen=True)
class FittedRows:
    """The rows a model rests on and the groups whose sums its estimates publish.

    ``groups``: row masks of the groups whose outcome sums the estimates publish, with
    ``released`` true for a sum published outright. The normal equations X'Xb = X'y of
    least squares, and the score equations X'y = X'p of a logit, give an attacker who
    knows the design X'y: the sum of the outcome over the higher side of each column of
    two values (and over all rows, with a constant); for a column of up to
    :data:`FEW_VALUES` values a weighted sum of its groups' sums, kept as every group's
    sum (an attacker knowing more, never less). The lower side of a column of two
    values is a group an attacker can name. Sums weighted by a column of more values
    are not kept (a gap ``docs/sdc.md`` states).
    """

    pupils: np.ndarray
    schools: np.ndarray
    records: np.ndarray
    outcome: np.ndarray
    groups: np.ndarray
    released: np.ndarray
    constant: bool


def fitted_rows(results: Any, *, pupil: Any, school: Any, record: Any) -> FittedRows | None:
    """The :class:`FittedRows` of ``results``; None when the rows cannot be aligned."""
    n = np.asarray(results.model.exog).shape[0]
    aligned = [_rows(values, results, n) for values in (pupil, school, record)]
    if any(values is None for values in aligned):
        return None
    exog, endog, used = _used(results)
    pupils, schools, records = (
        np.asarray(values)[used] for values in aligned if values is not None
    )
    sides: list[np.ndarray] = []
    released: list[bool] = []
    for j in range(exog.shape[1]):
        levels = np.unique(exog[:, j])
        if len(levels) == 2:
            sides += [exog[:, j] == levels[1], exog[:, j] == levels[0]]
            released += [True, False]
        elif 2 < len(levels) <= FEW_VALUES:
            sides += [exog[:, j] == level for level in levels]
            released += [True] * len(levels)
    groups = np.column_stack(sides) if sides else np.zeros((len(endog), 0), dtype=bool)
    # a column of one non-zero value publishes the sum over all rows
    constant = len(endog) > 0 and bool(((np.ptp(exog, axis=0) == 0) & (exog[0] != 0)).any())
    return FittedRows(pupils, schools, records, endog, groups, np.array(released, bool), constant)


def regression_reasons(
    results: Any, policy: Policy, *, pupil: Any = None, school: Any = None
) -> list[str]:
    """Why the fitted model ``results`` may not be released (empty: it may)."""
    model = results.model
    n = np.asarray(model.exog).shape[0]
    pupils, schools = _rows(pupil, results, n), _rows(school, results, n)
    if pupils is None or schools is None:
        return [
            "regression: the pupil and school of each row are needed (pupil=, school=) to "
            "count the model's pupils and schools"
        ]
    exog, endog, used = _used(results)
    pupils, schools = pupils[used], schools[used]
    reasons: list[str] = []
    rank = int(getattr(model, "rank", np.linalg.matrix_rank(exog) if exog.size else 0))
    rule = policy.residual_df
    distinct = len(np.unique(pupils))
    if rule is not None and rule.refuses(float(distinct - rank)):
        reasons.append(
            f"{rule.reason()}, counted in distinct pupils with non-zero weight "
            f"({distinct} pupils, {rank} parameters)"
        )
    if policy.min_schools is not None and len(np.unique(schools)) < policy.min_schools.threshold:
        reasons.append(
            f"regression: the model rests on fewer than {policy.min_schools.threshold} schools"
        )
    names = [str(name) for name in getattr(model, "exog_names", range(exog.shape[1]))]
    for term, side, mask in _groups(results, exog, names):
        found = _group_reasons(term, side, pupils[mask], schools[mask], policy)
        if not found and mask.any() and len(np.unique(endog[mask])) == 1:
            found.append(
                f"regression: the outcome is one value for every pupil {side} {term!r} (separation)"
            )
        reasons.extend(found)
    bse = np.asarray(results.bse, dtype=np.float64)
    if not np.isfinite(bse).all() or (np.abs(bse) > _HUGE_STANDARD_ERROR).any():
        reasons.append(
            "regression: standard errors are undefined or huge (a saturated or separated model)"
        )
    return list(dict.fromkeys(reasons))
