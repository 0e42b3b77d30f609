"""The combined check: a new output judged with everything the project released before.

Attacker model. The attacker knows every value the project released (the ledger) and
the new output's, which records each released cell covers in the sense that matters
(which cells share records), that counts, squares and (when the data are) values are
non-negative, and, for means, how many records stand behind every cell. It combines
the values as linear equations and proves bounds by linear programming.

Mechanism. In each space (counts, sums, sums of squares) the members of all released
cells are split into *atoms*: the groups of members that no released cell separates
(members with the same cells around them). Every released value is an equation over
atom totals. An atom is *sensitive* when it has fewer pupils than ``min_pupils``, fewer
schools than ``min_schools``, or one or two schools hold more of its value than
``school_dominance`` allows. The new output fails when the combination (ledger and
new output together) lets the attacker

1. determine exactly the total of some union of sensitive atoms, or a combination of
   them (the dimension of the space of such combinations that the equations pin down
   grows beyond what the ledger alone and the new output alone pin down); or
2. bound a sensitive atom's total more tightly than the protection levels of
   ``secondary_suppression`` (its interval, by HiGHS, misses ``value ± level``) where
   neither the ledger alone nor the new output alone does.

This covers differencing in any number of outputs (``(T1 + T2 - T3) / 2``), a re-run
with another suppression pattern, linked tables sharing a margin, one school moved
between tables by a recode, and any mix of counts, sums, means and summaries: each is
an equation system over atoms. What the new output gives away *on its own* is the
single-table check's to judge (the same attacker, over its own cells). Not covered:
intervals (as opposed to exact values) of unions of several sensitive atoms, integer
reasoning, and values other than counts, sums and squares (percentile values and
regression coefficients; see ``docs/sdc.md``).

Reduction. Only the cells linked to the new output through shared atoms (its
connected components) can change what is determined, so only those are solved; each
space is solved on its own. Components with more atoms than ``atom_limit`` are not
solved: the output fails with a reason (refusing more, never less).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cohortsafe.sdc._atoms import (
    RANK_TOL,
    Atoms,
    independent_rows,
    ledger_rows,
    new_rows,
    refine,
)
from cohortsafe.sdc._attacker import Attacker, OutOfTime
from cohortsafe.sdc._cellstats import BoolArray, FloatArray
from cohortsafe.sdc._ledger import Ledger
from cohortsafe.sdc._ledger_types import Entry, Space
from cohortsafe.sdc._policy import Policy
from cohortsafe.sdc.rules import SecondarySuppression

__all__ = ["ATOM_LIMIT", "CombinedResult", "combined_check"]

ATOM_LIMIT = 2_000
_NEW = 0  # the new output's number among the ledger's (which start at 1)
_SHIFT = 32
_TOL = 1e-7


@dataclass(frozen=True)
class CombinedResult:
    """The combined check's verdict: reasons (no values) and the earlier outputs used."""

    reasons: tuple[str, ...]
    earlier: tuple[str, ...]
    atoms: int
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.reasons


def _sensitive(atoms: Atoms, policy: Policy) -> BoolArray:
    small = np.zeros(atoms.total.size, bool)
    if policy.min_pupils is not None:
        small |= atoms.pupils < policy.min_pupils.threshold
    if policy.min_schools is not None:
        small |= atoms.schools < policy.min_schools.threshold
    if policy.school_dominance is not None:
        for n, limit in policy.school_dominance.limits:
            share = atoms.top1 if n == 1 else atoms.top2
            if n in (1, 2):
                small |= share > limit
    return small


def _determined_basis(dense: np.ndarray, small: BoolArray) -> np.ndarray:
    """A basis (columns, over the small atoms) of the combinations of small atoms that
    the rows of ``dense`` determine: ``{yᵀA : yᵀA_big = 0}``."""
    if dense.shape[0] == 0 or not small.any():
        return np.zeros((int(small.sum()), 0))
    big = dense[:, ~small]
    if big.shape[1]:
        # the left null space of A_big: the columns of a full QR of A_big beyond its rank
        q, r, _ = scipy.linalg.qr(big, pivoting=True)
        diagonal = np.abs(np.diag(r))
        rank = int((diagonal > RANK_TOL * max(1.0, float(diagonal.max(initial=0.0)))).sum())
        free = q[:, rank:]
    else:
        free = np.eye(dense.shape[0])
    if free.shape[1] == 0:
        return np.zeros((int(small.sum()), 0))
    combos = free.T @ dense[:, small]  # each row: a determined combination
    # an absolute tolerance: the entries are 0/1 combinations, and a combination that is
    # zero up to rounding must not count as one (a relative one would keep it)
    q2, r2, _ = scipy.linalg.qr(combos.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r2)) if r2.size else np.zeros(0)
    return np.asarray(q2[:, : int((diagonal > RANK_TOL).sum())])


def _rank(matrix: np.ndarray) -> int:
    if matrix.size == 0:
        return 0
    return int(np.linalg.matrix_rank(matrix, tol=RANK_TOL))


def _twin_protected(
    matrix: sp.csr_array,
    totals: FloatArray,
    targets: np.ndarray,
    upper: FloatArray,
    nonnegative: bool,
) -> set[int]:
    """Targets protected by *twins*: atoms in exactly the same equations.

    Moving value between twins changes no equation, so a target can fall by its whole
    value (its lower level never exceeds it) and rise by what its twins can give up.
    An atom in no equation is free. This settles most atoms of fine partitions without
    a linear programme; the rest go to HiGHS.
    """
    columns = sp.csc_array(matrix)
    signature: dict[bytes, list[int]] = {}
    for a in range(totals.size):
        rows = columns.indices[columns.indptr[a] : columns.indptr[a + 1]]
        signature.setdefault(rows.tobytes(), []).append(a)
    protected: set[int] = set()
    for a in targets.tolist():
        rows = columns.indices[columns.indptr[a] : columns.indptr[a + 1]]
        if rows.size == 0:
            protected.add(a)
            continue
        twins = [b for b in signature[rows.tobytes()] if b != a]
        if not twins:
            continue
        room = float(totals[twins].sum()) if nonnegative else float("inf")
        if room >= upper[a] - _TOL * max(1.0, upper[a]):
            protected.add(a)
    return protected


def _unprotected(
    matrix: sp.csr_array,
    values: FloatArray,
    totals: FloatArray,
    targets: np.ndarray,
    upper: FloatArray,
    lower: FloatArray,
    nonnegative: bool,
    deadline: float,
) -> set[int]:
    """Targets (atom columns) whose proven interval misses ``value ± level``."""
    if targets.size == 0:
        return set()
    n_atoms, n_cells = totals.size, values.size
    if n_cells == 0:
        return set()
    settled = _twin_protected(matrix, totals, targets, upper, nonnegative)
    targets = np.array([t for t in targets.tolist() if t not in settled], dtype=np.int64)
    if targets.size == 0:
        return set()
    # one variable per atom (unknown) and per released cell (published); each cell
    # equals the sum of its atoms
    equations = sp.hstack([-matrix, sp.identity(n_cells)], format="csr")
    everything = np.concatenate([totals, values])
    low = np.concatenate(
        [np.zeros(n_atoms) if nonnegative else np.full(n_atoms, -np.inf), everything[n_atoms:]]
    )
    high = np.concatenate([np.full(n_atoms, np.inf), everything[n_atoms:]])
    attacker = Attacker(equations, everything, low, high)
    attacker.deadline = deadline
    unknown = np.zeros(n_atoms + n_cells, bool)
    unknown[:n_atoms] = True
    found: set[int] = set()
    wanted = {int(t) for t in targets}
    for component in attacker.components(unknown):
        mine = [int(c) for c in component.cells if int(c) in wanted]
        if not mine:
            continue
        reaches = component.reach_many([(c, d) for c in mine for d in (-1, +1)])
        for j, atom in enumerate(mine):
            down, up = reaches[2 * j].deviation, reaches[2 * j + 1].deviation
            ok = up >= upper[atom] - _TOL * max(1.0, upper[atom]) and down >= lower[
                atom
            ] - _TOL * max(1.0, lower[atom])
            if not ok:
                found.add(atom)
    return found


def _space_check(
    ledger: Ledger, entry: Entry, space: Space, policy: Policy, atom_limit: int
) -> tuple[list[str], set[int], int]:
    with ledger.registered(entry):
        atoms = refine(ledger.con, space)
        old, old_outputs, _ = ledger_rows(ledger.con, space, atoms)
    mine = [c for c in entry.cells if c.space == space]
    matrix = sp.csr_array(sp.vstack([old, new_rows(mine, atoms)], format="csr"))
    outputs = np.concatenate([old_outputs, np.full(len(mine), _NEW, np.int64)])
    n_cells = matrix.shape[0]
    if n_cells == 0 or atoms.size == 0:
        return [], set(), 0
    graph = sp.bmat([[None, matrix], [matrix.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    cell_labels, atom_labels = labels[:n_cells], labels[n_cells:]
    sensitive = _sensitive(atoms, policy)
    levels = policy.secondary_suppression or SecondarySuppression()
    # a sum of values in [0, 1] is protected as a count, as in a single table
    counts = space == "count" or (space == "sum" and atoms.lowest >= 0.0 and atoms.highest <= 1.0)
    upper, lower = levels.levels(atoms.total, count_table=counts)
    nonnegative = atoms.lowest >= 0
    deadline = time.monotonic() + levels.time_limit_seconds
    reasons: list[str] = []
    involved: set[int] = set()
    checked = 0
    for label in np.unique(cell_labels[outputs == _NEW]).tolist():
        rows = np.flatnonzero(cell_labels == label)
        cols = np.flatnonzero(atom_labels == label)
        small = sensitive[cols]
        if not small.any():
            continue
        checked += cols.size
        earlier = {int(o) for o in outputs[rows] if o != _NEW}
        if not earlier:
            continue  # the new output alone: the single-table check's to judge
        if cols.size > atom_limit:
            reasons.append(
                f"combined check: the output and earlier outputs split the records into "
                f"{cols.size} groups, more than the check solves ({atom_limit}); publish "
                "fewer or coarser cells"
            )
            involved |= earlier
            continue
        local = matrix[rows][:, cols].toarray()
        is_new = outputs[rows] == _NEW
        if not independent_rows(sp.csr_array(local[~is_new]), sp.csr_array(local[is_new])).any():
            continue  # the new cells follow from the earlier ones: nothing new is known
        # twins (atoms in the same equations) take one coefficient in every determined
        # combination, none at all when a big atom is among them: one column per group
        twins, group = np.unique(local, axis=1, return_inverse=True)
        group = np.asarray(group).ravel()
        group_big = np.zeros(twins.shape[1], bool)
        np.logical_or.at(group_big, group, ~small)
        collapsed, group_small = twins, ~group_big
        both = _determined_basis(np.unique(collapsed, axis=0), group_small)
        if both.shape[1]:
            alone = np.hstack(
                [
                    _determined_basis(np.unique(collapsed[is_new], axis=0), group_small),
                    _determined_basis(np.unique(collapsed[~is_new], axis=0), group_small),
                ]
            )
            if both.shape[1] > _rank(alone):
                reasons.append(
                    "combined check: with earlier outputs this output determines the total "
                    "of a group (or a difference of groups) below the thresholds"
                )
                involved |= earlier
                continue
        values = np.asarray(
            matrix[rows][:, cols] @ atoms.total[cols], dtype=np.float64
        )  # the released values, consistent with the atoms by construction
        targets = np.flatnonzero(small)
        args = (upper[cols], lower[cols], nonnegative, deadline)
        try:
            after = _unprotected(sp.csr_array(local), values, atoms.total[cols], targets, *args)
        except OutOfTime:
            reasons.append(
                "combined check: the intervals could not be verified within "
                f"time_limit_seconds ({levels.time_limit_seconds:g}); publish fewer or "
                "coarser cells"
            )
            involved |= earlier
            continue
        if not after:
            continue
        suspects = np.array(sorted(after))
        deadline = float("inf")  # the few suspects are always settled
        before_new = _unprotected(
            sp.csr_array(local[is_new]),
            values[is_new],
            atoms.total[cols],
            suspects,
            *args,
        )
        before_old = _unprotected(
            sp.csr_array(local[~is_new]),
            values[~is_new],
            atoms.total[cols],
            suspects,
            *args,
        )
        if after - before_new - before_old:
            reasons.append(
                "combined check: with earlier outputs this output narrows the total of a "
                "group below the thresholds to within its protection interval"
            )
            involved |= earlier
    return reasons, involved, checked


def combined_check(
    ledger: Ledger, entry: Entry, policy: Policy, *, atom_limit: int = ATOM_LIMIT
) -> CombinedResult:
    """Judge ``entry`` (not yet recorded) against everything in ``ledger``."""
    start = time.perf_counter()
    reasons: list[str] = []
    involved: set[int] = set()
    atoms = 0
    if ledger.outputs:
        for space in entry.spaces:
            found, used, checked = _space_check(ledger, entry, space, policy, atom_limit)
            reasons += [f"{r} ({space} space)" if space != "count" else r for r in found]
            involved |= used
            atoms += checked
    names = ledger.names(sorted(involved))
    earlier = tuple(names[o] for o in sorted(involved) if o in names)
    if reasons and earlier:
        reasons = [f"{r}; earlier outputs involved: {', '.join(earlier)}" for r in reasons]
    return CombinedResult(
        tuple(dict.fromkeys(reasons)), earlier, atoms, time.perf_counter() - start
    )
