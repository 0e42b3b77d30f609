"""extremes: minimum and maximum values are never released.

Guideline: the *Guidelines for Output Checking* (Bond, Brandt & de Wolf, 2015) class
maxima and minima as unsafe statistics: each is one person's value. Tables and
summaries asking for ``min`` or ``max`` fail as a whole under the research policy, and
histograms never show the outermost bin edges (they are open-ended).

>>> Extremes().refuses("max"), Extremes().refuses("mean")
(True, False)
>>> Extremes().reason()
'extremes: minimum and maximum values are never released'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc.rules._base import parameter

__all__ = ["EXTREME_STATISTICS", "Extremes"]

EXTREME_STATISTICS = frozenset({"min", "max", "minimum", "maximum", "range"})


@dataclass(frozen=True)
class Extremes:
    """Refuses statistics that are one pupil's value."""

    name: ClassVar[str] = "extremes"

    allowed: bool = parameter(False, "whether minimum and maximum may be released at all")

    def refuses(self, statistic: str) -> bool:
        return not self.allowed and statistic.lower() in EXTREME_STATISTICS

    def reason(self) -> str:
        return f"{self.name}: minimum and maximum values are never released"
