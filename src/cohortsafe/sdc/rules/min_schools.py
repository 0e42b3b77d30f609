"""min_schools: every released cell rests on at least ``threshold`` distinct schools.

Guideline: the *Guidelines for Output Checking* (Bond, Brandt & de Wolf, 2015) ask for
at least three units behind every figure about businesses, so that no contributor can
subtract its own share and learn another's. cohortsafe promises parents and schools
that no figure identifies a single school, so schools are treated as contributors in
the same way: a cell of one or two schools is a figure about those schools.

>>> from cohortsafe.sdc._cellstats import CellStats
>>> stats = CellStats.example(pupils=[40, 40, 40, 0], schools=[2, 3, 1, 0])
>>> MinSchools(threshold=3).evaluate(stats)[0].cells.tolist()
[True, False, True, False]
>>> MinSchools(threshold=3).reason()
'min_schools: fewer than 3 schools'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import Finding, parameter

__all__ = ["DEFAULT_MIN_SCHOOLS", "MinSchools"]

DEFAULT_MIN_SCHOOLS = 3


@dataclass(frozen=True)
class MinSchools:
    """Non-empty cells with fewer than ``threshold`` schools are primary suppressions."""

    name: ClassVar[str] = "min_schools"

    threshold: int = parameter(
        DEFAULT_MIN_SCHOOLS,
        "smallest number of distinct schools a released cell may rest on",
        minimum=1,
    )

    def reason(self) -> str:
        return f"{self.name}: fewer than {self.threshold} schools"

    def evaluate(self, stats: CellStats) -> list[Finding]:
        cells = (stats.n_pupils > 0) & (stats.n_schools < self.threshold)
        return [Finding(self.name, self.reason(), cells)]
