"""single_value: a magnitude cell whose pupils all have the same value is flagged.

Guideline: ACRO's "all values are the same" check and the group-disclosure warning of
the *Guidelines for Output Checking* (Bond, Brandt & de Wolf, 2015): when every pupil
in a cell has the same score, the published mean *is* each pupil's score. The research
policy flags such cells for review; ``action = "suppress"`` makes them primary.

>>> from cohortsafe.sdc._cellstats import CellStats
>>> stats = CellStats.example(
...     pupils=[12, 12], aggregate="mean", value_min=[200, 180], value_max=[200, 220]
... )
>>> SingleValue().evaluate(stats)[0].cells.tolist()
[True, False]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import ACTIONS, Action, Finding, parameter

__all__ = ["SingleValue"]


@dataclass(frozen=True)
class SingleValue:
    """Non-empty magnitude cells whose smallest and largest values are equal."""

    name: ClassVar[str] = "single_value"

    # parameter() returns a dataclasses.field, like field() itself
    action: Action = parameter(  # noqa: RUF009
        "review", "what a cell of one value gets: 'review' (flag) or 'suppress'", choices=ACTIONS
    )

    def reason(self) -> str:
        return f"{self.name}: every pupil in the cell has the same value"

    def evaluate(self, stats: CellStats) -> list[Finding]:
        if not stats.is_magnitude:
            return []
        cells = (stats.n_pupils > 0) & (stats.value_min == stats.value_max)
        return [Finding(self.name, self.reason(), cells, self.action)]
