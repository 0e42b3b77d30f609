"""p_percent: no contributor can estimate another's contribution to within p %.

Guideline: the p % rule for magnitude tables (Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, §4.2.2; ACRO's ``safe_pratio_p``), p = 10 % by default. The second
largest contributor knows its own value ``x2``; subtracting it from the published total
leaves it ``x1`` plus the rest. A cell is sensitive when the rest is smaller than p % of
``x1``, i.e. ``total - x1 - x2 < p/100 · x1``: the second contributor could then estimate
the largest one to within p %. A cell with one or two contributors always fails (when
its total is not zero).

Contributors are pupils and/or schools, as for :mod:`~cohortsafe.sdc.rules.nk_dominance`,
with absolute contributions; only sum and mean tables are checked.

>>> from cohortsafe.sdc._cellstats import CellStats
>>> stats = CellStats.example(
...     pupils=[5, 5], aggregate="mean",
...     pupil_values=[[100, 50, 4, 3, 3], [100, 50, 4, 3, 2]],
... )
>>> PPercent(p=10.0, units=("pupil",)).evaluate(stats)[0].cells.tolist()
[False, True]
>>> print(PPercent(p=10.0, units=("pupil",)).reason("pupil"))  # doctest: +NORMALIZE_WHITESPACE
p_percent: the second-largest pupil could estimate the largest pupil's contribution
to within 10%
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import Finding, parameter
from cohortsafe.sdc.rules.nk_dominance import UNITS, Unit, units

__all__ = ["DEFAULT_P", "PPercent"]

DEFAULT_P = 10.0


@dataclass(frozen=True)
class PPercent:
    """Magnitude cells where the remainder is below p % of the largest contribution."""

    name: ClassVar[str] = "p_percent"

    p: float = parameter(
        DEFAULT_P,
        "precision (percent) to which no contributor may estimate the largest one",
        minimum=0.0,
        maximum=100.0,
    )
    units: tuple[Unit, ...] = parameter(
        UNITS,
        "contributors the rule is applied to: 'pupil' and/or 'school'",
        convert=units,
    )

    def reason(self, unit: Unit) -> str:
        return (
            f"{self.name}: the second-largest {unit} could estimate the largest {unit}'s "
            f"contribution to within {self.p:g}%"
        )

    def evaluate(self, stats: CellStats) -> list[Finding]:
        if not stats.is_magnitude:
            return []
        findings = []
        for unit in self.units:
            top, total = stats.contributions(unit)
            first = top[:, 0]
            second = top[:, 1] if top.shape[1] > 1 else np.zeros_like(first)
            rest = total - first - second
            cells = (stats.n_pupils > 0) & (rest * 100.0 < self.p * first)
            findings.append(Finding(self.name, self.reason(unit), cells))
        return findings
