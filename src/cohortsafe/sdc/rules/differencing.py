"""differencing: a cell may not differ from an earlier released cell by a small group.

Guideline: the differencing risk of the *Guidelines for Output Checking* (Bond, Brandt
& de Wolf, 2015): two outputs whose populations differ by a few people (one filter
more, one category more) reveal those people by subtraction. cohortsafe keeps, for each
released table of a project, the pupils behind every released cell and behind the
whole table (held by the checker, never published), and flags a new released cell
whose pupils differ from those of a released cell by at least 1 and fewer than
``threshold`` pupils (symmetric difference). The flagged cells become primary
suppressions; see :mod:`cohortsafe.sdc._differencing` for the mechanism.

>>> Differencing(threshold=10).is_small(3), Differencing(threshold=10).is_small(0)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cohortsafe.sdc.rules._base import parameter
from cohortsafe.sdc.rules.min_pupils import DEFAULT_MIN_PUPILS

__all__ = ["Differencing"]


@dataclass(frozen=True)
class Differencing:
    """Cells whose population is a few pupils away from a released one."""

    name: ClassVar[str] = "differencing"

    threshold: int = parameter(
        DEFAULT_MIN_PUPILS,
        "differences of 1 … threshold-1 pupils between a new and a released cell are flagged",
        minimum=1,
    )

    def is_small(self, difference: int) -> bool:
        return 0 < difference < self.threshold

    def reason(self) -> str:
        return (
            f"{self.name}: differs from a cell of an earlier released output by fewer "
            f"than {self.threshold} pupils"
        )
