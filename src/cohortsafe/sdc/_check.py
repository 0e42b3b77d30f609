"""Applying a policy's cell rules to the statistics of every cell.

The outcome is columnar: a boolean matrix of cells × reasons for the findings that make
a cell a primary suppression and one for the findings a person should review, with the
reason texts alongside. Reasons name the rule and its parameter, never a cell's value.

>>> from cohortsafe.sdc._cellstats import CellStats
>>> from cohortsafe.sdc._policy import load_policy
>>> stats = CellStats.example(pupils=[30, 4, 0], schools=[5, 2, 0],
...                           school_top=[[6, 6, 6, 6, 6], [2, 2], []])
>>> outcome = apply_rules(load_policy("research"), stats)
>>> outcome.primary.tolist(), outcome.review.tolist()
([False, True, False], [False, False, True])
>>> outcome.primary_reasons(1)  # 2 of 4 pupils is 50 %, not more
['min_pupils: fewer than 10 pupils', 'min_schools: fewer than 3 schools',
 'school_dominance: two schools hold more than 67% of the pupils']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohortsafe.sdc._cellstats import BoolArray, CellStats
from cohortsafe.sdc._policy import Policy

__all__ = ["RuleOutcome", "apply_rules"]


@dataclass(frozen=True)
class RuleOutcome:
    """Which cells each reason applies to, split by action."""

    reasons: tuple[str, ...]
    primary_matrix: BoolArray  # cells × reasons
    review_matrix: BoolArray  # cells × reasons

    @property
    def primary(self) -> BoolArray:
        return np.asarray(self.primary_matrix.any(axis=1))

    @property
    def review(self) -> BoolArray:
        return np.asarray(self.review_matrix.any(axis=1))

    def primary_reasons(self, cell: int) -> list[str]:
        return [self.reasons[j] for j in np.flatnonzero(self.primary_matrix[cell])]

    def review_reasons(self, cell: int) -> list[str]:
        return [self.reasons[j] for j in np.flatnonzero(self.review_matrix[cell])]

    def with_primary(self, reason: str, cells: BoolArray) -> RuleOutcome:
        """The outcome with one more primary finding (e.g. from differencing)."""
        n = self.primary_matrix.shape[0]
        column = np.asarray(cells, bool).reshape(n, 1)
        return RuleOutcome(
            (*self.reasons, reason),
            np.hstack([self.primary_matrix, column]),
            np.hstack([self.review_matrix, np.zeros((n, 1), bool)]),
        )


def apply_rules(policy: Policy, stats: CellStats) -> RuleOutcome:
    """Evaluate every enabled cell rule of ``policy`` on ``stats``."""
    reasons: list[str] = []
    primary: list[BoolArray] = []
    review: list[BoolArray] = []
    none = np.zeros(stats.size, bool)
    for rule in policy.cell_rules():
        for finding in rule.evaluate(stats):
            reasons.append(finding.reason)
            cells = np.asarray(finding.cells, bool)
            if finding.action == "suppress":
                primary.append(cells)
                review.append(none)
            else:
                primary.append(none)
                review.append(cells)
    if not reasons:
        empty = np.zeros((stats.size, 0), bool)
        return RuleOutcome((), empty, empty)
    return RuleOutcome(tuple(reasons), np.column_stack(primary), np.column_stack(review))
