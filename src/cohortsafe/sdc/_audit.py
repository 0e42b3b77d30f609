"""The audit: what an attacker can prove about every suppressed cell of a released table.

Attacker model (stated, and the one τ-ARGUS audits against): the attacker knows every
published cell, the additivity equations of the table (each total is the sum of the
cells it totals, at every level of the table) and that cells cannot be negative (count
tables, and sum or mean tables of non-negative values; otherwise no a-priori bound). It
does not know any upper bound. For each suppressed cell, two linear programmes over the
published table (HiGHS, via :mod:`._attacker`) give the interval ``[low, high]`` it can
prove. The audit **fails** when a primary cell's interval does not reach its protection
levels: ``high < value + upper`` or ``low > value - lower``.

What it does not model: integer reasoning beyond rounding (for 2-D tables the linear
bounds are integral; for 3-D and larger tables an integer attacker can sometimes do
slightly better), knowledge of other released tables (see differencing), and a
contributor subtracting its own contribution from a magnitude cell (the singleton
problem), which the p% and (n,k) rules address at the primary stage.

>>> import numpy as np, scipy.sparse as sp
>>> m = sp.csr_array(np.array([[-1.0, -1.0, -1.0, 1.0]]))  # a + b + c = t
>>> values = np.array([2.0, 30.0, 40.0, 72.0])
>>> report = audit(m, values, suppressed=np.array([True, True, False, False]),
...                primary=np.array([True, False, False, False]),
...                upper=np.array([3.0, 0, 0, 0]), lower=np.array([2.0, 0, 0, 0]))
>>> report.passed, [(i.cell, i.low, i.high) for i in report.intervals]
(True, [(0, 0.0, 32.0), (1, 0.0, 32.0)])
>>> audit(m, values, suppressed=np.array([True, False, False, False]),
...       primary=np.array([True, False, False, False]),
...       upper=np.array([3.0, 0, 0, 0]), lower=np.array([2.0, 0, 0, 0])).passed
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cohortsafe.sdc._attacker import Attacker
from cohortsafe.sdc._cellstats import BoolArray, FloatArray

__all__ = ["ATTACKER_MODEL", "AuditReport", "CellInterval", "audit"]

ATTACKER_MODEL = (
    "knows every published cell, the additivity of the table and that cells are "
    "non-negative (when the data are); proves intervals by linear programming"
)
_TOL = 1e-7


@dataclass(frozen=True)
class CellInterval:
    """The interval the attacker can prove for one suppressed cell."""

    cell: int
    low: float
    high: float
    primary: bool
    protected: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "low": self.low,
            "high": None if np.isinf(self.high) else self.high,
            "primary": self.primary,
            "protected": self.protected,
        }


@dataclass(frozen=True)
class AuditReport:
    """Intervals of all suppressed cells; ``passed`` when every primary is protected."""

    intervals: tuple[CellInterval, ...]
    attacker: str = ATTACKER_MODEL

    @property
    def passed(self) -> bool:
        return all(i.protected for i in self.intervals)

    @property
    def failures(self) -> tuple[int, ...]:
        return tuple(i.cell for i in self.intervals if not i.protected)


def audit(
    equations: sp.csr_array,
    values: FloatArray,
    *,
    suppressed: BoolArray,
    primary: BoolArray,
    upper: FloatArray,
    lower: FloatArray,
) -> AuditReport:
    """Audit a suppression pattern over the table's model cells."""
    values = np.asarray(values, dtype=np.float64)
    nonnegative = bool((values >= 0).all())
    attacker = Attacker(
        equations,
        values,
        np.zeros_like(values) if nonnegative else np.full_like(values, -np.inf),
        np.full_like(values, np.inf),
    )
    intervals = []
    for component in attacker.components(np.asarray(suppressed, bool)):
        for cell in component.cells:
            down = component.reach(int(cell), -1).deviation
            up = component.reach(int(cell), +1).deviation
            is_primary = bool(primary[cell])
            ok = True
            if is_primary:
                ok = up >= upper[cell] - _TOL * max(1.0, upper[cell]) and down >= lower[
                    cell
                ] - _TOL * max(1.0, lower[cell])
            intervals.append(
                CellInterval(
                    int(cell),
                    float(values[cell] - down),
                    float(values[cell] + up),
                    is_primary,
                    bool(ok),
                )
            )
    intervals.sort(key=lambda i: i.cell)
    return AuditReport(tuple(intervals))
