"""Small tables built directly from arrays of inner-cell values, for suppression tests."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from cohortsafe.sdc._structure import Cells, Layout, Totals, build_cells


def table_from_array(
    inner: np.ndarray, *, totals: Totals = "all", n_index: int = 1
) -> tuple[Cells, np.ndarray]:
    """The cells (margins included) of a table whose inner cells are ``inner``.

    Every inner cell is present (zero cells included as observed with value 0 would
    not be observed; callers pass positive arrays). Returns cells and their values.
    """
    k = inner.ndim
    names = tuple(f"v{i}" for i in range(k))
    layout = Layout(index=names[:n_index], columns=names[n_index:], margins=True, totals=totals)
    rows: list[tuple[int, list[int | None], float]] = []
    for mask in layout.grouping_sets:
        axes = [i for i in range(k) if not mask >> i & 1]
        summed = inner.sum(axis=tuple(axes)) if axes else inner
        kept = [i for i in range(k) if mask >> i & 1]
        for combo in itertools.product(*(range(inner.shape[i]) for i in kept)):
            labels: list[int | None] = [None] * k
            for i, c in zip(kept, combo, strict=True):
                labels[i] = c
            value = float(summed[combo]) if kept else float(summed)
            rows.append((mask, labels, value))
    present = np.array([r[0] for r in rows], dtype=np.int64)
    variables = [
        pa.chunked_array([pa.array([r[1][i] for r in rows], pa.int64())]) for i in range(k)
    ]
    cells, position = build_cells(layout, variables, present)
    values = np.zeros(cells.size)
    values[position] = [r[2] for r in rows]
    return cells, values
