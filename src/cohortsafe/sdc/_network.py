"""Two-dimensional tables as networks: the attacker's programme as a maximum flow.

In a table whose every cell lies in at most two equations (one and two dimensional
tables with margins), the equations can be signed so that each cell leaves one
equation and enters another: equations are the nodes of a network, cells are its arcs,
and an attacker's adjustment of the suppressed cells is a circulation. Moving a
suppressed cell ``p`` up by ``δ`` means sending ``δ`` back from its head to its tail
through the other suppressed arcs, each of which carries flow forward up to its room to
rise and backward up to its room to fall: the most the attacker can move ``p`` is a
maximum flow (``scipy.sparse.csgraph.maximum_flow``), and a minimum cut is exactly the
capacity cut of the secondary suppression (Fischetti & Salazar-González 1999, for 2-D
tables). Single-equation cells (the cells of a 1-D table) connect to a ground node.

Capacities are integers: they are taken relative to the required protection, scaled
by ``2**20`` and rounded down, so a flow that reaches the level proves protection
(rounding only ever understates the attacker); a near miss is left to the linear
programme. Count tables with integral protection levels are decided exactly.

>>> import numpy as np, scipy.sparse as sp
>>> # a 2 x 2 table with margins, cells row-major: a b r1 / c d r2 / k1 k2 T
>>> names = ["a", "b", "r1", "c", "d", "r2", "k1", "k2", "T"]
>>> rows = [{"r1": 1, "a": -1, "b": -1}, {"r2": 1, "c": -1, "d": -1},
...         {"k1": 1, "a": -1, "c": -1}, {"k2": 1, "b": -1, "d": -1},
...         {"T": 1, "r1": -1, "r2": -1}, {"T": 1, "k1": -1, "k2": -1}]
>>> m = sp.csr_array(np.array([[r.get(n, 0) for n in names] for r in rows], float))
>>> network = Network.build(m)
>>> values = np.array([2, 20, 22, 30, 40, 70, 32, 60, 92], float)
>>> suppressed = np.zeros(9, bool); suppressed[[0, 1, 3, 4]] = True
>>> network.reaches(0, +1, suppressed, down=values, up=np.full(9, 1e9), required=3.0)
True
>>> network.reaches(0, +1, suppressed, down=values, up=np.full(9, 1e9), required=25.0)
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from cohortsafe.sdc._cellstats import BoolArray, FloatArray, IntArray

__all__ = ["Network"]

_SCALE = 1 << 20


@dataclass(frozen=True)
class Network:
    """Each model cell as an arc from ``tail`` to ``head`` between equation nodes."""

    tail: IntArray
    head: IntArray
    nodes: int

    @classmethod
    def build(cls, equations: sp.csr_array) -> Network | None:
        """The network of a table, or None when a cell lies in three or more equations."""
        columns = sp.csc_array(equations)
        rows_count, n = columns.shape
        counts = np.diff(columns.indptr)
        if n == 0 or counts.max() > 2 or counts.min() < 1:
            return None
        if not np.all(np.abs(columns.data) == 1):
            return None
        # sign the equations: a cell in two equations must enter one and leave the other,
        # so equal coefficients put its equations on opposite sides (relation -1)
        shared = np.flatnonzero(counts == 2)
        first, second = columns.indptr[shared], columns.indptr[shared] + 1
        r1, r2 = columns.indices[first], columns.indices[second]
        relation = np.where(columns.data[first] == columns.data[second], -1, 1)
        graph = sp.csr_array((np.ones(shared.size), (r1, r2)), shape=(rows_count, rows_count))
        links: dict[tuple[int, int], int] = {}
        for a, b, rel in zip(r1.tolist(), r2.tolist(), relation.tolist(), strict=True):
            links[(a, b)] = links[(b, a)] = rel
        sign = np.zeros(rows_count, np.int64)
        for start in range(rows_count):
            if sign[start]:
                continue
            order, parent = breadth_first_order(graph, start, directed=False)
            sign[start] = 1
            for row in order[1:].tolist():
                above = int(parent[row])
                sign[row] = sign[above] * links[(above, row)]
        if np.any(sign[r1] * relation != sign[r2]):
            return None  # an odd cycle of equations: not a network
        signed = columns.data * sign[columns.indices]
        owner = np.repeat(np.arange(n), counts)
        ground = rows_count
        tail = np.full(n, ground, np.int64)
        head = np.full(n, ground, np.int64)
        head[owner[signed > 0]] = columns.indices[signed > 0]
        tail[owner[signed < 0]] = columns.indices[signed < 0]
        return cls(tail, head, rows_count + 1)

    def _graph(
        self,
        cell: int,
        weights: FloatArray,
        down: FloatArray,
        up: FloatArray,
        required: float,
        unit: float,
    ) -> sp.csr_array:
        others = np.flatnonzero(weights > 0)
        others = others[others != cell]
        share = weights[others]
        forward = np.floor(np.minimum(up[others] * share, required) * unit).astype(np.int64)
        backward = np.floor(np.minimum(down[others] * share, required) * unit).astype(np.int64)
        source = np.concatenate([self.tail[others], self.head[others]])
        target = np.concatenate([self.head[others], self.tail[others]])
        capacity = np.concatenate([forward, backward])
        keep = (capacity > 0) & (source != target)
        graph = sp.csr_array(
            (capacity[keep], (source[keep], target[keep])), shape=(self.nodes, self.nodes)
        )
        graph.sum_duplicates()
        return graph

    def _ends(self, cell: int, direction: int) -> tuple[int, int]:
        """Where the returning flow starts and ends for moving ``cell`` this way."""
        if direction > 0:
            return int(self.head[cell]), int(self.tail[cell])
        return int(self.tail[cell]), int(self.head[cell])

    def check(
        self,
        cell: int,
        direction: int,
        weights: FloatArray,
        *,
        down: FloatArray,
        up: FloatArray,
        required: float,
        integral: bool = False,
    ) -> tuple[bool | None, IntArray, FloatArray]:
        """Can the attacker move ``cell`` by ``required``? With the cut when it cannot.

        ``weights`` scale each cell's room (1 for a suppressed cell, 0 for a published
        one, fractions for points of the master's relaxation). Returns ``True``,
        ``False`` with a violated capacity cut, or ``None`` when rounding leaves it
        undecided (the caller asks the linear programme).
        """
        if required <= 0:
            return True, np.zeros(0, np.int64), np.zeros(0)
        own = (up[cell] if direction > 0 else down[cell]) * weights[cell]
        if own < required:
            return False, np.array([cell]), np.array([up[cell] if direction > 0 else down[cell]])
        source, sink = self._ends(cell, direction)
        if source == sink:
            return True, np.zeros(0, np.int64), np.zeros(0)
        unit = 1.0 if integral else _SCALE / required
        target = required * unit
        graph = self._graph(cell, weights, down, up, required, unit)
        result = maximum_flow(graph, source, sink, method="dinic")
        if result.flow_value >= target - 1e-9:
            return True, np.zeros(0, np.int64), np.zeros(0)
        if not integral and result.flow_value >= target * (1 - 1e-6):
            return None, np.zeros(0, np.int64), np.zeros(0)
        residual = sp.csr_array(graph - result.flow)
        residual.data = np.where(residual.data > 0, 1, 0)
        residual.eliminate_zeros()
        reached = breadth_first_order(residual, source, directed=True, return_predecessors=False)
        side = np.zeros(self.nodes, bool)
        side[reached] = True
        # arcs leaving the source side forward, or entering it (carried backward)
        out_forward = side[self.tail] & ~side[self.head]
        in_backward = side[self.head] & ~side[self.tail]
        coef = np.where(out_forward, up, 0.0) + np.where(in_backward, down, 0.0)
        coef[cell] = 0.0
        index = np.flatnonzero(coef > 0)
        return False, index, coef[index]

    def reaches(
        self,
        cell: int,
        direction: int,
        suppressed: BoolArray,
        *,
        down: FloatArray,
        up: FloatArray,
        required: float,
    ) -> bool:
        """Whether the attacker can move ``cell`` by ``required`` (a sufficient test)."""
        found, _, _ = self.check(
            cell, direction, suppressed.astype(np.float64), down=down, up=up, required=required
        )
        return bool(found)
