"""The attacker's linear programme: what the published cells prove about a hidden one.

The attacker knows every published cell, the table's additivity equations ``M y = 0``
and an a-priori range per cell (``y ≥ 0`` for counts and for sums of non-negative
values). For a suppressed cell ``j`` the tightest interval it can prove is

    [min y_j, max y_j]  subject to  M y = 0,  y_i = a_i for published i,  lb ≤ y ≤ ub,

two linear programmes solved with HiGHS (``scipy.optimize.linprog``). The programmes
only involve the suppressed cells of ``j``'s *component* (suppressed cells linked
through equations); everything else is fixed, which keeps them small.

The programmes are written in deviations ``z = y - a`` (so ``M z = 0``), and return the
equality duals too: the secondary suppression turns them into Benders cuts.

>>> import numpy as np, scipy.sparse as sp
>>> # a + b = t (one equation), all three suppressed, non-negative
>>> m = sp.csr_array(np.array([[-1.0, -1.0, 1.0]]))
>>> attacker = Attacker(m, np.array([3.0, 7.0, 10.0]), np.zeros(3), np.full(3, np.inf))
>>> attacker.interval(0, np.array([True, True, True]))
(0.0, inf)
>>> attacker.interval(0, np.array([True, True, False]))  # total published
(0.0, 10.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import BoolArray, FloatArray, IntArray

__all__ = ["Attacker", "Component", "OutOfTime", "Reach"]


class OutOfTime(PolicyError):
    """A deadline passed before the attacker's programmes were solved.

    Control flow inside the secondary suppression, always caught there (the table then
    says its protection could not be verified in time); a PolicyError should it escape.
    """

    def __init__(self) -> None:
        super().__init__("secondary suppression ran out of time")


@dataclass(frozen=True)
class Reach:
    """How far the attacker can move one cell in one direction, with the LP duals."""

    deviation: float
    duals: FloatArray  # one per equation of the component (HiGHS sign convention)


# Several programmes of one component are solved as one block-diagonal programme: the
# blocks are independent, so the joint optimum is each block's optimum, and one call
# to HiGHS costs far less than many small ones. Blocks are capped at this many
# variables per call.
_BLOCK_VARIABLES = 60_000


@dataclass
class Component:
    """Suppressed cells linked by equations, and those equations."""

    cells: IntArray
    rows: IntArray
    matrix: sp.csr_array
    low: FloatArray
    high: FloatArray
    _position: dict[int, int] = field(default_factory=dict)
    deadline: float = float("inf")  # time.monotonic() by which to give up (OutOfTime)

    def __post_init__(self) -> None:
        self._position = {int(c): i for i, c in enumerate(self.cells)}

    def __contains__(self, cell: int) -> bool:
        return cell in self._position

    def reach(self, cell: int, direction: int) -> Reach:
        """``max direction · z_cell`` over the component's deviations."""
        return self.reach_many([(cell, direction)])[0]

    def reach_many(self, targets: list[tuple[int, int]]) -> list[Reach]:
        """:meth:`reach` for several (cell, direction) pairs."""
        if self.rows.size == 0:
            return [
                Reach(
                    float(self.high[self._position[c]] if d > 0 else -self.low[self._position[c]]),
                    np.zeros(0),
                )
                for c, d in targets
            ]
        size = self.cells.size
        per_call = max(1, _BLOCK_VARIABLES // size)
        out: list[Reach] = []
        for start in range(0, len(targets), per_call):
            if time.monotonic() > self.deadline:
                raise OutOfTime
            out += self._solve_block(targets[start : start + per_call])
        return out

    def _time_left(self) -> dict[str, float]:
        """HiGHS options that stop a programme at the deadline."""
        if np.isfinite(self.deadline):
            return {"time_limit": max(self.deadline - time.monotonic(), 0.01)}
        return {}

    def witness(self, targets: list[tuple[int, int, float]], rounds: int = 3) -> BoolArray:
        """Which (cell, direction, level) targets one feasible point moves by their level.

        One programme per direction pushes every target at once, each as far as its
        level and no further (maximise the sum of ``min(direction · z_cell, level) /
        level``); a
        target the solution reaches is proven reachable, since that point satisfies
        every equation. Targets it misses are tried again, without the reached ones,
        for up to ``rounds`` programmes; the rest are left to :meth:`reach_many`. This
        settles, in a few programmes, groups that would take two each."""
        reached = np.zeros(len(targets), bool)
        # pushing a cell up and down at once would cancel: each direction on its own
        for direction in (-1, +1):
            mine = np.array([i for i, t in enumerate(targets) if t[1] == direction], np.int64)
            for _ in range(rounds):
                todo = mine[~reached[mine]]
                if todo.size == 0 or time.monotonic() > self.deadline:
                    break
                found = self._witness_once([targets[i] for i in todo.tolist()])
                if not found.any():
                    break
                reached[todo[found]] = True
        return reached

    def _witness_once(self, targets: list[tuple[int, int, float]]) -> BoolArray:
        size, k = self.cells.size, len(targets)
        columns = np.array([self._position[c] for c, _, _ in targets])
        directions = np.array([float(d) for _, d, _ in targets])
        levels = np.array([max(float(level), 1e-12) for _, _, level in targets])
        if self.rows.size == 0:  # every cell moves alone, as far as its range
            reach = np.where(directions > 0, self.high[columns], -self.low[columns])
            return np.asarray(reach >= levels - 1e-7 * np.maximum(1.0, levels))
        # variables: the deviations z, then one t per target with t ≤ direction · z_cell
        objective = np.concatenate([np.zeros(size), -1.0 / levels])
        pushes = sp.csr_array(
            (
                np.concatenate([-directions, np.ones(k)]),
                (np.tile(np.arange(k), 2), np.concatenate([columns, size + np.arange(k)])),
            ),
            shape=(k, size + k),
        )
        equations = sp.hstack([self.matrix, sp.csr_array((self.rows.size, k))], format="csr")
        # t may be negative: a target pushed the wrong way costs, it does not forbid
        bounds = np.column_stack(
            [np.concatenate([self.low, np.full(k, -np.inf)]), np.concatenate([self.high, levels])]
        )
        options = self._time_left()
        result = linprog(
            objective,
            A_ub=pushes,
            b_ub=np.zeros(k),
            A_eq=equations,
            b_eq=np.zeros(self.rows.size),
            bounds=bounds,
            method="highs",
            options=options,
        )
        if result.status != 0:
            return np.zeros(k, bool)
        z = np.asarray(result.x)[:size]
        # trust the point only as far as it satisfies the equations and bounds
        scale = max(1.0, float(np.abs(z).max(initial=0.0)))
        slack = 1e-7 * scale
        if (
            np.abs(self.matrix @ z).max(initial=0.0) > slack
            or (z < self.low - slack).any()
            or (z > self.high + slack).any()
        ):
            return np.zeros(k, bool)
        moved = directions * z[columns]
        return np.asarray(moved >= levels - 1e-7 * np.maximum(1.0, levels))

    def _solve_block(self, targets: list[tuple[int, int]]) -> list[Reach]:
        k, size, rows = len(targets), self.cells.size, self.rows.size
        objective = np.zeros(k * size)
        for block, (cell, direction) in enumerate(targets):
            objective[block * size + self._position[cell]] = -float(direction)
        matrix = sp.block_diag([self.matrix] * k, format="csr") if k > 1 else self.matrix
        bounds = np.column_stack([np.tile(self.low, k), np.tile(self.high, k)])
        options = self._time_left()
        result = linprog(
            objective,
            A_eq=matrix,
            b_eq=np.zeros(k * rows),
            bounds=bounds,
            method="highs",
            options=options,
        )
        if result.status == 1:
            raise OutOfTime
        if result.status == 3:
            if k > 1:  # find the unbounded block(s) one by one
                return [r for t in targets for r in self._solve_block([t])]
            return [Reach(float("inf"), np.zeros(rows))]
        if result.status != 0:  # pragma: no cover - the zero deviation is always feasible
            raise RuntimeError(f"attacker programme failed: {result.message}")
        x = np.asarray(result.x)
        duals = np.asarray(result.eqlin.marginals, dtype=np.float64)
        return [
            Reach(
                float(direction * x[block * size + self._position[cell]]),
                duals[block * rows : (block + 1) * rows],
            )
            for block, (cell, direction) in enumerate(targets)
        ]


class Attacker:
    """The linear attacker on one table: equations, true values, a-priori bounds."""

    def __init__(
        self,
        equations: sp.csr_array,
        values: FloatArray,
        lower_bound: FloatArray,
        upper_bound: FloatArray,
    ) -> None:
        self.equations = sp.csr_array(equations)
        self.values = np.asarray(values, dtype=np.float64)
        self.lower_bound = np.asarray(lower_bound, dtype=np.float64)
        self.upper_bound = np.asarray(upper_bound, dtype=np.float64)
        self._columns = self.equations.tocsc()
        self.deadline = float("inf")  # passed on to the components it makes

    @property
    def size(self) -> int:
        return int(self.values.size)

    def components(self, suppressed: BoolArray, scale: FloatArray | None = None) -> list[Component]:
        """Split the suppressed cells into independent attacker programmes.

        ``scale`` (between 0 and 1 per cell) shrinks each cell's a-priori range; the
        secondary suppression uses it to check fractional patterns.
        """
        cells = np.flatnonzero(suppressed)
        if cells.size == 0:
            return []
        incidence = sp.csr_array(self._columns[:, cells].T)  # cells × equations
        rows = np.unique(incidence.indices)
        incidence = sp.csr_array(incidence[:, rows])
        k, r = cells.size, rows.size
        if r:
            graph = sp.bmat([[None, incidence], [incidence.T, None]], format="csr")
        else:
            graph = sp.csr_array((k, k))
        count, labels = connected_components(graph, directed=False)
        cell_labels, row_labels = labels[:k], labels[k:]
        low = self.lower_bound - self.values
        high = self.upper_bound - self.values
        if scale is not None:
            low, high = low * scale, high * scale
        out = []
        by_cell = np.argsort(cell_labels, kind="stable")
        by_row = np.argsort(row_labels, kind="stable")
        cell_starts = np.searchsorted(cell_labels[by_cell], np.arange(count + 1))
        row_starts = np.searchsorted(row_labels[by_row], np.arange(count + 1))
        for label in range(count):
            members = cells[by_cell[cell_starts[label] : cell_starts[label + 1]]]
            if members.size == 0:
                continue
            own_rows = rows[by_row[row_starts[label] : row_starts[label + 1]]]
            matrix = sp.csr_array(self.equations[own_rows][:, members])
            component = Component(members, own_rows, matrix, low[members], high[members])
            component.deadline = self.deadline
            out.append(component)
        return out

    def neighbourhood(self, cell: int, component: Component, radius: int, limit: int) -> Component:
        """The part of ``component`` within ``radius`` equations of ``cell``.

        The attacker restricted to it (other suppressed cells held at their values) is
        weaker than the real one, so a protection level it reaches is reached; it is a
        cheap first check for cells of very large components.
        """
        if component.cells.size <= limit:
            return component
        members = component.cells
        local_matrix = sp.csc_array(component.matrix)
        position = component._position
        inside = np.zeros(members.size, bool)
        inside[position[cell]] = True
        incidence = sp.csr_array(local_matrix.T)  # cells × rows of the component
        for _ in range(radius):
            rows = (abs(local_matrix) @ inside.astype(np.float64)) > 0
            grown = (abs(incidence) @ rows.astype(np.float64)) > 0
            if grown.sum() > limit:
                break
            if (grown == inside).all():
                break
            inside = grown | inside
        chosen = np.flatnonzero(inside)
        rows = np.flatnonzero((abs(local_matrix[:, chosen]) @ np.ones(chosen.size)) > 0)
        matrix = sp.csr_array(component.matrix[rows][:, chosen])
        local = Component(
            members[chosen],
            component.rows[rows],
            matrix,
            component.low[chosen],
            component.high[chosen],
        )
        local.deadline = component.deadline
        return local

    def interval(self, cell: int, suppressed: BoolArray) -> tuple[float, float]:
        """The interval the attacker can prove for one suppressed cell."""
        for component in self.components(suppressed):
            if cell in component:
                low, high = component.reach_many([(cell, -1), (cell, +1)])
                return float(self.values[cell] - low.deviation), float(
                    self.values[cell] + high.deviation
                )
        raise ValueError("the cell is not suppressed")
