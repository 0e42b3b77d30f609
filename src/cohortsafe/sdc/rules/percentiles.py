"""percentiles: a percentile is released only with enough pupils on each side.

Guideline: the *Guidelines for Output Checking* (Bond, Brandt & de Wolf, 2015): a
percentile is (close to) one person's value, safe only when enough units lie below and
above it. cohortsafe counts distinct pupils with a value strictly below and strictly
above the percentile; both must reach ``min_pupils_each_side``.

>>> import numpy as np
>>> rule = Percentiles(min_pupils_each_side=10)
>>> rule.flags(np.array([10, 9, 50]), np.array([10, 30, 9])).tolist()
[False, True, True]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cohortsafe.sdc._cellstats import BoolArray, IntArray
from cohortsafe.sdc.rules._base import parameter
from cohortsafe.sdc.rules.min_pupils import DEFAULT_MIN_PUPILS

__all__ = ["Percentiles"]


@dataclass(frozen=True)
class Percentiles:
    """Flags percentiles with too few pupils strictly below or strictly above."""

    name: ClassVar[str] = "percentiles"

    min_pupils_each_side: int = parameter(
        DEFAULT_MIN_PUPILS,
        "distinct pupils needed strictly below and strictly above a released percentile",
        minimum=1,
    )

    def reason(self) -> str:
        return (
            f"{self.name}: fewer than {self.min_pupils_each_side} pupils on one side "
            "of the percentile"
        )

    def between_reason(self) -> str:
        return (
            f"{self.name}: fewer than {self.min_pupils_each_side} pupils between this and "
            "the next lower published percentile"
        )

    def flags(self, below: IntArray, above: IntArray) -> BoolArray:
        limit = self.min_pupils_each_side
        return np.asarray((below < limit) | (above < limit), dtype=np.bool_)
