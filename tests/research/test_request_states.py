"""The request states' transition table: who may act in each state, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.errors import AccessError, ProjectError
from cohortsafe.research import FINAL, STATES, TRANSITIONS, require

SIDES = ("author", "checker", "system", "office")
ACTIONS = sorted({action for _, action in TRANSITIONS})


@pytest.mark.parametrize(("state", "action"), sorted(TRANSITIONS))
def test_only_the_owner_of_a_state_moves_it(state: str, action: str) -> None:
    owner, targets = TRANSITIONS[(state, action)]
    for target in targets:
        assert require(state, action, owner, target) == target
    for side in SIDES:
        if side != owner:
            with pytest.raises(AccessError):
                require(state, action, side, targets[0])


def test_what_the_table_does_not_name_cannot_happen() -> None:
    for state in STATES:
        for action in ACTIONS:
            if (state, action) not in TRANSITIONS:
                for side in SIDES:
                    with pytest.raises(ProjectError):
                        require(state, action, side, None)


def test_final_states_are_final_and_release_is_the_offices_alone() -> None:
    assert not [key for key in TRANSITIONS if key[0] in FINAL]
    releasing = [(key, v) for key, v in TRANSITIONS.items() if "released" in v[1]]
    assert releasing == [(("approved", "release"), ("office", ("released",)))]
    # the author never votes, approves or releases; a checker never submits or releases
    for (_, action), (owner, targets) in TRANSITIONS.items():
        if owner == "author":
            assert not {"approved", "released", "reviewed", "partially_reviewed"} & set(targets)
        if owner == "checker":
            assert action in ("vote", "reject")


_STEP = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(SIDES), st.integers(0, 1))


@given(st.lists(_STEP, max_size=40))
def test_every_path_through_the_table_reaches_release_only_by_approval(
    steps: list[tuple[str, str, int]],
) -> None:
    state, seen = "pending", ["pending"]
    for action, side, choice in steps:
        try:
            owner, targets = TRANSITIONS[(state, action)]
        except KeyError:
            with pytest.raises(ProjectError):
                require(state, action, side, None)
            continue
        if side != owner:
            with pytest.raises(AccessError):
                require(state, action, side, targets[0])
            continue
        state = require(state, action, side, targets[min(choice, len(targets) - 1)])
        seen.append(state)
    if "released" in seen:
        assert seen[seen.index("released") - 1] == "approved"
        assert "submitted" in seen
    if seen[-1] in FINAL:
        assert seen.count(seen[-1]) == 1


def test_every_state_is_reachable_and_release_only_from_approval() -> None:
    reached, paths = {"pending"}, {"pending": ["pending"]}
    frontier = ["pending"]
    while frontier:
        state = frontier.pop()
        for (source, _), (_, targets) in TRANSITIONS.items():
            if source != state:
                continue
            for target in targets:
                if target not in reached:
                    reached.add(target)
                    paths[target] = [*paths[state], target]
                    frontier.append(target)
    assert reached == set(STATES)
    assert paths["released"][-2] == "approved"
    assert "submitted" in paths["released"]
