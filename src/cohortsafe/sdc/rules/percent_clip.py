"""percent_clip: percentages are shown no lower than ``low`` and no higher than ``high``.

Guideline: feedback reports to schools (as the Dutch inspectorate's and the PO-Raad's
school reports do) show "< 5 %" and "> 95 %" instead of figures near 0 and 100: a
percentage of 0 or 100 tells every pupil's (or parent's) outcome. Clipped cells keep
their status; the published value is the bound and the cell says so.

>>> import numpy as np
>>> shown, below, above = PercentClip(low=5.0, high=95.0).clip(np.array([2.0, 50.0, 99.0]))
>>> shown.tolist(), below.tolist(), above.tolist()
([5.0, 50.0, 95.0], [True, False, False], [False, False, True])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cohortsafe.sdc._cellstats import BoolArray, FloatArray
from cohortsafe.sdc.rules._base import parameter

__all__ = ["PercentClip"]


@dataclass(frozen=True)
class PercentClip:
    """Clips released percentages into ``[low, high]``."""

    name: ClassVar[str] = "percent_clip"

    low: float = parameter(5.0, "percentages below this are shown as '<low%'", minimum=0.0)
    high: float = parameter(95.0, "percentages above this are shown as '>high%'", maximum=100.0)

    def clip(self, percent: FloatArray) -> tuple[FloatArray, BoolArray, BoolArray]:
        below = percent < self.low
        above = percent > self.high
        return np.clip(percent, self.low, self.high), below, above

    def reason(self, below: bool) -> str:
        if below:
            return f"{self.name}: shown as <{self.low:g}%"
        return f"{self.name}: shown as >{self.high:g}%"
