"""nk_dominance: in a magnitude table, the n largest contributors hold at most k %.

Guideline: the (n, k) dominance rule for magnitude tables (Hundepool et al.,
*Statistical Disclosure Control*, Wiley 2012, §4.2.2; ACRO's ``safe_nk_n`` and
``safe_nk_k``), with n = 2 and k = 90 % by default: a cell is sensitive when its ``n``
largest contributions make up *more than* ``k`` % of its total.

cohortsafe applies it to two kinds of contributor, both by default (stricter than
either alone): **pupils** (a pupil's contribution is the sum of its values in the cell,
so two results of one pupil are one contribution) and **schools** (the sum of the
values of a school's pupils). Contributions are taken as absolute values, so the rule
stays meaningful when a value column has negative entries. In a count table the count
of records is the magnitude: pupils contribute their records, and a cell where the
``n`` pupils with most records hold more than ``k`` % of them is sensitive (a count of
results that is mostly one pupil's retakes gives that pupil's number away).

>>> from cohortsafe.sdc._cellstats import CellStats
>>> stats = CellStats.example(
...     pupils=[4, 4], aggregate="sum",
...     pupil_values=[[45, 45, 5, 5], [46, 45, 5, 4]],
...     school_values=[[50, 50], [50, 50]],
... )
>>> rule = NkDominance(n=2, k=90.0, units=("pupil",))
>>> rule.evaluate(stats)[0].cells.tolist()
[False, True]
>>> rule.evaluate(stats)[0].reason
'nk_dominance: the 2 largest pupils contribute more than 90% of the cell total'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

import numpy as np

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import Finding, parameter

__all__ = ["DEFAULT_NK_K", "DEFAULT_NK_N", "UNITS", "NkDominance", "Unit", "units"]

Unit = Literal["pupil", "school"]
UNITS: tuple[Unit, ...] = ("pupil", "school")
DEFAULT_NK_N = 2
DEFAULT_NK_K = 90.0


def units(value: Any) -> tuple[Unit, ...]:
    """Parse a list of contributor units ('pupil', 'school')."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise PolicyError("units must be a non-empty list of 'pupil' and/or 'school'")
    out: list[Unit] = []
    for item in value:
        if item not in UNITS:
            raise PolicyError("units must be a non-empty list of 'pupil' and/or 'school'")
        if item not in out:
            out.append(cast(Unit, item))
    return tuple(out)


@dataclass(frozen=True)
class NkDominance:
    """Magnitude cells where the n largest contributions exceed k % of the total."""

    name: ClassVar[str] = "nk_dominance"

    n: int = parameter(DEFAULT_NK_N, "number of largest contributors summed", minimum=1)
    k: float = parameter(
        DEFAULT_NK_K,
        "largest share (percent) of the cell total the n largest contributors may hold",
        minimum=0.0,
        maximum=100.0,
    )
    units: tuple[Unit, ...] = parameter(
        UNITS,
        "contributors the rule is applied to: 'pupil' (a pupil's values in the cell) "
        "and/or 'school' (a school's pupils' values)",
        convert=units,
    )

    def reason(self, unit: Unit) -> str:
        return (
            f"{self.name}: the {self.n} largest {unit}s contribute more than "
            f"{self.k:g}% of the cell total"
        )

    def record_reason(self) -> str:
        return f"{self.name}: the {self.n} largest pupils hold more than {self.k:g}% of the records"

    def evaluate(self, stats: CellStats) -> list[Finding]:
        if not stats.is_magnitude:
            return self._records(stats)
        findings = []
        for unit in self.units:
            top, total = stats.contributions(unit)
            if top.shape[1] < self.n:
                raise ValueError("cell statistics hold fewer contributions than the rule's n")
            largest = top[:, : self.n].sum(axis=1)
            cells = (stats.n_pupils > 0) & (largest * 100.0 > self.k * total)
            findings.append(Finding(self.name, self.reason(unit), cells & np.isfinite(total)))
        return findings

    def _records(self, stats: CellStats) -> list[Finding]:
        """A count of records is a magnitude of the pupils' records: one pupil with most
        of a cell's records is revealed by the count as a value would be."""
        top = stats.pupil_record_top
        if "pupil" not in self.units or top.size == 0:
            return []
        largest = top[:, : self.n].sum(axis=1).astype(np.float64)
        cells = (stats.n_records > stats.n_pupils) & (largest * 100.0 > self.k * stats.n_records)
        return [Finding(self.name, self.record_reason(), cells)]
