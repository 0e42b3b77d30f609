"""zero_cells: empty cells are published as 0, flagged for a person to review.

Guideline: the *Guidelines for Output Checking* (Bond, Brandt & de Wolf, 2015) treat
zeros (and full cells) as a risk of group disclosure: "no pupil of school group X
reached level Y" is information about every pupil of the group. Whether a zero is
harmless depends on the meaning of the table, so the research policy asks a person to
look (``action = "review"``); ``action = "suppress"`` makes empty cells primary
suppressions instead (they then enter the secondary-suppression model as cells).

>>> from cohortsafe.sdc._cellstats import CellStats
>>> finding = ZeroCells().evaluate(CellStats.example(pupils=[0, 3]))[0]
>>> finding.cells.tolist(), finding.action, finding.reason
([True, False], 'review', 'zero_cells: no pupils in this cell')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import ACTIONS, Action, Finding, parameter

__all__ = ["ZeroCells"]


@dataclass(frozen=True)
class ZeroCells:
    """Empty cells (no records) are flagged: reviewed or suppressed."""

    name: ClassVar[str] = "zero_cells"

    # parameter() returns a dataclasses.field, like field() itself
    action: Action = parameter(  # noqa: RUF009
        "review", "what an empty cell gets: 'review' (flag) or 'suppress'", choices=ACTIONS
    )

    def reason(self) -> str:
        return f"{self.name}: no pupils in this cell"

    def evaluate(self, stats: CellStats) -> list[Finding]:
        return [Finding(self.name, self.reason(), stats.empty, self.action)]
