"""The combined check: a new output judged with everything the project released before.

Attacker model. The attacker knows every value the project released (the ledger) and
the new output's, which records each released cell covers in the sense that matters
(which cells share records), that counts, squares and (when the data are) values are
non-negative, and, for means, how many records stand behind every cell. It combines
the values as linear equations and proves bounds by linear programming.

Mechanism. In each space (counts, sums, sums of squares) the members of all released
cells are split into *atoms*: the groups of members with the same cells around them
(:mod:`._atoms`). Every released value is an equation over atom totals. The groups
judged are

- every atom; atoms in exactly the same released cells (*twins*, told apart only by
  suppressed cells) together;
- the pieces of every new cell (or margin, shown or not, or the whole output) and every
  earlier one, everything released so far counting as a cell: their intersection and
  both differences;
- every pupil and every school whose records fill atoms of their own;
- what chains of nested differences from a new cell reach, disjoint cells subtracted
  together (:func:`_nested_differences`).

Candidates are kept as bit rows (:mod:`._group_sets`); only those whose every atom is
small are read for their owners, and only those whose bound on a school's share passes
the limit for their exact shares.

A group is *sensitive* when it has fewer distinct pupils than ``min_pupils``, fewer
schools than ``min_schools``, or one or two schools hold more of its value or of its
pupils than ``school_dominance`` allows. The new output fails when, with the ledger, the
attacker proves an interval for a sensitive group's total (HiGHS; exact determination
is the zero-width case) that misses ``value ± level`` of ``secondary_suppression``,
where neither the ledger alone nor the new output alone does. Twins settle most groups
without a programme: value moves freely between atoms in the same equations; a witness
programme per direction (:meth:`Component.witness`) settles most of the rest at once.

This covers differencing in any number of outputs (``(T1 + T2 - T3) / 2``), a dropped
record, a re-run with another suppression pattern, linked tables sharing a margin, one
school moved between tables by a recode, a small group spread over many atoms, and any
mix of counts, sums, means and summaries. What the new output gives away *on its own*
is the single-table check's to judge. Not covered: groups outside the families above
(an interval on part of a pinned difference, say), integer reasoning, and values other
than counts, sums and squares (percentile values, regression coefficients; see
``docs/sdc.md``).

Reduction. Only cells linked to the new output through shared atoms (its connected
components) can change what is known, so only those are solved; each space on its own;
a component whose new cells follow from the earlier ones is skipped. Components with
more atoms than ``atom_limit`` are not solved: the output fails with a reason (refusing
more, never less); so does one whose programmes exceed the policy's time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cohortsafe.sdc._atoms import (
    Atoms,
    independent_rows,
    ledger_rows,
    new_rows,
    output_wholes,
    owner_sets,
    refine,
    repeats_rows,
    school_shares,
    single_owner_unions,
)
from cohortsafe.sdc._attacker import Attacker, OutOfTime
from cohortsafe.sdc._cellstats import BoolArray, FloatArray
from cohortsafe.sdc._group_sets import GroupSet, pieces_of
from cohortsafe.sdc._ledger import Ledger
from cohortsafe.sdc._ledger_types import Entry, Space
from cohortsafe.sdc._policy import Policy
from cohortsafe.sdc.rules import SecondarySuppression

__all__ = ["ATOM_LIMIT", "CombinedResult", "combined_check"]

ATOM_LIMIT = 5_000
#: the most groups the closure of released cells under nested differences may reach
NESTED_LIMIT = 100_000
_NEW = 0  # the new output's number among the ledger's (which start at 1)
_DERIVED = -1  # a group the check derived: known, of no output
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


def _sensitive(stats: Atoms, policy: Policy) -> BoolArray:
    small = np.zeros(stats.total.size, bool)
    if policy.min_pupils is not None:
        small |= stats.pupils < policy.min_pupils.threshold
    if policy.min_schools is not None:
        small |= stats.schools < policy.min_schools.threshold
    return small | _dominated(stats.top1, stats.top2, policy)


def _dominated(top1: FloatArray, top2: FloatArray, policy: Policy) -> BoolArray:
    """Groups where the largest school, or the two largest, hold more than
    ``school_dominance`` allows (of the value or of the pupils)."""
    out = np.zeros(top1.size, bool)
    if policy.school_dominance is not None:
        for n, limit in policy.school_dominance.limits:
            if n in (1, 2):
                out |= (top1 if n == 1 else top2) > limit
    return out


def _bits(cells: sp.csr_array) -> list[int]:
    """Each row's atoms as the bits of one integer (cheap subset tests)."""
    found = []
    for r in range(cells.shape[0]):
        chosen = slice(cells.indptr[r], cells.indptr[r + 1])
        bits = 0
        for a in cells.indices[chosen][cells.data[chosen] > 0].tolist():
            bits |= 1 << a
        found.append(bits)
    return found


def _nested_differences(
    earlier: sp.csr_array,
    outputs: np.ndarray,
    new: sp.csr_array,
    limit: int,
    weights: FloatArray,
    worth: Callable[[FloatArray], BoolArray],
) -> GroupSet | None:
    """Groups whose totals follow from the new cells by subtracting nested known ones,
    of those that ``worth`` keeps (it sees their sums of ``weights``, as in
    :func:`pieces_of`).

    Released cells are known; when one lies within another, the rest of the larger is
    known too, and so on (all records less one output's whole, less a cell of a third
    output). Followed one by one, the subtractions of k disjoint cells from one known
    set give 2^k groups; but each of those is the *residual* (the set less all of
    them) joined with some of the cells, and a union of disjoint groups that each pass
    the rules passes them too (shares and counts add up). So from each known set
    reached from a new cell this follows the differences with every known set around it
    and every residual (less the most disjoint cells of one output, or of all), and
    judges, without following further, each single difference with a set inside it.
    Chains among earlier cells alone are the ledger's, not the new output's. None when
    they reach more than ``limit`` groups (the caller refuses).
    """
    known: dict[int, int] = {}
    sums: dict[int, FloatArray] = {}
    earlier_sums = sp.csr_array(earlier > 0, dtype=np.float64) @ weights
    for bits, output, row in zip(_bits(earlier), outputs.tolist(), earlier_sums, strict=True):
        if bits:
            known.setdefault(bits, int(output))
            sums.setdefault(bits, row)
    new_sums = sp.csr_array(new > 0, dtype=np.float64) @ weights
    frontier = []
    for bits, row in zip(_bits(new), new_sums, strict=True):
        if bits and bits not in known:
            known[bits] = _NEW
            sums[bits] = row
            frontier.append(bits)
    # a known set less a new cell inside it is followed; a known set less a derived
    # group is the earlier difference joined with the derived group's parts
    fresh = set(frontier)
    judged: dict[int, FloatArray] = {}
    derived: list[int] = []

    def derive(bits: int, row: FloatArray, into: list[int]) -> None:
        known[bits] = _DERIVED
        sums[bits] = row
        into.append(bits)

    while frontier:
        grown: list[int] = []
        # what this step finds is followed at the next, not within it (which would
        # subtract the new cells one by one again)
        before = list(known.items())
        for a in frontier:
            inside: dict[int, list[int]] = {}
            for b, output in before:
                common = a & b
                if b == a or common not in (a, b):
                    continue
                if common == b:
                    inside.setdefault(output, []).append(b)
                elif a in fresh and b ^ a not in known:
                    derive(b ^ a, sums[b] - sums[a], grown)
            families = [*inside.values(), [b for bs in inside.values() for b in bs]]
            taken: set[int] = set()
            for cells in families:
                rest, chosen = _residual(a, cells)
                taken |= chosen
                if rest and rest not in known:
                    derive(
                        rest,
                        sums[a] - sum((sums[b] for b in chosen), np.zeros(weights.shape[1])),
                        grown,
                    )
            # a less one set of a residual's family is the residual joined with the
            # family's other sets: judged through them; other single differences are
            # judged themselves
            for bs in inside.values():
                for b in bs:
                    if b not in taken:
                        judged.setdefault(a ^ b, sums[a] - sums[b])
            if len(judged) + len(derived) + len(grown) > limit:
                return None
        derived += grown
        frontier = grown
    for bits in derived:
        judged.setdefault(bits, sums[bits])
    chosen_bits = list(judged)
    if not chosen_bits:
        return GroupSet.of_integers([], new.shape[1])
    keep = worth(np.vstack([judged[b] for b in chosen_bits]))
    return GroupSet.of_integers(
        (b for b, k in zip(chosen_bits, keep.tolist(), strict=True) if k), new.shape[1]
    )


def _residual(whole: int, inside: list[int]) -> tuple[int, set[int]]:
    """``whole`` less as many of the disjoint sets ``inside`` it as a greedy choice,
    smallest first, takes; and the sets taken."""
    union, taken = 0, set()
    for bits in sorted(inside, key=int.bit_count):
        if not bits & union:
            union |= bits
            taken.add(bits)
    return whole & ~union, taken


def _few(
    pieces: list[np.ndarray],
    counts: np.ndarray,
    owners: Callable[[Sequence[int]], dict[int, frozenset[int]]],
    threshold: int,
) -> BoolArray:
    """Which pieces hold fewer than ``threshold`` distinct owners (pupils or schools).

    Every atom of such a piece has fewer itself, so only those atoms' owners are read;
    the union stops growing at the threshold."""
    out = np.zeros(len(pieces), bool)
    if threshold <= 0:
        return out
    possible = [i for i, p in enumerate(pieces) if (counts[p] < threshold).all()]
    sets = owners(sorted({int(a) for i in possible for a in pieces[i]}))
    for i in possible:
        union: set[int] = set()
        for a in pieces[i].tolist():
            union |= sets.get(a, frozenset())
            if len(union) >= threshold:
                break
        out[i] = len(union) < threshold
    return out


def _sensitive_groups(
    candidates: GroupSet, atoms: Atoms, ledger: Ledger, policy: Policy
) -> list[np.ndarray]:
    """The candidate groups with too few pupils or schools, or dominated by a school.

    Most candidates are large: only a group whose every atom is small can have too few
    owners, and only one whose bound on a school's share (the sum over its atoms of
    their largest schools' parts) exceeds the limit can be dominated, so only those are
    read from the members."""
    few = np.zeros(len(candidates), bool)
    rules = [("p", atoms.pupils, policy.min_pupils), ("s", atoms.schools, policy.min_schools)]
    for column, counts, rule in rules:
        if rule is None:
            continue
        possible = np.flatnonzero(candidates.within(counts < rule.threshold))
        found = _few(
            candidates.atoms(possible),
            counts,
            partial(owner_sets, ledger.con, column),
            rule.threshold,
        )
        few[possible[found]] = True
    dominated = np.zeros(len(candidates), bool)
    if policy.school_dominance is not None and len(candidates):
        maybe = np.flatnonzero(_maybe_dominated(candidates.sums(atoms.school_parts), policy) & ~few)
        if maybe.size:
            exact = school_shares(ledger.con, candidates.atoms(maybe), atoms.size)
            dominated[maybe[_dominated(*exact, policy)]] = True
    return candidates.atoms(np.flatnonzero(few | dominated))


def _maybe_dominated(parts: FloatArray, policy: Policy) -> BoolArray:
    """Groups whose bound on a school's share (``parts``: per group, the sums of
    :attr:`Atoms.school_parts` over its atoms) passes the dominance limit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(parts[:, 2] > 0, 100.0 / parts[:, 2], 0.0)
        pupils = np.where(parts[:, 5] > 0, 100.0 / parts[:, 5], 0.0)
    # sums in single precision, or by subtraction: widen the bounds past their rounding
    widen = 1.0 + 1e-4
    top1 = widen * np.maximum(parts[:, 0] * value, parts[:, 3] * pupils)
    top2 = widen * np.maximum(parts[:, 1] * value, parts[:, 4] * pupils)
    return _dominated(top1, top2, policy)


def _screen(atoms: Atoms, policy: Policy) -> tuple[FloatArray, Callable[[FloatArray], BoolArray]]:
    """Per atom the columns whose sums over a group tell whether it is worth reading
    from the members, and the test on those sums: more than one atom, and no atom
    large enough to give it the pupils or schools the rules ask, or a bound on a
    school's share past the limit."""
    pupils = policy.min_pupils.threshold if policy.min_pupils is not None else 0
    schools = policy.min_schools.threshold if policy.min_schools is not None else 0
    weights = np.column_stack(
        [
            np.ones(atoms.size),
            (atoms.pupils >= pupils).astype(np.float64),
            (atoms.schools >= schools).astype(np.float64),
            atoms.school_parts,
        ]
    )

    def worth(sums: FloatArray) -> BoolArray:
        out = np.zeros(sums.shape[0], bool)
        if policy.min_pupils is not None:
            out |= sums[:, 1] < 0.5
        if policy.min_schools is not None:
            out |= sums[:, 2] < 0.5
        if policy.school_dominance is not None:
            out |= _maybe_dominated(sums[:, 3:], policy)
        return out & (sums[:, 0] > 1.5)

    return weights, worth


def _equations_of(matrix: sp.csr_array) -> list[bytes]:
    """Per atom (column), the equations (rows) it lies in, as a hashable key: atoms with
    equal keys are twins."""
    columns = sp.csc_array(matrix)
    return [
        columns.indices[columns.indptr[a] : columns.indptr[a + 1]].tobytes()
        for a in range(matrix.shape[1])
    ]


def _twin_protected(
    matrix: sp.csr_array,
    totals: FloatArray,
    groups: list[np.ndarray],
    upper: FloatArray,
    lower: FloatArray,
    nonnegative: bool,
) -> BoolArray:
    """Groups protected by *twins*: atoms in exactly the same equations.

    Moving value between twins changes no equation. A group rises by what twins
    outside it can give to atoms inside, and falls by what atoms inside can give to
    twins outside (twins can rise without bound). This settles most groups of fine
    partitions without a linear programme; the rest go to HiGHS. An atom in no
    equation is free.
    """
    keys = _equations_of(matrix)
    signature: dict[bytes, list[int]] = {}
    for a, key in enumerate(keys):
        signature.setdefault(key, []).append(a)
    protected = np.zeros(len(groups), bool)
    for g, atoms in enumerate(groups):
        inside = set(atoms.tolist())
        if any(not keys[a] for a in inside):
            protected[g] = True
            continue
        rise = fall = 0.0
        for key in {keys[a] for a in inside}:
            members = signature[key]
            outside = [b for b in members if b not in inside]
            if outside:
                rise += float(totals[outside].sum()) if nonnegative else float("inf")
                fall += float(totals[[a for a in members if a in inside]].sum())
        protected[g] = rise >= upper[g] - _TOL * max(1.0, upper[g]) and fall >= lower[
            g
        ] - _TOL * max(1.0, lower[g])
    return protected


def _unprotected(
    matrix: sp.csr_array,
    values: FloatArray,
    totals: FloatArray,
    groups: list[np.ndarray],
    upper: FloatArray,
    lower: FloatArray,
    nonnegative: bool,
    deadline: float,
) -> set[int]:
    """Groups (unions of atom columns) whose proven interval misses ``value ± level``."""
    if not groups or values.size == 0:
        return set()
    settled = _twin_protected(matrix, totals, groups, upper, lower, nonnegative)
    todo = [g for g in range(len(groups)) if not settled[g]]
    if not todo:
        return set()
    n_atoms, n_cells, n_groups = totals.size, values.size, len(todo)
    # variables: atoms (unknown), released cells (published), groups (unknown); each
    # cell and each group equals the sum of its atoms
    membership = sp.csr_array(
        (
            np.ones(sum(groups[g].size for g in todo)),
            (
                np.repeat(np.arange(n_groups), [groups[g].size for g in todo]),
                np.concatenate([groups[g] for g in todo]),
            ),
        ),
        shape=(n_groups, n_atoms),
    )
    equations = sp.bmat(
        [
            [-matrix, sp.identity(n_cells), None],
            [-membership, None, sp.identity(n_groups)],
        ],
        format="csr",
    )
    group_totals = membership @ totals
    everything = np.concatenate([totals, values, group_totals])
    infinite = np.full(n_atoms, np.inf)
    low = np.concatenate(
        [np.zeros(n_atoms) if nonnegative else -infinite, values, np.full(n_groups, -np.inf)]
    )
    high = np.concatenate([infinite, values, np.full(n_groups, np.inf)])
    attacker = Attacker(equations, everything, low, high)
    attacker.deadline = deadline
    unknown = np.ones(everything.size, bool)
    unknown[n_atoms : n_atoms + n_cells] = False
    found: set[int] = set()
    variable = {n_atoms + n_cells + k: g for k, g in enumerate(todo)}
    for component in attacker.components(unknown):
        mine = [int(c) for c in component.cells if int(c) in variable]
        if not mine:
            continue
        # one programme moving many groups at once settles most; the rest are
        # solved one by one
        targets = [
            (c, d, upper[variable[c]] if d > 0 else lower[variable[c]])
            for c in mine
            for d in (-1, +1)
        ]
        open_targets = [
            t for t, done in zip(targets, component.witness(targets), strict=True) if not done
        ]
        reaches = component.reach_many([(c, d) for c, d, _ in open_targets])
        for (cell, _, level), reach in zip(open_targets, reaches, strict=True):
            if reach.deviation < level - _TOL * max(1.0, level):
                found.add(variable[cell])
    return found


def _too_many(atoms: int, limit: int) -> str:
    return (
        f"combined check: the output and earlier outputs split the records into {atoms} "
        f"groups, more than the check solves ({limit}); publish fewer or coarser cells"
    )


def _space_check(
    ledger: Ledger, entry: Entry, space: Space, policy: Policy, atom_limit: int
) -> tuple[list[str], set[int], int]:
    mine = [c for c in entry.cells if c.space == space and c.released]
    with ledger.registered(entry):
        atoms = refine(ledger.con, space)
        shown, shown_outputs, _ = ledger_rows(ledger.con, space, atoms, released=True)
        if shown.shape[0] and repeats_rows(shown, mine, atoms):
            # every new cell is a sum of cells released before: nothing new is known
            # (each component would be skipped below; this skips the work before it)
            return [], set(), 0
        old, old_outputs, _ = ledger_rows(ledger.con, space, atoms)
        every, _, _ = ledger_rows(ledger.con, space, atoms, every=True)
        wholes = output_wholes(ledger.con, space, atoms)
    fresh = new_rows(mine, atoms)
    named = new_rows([c for c in entry.cells if c.space == space and not c.released], atoms)
    matrix = sp.csr_array(sp.vstack([old, fresh], format="csr"))
    outputs = np.concatenate([old_outputs, np.full(len(mine), _NEW, np.int64)])
    n_cells = matrix.shape[0]
    if n_cells == 0 or atoms.size == 0 or old.shape[0] == 0:
        return [], set(), 0
    graph = sp.bmat([[None, matrix], [matrix.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    cell_labels, atom_labels = labels[:n_cells], labels[n_cells:]
    touched = np.isin(atom_labels, np.unique(cell_labels[outputs == _NEW]))
    if int(touched.sum()) > atom_limit:
        # refuse before any work that grows with the atoms
        return (
            [_too_many(int(touched.sum()), atom_limit)],
            {int(o) for o in np.unique(outputs[np.isin(cell_labels, atom_labels[touched])])}
            - {_NEW},
            0,
        )
    levels = policy.secondary_suppression or SecondarySuppression()
    # a sum of values in [0, 1] is protected as a count, as in a single table
    counts = space == "count" or (space == "sum" and atoms.lowest >= 0.0 and atoms.highest <= 1.0)
    nonnegative = atoms.lowest >= 0
    deadline = time.monotonic() + levels.time_limit_seconds
    # the groups to judge: sensitive atoms, and sensitive pieces of new and earlier cells
    # each output's whole population counts as a cell here: with every cell released it
    # is known, margins or not
    whole_new = sp.csr_array((atoms.part >= 0).astype(np.float64)[None, :])
    # and everything released so far, of which any cell's complement can be named
    universe = sp.csr_array(np.ones((1, atoms.size)))
    weights, worth = _screen(atoms, policy)
    candidates = pieces_of(
        sp.csr_array(sp.vstack([fresh, named, whole_new, universe])),
        sp.csr_array(sp.vstack([every, wholes, universe])),
        weights,
        worth,
    )
    # and every pupil and school whose records make up whole atoms (a pupil's score, a
    # school's figure), when those are more than one atom
    extra = [np.array(u) for column in ("p", "s") for u in single_owner_unions(ledger.con, column)]
    # and what subtracting nested released cells gives, step after step
    derived = _nested_differences(shown, shown_outputs, fresh, NESTED_LIMIT, weights, worth)
    if derived is None:
        return (
            [
                "combined check: the released cells nest into more groups than the check "
                f"follows ({NESTED_LIMIT}); publish fewer or coarser cells"
            ],
            {int(o) for o in np.unique(old_outputs)},
            0,
        )
    # twins (atoms in the same released cells) are one group to the attacker: the
    # suppressed cells that tell them apart are unknown to it
    twins: dict[bytes, list[int]] = {}
    for a, key in enumerate(_equations_of(matrix)):
        twins.setdefault(key, []).append(a)
    extra += [np.array(t) for key, t in twins.items() if key and len(t) > 1]
    candidates = candidates | derived | GroupSet.of(extra, atoms.size)
    groups = [np.array([a]) for a in np.flatnonzero(_sensitive(atoms, policy))]
    groups += _sensitive_groups(candidates, atoms, ledger, policy)
    if not groups:
        return [], set(), 0
    totals = np.array([float(atoms.total[g].sum()) for g in groups])
    upper, lower = levels.levels(totals, count_table=counts)
    # a group may span components (pieces of whole outputs): its components are solved
    # together, so merge them
    n_labels = int(labels.max()) + 1
    links = [(int(atom_labels[g[0]]), int(atom_labels[a])) for g in groups for a in g[1:]]
    joined = sp.csr_array(
        (np.ones(len(links)), ([a for a, _ in links], [b for _, b in links])),
        shape=(n_labels, n_labels),
    )
    _, merged = connected_components(joined, directed=False)
    cell_labels, atom_labels = merged[cell_labels], merged[atom_labels]
    label_of = np.array([atom_labels[g[0]] for g in groups])
    reasons: list[str] = []
    involved: set[int] = set()
    checked = 0
    for label in np.unique(cell_labels[outputs == _NEW]).tolist():
        rows = np.flatnonzero(cell_labels == label)
        cols = np.flatnonzero(atom_labels == label)
        mine_groups = np.flatnonzero(label_of == label)
        if mine_groups.size == 0:
            continue
        earlier = {int(o) for o in outputs[rows] if o != _NEW}
        if not earlier:
            continue  # the new output alone: the single-table check's to judge
        checked += int(mine_groups.size)
        if cols.size > atom_limit:
            reasons.append(_too_many(int(cols.size), atom_limit))
            involved |= earlier
            continue
        local = sp.csr_array(matrix[rows][:, cols])
        is_new = outputs[rows] == _NEW
        if not independent_rows(
            sp.csr_array(local[np.flatnonzero(~is_new)]),
            sp.csr_array(local[np.flatnonzero(is_new)]),
        ).any():
            continue  # the new cells follow from the earlier ones: nothing new is known
        position = {int(a): i for i, a in enumerate(cols.tolist())}
        local_groups = [np.array([position[int(a)] for a in groups[g]]) for g in mine_groups]
        values = np.asarray(local @ atoms.total[cols], dtype=np.float64)
        args = (upper[mine_groups], lower[mine_groups], nonnegative)
        try:
            after = _unprotected(local, values, atoms.total[cols], local_groups, *args, deadline)
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
        # what the ledger alone or the new output alone already gives away is not this
        # combination's doing (an exception released earlier; the single-table check)
        suspects = sorted(after)
        blamed = set(suspects)
        for part in (is_new, ~is_new):
            keep = np.flatnonzero(part)
            before = _unprotected(
                sp.csr_array(local[keep]),
                values[keep],
                atoms.total[cols],
                [local_groups[g] for g in suspects],
                upper[mine_groups][suspects],
                lower[mine_groups][suspects],
                nonnegative,
                float("inf"),
            )
            blamed -= {suspects[k] for k in before}
        if blamed:
            single = all(local_groups[g].size == 1 for g in blamed)
            what = "a group" if single else "a group (pieces of a new and an earlier cell)"
            reasons.append(
                f"combined check: with earlier outputs this output determines the total of "
                f"{what} below the thresholds, or narrows it to within its protection interval"
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
