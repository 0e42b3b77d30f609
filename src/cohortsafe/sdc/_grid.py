"""Hypercubes: explicit attacker moves that prove a suppressed cell is protected.

A table with all its margins is an *extended grid*: every variable has its categories
plus ``All``, and each line of the grid (one variable varying) adds up: the ``All``
cell equals the sum of the others. Pick a primary cell ``p`` and, in every dimension,
one other coordinate ``q_t``; the ``2^d`` cells combining ``p_t`` and ``q_t`` form a
hypercube. Moving ``p`` by ``δ`` and every other corner by ``±δ`` (the sign flips once
per dimension in which the corner takes ``q_t``, and once more for each ``All``
coordinate involved) keeps every line's sum: it is a solution of the attacker's
equations with the published cells unchanged. So if every corner is suppressed and the
corners that must fall hold at least ``δ``, the attacker cannot exclude ``p ± δ``: the
cube *proves* protection without solving a linear programme. This is the geometry of
the hypercube method of τ-ARGUS (GHMiter, Repsilber 2002), used here twice: to choose
complementary cells quickly (the heuristic) and to skip the attacker's programme for
primaries a cube already protects (the exact method).

Grids exist for tables with ``totals="axes"`` (rows × columns, each with ``All``) and
``totals="all"`` (one dimension per variable); nested totals have no grid and always
use the linear programme.

>>> import numpy as np
>>> # a 2 x 2 table with margins as a 3 x 3 grid, row-major; "All" is coordinate 2
>>> values = np.array([2, 20, 22, 30, 40, 70, 32, 60, 92], float)
>>> coords = np.array([(r, c) for r in range(3) for c in range(3)])
>>> grid = Grid((3, 3), coords)
>>> grid.cube(0, np.ones(9, bool), values, np.ones(9), upper=3.0, lower=2.0)
array([0, 1, 3, 4])
>>> suppressed = np.zeros(9, bool); suppressed[[0, 1, 3, 4]] = True
>>> grid.protected(0, suppressed, values, upper=3.0, lower=2.0)
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from cohortsafe.sdc._cellstats import BoolArray, FloatArray, IntArray

__all__ = ["Grid"]

# candidate cubes examined per primary at most; beyond it each dimension keeps its most
# promising coordinates (cheapest edge corner), which only affects the heuristic's cost
_MAX_CANDIDATES = 2_000_000
# cubes are first sought among the first few coordinates per dimension (the cheapest,
# when choosing): usually enough, and far faster on large tables; then among all
_NARROW = 12
# cells per matrix product when many are checked at once (see Grid.squares), and at
# most this many products: larger buckets prove fewer cells, never a wrong one
_BUCKET = 256
_MAX_BUCKETS = 16


@dataclass
class Grid:
    """The extended grid of a table: ``coords[i]`` places model cell ``i``."""

    shape: tuple[int, ...]
    coords: IntArray
    lookup: IntArray = field(init=False)
    _weights: list[IntArray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.coords = np.asarray(self.coords, dtype=np.int64)
        self.lookup = np.full(self.shape, -1, dtype=np.int64)
        self.lookup[tuple(self.coords.T)] = np.arange(self.coords.shape[0])
        # +1 for a category, -1 for the "All" coordinate, per dimension
        self._weights = [np.where(np.arange(n) == n - 1, -1, 1) for n in self.shape]

    @property
    def dimensions(self) -> int:
        return len(self.shape)

    def _weight(self, t: int, coordinate: IntArray | int) -> IntArray:
        """+1 for a category, -1 for the ``All`` coordinate of dimension ``t``."""
        return np.asarray(self._weights[t][coordinate])

    def _corners(self, cell: int, alternatives: list[IntArray]) -> list[tuple[IntArray, IntArray]]:
        """For each corner other than the cell: model indices and relative signs,
        broadcast over the candidate cubes (one axis per dimension)."""
        p = self.coords[cell]
        d = self.dimensions
        corners = []
        for size in range(1, d + 1):
            for subset in itertools.combinations(range(d), size):
                index: list[IntArray | int] = [int(p[t]) for t in range(d)]
                sign: IntArray = np.ones((1,) * d, dtype=np.int64)
                for t in subset:
                    shape = [1] * d
                    shape[t] = alternatives[t].size
                    q = alternatives[t].reshape(shape)
                    index[t] = q
                    sign = sign * (-self._weight(t, int(p[t])) * self._weight(t, q))
                corners.append((self.lookup[tuple(index)], sign))
        return corners

    def _alternatives(
        self,
        cell: int,
        usable: BoolArray,
        values: FloatArray,
        upper: float,
        lower: float,
        edge_cost: FloatArray | None = None,
    ) -> list[IntArray]:
        """Per dimension, the coordinates whose edge corner could be part of a cube."""
        p = self.coords[cell]
        out = []
        for t in range(self.dimensions):
            candidates = np.arange(self.shape[t])
            candidates = candidates[candidates != p[t]]
            index: list[IntArray | int] = [int(x) for x in p]
            index[t] = candidates
            members = self.lookup[tuple(index)]
            ok = members >= 0
            safe = np.where(ok, members, 0)
            sign = -self._weight(t, int(p[t])) * self._weight(t, candidates)
            need = np.where(sign < 0, upper, lower)
            ok &= usable[safe] & (values[safe] >= need - 1e-9)
            kept = candidates[ok]
            if edge_cost is not None and kept.size:
                kept = kept[np.argsort(edge_cost[safe[ok]], kind="stable")]
            out.append(kept)
        total = int(np.prod([a.size for a in out], dtype=np.float64))
        if total > _MAX_CANDIDATES:
            per_dimension = max(2, int(_MAX_CANDIDATES ** (1.0 / self.dimensions)))
            out = [a[:per_dimension] for a in out]
        return out

    def _feasible(
        self,
        corners: list[tuple[IntArray, IntArray]],
        usable: BoolArray,
        values: FloatArray,
        upper: float,
        lower: float,
    ) -> BoolArray:
        ok: BoolArray = np.ones((1,) * self.dimensions, dtype=bool)
        for members, sign in corners:
            safe = np.where(members >= 0, members, 0)
            need = np.where(sign < 0, upper, lower)
            ok = ok & (members >= 0) & usable[safe] & (values[safe] >= need - 1e-9)
        return ok

    def _square(
        self,
        cell: int,
        usable: BoolArray,
        values: FloatArray,
        upper: float,
        lower: float,
        added_cost: FloatArray | None,
    ) -> IntArray | None:
        """Two dimensions, written out: the rectangle ``p, (r, c'), (r', c), (r', c')``.

        The same search as the general case (first among a few coordinates, then all),
        without its per-dimension bookkeeping: most tables are two-dimensional.
        """
        r, c = (int(x) for x in self.coords[cell])
        row_weight, column_weight = self._weights
        in_row, in_column = self.lookup[r, :], self.lookup[:, c]
        column_sign = -column_weight[c] * column_weight  # of (r, c') relative to p
        row_sign = -row_weight[r] * row_weight  # of (r', c)

        def fits(members: IntArray, sign: IntArray) -> BoolArray:
            safe = np.where(members >= 0, members, 0)
            need = np.where(sign < 0, upper, lower)
            return np.asarray((members >= 0) & usable[safe] & (values[safe] >= need - 1e-9))

        column_ok, row_ok = fits(in_row, column_sign), fits(in_column, row_sign)
        column_ok[c] = row_ok[r] = False
        columns, rows = np.flatnonzero(column_ok), np.flatnonzero(row_ok)
        if columns.size == 0 or rows.size == 0:
            return None
        if added_cost is not None:
            columns = columns[np.argsort(added_cost[in_row[columns]], kind="stable")]
            rows = rows[np.argsort(added_cost[in_column[rows]], kind="stable")]
        tries = [(rows[:_NARROW], columns[:_NARROW])]
        if rows.size > _NARROW or columns.size > _NARROW:
            tries.append((rows, columns))
        for some_rows, some_columns in tries:
            opposite = self.lookup[np.ix_(some_rows, some_columns)]
            sign = np.outer(row_sign[some_rows], column_sign[some_columns])
            ok = fits(opposite, sign)
            if not ok.any():
                continue
            if added_cost is None:
                i, j = np.unravel_index(int(np.argmax(ok)), ok.shape)
            else:
                total = (
                    added_cost[in_column[some_rows]][:, None]
                    + added_cost[in_row[some_columns]][None, :]
                    + added_cost[np.where(opposite >= 0, opposite, 0)]
                )
                i, j = np.unravel_index(int(np.argmin(np.where(ok, total, np.inf))), ok.shape)
            corners = {
                cell,
                int(in_row[some_columns[j]]),
                int(in_column[some_rows[i]]),
                int(opposite[i, j]),
            }
            return np.asarray(sorted(corners), dtype=np.int64)
        return None

    def squares(
        self, cells: IntArray, usable: BoolArray, values: FloatArray, need: FloatArray
    ) -> IntArray:
        """Protecting squares for many cells of a two-dimensional grid at once.

        Row ``k`` holds the four corners of a square protecting ``cells[k]``, or -1s
        when none is found. Every corner other than the cell must be usable and hold
        ``need[k]`` (the larger of the cell's two protection levels) whichever way it
        moves: a stronger demand than :meth:`protecting_cube` makes, so a square found
        here protects, and a cell without one may still have a cube. The cells go in
        buckets of similar need, so each bucket is one matrix product instead of a
        search per cell.
        """
        found = np.full((cells.size, 4), -1, dtype=np.int64)
        if cells.size == 0:
            return found
        present = self.lookup >= 0
        safe = np.where(present, self.lookup, 0)
        order = np.argsort(need, kind="stable")
        buckets = min(_MAX_BUCKETS, max(1, cells.size // _BUCKET))
        for bucket in np.array_split(order, buckets):
            threshold = float(need[bucket].max())
            ok = present & usable[safe] & (values[safe] >= threshold - 1e-9)
            counts = ok.astype(np.float32)
            rows, columns = self.coords[cells[bucket]].T
            # per cell's row r and every row r': the columns where both qualify
            if rows.size < ok.shape[0]:
                shared = counts[rows] @ counts.T
            else:
                shared = (counts @ counts.T)[rows]
            in_column = ok[:, columns].T  # (cells, rows): r' qualifies in the cell's column
            # columns c' != c shared by row r and row r'
            others = shared - (ok[rows, columns][:, None] & in_column)
            partner = in_column & (others > 0)
            partner[np.arange(bucket.size), rows] = False
            has = partner.any(axis=1)
            if not has.any():
                continue
            rows, columns, bucket = rows[has], columns[has], bucket[has]
            other_row = partner[has].argmax(axis=1)
            both = ok[rows] & ok[other_row]
            both[np.arange(bucket.size), columns] = False
            other_column = both.argmax(axis=1)
            found[bucket] = np.stack(
                [
                    self.lookup[rows, columns],
                    self.lookup[rows, other_column],
                    self.lookup[other_row, columns],
                    self.lookup[other_row, other_column],
                ],
                axis=1,
            )
        return found

    def protected(
        self, cell: int, suppressed: BoolArray, values: FloatArray, *, upper: float, lower: float
    ) -> bool:
        """Whether a cube of suppressed cells gives ``cell`` both protection levels.

        ``values`` are the cells' room to fall (the value minus its lower bound).
        """
        return self.protecting_cube(cell, suppressed, values, upper=upper, lower=lower) is not None

    def protecting_cube(
        self, cell: int, suppressed: BoolArray, values: FloatArray, *, upper: float, lower: float
    ) -> IntArray | None:
        """A cube of suppressed cells that protects ``cell`` (its corners), or None."""
        if self.dimensions == 2:
            return self._square(cell, suppressed, values, upper, lower, None)
        everything = self._alternatives(cell, suppressed, values, upper, lower)
        if any(a.size == 0 for a in everything):
            return None
        narrow = [a[:_NARROW] for a in everything]
        for alternatives in (narrow, everything):
            corners = self._corners(cell, alternatives)
            ok = self._feasible(corners, suppressed, values, upper, lower)
            if ok.any():
                first = np.unravel_index(int(np.argmax(ok)), ok.shape)
                chosen = [cell] + [int(np.broadcast_to(m, ok.shape)[first]) for m, _ in corners]
                return np.asarray(sorted(set(chosen)), dtype=np.int64)
            if all(a.size <= _NARROW for a in everything):
                break
        return None

    def cube(
        self,
        cell: int,
        eligible: BoolArray,
        values: FloatArray,
        added_cost: FloatArray,
        *,
        upper: float,
        lower: float,
    ) -> IntArray | None:
        """The cube protecting ``cell`` that adds the least cost, as model cell indices.

        ``added_cost`` is 0 for cells already suppressed. None when no cube of eligible
        cells can carry the protection levels.
        """
        usable = eligible.copy()
        usable[cell] = True
        if self.dimensions == 2:
            return self._square(cell, usable, values, upper, lower, added_cost)
        everything = self._alternatives(cell, usable, values, upper, lower, added_cost)
        if any(a.size == 0 for a in everything):
            return None
        alternatives = [a[:_NARROW] for a in everything]
        corners = self._corners(cell, alternatives)
        ok = self._feasible(corners, usable, values, upper, lower)
        if not ok.any() and any(a.size > _NARROW for a in everything):
            alternatives = everything
            corners = self._corners(cell, alternatives)
            ok = self._feasible(corners, usable, values, upper, lower)
        if not ok.any():
            return None
        total = np.zeros(ok.shape)
        for members, _sign in corners:
            total = total + added_cost[np.where(members >= 0, members, 0)]
        total = np.where(ok, total, np.inf)
        best = np.unravel_index(int(np.argmin(total)), total.shape)
        chosen = [cell]
        for members, _sign in corners:
            chosen.append(int(np.broadcast_to(members, ok.shape)[best]))
        return np.asarray(sorted(set(chosen)), dtype=np.int64)
