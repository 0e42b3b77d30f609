"""Atoms: the groups of members that no released cell separates, kept up to date.

The ledger keeps, per space, the current atom of every member and the parts each atom
lies in. A new output's parts split atoms further: the new atoms are the pairs (old
atom, new part) that occur, a member absent from the new output keeping its old atom
(part −1) and a member new to the ledger having no old atom (−1). One join of the
ledger's members with the new output's gives them, with everything the rules need per
atom, whatever the number of earlier outputs.

Every released cell is a union of atoms, so an earlier cell over the new atoms is its
row over the old atoms with each old column copied to its children. The ledger keeps
only cells that add to the rank of what was released before (its *basis*): the other
cells' equations follow from them, so the attacker learns nothing more from them, and
the check's size is bounded by the number of atoms, not of outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import scipy.linalg
import scipy.sparse as sp

from cohortsafe.sdc._cellstats import BoolArray, FloatArray, IntArray
from cohortsafe.sdc._ledger_types import LedgerCell, Space

__all__ = [
    "REFINE_SQL",
    "Atoms",
    "independent_rows",
    "ledger_rows",
    "new_rows",
    "refine",
    "repeats_rows",
]

# the new atom of every member: (old atom, new part); numbered in that order
REFINE_SQL = """
WITH n AS (SELECT part, k, p, s, x FROM new_members WHERE space = '{space}'),
m AS (SELECT k, p, s, x, atom FROM members WHERE space = '{space}'),
joined AS (
  SELECT coalesce(m.k, n.k) AS k, coalesce(m.p, n.p) AS p, coalesce(m.s, n.s) AS s,
         coalesce(m.x, n.x) AS x, coalesce(m.atom, -1) AS old, coalesce(n.part, -1) AS part
  FROM m FULL OUTER JOIN n ON m.k = n.k
)
SELECT k, p, s, x, old, part,
       (dense_rank() OVER (ORDER BY old, part) - 1)::INTEGER AS atom
FROM joined
"""

_STATS_SQL = """
WITH j AS (SELECT * FROM refined_members),
per_school AS (SELECT atom, s, sum(abs(x)) AS v, count(DISTINCT p) AS n FROM j GROUP BY atom, s),
tops AS (
  SELECT atom, max(v) AS first, sum(v) AS whole, list(v ORDER BY v DESC)[2] AS second,
         max(n) AS first_n, list(n ORDER BY n DESC)[2] AS second_n, sum(n) AS whole_n
  FROM per_school GROUP BY atom
)
SELECT a.atom, a.old, a.part, a.total, a.pupils, a.schools, a.lo, a.hi,
       t.first, coalesce(t.second, 0) AS second, t.whole,
       t.first_n, coalesce(t.second_n, 0) AS second_n, t.whole_n
FROM (SELECT atom, any_value(old) AS old, any_value(part) AS part, sum(x) AS total,
             count(DISTINCT p) AS pupils, count(DISTINCT s) AS schools,
             min(x) AS lo, max(x) AS hi
      FROM j GROUP BY atom) a JOIN tops t USING (atom)
ORDER BY a.atom
"""


@dataclass(frozen=True)
class Atoms:
    """The new atoms of one space and what the rules need of each."""

    old: IntArray  # the atom each came from (−1: members new to the ledger)
    part: IntArray  # the new output's part it lies in (−1: none)
    total: FloatArray
    pupils: IntArray
    schools: IntArray
    top1: FloatArray  # share (%) of the atom's value held by its largest school
    top2: FloatArray  # ... by its two largest schools
    lowest: float  # the smallest and largest member value in the space
    highest: float
    # per atom: its largest school's value, the two largest schools', its whole value,
    # and the same of pupils counted per school: summed over a group's atoms they
    # bound the group's school shares from above
    school_parts: FloatArray

    @property
    def size(self) -> int:
        return int(self.total.size)


def _shares(found: object, pupils: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The largest and two largest schools' shares (%) of each group: of its value or
    of its pupils, whichever is larger (a mean weights results, a count pupils)."""
    whole = _array(found, "whole", float)
    first, second = _array(found, "first", float), _array(found, "second", float)
    first_n, second_n = _array(found, "first_n", float), _array(found, "second_n", float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value1 = np.where(whole > 0, 100.0 * first / whole, 0.0)
        value2 = np.where(whole > 0, 100.0 * (first + second) / whole, 0.0)
        pupil1 = np.where(pupils > 0, 100.0 * first_n / pupils, 0.0)
        pupil2 = np.where(pupils > 0, 100.0 * (first_n + second_n) / pupils, 0.0)
    return np.maximum(value1, pupil1), np.maximum(value2, pupil2)


def _array(table: object, name: str, dtype: type) -> np.ndarray:
    column = table.column(name)  # type: ignore[attr-defined]
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=dtype)


def refine(con: duckdb.DuckDBPyConnection, space: Space) -> Atoms:
    """The atoms after the new output (registered as ``new_members`` on ``con``).

    The refined members stay in the temporary table ``refined_members`` for
    :func:`owner_sets`, :func:`single_owner_unions` and
    :func:`school_shares`, until the next call."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE refined_members AS {REFINE_SQL.format(space=space)}")
    found = con.sql(_STATS_SQL).to_arrow_table()
    top1, top2 = _shares(found, _array(found, "pupils", float))
    lo, hi = _array(found, "lo", float), _array(found, "hi", float)
    return Atoms(
        old=_array(found, "old", np.int64),
        part=_array(found, "part", np.int64),
        total=_array(found, "total", float),
        pupils=_array(found, "pupils", np.int64),
        schools=_array(found, "schools", np.int64),
        top1=top1,
        top2=top2,
        lowest=float(lo.min()) if lo.size else 0.0,
        highest=float(hi.max()) if hi.size else 0.0,
        school_parts=_school_parts(found),
    )


def _school_parts(found: object) -> FloatArray:
    first, second = _array(found, "first", float), _array(found, "second", float)
    first_n, second_n = _array(found, "first_n", float), _array(found, "second_n", float)
    whole, whole_n = _array(found, "whole", float), _array(found, "whole_n", float)
    columns = (first, first + second, whole, first_n, first_n + second_n, whole_n)
    return np.column_stack(columns) if first.size else np.zeros((0, 6))


def school_shares(
    con: duckdb.DuckDBPyConnection, groups: Sequence[np.ndarray], n_atoms: int
) -> tuple[FloatArray, FloatArray]:
    """The largest and two largest schools' shares (%) of each group (a union of
    atoms), of its value or of its pupils, whichever is larger.

    Values add up over atoms exactly; pupils are counted per atom and school, so a
    pupil in two atoms of one group counts twice on both sides of the share."""
    found = con.sql(
        "SELECT atom, s, sum(abs(x)) AS v, count(DISTINCT p) AS n FROM refined_members "
        "GROUP BY atom, s"
    ).to_arrow_table()
    atom = _array(found, "atom", np.int64)
    _, school = np.unique(_array(found, "s", np.uint64), return_inverse=True)
    shape = (n_atoms, int(school.max()) + 1 if school.size else 0)
    value = sp.csr_array((_array(found, "v", float), (atom, school)), shape=shape)
    pupils = sp.csr_array((_array(found, "n", float), (atom, school)), shape=shape)
    lengths = [g.size for g in groups]
    member = sp.csr_array(
        (
            np.ones(sum(lengths)),
            (
                np.repeat(np.arange(len(groups)), lengths),
                np.concatenate([*groups, np.zeros(0, np.int64)]),
            ),
        ),
        shape=(len(groups), n_atoms),
    )
    out = []
    for per_school in (member @ value, member @ pupils):
        matrix = sp.csr_array(per_school)
        top1, top2 = np.zeros(len(groups)), np.zeros(len(groups))
        for g in range(len(groups)):
            row = np.sort(matrix.data[matrix.indptr[g] : matrix.indptr[g + 1]])[::-1]
            whole = float(row.sum())
            if whole > 0:
                top1[g] = 100.0 * row[0] / whole
                top2[g] = 100.0 * row[:2].sum() / whole
        out.append((top1, top2))
    return np.maximum(out[0][0], out[1][0]), np.maximum(out[0][1], out[1][1])


def owner_sets(
    con: duckdb.DuckDBPyConnection, column: str, atoms: Sequence[int]
) -> dict[int, frozenset[int]]:
    """The distinct pupils (``p``) or schools (``s``) of each of ``atoms``."""
    if not len(atoms):
        return {}
    con.register("wanted_atoms", pa.table({"atom": pa.array(list(atoms), pa.int32())}))
    try:
        found = con.sql(
            f"SELECT atom, list(DISTINCT {column}) AS owners FROM refined_members "
            "JOIN wanted_atoms USING (atom) GROUP BY atom"
        ).to_arrow_table()
    finally:
        con.unregister("wanted_atoms")
    return {
        int(a): frozenset(o)
        for a, o in zip(
            found.column("atom").to_pylist(), found.column("owners").to_pylist(), strict=True
        )
    }


def single_owner_unions(con: duckdb.DuckDBPyConnection, column: str) -> list[list[int]]:
    """For each pupil (``column`` ``p``) or school (``s``) whose records fill whole atoms
    of their own, those atoms: the union is exactly that pupil's or school's records."""
    found = con.sql(
        f"""
        WITH owners AS (SELECT atom, count(DISTINCT {column}) AS n FROM refined_members
                        GROUP BY atom),
        mine AS (SELECT DISTINCT {column} AS o, atom FROM refined_members)
        SELECT mine.o, list(mine.atom ORDER BY mine.atom) AS atoms
        FROM mine JOIN owners USING (atom) GROUP BY mine.o
        HAVING bool_and(owners.n = 1) AND count(*) > 1
        """
    ).to_arrow_table()
    return [list(a) for a in found.column("atoms").to_pylist()]


def ledger_rows(
    con: duckdb.DuckDBPyConnection,
    space: Space,
    atoms: Atoms,
    *,
    every: bool = False,
    released: bool = False,
) -> tuple[sp.csr_array, IntArray, list[tuple[int, int]]]:
    """The ledger's basis cells (``every``: all its cells; ``released``: all its released
    cells) over the new atoms, each row's output, and each row's (output, cell)."""
    which = "true" if every else "released" if released else "basis"
    keys = [
        (int(o), int(c))
        for o, c in con.execute(
            f"SELECT output, cell FROM cells WHERE space = ? AND {which} ORDER BY output, cell",
            [space],
        ).fetchall()
    ]
    pairs = con.sql(
        f"""
        WITH keys AS (SELECT output, cell,
                             (row_number() OVER (ORDER BY output, cell) - 1)::INTEGER AS row
                      FROM cells WHERE space = '{space}' AND {which}),
        c AS (SELECT output, cell, unnest(parts) AS part FROM cells
              WHERE space = '{space}' AND {which})
        SELECT k.row, i.atom FROM c JOIN keys k USING (output, cell)
        JOIN incidence i ON i.space = '{space}' AND i.output = c.output AND i.part = c.part
        """
    ).to_arrow_table()
    rows = _array(pairs, "row", np.int64)
    old_atoms = _array(pairs, "atom", np.int64)
    outputs = np.array([o for o, _ in keys], dtype=np.int64)
    n_old = int(max(atoms.old.max(initial=-1), old_atoms.max(initial=-1))) + 1
    before = sp.csr_array((np.ones(rows.size), (rows, old_atoms)), shape=(len(keys), n_old))
    # new atom j is a child of old atom old[j]: its column is that column (none if new)
    return sp.csr_array(before @ _children(atoms, n_old)), outputs, keys


def output_wholes(con: duckdb.DuckDBPyConnection, space: Space, atoms: Atoms) -> sp.csr_array:
    """One row per earlier output: every atom it covers (its whole population, which an
    attacker knows whenever all its cells are released, with or without margins)."""
    pairs = con.sql(
        f"SELECT DISTINCT output, atom FROM incidence WHERE space = '{space}'"
    ).to_arrow_table()
    outputs = _array(pairs, "output", np.int64)
    old_atoms = _array(pairs, "atom", np.int64)
    if outputs.size == 0:
        return sp.csr_array((0, atoms.size))
    _, rows = np.unique(outputs, return_inverse=True)
    n_old = int(max(atoms.old.max(initial=-1), old_atoms.max(initial=-1))) + 1
    before = sp.csr_array(
        (np.ones(rows.size), (rows, old_atoms)), shape=(int(rows.max()) + 1, n_old)
    )
    return sp.csr_array(before @ _children(atoms, n_old))


def _children(atoms: Atoms, n_old: int) -> sp.csr_array:
    """Old atoms × new atoms: 1 where the new atom is a child of the old one."""
    has_old = atoms.old >= 0
    return sp.csr_array(
        (np.ones(int(has_old.sum())), (atoms.old[has_old], np.flatnonzero(has_old))),
        shape=(n_old, atoms.size),
    )


def new_rows(cells: Sequence[LedgerCell], atoms: Atoms) -> sp.csr_array:
    """The new output's released cells of one space over the new atoms."""
    by_part: dict[int, list[int]] = {}
    for a, part in enumerate(atoms.part.tolist()):
        if part >= 0:
            by_part.setdefault(part, []).append(a)
    rows: list[int] = []
    cols: list[int] = []
    for i, cell in enumerate(cells):
        for part in cell.parts:
            members = by_part.get(part, ())
            rows += [i] * len(members)
            cols += members
    return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(cells), atoms.size))


def independent_rows(old: sp.csr_array, new: sp.csr_array) -> BoolArray:
    """Which rows of ``new`` add to the rank of ``old`` and of the rows of ``new``
    before them. ``old``'s rows are independent (a basis)."""
    chosen = np.zeros(new.shape[0], bool)
    if new.shape[0] == 0:
        return chosen
    rows = new.toarray()
    if old.shape[0]:
        # independent rows: an economic QR of their transpose is an orthonormal basis
        q, _ = scipy.linalg.qr(old.toarray().T, mode="economic")
        rows = rows - (rows @ q) @ q.T
    # a pivoted QR of what is left picks a maximal independent set, in a stable order
    _, r, pivots = scipy.linalg.qr(rows.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r)) if r.size else np.zeros(0)
    rank = int((diagonal > 1e-6).sum())
    chosen[pivots[:rank]] = True
    return chosen


def repeats_rows(old: sp.csr_array, cells: Sequence[LedgerCell], atoms: Atoms) -> bool:
    """Whether every cell is, exactly, a sum of rows of ``old``: it covers the atoms of
    one row of ``old``, or each of its parts does.

    A cheap test that needs no algebra, for an output that repeats what was released (the
    same table again, or one of its margins): its cells then follow from the ledger's.
    False says nothing (the cells may still follow, by other sums)."""
    rows = sp.csr_array(old)
    rows.eliminate_zeros()
    rows.sort_indices()
    if rows.nnz and not np.all(rows.data == 1.0):
        return False
    known = {
        rows.indices[rows.indptr[i] : rows.indptr[i + 1]].astype(np.int64).tobytes()
        for i in range(rows.shape[0])
    }
    order = np.argsort(atoms.part, kind="stable")
    parts = atoms.part[order]
    present = np.unique(parts[parts >= 0])
    starts = np.searchsorted(parts, present)
    ends = np.searchsorted(parts, present, side="right")
    # a part with no atoms in this space adds nothing
    atoms_of = {
        int(p): np.sort(order[s:e]).astype(np.int64)
        for p, s, e in zip(present.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }
    empty = np.zeros(0, np.int64)

    def follows(cell: LedgerCell) -> bool:
        mine = [atoms_of.get(p, empty) for p in cell.parts]
        if all(a.tobytes() in known for a in mine if a.size):
            return True
        return np.sort(np.concatenate([empty, *mine])).tobytes() in known

    return all(follows(cell) for cell in cells)
