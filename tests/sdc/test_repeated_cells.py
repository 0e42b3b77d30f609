"""The shortcut of the combined check for an output that repeats released cells.

When every new cell is a sum of rows the ledger already holds, the check skips the
space. A shortcut that says so of a cell that does not follow would let new knowledge
through unjudged: it must never claim more than the rank says.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortsafe.sdc._atoms import new_rows, repeats_rows
from cohortsafe.sdc._ledger_types import LedgerCell


def _atoms(part: list[int]) -> Any:
    return SimpleNamespace(part=np.array(part, np.int64), size=len(part))


@st.composite
def _cases(draw: st.DrawFn) -> tuple[sp.csr_array, list[LedgerCell], Any]:
    n_atoms = draw(st.integers(1, 10))
    n_parts = draw(st.integers(1, 5))
    part = draw(st.lists(st.integers(-1, n_parts - 1), min_size=n_atoms, max_size=n_atoms))
    rows = []
    for p in draw(st.lists(st.integers(0, n_parts - 1), max_size=4)):
        # a row that is exactly a part: the output repeats a released cell
        rows.append([1.0 if q == p else 0.0 for q in part])
    for bits in draw(st.lists(st.lists(st.booleans(), min_size=n_atoms, max_size=n_atoms))):
        rows.append([float(b) for b in bits])
    old = sp.csr_array(np.array(rows, np.float64).reshape(-1, n_atoms))
    cells = [
        LedgerCell("sum", tuple(parts), 0.0)
        for parts in draw(
            st.lists(st.lists(st.integers(0, n_parts - 1), min_size=1, unique=True), min_size=1)
        )
    ]
    return old, cells, _atoms(part)


@given(_cases())
@settings(max_examples=400, deadline=None)
def test_a_repeat_is_claimed_only_where_the_cells_follow(
    case: tuple[sp.csr_array, list[LedgerCell], Any],
) -> None:
    old, cells, atoms = case
    new = new_rows(cells, atoms)
    if repeats_rows(old, cells, atoms):
        before = np.linalg.matrix_rank(old.toarray()) if old.shape[0] else 0
        after = np.linalg.matrix_rank(np.vstack([old.toarray(), new.toarray()]))
        assert after == before


def test_the_same_table_again_and_its_margin_are_repeats() -> None:
    atoms = _atoms([0, 0, 1, 1, 2, -1])
    old = sp.csr_array(np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 0]]))
    again = [LedgerCell("sum", (p,), 0.0) for p in range(3)] + [LedgerCell("sum", (0, 1), 0.0)]
    assert repeats_rows(sp.csr_array(old, dtype=np.float64), again, atoms)
    # one atom of a released cell left out is not a repeat
    assert not repeats_rows(sp.csr_array(old[[0, 2]], dtype=np.float64), again, atoms)
    wider = _atoms([0, 0, 0, 1, 2, -1])
    assert not repeats_rows(sp.csr_array(old, dtype=np.float64), again, wider)
