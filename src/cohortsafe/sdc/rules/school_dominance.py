"""school_dominance: no few schools may hold most of a cell's pupils.

Guideline: the contributor dominance rule the Australian Bureau of Statistics' DataLab
applies to its outputs, (1, 50) / (2, 67): no single contributor may account for more
than 50 % of a cell, and no two contributors together for more than 67 %. Here the
contributors are schools and their contribution is their number of distinct pupils in
the cell, so a cell that is essentially "school X" is not released even when it has
three schools. A limit ``(n, percent)`` flags a cell when its ``n`` largest schools
hold *more than* ``percent`` % of its pupils (exactly 50 % passes). In sum and mean
tables the same limits apply to the schools' share of the cell's value as well (the sum
of their pupils' absolute values), since a mean weighs results, not pupils.

>>> from cohortsafe.sdc._cellstats import CellStats
>>> stats = CellStats.example(
...     pupils=[100, 100, 100, 100],
...     schools=[5, 5, 5, 5],
...     school_top=[[50, 17, 11, 11, 11], [51, 10, 13, 13, 13], [40, 27, 11, 11, 11],
...                 [40, 28, 11, 11, 10]],
... )
>>> [f.cells.tolist() for f in SchoolDominance().evaluate(stats)]
[[False, True, False, False], [False, False, False, True]]
>>> [f.reason for f in SchoolDominance().evaluate(stats)]  # doctest: +NORMALIZE_WHITESPACE
['school_dominance: one school holds more than 50% of the pupils',
 'school_dominance: two schools hold more than 67% of the pupils']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc.rules._base import Finding, parameter

__all__ = ["DEFAULT_SCHOOL_LIMITS", "SchoolDominance", "count_words"]

DEFAULT_SCHOOL_LIMITS: tuple[tuple[int, float], ...] = ((1, 50.0), (2, 67.0))

_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def count_words(n: int, noun: str) -> str:
    """'one school', 'two schools', '7 schools'."""
    word = _WORDS.get(n, str(n))
    return f"{word} {noun}" if n == 1 else f"{word} {noun}s"


def _limits(value: Any) -> tuple[tuple[int, float], ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise PolicyError("school_dominance.limits must be a list of [schools, percent] pairs")
    limits: list[tuple[int, float]] = []
    for pair in value:
        if (
            not isinstance(pair, Sequence)
            or len(pair) != 2
            or isinstance(pair[0], bool)
            or not isinstance(pair[0], int)
            or not isinstance(pair[1], int | float)
            or isinstance(pair[1], bool)
        ):
            raise PolicyError("school_dominance.limits must be a list of [schools, percent] pairs")
        n, percent = int(pair[0]), float(pair[1])
        if n < 1 or not 0.0 < percent <= 100.0:
            raise PolicyError(
                "school_dominance.limits: schools must be at least 1 and percent in (0, 100]"
            )
        limits.append((n, percent))
    return tuple(limits)


@dataclass(frozen=True)
class SchoolDominance:
    """Cells where the n largest schools hold more than a share of the pupils."""

    name: ClassVar[str] = "school_dominance"

    limits: tuple[tuple[int, float], ...] = parameter(
        DEFAULT_SCHOOL_LIMITS,
        "list of [n, percent] pairs: the n largest schools of a cell may hold at most "
        "percent % of its distinct pupils",
        convert=_limits,
    )

    @property
    def largest_n(self) -> int:
        return max((n for n, _ in self.limits), default=0)

    def reason(self, n: int, percent: float) -> str:
        verb = "holds" if n == 1 else "hold"
        return (
            f"{self.name}: {count_words(n, 'school')} {verb} more than {percent:g}% of the pupils"
        )

    def value_reason(self, n: int, percent: float) -> str:
        verb = "holds" if n == 1 else "hold"
        return (
            f"{self.name}: {count_words(n, 'school')} {verb} more than {percent:g}% of the "
            "cell's value"
        )

    def evaluate(self, stats: CellStats) -> list[Finding]:
        findings = []
        for n, percent in self.limits:
            # integer pupils times 100 against percent times pupils: exact at 50 % / 67 %
            held = stats.school_top_sum(n).astype(np.float64) * 100.0
            cells = (stats.n_pupils > 0) & (held > percent * stats.n_pupils)
            findings.append(Finding(self.name, self.reason(n, percent), cells))
            if stats.is_magnitude:
                # a mean weighs results, not pupils: a school with few pupils but many
                # results (or large values) can hold most of what a sum or mean shows
                top, total = stats.contributions("school")
                if top.shape[1] < n:
                    raise ValueError("cell statistics hold fewer schools than the limit's n")
                share = top[:, :n].sum(axis=1) * 100.0
                cells = (stats.n_pupils > 0) & np.isfinite(total) & (share > percent * total)
                findings.append(Finding(self.name, self.value_reason(n, percent), cells))
        return findings
