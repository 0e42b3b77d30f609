"""Trust (issue 11 item 6): distinct pupil and school columns, fixed columns, policy identity
and a floor an environment keeps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import cohortsafe.sdc as sdc
from cohortsafe.errors import PolicyError
from cohortsafe.sdc import Session, load_policy
from cohortsafe.sdc._policy import policy_from_toml
from cohortsafe.sdc._strictness import STRICTER
from cohortsafe.sdc.rules import RULES


def _data(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "pupil": [f"p{i}" for i in range(n)],
            "school": [f"s{i % 8}" for i in range(n)],
            "region": ["A", "B"] * (n // 2),
            "score": rng.normal(100, 10, n),
        }
    )


def test_the_pupil_column_cannot_also_be_the_school() -> None:
    df = _data()
    with pytest.raises(PolicyError, match="two distinct columns"):
        sdc.crosstab(df, "region", pupil="pupil", school="pupil")
    with pytest.raises(PolicyError, match="two distinct columns"):
        sdc.crosstab(df.assign(copy=df.pupil), "region", pupil="pupil", school="copy")
    with pytest.raises(PolicyError, match="two distinct columns"):
        Session(pupil="id", school="id")


def test_an_environment_that_fixes_the_columns_refuses_others() -> None:
    df = _data().assign(other=lambda d: d.school.str.upper())
    sess = Session(fixed_columns=True)
    with pytest.raises(PolicyError, match="record column"):
        sess.pivot_table(df, index="region")
    df["record"] = [f"r{i}" for i in range(len(df))]
    sess.pivot_table(df, index="region")
    with pytest.raises(PolicyError, match="fixes the pupil and school"):
        sess.pivot_table(df, index="region", school="other")
    with pytest.raises(PolicyError, match="fixes the pupil and school"):
        sess.describe(df, "score", pupil="school", school="pupil")
    with pytest.raises(PolicyError, match="fixes the pupil and school"):
        sess.crosstab(df.region, None, pupil=df.pupil, school=df.other, record=df.record)
    with pytest.raises(PolicyError, match="fixes the record column"):
        sess.crosstab(df.region, None, pupil=df.pupil, school=df.school)
    with pytest.raises(PolicyError, match="fixes the record column"):
        sess.crosstab(df.region, None, pupil=df.pupil, school=df.school, record=df.other)
    sess.crosstab(df.region, None, pupil=df.pupil, school=df.school, record=df.record)


def test_a_derived_policy_needs_its_own_name_and_reports_its_changes() -> None:
    loose = 'extends = "research"\n[nk_dominance]\nenabled = false\n'
    with pytest.raises(PolicyError, match="name of its own"):
        policy_from_toml(loose)
    with pytest.raises(PolicyError, match="needs a name of its own"):
        policy_from_toml('name = "research"\n' + loose)
    policy = policy_from_toml('name = "mine"\n' + loose)
    research = load_policy("research")
    assert policy.fingerprint != research.fingerprint
    assert policy.changes() == ["nk_dominance off (research: on)"]
    table = sdc.crosstab(_data(), "region", pupil="pupil", school="school", policy=policy)
    reported = table.to_dict()["policy"]
    assert reported == {
        "name": "mine",
        "fingerprint": policy.fingerprint,
        "base": "research",
        "changes": ["nk_dominance off (research: on)"],
    }
    assert f"policy mine (fingerprint {policy.fingerprint}), from research with" in (
        sdc.table_text(table)
    )


def test_an_exact_copy_of_a_shipped_policy_keeps_its_name_and_fingerprint() -> None:
    copy = dict(load_policy("research").as_dict())
    assert load_policy(copy).fingerprint == load_policy("research").fingerprint


@pytest.mark.parametrize(
    ("change", "loosens"),
    [
        ("[min_pupils]\nthreshold = 5\n", True),
        ("[min_pupils]\nthreshold = 20\n", False),
        ("[min_schools]\nenabled = false\n", True),
        ("[school_dominance]\nlimits = [[1, 60], [2, 67]]\n", True),
        ("[school_dominance]\nlimits = [[1, 40], [2, 60], [3, 80]]\n", False),
        ('[nk_dominance]\nunits = ["pupil"]\n', True),
        ('[zero_cells]\naction = "suppress"\n', False),
        ("[extremes]\nallowed = true\n", True),
        ("[secondary_suppression]\npercent = 10\n", True),
        ('[secondary_suppression]\ncost = "cells"\n', False),
        ("[percent_clip]\nlow = 3\n", False),  # research has no clipping: any is stricter
    ],
)
def test_a_floor_refuses_every_loosening_and_nothing_else(change: str, loosens: bool) -> None:
    policy = policy_from_toml('name = "mine"\nextends = "research"\n' + change)
    if loosens:
        with pytest.raises(PolicyError, match="looser than research"):
            Session(policy=policy, floor="research")
    else:
        Session(policy=policy, floor="research")


def test_every_parameter_of_every_rule_is_ranked() -> None:
    for name, rule in RULES.items():
        assert set(STRICTER[name]) == {f.name for f in dataclasses.fields(rule)}, name
