"""What the disclosure rules need to know about every cell, as columns of numbers.

One :class:`CellStats` holds, for each cell of a table (margins included), the number
of records, distinct pupils and distinct schools, the pupils of the largest schools,
and for magnitude tables the value total and the largest contributions by pupil and by
school. The rules are vectorised functions of these arrays; they never see microdata.

>>> stats = CellStats.example(pupils=[12, 4], schools=[3, 1])
>>> stats.size, stats.n_pupils.tolist()
(2, [12, 4])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["Aggregate", "BoolArray", "CellStats", "FloatArray", "IntArray"]

Aggregate = Literal["count", "sum", "mean"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def _column(values: Sequence[float] | FloatArray, size: int, *, fill: float = 0.0) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1 and array.size == 0:
        return np.full(size, fill)
    return array


@dataclass(frozen=True)
class CellStats:
    """Per-cell statistics; every array has one entry (or row) per cell.

    ``school_top[:, j]`` holds the distinct pupils of the (j+1)-th largest school of the
    cell, ``pupil_value_top`` and ``school_value_top`` the largest absolute value
    contributions of single pupils and single schools (0 where there are fewer
    contributors). ``pupil_value_total`` and ``school_value_total`` are the sums of the
    absolute contributions (equal to ``value_sum`` for non-negative values).
    """

    aggregate: Aggregate
    n_records: IntArray
    n_pupils: IntArray
    n_schools: IntArray
    school_top: IntArray
    value_sum: FloatArray = field(default_factory=lambda: np.zeros(0))
    value_min: FloatArray = field(default_factory=lambda: np.zeros(0))
    value_max: FloatArray = field(default_factory=lambda: np.zeros(0))
    pupil_value_top: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    pupil_value_total: FloatArray = field(default_factory=lambda: np.zeros(0))
    school_value_top: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    school_value_total: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: in count tables, the records of the cell's pupils with most records (descending)
    pupil_record_top: IntArray = field(default_factory=lambda: np.zeros((0, 0), np.int64))

    @property
    def size(self) -> int:
        return int(self.n_records.shape[0])

    @property
    def is_magnitude(self) -> bool:
        """Sums and means are magnitude tables: the dominance rules on values apply."""
        return self.aggregate != "count"

    @property
    def empty(self) -> BoolArray:
        return np.asarray(self.n_records == 0)

    def school_top_sum(self, n: int) -> IntArray:
        """Distinct pupils of the ``n`` largest schools of each cell (summed)."""
        return self.school_top[:, :n].sum(axis=1) if n > 0 else np.zeros(self.size, np.int64)

    def contributions(self, unit: Literal["pupil", "school"]) -> tuple[FloatArray, FloatArray]:
        """The largest contributions (cells × k, descending) and their total per cell."""
        if unit == "pupil":
            return self.pupil_value_top, self.pupil_value_total
        return self.school_value_top, self.school_value_total

    @classmethod
    def example(
        cls,
        *,
        pupils: Sequence[int],
        schools: Sequence[int] | None = None,
        school_top: Sequence[Sequence[int]] | None = None,
        records: Sequence[int] | None = None,
        aggregate: Aggregate = "count",
        value_sum: Sequence[float] = (),
        value_min: Sequence[float] = (),
        value_max: Sequence[float] = (),
        pupil_values: Sequence[Sequence[float]] | None = None,
        school_values: Sequence[Sequence[float]] | None = None,
    ) -> CellStats:
        """Build statistics by hand, for examples and tests.

        ``pupil_values`` / ``school_values`` list each cell's contributions (any order);
        the largest are kept and the totals computed.
        """
        n = len(pupils)
        n_pupils = np.asarray(pupils, dtype=np.int64)
        n_schools = np.asarray(schools if schools is not None else [1] * n, dtype=np.int64)
        if school_top is None:
            school_top = [[p] if p else [] for p in pupils]
        width = max([len(t) for t in school_top] + [2])
        top = np.zeros((n, width), dtype=np.int64)
        for i, row in enumerate(school_top):
            ordered = sorted(row, reverse=True)
            top[i, : len(ordered)] = ordered

        def tops(groups: Sequence[Sequence[float]] | None) -> tuple[FloatArray, FloatArray]:
            if groups is None:
                return np.zeros((n, 2)), np.zeros(n)
            k = max([len(g) for g in groups] + [2])
            out = np.zeros((n, k))
            for i, g in enumerate(groups):
                ordered_values = sorted((abs(v) for v in g), reverse=True)
                out[i, : len(ordered_values)] = ordered_values
            return out, out.sum(axis=1)

        pupil_top, pupil_total = tops(pupil_values)
        school_value_top, school_total = tops(school_values)
        return cls(
            aggregate=aggregate,
            n_records=np.asarray(records if records is not None else pupils, dtype=np.int64),
            n_pupils=n_pupils,
            n_schools=n_schools,
            school_top=top,
            value_sum=_column(value_sum, n),
            value_min=_column(value_min, n),
            value_max=_column(value_max, n),
            pupil_value_top=pupil_top,
            pupil_value_total=pupil_total,
            school_value_top=school_value_top,
            school_value_total=school_total,
        )
