"""withhold: a report part is withheld when too little of it can be shown.

Guideline: school feedback reports withhold a section instead of showing a table that
is mostly blanks, which misleads more than it informs and invites guessing. When fewer
than ``min_released_share`` % of a table's inner cells (margins not counted) survive
the rules and secondary suppression, the whole table is withheld.

>>> Withhold(min_released_share=50.0).withholds(released=4, cells=10)
True
>>> Withhold(min_released_share=50.0).withholds(released=5, cells=10)
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc.rules._base import parameter

__all__ = ["Withhold"]


@dataclass(frozen=True)
class Withhold:
    """Withholds a table whose released share of inner cells is too small."""

    name: ClassVar[str] = "withhold"

    min_released_share: float = parameter(
        50.0,
        "smallest percentage of a table's inner cells that must be released; below it "
        "the whole table is withheld",
        minimum=0.0,
        maximum=100.0,
    )

    def withholds(self, *, released: int, cells: int) -> bool:
        return cells > 0 and released * 100.0 < self.min_released_share * cells

    def reason(self) -> str:
        return (
            f"{self.name}: fewer than {self.min_released_share:g}% of the cells could be released"
        )
