"""min_pupils: every released cell rests on at least ``threshold`` distinct pupils.

Guideline: the threshold (minimum frequency) rule of the Eurostat/ESSnet *Guidelines
for Output Checking* (Bond, Brandt & de Wolf, 2015), ACRO's ``safe_threshold`` and the
office's output rules: a figure about fewer than 10 people is not released. Pupils are
counted as *distinct* pseudonyms, so a pupil with two results in a cell counts once.
Empty cells are left to :mod:`~cohortsafe.sdc.rules.zero_cells`.

>>> from cohortsafe.sdc._cellstats import CellStats
>>> rule = MinPupils(threshold=10)
>>> [f.cells.tolist() for f in rule.evaluate(CellStats.example(pupils=[9, 10, 0, 1]))]
[[True, False, False, True]]
>>> rule.evaluate(CellStats.example(pupils=[9]))[0].reason
'min_pupils: fewer than 10 pupils'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import Finding, parameter

__all__ = ["DEFAULT_MIN_PUPILS", "MinPupils"]

DEFAULT_MIN_PUPILS = 10


@dataclass(frozen=True)
class MinPupils:
    """Cells with 1 … threshold-1 distinct pupils are primary suppressions."""

    name: ClassVar[str] = "min_pupils"

    threshold: int = parameter(
        DEFAULT_MIN_PUPILS,
        "smallest number of distinct pupils a released cell may rest on",
        minimum=1,
    )

    def reason(self) -> str:
        return f"{self.name}: fewer than {self.threshold} pupils"

    def evaluate(self, stats: CellStats) -> list[Finding]:
        cells = (stats.n_pupils > 0) & (stats.n_pupils < self.threshold)
        return [Finding(self.name, self.reason(), cells)]
