"""Policies: the shipped ones, TOML files of one's own, and documentation of every rule."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from pathlib import Path

import pytest

from cohortsafe.errors import PolicyError
from cohortsafe.sdc import POLICY_NAMES, Policy, load_policy
from cohortsafe.sdc._policy import policy_from_toml
from cohortsafe.sdc.rules import RULES, parameter_help

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sdc.md"


def test_research_policy_has_the_office_rules() -> None:
    policy = load_policy("research")
    assert policy.min_pupils is not None
    assert policy.min_pupils.threshold == 10
    assert policy.min_schools is not None
    assert policy.min_schools.threshold == 3
    assert policy.school_dominance is not None
    assert policy.school_dominance.limits == ((1, 50.0), (2, 67.0))
    assert policy.nk_dominance is not None
    assert (policy.nk_dominance.n, policy.nk_dominance.k) == (2, 90.0)
    assert policy.p_percent is not None
    assert policy.p_percent.p == 10.0
    assert policy.zero_cells is not None
    assert policy.zero_cells.action == "review"
    assert policy.single_value is not None
    assert policy.single_value.action == "review"
    assert policy.extremes is not None
    assert not policy.extremes.allowed
    assert policy.percentiles is not None
    assert policy.percentiles.min_pupils_each_side == 10
    assert policy.residual_df is not None
    assert policy.residual_df.minimum == 10
    assert policy.percent_clip is None
    assert policy.withhold is None


def test_school_report_policy() -> None:
    policy = load_policy("school_report")
    assert policy.min_pupils is not None
    assert policy.min_pupils.threshold == 5
    assert policy.percent_clip is not None
    assert (policy.percent_clip.low, policy.percent_clip.high) == (5.0, 95.0)
    assert policy.withhold is not None
    assert policy.min_schools is None
    assert policy.school_dominance is None


def test_shipped_policies_load_through_the_file_loader(tmp_path: Path) -> None:
    for name in POLICY_NAMES:
        text = resources.files("cohortsafe.sdc").joinpath("policies", f"{name}.toml").read_text()
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        assert load_policy(path) == load_policy(name)


def test_a_policy_file_can_extend_a_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(
        'extends = "research"\nname = "strict"\n[min_pupils]\nthreshold = 20\n'
        "[single_value]\nenabled = false\n"
    )
    policy = load_policy(path)
    assert policy.name == "strict"
    assert policy.min_pupils is not None
    assert policy.min_pupils.threshold == 20
    assert policy.single_value is None
    assert policy.school_dominance == load_policy("research").school_dominance


def test_a_policy_without_extends_must_name_every_rule() -> None:
    with pytest.raises(PolicyError, match="section \\[min_schools\\] is missing"):
        policy_from_toml("[min_pupils]\nthreshold = 10\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('extends = "research"\n[min_pupil]\nthreshold = 10\n', "unknown section"),
        ('extends = "research"\n[min_pupils]\nthreshhold = 10\n', "unknown parameter"),
        ('extends = "research"\n[min_pupils]\nthreshold = "ten"\n', "whole number"),
        ('extends = "research"\n[min_pupils]\nthreshold = 0\n', "at least 1"),
        ('extends = "research"\n[nk_dominance]\nk = 120\n', "at most 100"),
        ('extends = "research"\n[zero_cells]\naction = "ignore"\n', "one of"),
        ('extends = "research"\n[p_percent]\nunits = ["class"]\n', "units"),
        ('extends = "research"\n[school_dominance]\nlimits = [[1]]\n', "pairs"),
        ('extends = "research"\n[min_pupils]\nenabled = "no"\n', "true or false"),
        ('extends = "nonsense"\n', "shipped policy"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_malformed_policies_are_refused(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_from_toml(text)


def test_unknown_policy_name() -> None:
    with pytest.raises(PolicyError, match="no policy named"):
        load_policy("lenient")


def test_policy_is_a_frozen_value() -> None:
    policy = load_policy()
    assert isinstance(policy, Policy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.name = "other"  # type: ignore[misc]


def test_every_rule_parameter_has_help_text() -> None:
    for name, rule in RULES.items():
        for parameter, text in parameter_help(rule).items():
            assert text.strip(), f"{name}.{parameter} has no help text"


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^### `([a-z_]+)`\s*$", markdown, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_rule_and_parameter_is_documented_in_docs() -> None:
    sections = _sections(DOCS.read_text(encoding="utf-8"))
    missing = []
    for name, rule in RULES.items():
        if name not in sections:
            missing.append(name)
            continue
        for parameter in parameter_help(rule):
            if f"`{parameter}`" not in sections[name]:
                missing.append(f"{name}.{parameter}")
    assert missing == []


def test_the_documentation_test_can_fail() -> None:
    assert "made_up_rule" not in _sections("### `min_pupils`\n`threshold`\n")
