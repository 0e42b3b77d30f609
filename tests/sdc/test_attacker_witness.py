"""The attacker's witness programme: a target it calls reached is reached.

The combined check lets one programme settle many groups; a target called reached
that the exact programme of that target does not reach would let a group through.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortsafe.sdc._attacker import Component


@st.composite
def _components(draw: st.DrawFn) -> tuple[Component, list[tuple[int, int, float]]]:
    size = draw(st.integers(2, 9))
    rows = draw(st.integers(0, 4))
    entries = draw(
        st.lists(
            st.lists(st.sampled_from([-1.0, 0.0, 0.0, 1.0]), min_size=size, max_size=size),
            min_size=rows,
            max_size=rows,
        )
    )
    values = np.array(draw(st.lists(st.integers(0, 30), min_size=size, max_size=size)), float)
    matrix = sp.csr_array(np.array(entries, float).reshape(rows, size))
    low = -values  # non-negative cells: each can fall by its value
    high = np.where(
        np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))), 20.0, np.inf
    )
    component = Component(np.arange(size), np.arange(rows), matrix, low, high)
    targets = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.sampled_from([-1, 1]), st.integers(0, 25)),
            min_size=1,
            max_size=8,
        )
    )
    return component, [(c, d, float(level)) for c, d, level in targets]


@given(_components())
@settings(max_examples=300, deadline=None)
def test_a_target_the_witness_reaches_the_exact_programme_reaches(
    drawn: tuple[Component, list[tuple[int, int, float]]],
) -> None:
    component, targets = drawn
    reached = component.witness(targets)
    exact = component.reach_many([(c, d) for c, d, _ in targets])
    for (_, _, level), hit, reach in zip(targets, reached.tolist(), exact, strict=True):
        if hit:
            assert reach.deviation >= level - 1e-6 * max(1.0, level)


def test_one_witness_settles_targets_that_move_together() -> None:
    # a + b = 10 published: a up by 3 is b down by 3; both targets at once
    matrix = sp.csr_array(np.array([[1.0, 1.0]]))
    component = Component(
        np.arange(2), np.arange(1), matrix, np.array([-4.0, -6.0]), np.full(2, np.inf)
    )
    assert component.witness([(0, 1, 3.0), (1, -1, 3.0)]).all()
    # a cannot fall by more than its value (4)
    assert not component.witness([(0, -1, 5.0)]).any()
