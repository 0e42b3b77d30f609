"""Secondary suppression: the cheapest complementary cells that protect every primary.

The model is τ-ARGUS's optimal method (Fischetti & Salazar-González 2000). A binary
``x_i`` says cell ``i`` is suppressed; primary cells have ``x = 1``. A pattern protects a
primary cell ``p`` when the attacker's linear programme (:mod:`._attacker`), with the
suppressed cells free within their a-priori range, can move ``p`` up by its upper
protection level and down by its lower one. Minimise the total cost of ``x``.

It is solved exactly by Benders decomposition (a cutting-plane method):

1. the *master* mixed-integer programme (``scipy.optimize.milp``, HiGHS) chooses ``x``
   subject to the cuts found so far;
2. the *separation* solves, for every primary cell and both directions, the attacker's
   programme on the chosen pattern; where the cell can be pinned too closely, LP
   duality gives a linear inequality in ``x`` that every protecting pattern satisfies
   and the chosen one violates (a *capacity cut*, Fischetti & Salazar's constraint):
   with ``d = -σ e_p - Mᵀμ`` from the duals ``μ``,
   ``Σ_i x_i (D⁻_i · max(d_i, 0) + D⁺_i · max(-d_i, 0)) ≥ level_p``,
   ``D⁻``/``D⁺`` being how far cell ``i`` may move down/up a priori;
3. repeat until the separation finds nothing: the pattern then passes the attacker's
   programme for every primary (it is *exact*), and since the master was solved to
   optimality over a relaxation of all valid cuts it is *optimal* for the chosen cost.

The master starts with the cuts of the single equations through each primary (each
primary needs a suppressed partner in every equation it is in). The a-priori upper
bound of a cell is finite in the master (the sum of the table's inner cells, which no
cell can exceed and which additivity implies whenever the grand total is published); a
finite bound only makes the attacker stronger, so the audit with an unbounded attacker
passes whenever the master's attacker is defeated.

Two accelerations keep this practical. Where the table has a grid (:mod:`._grid`), a
primary cell that a hypercube of suppressed cells already protects needs no attacker
programme: the cube is an explicit attacker move. And the master's lower bound is
compared with the best protecting pattern known: once they meet, that pattern is
optimal.

**Heuristic.** Before the exact method, and alone beyond ``exact_cell_limit`` cells,
a heuristic builds a protecting pattern: each primary cell, largest first, gets the
cheapest hypercube that carries its protection levels (the hypercube method of
τ-ARGUS); primaries without such a cube are completed by a greedy cover of the
separation's cuts; a final pass drops complementary cells the protection does not
need. Its result passes the same attacker programmes (it is exact) but is not proven
optimal. When the exact method runs out of ``time_limit_seconds``, the best protecting
pattern found so far is returned and reported as such.

>>> import numpy as np, scipy.sparse as sp
>>> # 2 x 2 table with margins: cells a b c d, row totals r1 r2, column totals k1 k2, T
>>> names = ["a", "b", "c", "d", "r1", "r2", "k1", "k2", "T"]
>>> rows = [{"r1": 1, "a": -1, "b": -1}, {"r2": 1, "c": -1, "d": -1},
...         {"k1": 1, "a": -1, "c": -1}, {"k2": 1, "b": -1, "d": -1},
...         {"T": 1, "r1": -1, "r2": -1}, {"T": 1, "k1": -1, "k2": -1}]
>>> m = sp.csr_array(np.array([[r.get(n, 0) for n in names] for r in rows], float))
>>> values = np.array([2, 20, 30, 40, 22, 70, 32, 60, 92], float)
>>> primary = np.array([n == "a" for n in names])
>>> problem = SuppressionProblem.build(m, values, primary, upper=np.full(9, 3.0),
...                                    lower=np.full(9, 2.0), cost=values)
>>> result = protect(problem)
>>> sorted(n for n, s in zip(names, result.suppressed) if s), result.method, result.optimal
(['a', 'b', 'c', 'd'], 'milp', True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from cohortsafe.sdc._attacker import Attacker, OutOfTime
from cohortsafe.sdc._cellstats import BoolArray, FloatArray, IntArray
from cohortsafe.sdc._grid import Grid
from cohortsafe.sdc._network import Network

__all__ = ["MIP_GAP", "Method", "Suppression", "SuppressionProblem", "protect"]

Method = Literal["none", "milp", "heuristic"]
MIP_GAP = 1e-6  # relative optimality gap of the exact master (HiGHS' default is 1e-4)
_TOL = 1e-7
# Early master solves only need to be good enough to find new cuts; the final ones are
# solved to MIP_GAP, and only a pattern that passes the separation then is optimal.
_ROUGH_GAP = 0.05
_RELAXATION_ROUNDS = 60
# components larger than this are first checked on a neighbourhood of the cell
_LOCAL_LIMIT = 400
_LOCAL_RADIUS = 4


def _protected(reached: float, required: float) -> bool:
    return reached >= required - _TOL * max(1.0, abs(required))


@dataclass(frozen=True)
class SuppressionProblem:
    """A table as secondary suppression sees it; arrays have one entry per model cell.

    ``lower_bound``/``upper_bound`` are the attacker's a-priori range in the master;
    ``upper``/``lower`` the required protection of the primary cells; ``grid`` places
    the cells in the table's extended grid when it has one.
    """

    equations: sp.csr_array
    values: FloatArray
    primary: BoolArray
    eligible: BoolArray
    upper: FloatArray
    lower: FloatArray
    lower_bound: FloatArray
    upper_bound: FloatArray
    cost: FloatArray
    grid: Grid | None = None

    @classmethod
    def build(
        cls,
        equations: sp.csr_array,
        values: FloatArray,
        primary: BoolArray,
        *,
        upper: FloatArray,
        lower: FloatArray,
        cost: FloatArray,
        eligible: BoolArray | None = None,
        grid: Grid | None = None,
    ) -> SuppressionProblem:
        """A problem with the usual a-priori range: ``[0, Σ|values|]`` for non-negative
        tables, ``[-Σ|values|, Σ|values|]`` otherwise."""
        values = np.asarray(values, dtype=np.float64)
        span = float(np.abs(values).sum()) or 1.0
        nonnegative = bool((values >= 0).all())
        lower_bound = np.zeros_like(values) if nonnegative else np.full_like(values, -span)
        return cls(
            equations=sp.csr_array(equations),
            values=values,
            primary=np.asarray(primary, dtype=bool),
            eligible=np.ones(values.size, bool) if eligible is None else np.asarray(eligible),
            upper=np.where(primary, upper, 0.0),
            lower=np.where(primary, lower, 0.0),
            lower_bound=lower_bound,
            upper_bound=np.full_like(values, span),
            cost=np.asarray(cost, dtype=np.float64),
            grid=grid,
        )


@dataclass(frozen=True)
class Suppression:
    """The chosen pattern and how it was found."""

    suppressed: BoolArray
    method: Method
    optimal: bool
    unprotected: IntArray
    rounds: int
    seconds: float
    cost: float
    cuts: int = 0
    timed_out: bool = False

    @property
    def protected(self) -> bool:
        return self.unprotected.size == 0


@dataclass
class _Cuts:
    """Capacity cuts over all cells, normalised to ``Σ coef_i x_i ≥ 1`` over free cells."""

    n: int
    indices: list[IntArray] = field(default_factory=list)
    coefs: list[FloatArray] = field(default_factory=list)

    def add(self, index: IntArray, coef: FloatArray) -> None:
        self.indices.append(index)
        self.coefs.append(coef)

    def __len__(self) -> int:
        return len(self.indices)

    def matrix(self, columns: IntArray) -> sp.csr_array:
        """The cuts restricted (and renumbered) to the master's variables."""
        position = np.full(self.n, -1, np.int64)
        position[columns] = np.arange(columns.size)
        rows, cols, data = [], [], []
        for r, (index, coef) in enumerate(zip(self.indices, self.coefs, strict=True)):
            local = position[index]
            keep = local >= 0
            rows.append(np.full(int(keep.sum()), r))
            cols.append(local[keep])
            data.append(coef[keep])
        return sp.csr_array(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(self), columns.size),
        )


Failure = tuple[int, int, IntArray, FloatArray, float]  # cell, direction, cut, required


class _Separation:
    """The attacker's programmes on a pattern, turned into cuts where they fail."""

    def __init__(self, problem: SuppressionProblem) -> None:
        self.problem = problem
        self.attacker = Attacker(
            problem.equations, problem.values, problem.lower_bound, problem.upper_bound
        )
        self.down = problem.values - problem.lower_bound  # D⁻: how far a cell may fall
        self.up = problem.upper_bound - problem.values  # D⁺: how far it may rise
        self.network = Network.build(problem.equations)
        # integral data and levels: the network decides exactly, without rounding
        self.integral = bool(
            np.all(problem.values == np.round(problem.values))
            and np.all(problem.upper == np.round(problem.upper))
            and np.all(problem.lower == np.round(problem.lower))
        )
        self._protected: set[tuple[int, int, bytes]] = set()
        # the cube that proved each primary protected in the last check (None: proved
        # by the attacker's programme or a flow, which depend on the whole pattern)
        self.proofs: dict[int, IntArray | None] = {}

    def cube_protected(self, cell: int, pattern: BoolArray) -> bool:
        grid = self.problem.grid
        if grid is None:
            return False
        cube = grid.protecting_cube(
            cell,
            pattern,
            self.down,
            upper=float(self.problem.upper[cell]),
            lower=float(self.problem.lower[cell]),
        )
        if cube is None or not self.room_to_rise(cube, cell):
            return False
        self.proofs[cell] = cube
        return True

    def room_to_rise(self, corners: IntArray, cell: int) -> bool:
        """Whether every corner can also rise by the cell's larger level.

        The cube search looks at the room to fall; the separation programme also holds
        rising cells to the a-priori upper bound. A proof must hold in that model too,
        so a corner without the room leaves the cell to the programme.
        """
        need = max(float(self.problem.upper[cell]), float(self.problem.lower[cell]))
        return bool((self.up[corners] >= need - 1e-9 * max(1.0, need)).all())

    def squares_protected(self, cells: IntArray, pattern: BoolArray) -> BoolArray:
        """Which of ``cells`` a square of the pattern protects, found all at once.

        Only for two-dimensional grids (elsewhere: none); the squares become the
        cells' proofs. A cell left out may still be protected (see ``cube_protected``).
        """
        grid = self.problem.grid
        if grid is None or grid.dimensions != 2:
            return np.zeros(cells.size, dtype=bool)
        need = np.maximum(self.problem.upper[cells], self.problem.lower[cells])
        squares = grid.squares(cells, pattern, self.down, need)
        proved = squares[:, 0] >= 0
        for k in np.flatnonzero(proved).tolist():
            if not self.room_to_rise(squares[k], int(cells[k])):
                proved[k] = False
        for cell, square in zip(cells[proved].tolist(), squares[proved], strict=True):
            self.proofs[cell] = np.unique(square)
        return proved

    def coefficients(
        self, cell: int, direction: int, rows: IntArray, duals: FloatArray
    ) -> tuple[IntArray, FloatArray]:
        """Capacity-cut coefficients of every cell for one attacker programme's duals.

        ``d = -σ e_cell - Mᵀμ`` over the cells of the equations ``rows``; a cell moving
        up (``d < 0``) contributes its room to rise, one moving down its room to fall.
        """
        equations = self.problem.equations
        if rows.size:
            starts, stops = equations.indptr[rows], equations.indptr[rows + 1]
            lengths = stops - starts
            take = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
                int(lengths.sum())
            )
            columns = equations.indices[take]
            weights = -equations.data[take] * np.repeat(duals, lengths)
            index, inverse = np.unique(np.append(columns, cell), return_inverse=True)
            d = np.bincount(inverse, weights=np.append(weights, -float(direction)))
        else:
            index, d = np.array([cell]), np.array([-float(direction)])
        keep = d != 0
        index, d = index[keep], d[keep]
        coef = self.down[index] * np.maximum(d, 0.0) + self.up[index] * np.maximum(-d, 0.0)
        return index, coef

    def violations(self, pattern: FloatArray, *, only: BoolArray | None = None) -> list[Failure]:
        """Each (primary, direction) the pattern fails to protect, with its cut.

        ``pattern`` is 0/1 for a suppression pattern, or fractional (a point of the
        master's linear relaxation): then each cell's a-priori range is scaled by it.
        ``only`` limits the check to some primary cells. Each check tries, in turn, a
        hypercube of suppressed cells (a proof of protection), the maximum flow of a
        network table (which decides, and yields the cut), the attacker restricted to
        the cell's neighbourhood (a proof when it succeeds) and the attacker's
        programme on the whole component (which decides, and yields the cut).
        """
        problem = self.problem
        support = pattern > 1e-9
        fractional = bool(((pattern > 1e-9) & (pattern < 1 - 1e-9)).any())
        failures: list[Failure] = []
        todo = problem.primary.copy() if only is None else (only & problem.primary)
        if not fractional:
            # cubes first: they need no components, and usually settle most cells
            for cell in np.flatnonzero(todo).tolist():
                if time.monotonic() > self.attacker.deadline:
                    raise OutOfTime
                self.proofs[cell] = None
                if self.cube_protected(cell, support):
                    todo[cell] = False
            if not todo.any():
                return failures
        if self.network is not None:
            # a network table: the maximum flow decides (and gives the cut) directly
            for cell in np.flatnonzero(todo).tolist():
                if time.monotonic() > self.attacker.deadline:
                    raise OutOfTime
                decided = True
                for direction in (+1, -1):
                    required = self._required(cell, direction)
                    found, index, coef = self.network.check(
                        cell,
                        direction,
                        pattern,
                        down=self.down,
                        up=self.up,
                        required=required,
                        integral=self.integral and not fractional,
                    )
                    if found is None:
                        decided = False  # too close to call in integers: the programme
                    elif not found:
                        failures.append((cell, direction, index, coef, required))
                todo[cell] = not decided
            if not todo.any():
                return failures
        for component in self.attacker.components(support, pattern if fractional else None):
            signature = component.cells.tobytes()
            targets: list[tuple[int, int]] = []
            for cell in component.cells[todo[component.cells]]:
                if time.monotonic() > self.attacker.deadline:
                    raise OutOfTime
                self.proofs[int(cell)] = None
                pairs = [
                    (int(cell), direction)
                    for direction, required in (
                        (+1, problem.upper[cell]),
                        (-1, problem.lower[cell]),
                    )
                    if required > 0
                    and (fractional or (int(cell), direction, signature) not in self._protected)
                ]
                if pairs and component.cells.size > _LOCAL_LIMIT:
                    local = self.attacker.neighbourhood(
                        int(cell), component, _LOCAL_RADIUS, _LOCAL_LIMIT
                    )
                    reached = local.reach_many(pairs)
                    pairs = [
                        pair
                        for pair, reach in zip(pairs, reached, strict=True)
                        if not _protected(reach.deviation, self._required(*pair))
                    ]
                targets += pairs
            if not targets:
                continue
            for (cell, direction), reach in zip(
                targets, component.reach_many(targets), strict=True
            ):
                required = self._required(cell, direction)
                if _protected(reach.deviation, required):
                    if not fractional:
                        self._protected.add((cell, direction, signature))
                    continue
                if fractional and reach.deviation >= required * (1 - 1e-6) - 1e-9:
                    continue
                index, coef = self.coefficients(cell, direction, component.rows, reach.duals)
                failures.append((cell, direction, index, coef, required))
        return failures

    def _required(self, cell: int, direction: int) -> float:
        problem = self.problem
        return float(problem.upper[cell] if direction > 0 else problem.lower[cell])

    def row_cuts(self) -> list[Failure]:
        """Every primary needs a suppressed partner in each equation through it."""
        problem = self.problem
        cuts: list[Failure] = []
        columns = sp.csc_array(problem.equations)
        for cell in np.flatnonzero(problem.primary):
            start, stop = columns.indptr[cell], columns.indptr[cell + 1]
            for row, coefficient in zip(
                columns.indices[start:stop], columns.data[start:stop], strict=True
            ):
                for direction, required in ((+1, problem.upper[cell]), (-1, problem.lower[cell])):
                    if required <= 0:
                        continue
                    dual = np.array([-direction / coefficient])
                    index, coef = self.coefficients(int(cell), direction, np.array([row]), dual)
                    cuts.append((int(cell), direction, index, coef, float(required)))
        return cuts


def _normalise(
    index: IntArray, coef: FloatArray, required: float, fixed: BoolArray, free: BoolArray
) -> tuple[IntArray, FloatArray] | None:
    """Move fixed (primary) cells to the right-hand side, clip and scale to ``≥ 1``.

    Returns None when even suppressing every free cell cannot satisfy the cut.
    """
    rhs = required - float(coef[fixed[index]].sum())
    keep = free[index] & (coef > 1e-12 * max(required, 1.0))
    index, coef = index[keep], coef[keep]
    if rhs <= _TOL * max(1.0, required):
        return index[:0], coef[:0]
    # a binary x_i contributes at most rhs: clipping keeps every integer solution
    scaled = np.minimum(coef / rhs, 1.0)
    if scaled.sum() < 1.0 - 1e-9:
        return None
    return index, scaled


def _bridgeless(problem: SuppressionProblem, free: BoolArray) -> sp.csr_array:
    """``Σ_{j in r, j != i} x_j - x_i ≥ 0`` for each free cell i and equation r through it.

    A complementary cell that is the only suppressed cell of one of its equations is
    fixed by that equation: it protects nothing and only adds cost, so no optimal
    pattern contains it (Fischetti & Salazar's *bridgeless* inequalities). Equations
    that hold a primary cell are satisfied anyway and left out. Every subset of these
    inequalities is valid, so ``free`` may be narrowed to the cells that matter.
    """
    matrix = sp.csr_array(problem.equations)
    n = matrix.shape[1]
    has_primary = (abs(matrix) @ problem.primary.astype(np.float64)) > 0
    pattern = sp.csr_array((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)
    pattern = sp.csr_array(pattern[~has_primary])
    coo = pattern.tocoo()
    keep = free[coo.col]
    eq, cell = coo.row[keep], coo.col[keep]
    if eq.size == 0:
        return sp.csr_array((0, n))
    eligible = sp.csr_array(pattern.multiply(problem.eligible.astype(np.float64)[None, :]))
    expanded = sp.csr_array(eligible[eq])
    minus = sp.csr_array((np.full(eq.size, -2.0), (np.arange(eq.size), cell)), shape=(eq.size, n))
    return sp.csr_array(expanded + minus)


class _Master:
    """The master problem over the free cells: capacity cuts and bridgeless rows."""

    def __init__(
        self, cuts: _Cuts, bridgeless: sp.csr_array, cost: FloatArray, free: BoolArray
    ) -> None:
        self.cuts, self.bridgeless, self.cost = cuts, bridgeless, cost
        self.columns = np.flatnonzero(free)

    def _system(self) -> tuple[sp.csr_array, FloatArray]:
        matrix = sp.vstack(
            [self.cuts.matrix(self.columns), sp.csr_array(self.bridgeless[:, self.columns])]
        ).tocsr()
        rhs = np.concatenate([np.ones(len(self.cuts)), np.zeros(self.bridgeless.shape[0])])
        return sp.csr_array(matrix), rhs

    def relaxation(self) -> FloatArray:
        """The linear relaxation's optimum, a fractional pattern over all cells."""
        x = np.zeros(self.cost.size)
        if len(self.cuts) == 0:
            return x
        matrix, rhs = self._system()
        result = linprog(
            self.cost[self.columns], A_ub=-matrix, b_ub=-rhs, bounds=(0, 1), method="highs"
        )
        if result.status == 0 and result.x is not None:
            x[self.columns] = np.clip(result.x, 0.0, 1.0)
        return x

    def solve(self, time_left: float, gap: float) -> tuple[BoolArray | None, bool, float]:
        """(pattern or None, solved within ``gap``, lower bound on the free cells' cost)."""
        x = np.zeros(self.cost.size, bool)
        if len(self.cuts) == 0:
            return x, True, 0.0
        matrix, rhs = self._system()
        result = milp(
            self.cost[self.columns],
            integrality=np.ones(self.columns.size),
            bounds=Bounds(0, 1),
            constraints=LinearConstraint(matrix, lb=rhs, ub=np.inf),
            options={"time_limit": max(time_left, 0.01), "mip_rel_gap": gap},
        )
        bound = getattr(result, "mip_dual_bound", None)
        lower = float(bound) if bound is not None and np.isfinite(bound) else 0.0
        if result.x is None:
            return None, False, lower
        x[self.columns] = result.x > 0.5
        return x, result.status == 0, lower


def _greedy(cuts: _Cuts, cost: FloatArray, start: BoolArray) -> BoolArray:
    """Cover every cut, adding the cell with the most protection per unit of cost."""
    x = start.copy()
    for index, coef in zip(cuts.indices, cuts.coefs, strict=True):
        covered = float(coef[x[index]].sum())
        while covered < 1.0 - 1e-9:
            gain = np.where(x[index], -1.0, coef / cost[index])
            best = int(np.argmax(gain))
            x[index[best]] = True
            covered += float(coef[best])
    return x


class _Solver:
    """State shared by the heuristic and the exact method for one problem."""

    def __init__(self, problem: SuppressionProblem, time_limit: float) -> None:
        self.problem = problem
        self.started = time.monotonic()
        self.time_limit = time_limit
        self.cost = np.maximum(problem.cost, 1e-9)
        self.free = problem.eligible & ~problem.primary
        self.separation = _Separation(problem)
        self.cuts = _Cuts(problem.values.size)
        self.unprotected: set[int] = set()
        self.timed_out: set[int] = set()
        self.rounds = 0

    def time_left(self) -> float:
        return self.time_limit - (time.monotonic() - self.started)

    def add(self, found: list[Failure], pattern: BoolArray, *, violated: bool) -> int:
        added = 0
        for cell, _direction, index, coef, required in found:
            if cell in self.unprotected:
                continue
            normal = _normalise(index, coef, required, self.problem.primary, self.free)
            if normal is None:
                # even suppressing every cell this cut names cannot protect the cell
                self.unprotected.add(cell)
                continue
            if normal[0].size == 0:
                if not violated:  # already satisfied by the primary cells alone
                    continue
                # the duals gave no usable cut (numerical trouble): require at least one
                # more suppressed cell, which every protecting pattern has, since fewer
                # suppressions only ever narrow the attacker's intervals
                outside = np.flatnonzero(self.free & ~pattern)
                if outside.size == 0:
                    self.unprotected.add(cell)
                    continue
                normal = (outside, np.ones(outside.size))
            self.cuts.add(*normal)
            added += 1
        return added

    def failures(self, pattern: BoolArray, only: BoolArray | None = None) -> list[Failure]:
        return [
            f
            for f in self.separation.violations(pattern.astype(np.float64), only=only)
            if f[0] not in self.unprotected
        ]

    def heuristic(self) -> BoolArray:
        """Hypercubes first, then a greedy cover of the separation's cuts.

        Suppressing more only widens the attacker's intervals, so a primary cell found
        protected stays protected as cells are added: each round re-checks only the
        cells that failed the round before. Cells still unverified when the time limit
        runs out are reported in ``timed_out``.
        """
        problem, grid = self.problem, self.problem.grid
        deadline = self.started + self.time_limit
        self.separation.attacker.deadline = deadline
        x = problem.primary.copy()
        pending = np.zeros(x.size, bool)
        order = np.flatnonzero(problem.primary)
        order = order[np.argsort(-problem.upper[order], kind="stable")]
        down = self.separation.down
        # most primaries are protected by other primaries alone: prove those in one go
        # (the pattern only grows, so a proof now holds for the rest of the search)
        proved_at_start = self.separation.squares_protected(order, x)
        for position, cell in enumerate(order):
            if grid is None or time.monotonic() > deadline:
                pending[order[position:]] = True
                break
            if proved_at_start[position] or self.separation.cube_protected(int(cell), x):
                continue
            upper, lower = float(problem.upper[cell]), float(problem.lower[cell])
            added_cost = np.where(x, 0.0, self.cost)
            cube = grid.cube(
                int(cell), problem.eligible, down, added_cost, upper=upper, lower=lower
            )
            if cube is None or not self.separation.room_to_rise(cube, int(cell)):
                pending[cell] = True
            else:
                x[cube] = True
                self.separation.proofs[int(cell)] = cube
        while pending.any():
            if time.monotonic() > deadline:
                self.timed_out.update(int(c) for c in np.flatnonzero(pending))
                break
            self.rounds += 1
            try:
                found = self.failures(x, pending)
            except OutOfTime:
                self.timed_out.update(int(c) for c in np.flatnonzero(pending))
                break
            pending = np.zeros(x.size, bool)
            pending[[f[0] for f in found]] = True
            if not found or self.add(found, x, violated=True) == 0:
                break
            x = _greedy(self.cuts, self.cost, x & self.free) | problem.primary
        return x

    def prune(self, pattern: BoolArray, deadline: float) -> BoolArray:
        """Drop complementary cells the protection does not need, costliest first.

        Removing a cell can only hurt primaries whose last proof used it: those proved
        by a cube containing it, and those proved by a flow or programme.
        """
        problem = self.problem
        pattern = pattern.copy()
        proofs = self.separation.proofs
        unproved = problem.primary.copy()  # proved by a flow or programme, or not at all
        users: dict[int, set[int]] = {}  # cell -> primaries whose cube uses it
        used_by: dict[int, list[int]] = {}  # primary -> the cells of its cube

        def remember(primaries: IntArray) -> None:
            for primary_cell in primaries.tolist():
                for used in used_by.pop(primary_cell, []):
                    users[used].discard(primary_cell)
                proof = proofs.get(primary_cell)
                if proof is not None and pattern[proof].all():
                    unproved[primary_cell] = False
                    used_by[primary_cell] = proof.tolist()
                    for used in used_by[primary_cell]:
                        users.setdefault(used, set()).add(primary_cell)
                else:
                    unproved[primary_cell] = True

        remember(np.flatnonzero(problem.primary))
        self.separation.attacker.deadline = deadline
        candidates = np.flatnonzero(pattern & ~problem.primary)
        for cell in candidates[np.argsort(-self.cost[candidates], kind="stable")].tolist():
            if time.monotonic() > deadline:
                break
            affected = unproved.copy()
            affected[list(users.get(cell, ()))] = True
            pattern[cell] = False
            try:
                if affected.any() and self.failures(pattern, affected):
                    pattern[cell] = True
                    self.failures(pattern, affected)  # their proofs for the kept pattern
            except OutOfTime:
                pattern[cell] = True  # not verified without it: keep it, and stop
                break
            remember(np.flatnonzero(affected))
        return pattern

    def _tighten(self, master: _Master) -> None:
        """Bridgeless rows for the cells the cuts name (not for network tables).

        They tighten hard (3-D, hierarchical) masters a lot but only slow down those of
        network tables, whose capacity cuts are already tight.
        """
        if self.separation.network is not None or len(self.cuts) == 0:
            return
        relevant = np.zeros(self.problem.values.size, bool)
        relevant[np.concatenate(self.cuts.indices)] = True
        master.bridgeless = _bridgeless(self.problem, self.free & relevant)

    def exact(self, best: BoolArray) -> tuple[BoolArray, bool]:
        """Benders' loop; returns the best pattern and whether it is proven optimal."""
        self.separation.attacker.deadline = self.started + self.time_limit
        try:
            return self._benders(best)
        except OutOfTime:
            return best, False

    def _benders(self, best: BoolArray) -> tuple[BoolArray, bool]:
        problem = self.problem
        master = _Master(self.cuts, sp.csr_array((0, problem.values.size)), self.cost, self.free)
        best_cost = float(self.cost[best & self.free].sum())
        converged = False
        for _ in range(_RELAXATION_ROUNDS):
            if self.time_left() < self.time_limit / 2:
                break
            self.rounds += 1
            self._tighten(master)
            point = master.relaxation()
            point[problem.primary] = 1.0
            found = self.separation.violations(point)
            if not found or self.add(found, point > 0.5, violated=False) == 0:
                converged = not found
                break
        # a cut set the relaxation cannot improve on usually settles the integer
        # master too: then go straight for the proof
        gap = MIP_GAP if converged else _ROUGH_GAP
        while self.time_left() > 0:
            self.rounds += 1
            self._tighten(master)
            chosen, solved, bound = master.solve(self.time_left(), gap)
            if chosen is None or not solved:
                return best, False
            if bound >= best_cost * (1 - MIP_GAP) - 1e-9:
                return best, True  # nothing cheaper than the best protecting pattern
            x = chosen | problem.primary
            found = self.failures(x)
            if not found:
                cost = float(self.cost[x & self.free].sum())
                if cost <= best_cost:
                    best, best_cost = x, cost
                if gap <= MIP_GAP:
                    return best, True
                gap = MIP_GAP  # a protecting pattern: now prove (or improve) the optimum
                continue
            if self.add(found, x, violated=True) == 0:
                return best, False
        return best, False


def protect(
    problem: SuppressionProblem,
    *,
    exact_cell_limit: int = 250_000,
    time_limit: float = 60.0,
) -> Suppression:
    """Choose complementary suppressions that protect every primary cell."""
    solver = _Solver(problem, time_limit)
    primary = problem.primary
    if not primary.any() or problem.equations.shape[0] == 0:
        return Suppression(
            primary.copy(),
            "none",
            True,
            np.zeros(0, np.int64),
            0,
            time.monotonic() - solver.started,
            float(solver.cost[primary].sum()),
        )
    exact = problem.values.size <= exact_cell_limit
    if exact:
        solver.add(solver.separation.row_cuts(), primary, violated=False)
    x = solver.heuristic()
    optimal = False
    if solver.timed_out:
        x = x | problem.eligible  # unverified: withhold all that can be (the table fails)
    elif exact and solver.time_left() > 0:
        x, optimal = solver.exact(x)
    if not optimal and not solver.timed_out:
        x = solver.prune(x, solver.started + max(time_limit, 1.0) * 1.5)
    return Suppression(
        suppressed=x,
        method="milp" if optimal else "heuristic",
        optimal=optimal,
        unprotected=np.asarray(sorted(solver.unprotected | solver.timed_out), np.int64),
        timed_out=bool(solver.timed_out),
        rounds=solver.rounds,
        seconds=time.monotonic() - solver.started,
        cost=float(solver.cost[x].sum()),
        cuts=len(solver.cuts),
    )
