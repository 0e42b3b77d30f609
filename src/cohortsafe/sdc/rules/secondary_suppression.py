"""secondary_suppression: no primary cell may be recovered from the published cells.

Guideline: τ-ARGUS's optimal method (Fischetti & Salazar-González, *Models and
algorithms for optimizing cell suppression in tabular data with linear constraints*,
JASA 2000; Hundepool et al., *Statistical Disclosure Control*, 2012, §4.4). Every primary
cell gets an upper and a lower protection level: an attacker who knows every published
cell, the table's additivity and that cells are non-negative must not be able to prove
the cell lies above ``value - lower`` or below ``value + upper``.

The levels are ``percent`` % of the cell value, at least ``minimum_count`` for count
tables (at least ``minimum_value`` for sum and mean tables, whose additive values are
sums), and the lower level never more than the value itself (a cell cannot be shown to
be below zero). ``cost`` chooses what the optimiser minimises: the number of suppressed
cells or their total value (the τ-ARGUS default, which spares large totals).

>>> import numpy as np
>>> rule = SecondarySuppression(percent=30.0, minimum_count=3)
>>> upper, lower = rule.levels(np.array([4.0, 20.0, 1.0]), count_table=True)
>>> upper.tolist(), lower.tolist()
([3.0, 6.0, 3.0], [3.0, 6.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from cohortsafe.sdc._cellstats import FloatArray
from cohortsafe.sdc.rules._base import parameter

__all__ = ["COSTS", "Cost", "SecondarySuppression"]

Cost = Literal["value", "cells"]
COSTS: tuple[Cost, ...] = ("value", "cells")


@dataclass(frozen=True)
class SecondarySuppression:
    """Protection levels and solver limits for complementary suppression."""

    name: ClassVar[str] = "secondary_suppression"

    percent: float = parameter(
        30.0,
        "protection level as a percentage of the primary cell's value (upper and lower)",
        minimum=0.0,
        maximum=100.0,
    )
    minimum_count: int = parameter(
        3, "smallest protection level of a primary cell in a count table", minimum=0
    )
    minimum_value: float = parameter(
        1.0,
        "smallest protection level of a primary cell in a sum or mean table (in units of "
        "the value column, applied to the cell's sum)",
        minimum=0.0,
    )
    # parameter() returns a dataclasses.field, like field() itself
    cost: Cost = parameter(  # noqa: RUF009
        "value",
        "what the optimal pattern minimises: 'value' (total suppressed value) or 'cells' "
        "(number of suppressed cells)",
        choices=COSTS,
    )
    exact_cell_limit: int = parameter(
        20_000,
        "tables with more cells than this go straight to the heuristic instead of the "
        "exact mixed-integer programme",
        minimum=0,
    )
    time_limit_seconds: float = parameter(
        20.0,
        "time for the exact solver; when it runs out, the best pattern found is completed "
        "by the heuristic and reported as not proven optimal",
        minimum=0.0,
    )

    def levels(self, values: FloatArray, *, count_table: bool) -> tuple[FloatArray, FloatArray]:
        """Upper and lower protection levels for cells of these values."""
        magnitude = np.abs(values)
        level = magnitude * (self.percent / 100.0)
        if count_table:
            # counts are integers, so an integral level is exactly what an attacker
            # rounding the bounds of the linear programme can exclude
            level = np.maximum(np.ceil(level - 1e-9), float(self.minimum_count))
        else:
            level = np.maximum(level, self.minimum_value)
        upper = level
        lower = np.minimum(level, magnitude)
        return upper, lower
