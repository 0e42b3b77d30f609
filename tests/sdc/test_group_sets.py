"""Candidate groups as bit rows: nothing lost in deduplication, bounds that hold.

The combined check settles most candidate groups by the questions ``GroupSet``
answers in bulk; a group dropped as a duplicate or a share bound that undershoots would
let a sensitive group through unjudged.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortsafe.sdc._group_sets import GroupSet, _distinct, pieces_of

_matrices = st.integers(1, 40).flatmap(
    lambda atoms: st.lists(
        st.lists(st.booleans(), min_size=atoms, max_size=atoms), min_size=1, max_size=60
    )
)


@given(_matrices)
@settings(max_examples=300, deadline=None)
def test_distinct_keeps_exactly_one_of_each_row(rows: list[list[bool]]) -> None:
    packed = np.packbits(np.array(rows, bool), axis=1)
    kept = _distinct(np.vstack([packed, packed[::-1]]))
    assert sorted(r.tobytes() for r in kept) == sorted({r.tobytes() for r in packed})


@given(_matrices)
@settings(max_examples=200, deadline=None)
def test_a_group_set_answers_as_its_groups_do(rows: list[list[bool]]) -> None:
    bits = np.array(rows, bool)
    n_atoms = bits.shape[1]
    groups = [np.flatnonzero(r) for r in bits]
    found = GroupSet.of(groups, n_atoms)
    expected = {tuple(g.tolist()) for g in groups if g.size > 1}
    back = found.atoms(range(len(found)))
    assert {tuple(g.tolist()) for g in back} == expected
    allowed = np.arange(n_atoms) % 3 != 0
    weights = np.arange(2 * n_atoms, dtype=float).reshape(n_atoms, 2)
    sums = found.sums(weights)
    for k, g in enumerate(back):
        assert found.within(allowed)[k] == allowed[g].all()
        assert np.allclose(sums[k], weights[g].sum(axis=0))


@given(_matrices, _matrices)
@settings(max_examples=200, deadline=None)
def test_pieces_are_the_intersections_and_differences_of_overlapping_cells(
    new: list[list[bool]], old: list[list[bool]]
) -> None:
    import scipy.sparse as sp

    n_atoms = min(len(new[0]), len(old[0]))
    a = np.array(new, bool)[:, :n_atoms]
    b = np.array(old, bool)[:, :n_atoms]
    # the screen keeps pieces of more than one atom holding none of the "large" atoms
    large = np.arange(n_atoms) % 4 == 1
    expected = set()
    for x in a:
        for y in b:
            if (x & y).any():
                for piece in (x & y, x & ~y, y & ~x):
                    if piece.sum() > 1 and not (piece & large).any():
                        expected.add(tuple(np.flatnonzero(piece).tolist()))
    weights = np.column_stack([np.ones(n_atoms), large.astype(float)])
    found = pieces_of(
        sp.csr_array(a.astype(float)),
        sp.csr_array(b.astype(float)),
        weights,
        lambda sums: (sums[:, 0] > 1.5) & (sums[:, 1] < 0.5),
    )
    assert {tuple(g.tolist()) for g in found.atoms(range(len(found)))} == expected


@given(
    st.integers(1, 12).flatmap(
        lambda atoms: st.tuples(
            st.lists(
                st.lists(st.integers(0, 50), min_size=6, max_size=6),
                min_size=atoms,
                max_size=atoms,
            ),
            st.lists(st.lists(st.booleans(), min_size=atoms, max_size=atoms), min_size=1),
        )
    )
)
@settings(max_examples=300, deadline=None)
def test_summed_atom_parts_bound_every_schools_share_of_a_union(
    drawn: tuple[list[list[int]], list[list[bool]]],
) -> None:
    # value[a, s]: what school s holds of atom a (six schools)
    value = np.array(drawn[0], float)
    first = value.max(axis=1)
    two = np.sort(value, axis=1)[:, -2:].sum(axis=1)
    for row in drawn[1]:
        group = np.array(row, bool)
        whole = value[group].sum()
        if whole == 0:
            continue
        per_school = np.sort(value[group].sum(axis=0))[::-1]
        assert per_school[0] <= first[group].sum() + 1e-9
        assert per_school[:2].sum() <= two[group].sum() + 1e-9


@given(_matrices)
@settings(max_examples=200, deadline=None)
def test_groups_given_as_integers_are_the_groups_of_their_bits(rows: list[list[bool]]) -> None:
    n_atoms = len(rows[0])
    integers = [sum(1 << i for i, on in enumerate(r) if on) for r in rows]
    found = GroupSet.of_integers(integers, n_atoms)
    expected = GroupSet.of([np.flatnonzero(r) for r in np.array(rows, bool)], n_atoms)
    assert sorted(r.tobytes() for r in found.packed) == sorted(r.tobytes() for r in expected.packed)
