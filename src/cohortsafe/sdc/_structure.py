"""The shape of a table: its variables, which totals it has, its cells and their sums.

A table over variables ``v0 … vk-1`` (index variables first, then column variables)
publishes one *grouping set* of cells per combination of variables it breaks down
by; the other variables are totalled (``"All"`` in pandas' words). ``totals`` says
which combinations a table with margins has:

- ``"axes"`` (pandas' ``margins=True``): the full table, the totals over all column
  variables, over all index variables, and the grand total;
- ``"all"``: every subtotal (a full cube), as in τ-ARGUS tables with all marginals;
- ``"nested"``: index (and column) variables form a hierarchy, each refining the one
  before (province → municipality), with a subtotal at every level.

Additivity: between two grouping sets ``T ⊂ S`` with no set in between, each cell of
``T`` equals the sum of the cells of ``S`` it totals. These equations are what an
attacker uses, what secondary suppression protects against and what the audit checks.

>>> layout = Layout(index=("region",), columns=("domain",), margins=True)
>>> [layout.set_names(s) for s in layout.grouping_sets]
[('region', 'domain'), ('region',), ('domain',), ()]
>>> Layout(index=("a", "b"), columns=(), totals="nested").set_names_all()
[('a', 'b'), ('a',), ()]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._cellstats import BoolArray, IntArray

__all__ = ["MAX_VARIABLES", "TOTALS", "Cells", "Layout", "Totals", "equations"]

Totals = Literal["axes", "all", "nested"]
TOTALS: tuple[Totals, ...] = ("axes", "all", "nested")
MAX_VARIABLES = 4
TOTAL = -1  # the code of a totalled variable in a cell


def _subsets(bits: Sequence[int], totals: Totals) -> list[int]:
    if not bits:
        return [0]
    if totals == "axes":
        return [sum(1 << b for b in bits), 0]
    if totals == "nested":
        return [sum(1 << b for b in bits[:n]) for n in range(len(bits), -1, -1)]
    masks = []
    for size in range(len(bits), -1, -1):
        for chosen in itertools.combinations(bits, size):
            masks.append(sum(1 << b for b in chosen))
    return masks


@dataclass(frozen=True)
class Layout:
    """Variables and totals of a table; a grouping set is a bitmask of present variables."""

    index: tuple[str, ...]
    columns: tuple[str, ...] = ()
    margins: bool = True
    totals: Totals = "axes"

    def __post_init__(self) -> None:
        names = self.variables
        if not names:
            raise PolicyError("a table needs at least one grouping variable")
        if len(names) > MAX_VARIABLES:
            raise PolicyError(f"a table has at most {MAX_VARIABLES} grouping variables")
        if len(set(names)) != len(names):
            raise PolicyError("a grouping variable is named twice")
        if self.totals not in TOTALS:
            raise PolicyError(f"totals must be one of {', '.join(TOTALS)}")

    @property
    def variables(self) -> tuple[str, ...]:
        return (*self.index, *self.columns)

    @property
    def full_set(self) -> int:
        return (1 << len(self.variables)) - 1

    @property
    def grouping_sets(self) -> tuple[int, ...]:
        """Present-variable bitmasks, the full table first, the grand total last."""
        if not self.margins:
            return (self.full_set,)
        rows = _subsets(range(len(self.index)), self.totals)
        offset = len(self.index)
        cols = _subsets(range(offset, offset + len(self.columns)), self.totals)
        seen: dict[int, None] = {}
        for row, col in itertools.product(rows, cols):
            seen.setdefault(row | col)
        return tuple(sorted(seen, key=lambda m: (-bin(m).count("1"), m)))

    def set_names(self, mask: int) -> tuple[str, ...]:
        return tuple(v for i, v in enumerate(self.variables) if mask >> i & 1)

    def set_names_all(self) -> list[tuple[str, ...]]:
        return [self.set_names(mask) for mask in self.grouping_sets]

    def covers(self) -> list[tuple[int, int]]:
        """Pairs (finer S, coarser T) with T ⊂ S and no grouping set strictly between."""
        sets = self.grouping_sets
        pairs = []
        for fine, coarse in itertools.permutations(sets, 2):
            if coarse & fine != coarse or coarse == fine:
                continue
            between = any(
                other not in (fine, coarse) and coarse & other == coarse and other & fine == other
                for other in sets
            )
            if not between:
                pairs.append((fine, coarse))
        return pairs


@dataclass(frozen=True)
class Cells:
    """Every cell of a table: its grouping set and the category code of each variable.

    ``codes[i, v]`` indexes ``categories[v]`` or is ``-1`` where variable ``v`` is
    totalled; ``observed`` is False for empty cells added to complete the table.
    """

    layout: Layout
    categories: tuple[tuple[Any, ...], ...]
    codes: IntArray
    present: IntArray
    observed: BoolArray

    @property
    def size(self) -> int:
        return int(self.codes.shape[0])

    @property
    def is_margin(self) -> BoolArray:
        return np.asarray(self.present != self.layout.full_set)

    def keys(self, codes: IntArray | None = None) -> IntArray:
        """A unique integer per cell: mixed-radix digits ``code + 1``."""
        codes = self.codes if codes is None else codes
        key = np.zeros(codes.shape[0], dtype=np.int64)
        radix = 1
        for v, cats in enumerate(self.categories):
            key += (codes[:, v] + 1) * radix
            radix *= len(cats) + 1
        return key

    def labels(self, i: int, margins_name: str = "All") -> tuple[dict[str, Any], dict[str, Any]]:
        """The cell's index and column labels, with ``margins_name`` for totals."""
        layout = self.layout
        labels = []
        for v, name in enumerate(layout.variables):
            code = int(self.codes[i, v])
            labels.append((name, margins_name if code == TOTAL else self.categories[v][code]))
        n = len(layout.index)
        return dict(labels[:n]), dict(labels[n:])


def _categories(column: pa.ChunkedArray, present: pa.Array) -> tuple[pa.Array, tuple[Any, ...]]:
    values = pc.unique(column.filter(present))
    ordered = pc.array_sort_indices(values)
    cats = values.take(ordered)
    return cats, tuple(cats.to_pylist())


def build_cells(
    layout: Layout, variables: Sequence[pa.ChunkedArray], present: IntArray
) -> tuple[Cells, IntArray]:
    """Cells from the rows of a grouping-sets query, completed with empty cells.

    Returns the cells in display order (rows then columns, totals last) and, for each
    query row, its position among the cells.
    """
    k = len(layout.variables)
    n = present.shape[0]
    codes = np.full((n, k), TOTAL, dtype=np.int64)
    categories = []
    for v in range(k):
        has = pa.array((present >> v & 1).astype(bool))
        cats, labels = _categories(variables[v], has)
        categories.append(labels)
        index = pc.index_in(variables[v], value_set=cats)
        found = index.to_numpy(zero_copy_only=False)
        found = np.where(np.isnan(found.astype(np.float64)), TOTAL, found).astype(np.int64)
        codes[:, v] = np.where(present >> v & 1, found, TOTAL)
    observed_cells = Cells(
        layout, tuple(categories), codes, present.astype(np.int64), np.ones(n, bool)
    )
    empty_codes, empty_present = _empty_cells(observed_cells)
    all_codes = np.vstack([codes, empty_codes])
    all_present = np.concatenate([present, empty_present]).astype(np.int64)
    observed = np.concatenate([np.ones(n, bool), np.zeros(len(empty_present), bool)])
    # display order: variable by variable, categories ascending, totals last
    sort_keys = [
        np.where(all_codes[:, v] == TOTAL, len(categories[v]), all_codes[:, v]) for v in range(k)
    ]
    order = np.lexsort(tuple(reversed(sort_keys)))
    cells = Cells(layout, tuple(categories), all_codes[order], all_present[order], observed[order])
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    return cells, position[:n]


def _empty_cells(cells: Cells) -> tuple[IntArray, IntArray]:
    """Cells a pandas crosstab would show as 0: observed rows × observed columns."""
    layout = cells.layout
    n_index = len(layout.index)
    found_codes: list[IntArray] = []
    found_present: list[int] = []
    for mask in layout.grouping_sets:
        in_set = cells.present == mask
        row_vars = [v for v in range(n_index) if mask >> v & 1]
        col_vars = [v for v in range(n_index, len(layout.variables)) if mask >> v & 1]
        if not row_vars or not col_vars:
            continue
        block = cells.codes[in_set]
        rows = np.unique(block[:, row_vars], axis=0)
        cols = np.unique(block[:, col_vars], axis=0)
        if rows.shape[0] * cols.shape[0] == block.shape[0]:
            continue
        grid = np.full((rows.shape[0] * cols.shape[0], len(layout.variables)), TOTAL, np.int64)
        grid[:, row_vars] = np.repeat(rows, cols.shape[0], axis=0)
        grid[:, col_vars] = np.tile(cols, (rows.shape[0], 1))
        missing = ~np.isin(cells.keys(grid), cells.keys(block))
        found_codes.append(grid[missing])
        found_present.extend([mask] * int(missing.sum()))
    if not found_codes:
        return np.zeros((0, len(layout.variables)), np.int64), np.zeros(0, np.int64)
    return np.vstack(found_codes), np.asarray(found_present, np.int64)


def grid_coordinates(cells: Cells, in_model: BoolArray) -> tuple[tuple[int, ...], IntArray] | None:
    """The extended grid of a table with ``axes`` or ``all`` totals (see :mod:`._grid`).

    Returns the grid's shape and each model cell's coordinates, or None for tables
    without margins or with nested totals.
    """
    layout = cells.layout
    model = np.flatnonzero(in_model)
    codes = cells.codes[model]
    if not layout.margins:
        return None
    if layout.totals == "nested" and (len(layout.index) > 1 or len(layout.columns) > 1):
        return None  # a hierarchy is not a grid
    if layout.totals == "all" or len(layout.variables) == 1:
        shape = tuple(len(c) + 1 for c in cells.categories)
        coords = np.where(codes == TOTAL, np.asarray(shape) - 1, codes)
        return shape, coords
    axes = [list(range(len(layout.index))), list(range(len(layout.index), len(layout.variables)))]
    shape_list: list[int] = []
    columns: list[IntArray] = []
    for variables in axes:
        if not variables:
            continue
        part = codes[:, variables]
        total = (part == TOTAL).all(axis=1)
        combos, inverse = np.unique(part[~total], axis=0, return_inverse=True)
        coordinate = np.full(model.size, combos.shape[0], np.int64)
        coordinate[~total] = inverse.ravel()
        shape_list.append(combos.shape[0] + 1)
        columns.append(coordinate)
    return tuple(shape_list), np.column_stack(columns)


def equations(cells: Cells, in_model: BoolArray) -> sp.csr_array:
    """The additivity equations over the model cells: one row per (total, breakdown).

    Row ``r`` reads ``Σ_i M[r, i] · value_i = 0`` with ``+1`` for the total and ``-1`` for
    each model cell it totals (cells outside the model are empty, hence zero).
    """
    model = np.flatnonzero(in_model)
    column_of = np.full(cells.size, -1, np.int64)
    column_of[model] = np.arange(model.size)
    keys = cells.keys()
    order = np.argsort(keys)
    sorted_keys = keys[order]
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    data: list[IntArray] = []
    n_rows = 0
    for fine, coarse in cells.layout.covers():
        children = model[cells.present[model] == fine]
        parents = model[cells.present[model] == coarse]
        if parents.size == 0:
            continue
        drop = [v for v in range(len(cells.layout.variables)) if (fine & ~coarse) >> v & 1]
        parent_codes = cells.codes[children].copy()
        parent_codes[:, drop] = TOTAL
        parent_pos = order[np.searchsorted(sorted_keys, cells.keys(parent_codes))]
        # number the equations of this breakdown by their total cell
        eq_of_parent = np.full(cells.size, -1, np.int64)
        eq_of_parent[parents] = n_rows + np.arange(parents.size)
        child_rows = eq_of_parent[parent_pos]
        keep = child_rows >= 0
        rows += [eq_of_parent[parents], child_rows[keep]]
        cols += [column_of[parents], column_of[children[keep]]]
        data += [np.ones(parents.size, np.int64), -np.ones(int(keep.sum()), np.int64)]
        n_rows += parents.size
    if not rows:
        return sp.csr_array((0, model.size), dtype=np.float64)
    matrix = sp.csr_array(
        (np.concatenate(data).astype(np.float64), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, model.size),
    )
    return matrix
