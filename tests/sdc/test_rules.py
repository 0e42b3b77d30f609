"""Every cell rule at and around its boundary, directly and through whole tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cohortsafe.sdc import crosstab, load_policy
from cohortsafe.sdc._cellstats import CellStats
from cohortsafe.sdc._policy import policy_from_toml
from cohortsafe.sdc.rules import (
    MinPupils,
    MinSchools,
    NkDominance,
    PPercent,
    SchoolDominance,
    SingleValue,
    ZeroCells,
)

from ._data import background, frame, pupils_in, spread

# --- the rules on their own ------------------------------------------------------


def _flags(rule: Any, stats: CellStats) -> list[list[bool]]:
    return [finding.cells.tolist() for finding in rule.evaluate(stats)]


def test_min_pupils_boundary() -> None:
    stats = CellStats.example(pupils=[0, 1, 9, 10, 11])
    assert _flags(MinPupils(10), stats) == [[False, True, True, False, False]]


def test_min_schools_boundary() -> None:
    stats = CellStats.example(pupils=[30, 30, 30, 0], schools=[1, 2, 3, 0])
    assert _flags(MinSchools(3), stats) == [[True, True, False, False]]


def test_school_dominance_boundaries() -> None:
    stats = CellStats.example(
        pupils=[100, 100, 100, 100],
        schools=[6, 8, 5, 5],
        school_top=[
            [50, 10, 10, 10, 10, 10],
            [51, 7, 7, 7, 7, 7, 7, 7],
            [34, 33, 11, 11, 11],
            [34, 34, 11, 11, 10],
        ],
    )
    one, two = _flags(SchoolDominance(), stats)
    assert one == [False, True, False, False]  # 50 % passes, 51 % does not
    assert two == [False, False, False, True]  # 67 % passes, 68 % does not


def test_nk_dominance_boundary() -> None:
    stats = CellStats.example(
        pupils=[10, 10],
        aggregate="sum",
        pupil_values=[[450, 450, *[12.5] * 8], [450, 451, *[12.375] * 8]],
        school_values=[[100] * 10, [100] * 10],
    )
    assert _flags(NkDominance(units=("pupil",)), stats) == [[False, True]]
    assert _flags(NkDominance(units=("school",)), stats) == [[False, False]]


def test_p_percent_boundary() -> None:
    stats = CellStats.example(
        pupils=[10, 10],
        aggregate="mean",
        pupil_values=[[100, 50, *[1.25] * 8], [100, 50, *[1.1875] * 8]],
    )
    # the rest equal to p % of the largest passes; just below it does not
    assert _flags(PPercent(p=10.0, units=("pupil",)), stats) == [[False, True]]


def test_p_percent_one_or_two_contributors_always_fail() -> None:
    stats = CellStats.example(pupils=[1, 2], aggregate="sum", pupil_values=[[5.0], [5.0, 3.0]])
    assert _flags(PPercent(units=("pupil",)), stats) == [[True, True]]


def test_magnitude_rules_skip_count_tables() -> None:
    stats = CellStats.example(pupils=[1], pupil_values=[[5.0]])
    assert NkDominance().evaluate(stats) == []
    assert PPercent().evaluate(stats) == []
    assert SingleValue().evaluate(stats) == []


def test_zero_cells_action() -> None:
    stats = CellStats.example(pupils=[0, 12])
    (finding,) = ZeroCells(action="suppress").evaluate(stats)
    assert finding.action == "suppress"
    assert finding.cells.tolist() == [True, False]


# --- through whole tables: string- and number-coded categories --------------------

LABELS = {
    "text": ("small", "large"),
    "number": (3, 7),
    "float": (0.5, 2.5),
}


def _one_cell(small: list[dict[str, Any]], large: Any) -> pd.DataFrame:
    return frame(small + background("group", large))


def _status(table: Any, label: Any) -> tuple[str, tuple[str, ...]]:
    cell = table.cell(group=label)
    return cell.status, cell.reasons


@pytest.mark.parametrize("coding", sorted(LABELS))
@pytest.mark.parametrize(
    ("schools", "expected"),
    [
        (spread(9, 5), ["min_pupils: fewer than 10 pupils"]),
        (spread(10, 5), []),
        (
            [15, 15],
            [
                "min_schools: fewer than 3 schools",
                "school_dominance: two schools hold more than 67% of the pupils",
            ],
        ),
        ([10, 10, 10], []),
        ([50, *[10] * 5], []),
        ([51, *[7] * 7], ["school_dominance: one school holds more than 50% of the pupils"]),
        ([34, 33, 11, 11, 11], []),
        ([34, 34, 11, 11, 10], ["school_dominance: two schools hold more than 67% of the pupils"]),
    ],
)
def test_frequency_rules_on_tables(coding: str, schools: list[int], expected: list[str]) -> None:
    small, large = LABELS[coding]
    data = _one_cell(pupils_in({"group": small}, schools), large)
    table = crosstab(data, "group", pupil="pupil", school="school")
    status, reasons = _status(table, small)
    assert list(reasons) == expected
    assert status == ("primary" if expected else "ok")
    if expected:
        # the primary cell cannot be read off the total: something else is suppressed
        assert table.counts["secondary"] >= 1
        assert table.cell(group=small).value is None


def test_pupils_are_counted_distinct() -> None:
    rows = pupils_in({"group": "a"}, spread(9, 5))
    repeated = [dict(row) for row in rows] + [dict(row) for row in rows]
    data = frame(repeated + background("group", "b"))
    table = crosstab(data, "group", pupil="pupil", school="school")
    # 18 results of 9 pupils: still fewer than 10 pupils
    assert table.cell(group="a").status == "primary"


def test_nk_and_p_percent_on_a_mean_table() -> None:
    # one pupil per school: school dominance on the value would flag both cells too
    policy = policy_from_toml(
        'name = "custom"\nextends = "research"\n[school_dominance]\nenabled = false\n'
    )
    nk_only = pupils_in({"group": "nk"}, [1] * 10, scores=[450, 451, *[12.375] * 8])
    passing = pupils_in({"group": "ok"}, [1] * 10, scores=[450, 450, *[12.5] * 8])
    rest = background("group", "zz")
    for row in rest:
        row["score"] = 200.0
    table = crosstab(
        frame(nk_only + passing + rest),
        "group",
        pupil="pupil",
        school="school",
        values="score",
        aggfunc="mean",
        policy=policy,
    )
    assert table.cell(group="ok").status != "primary"  # it may protect "nk" as secondary
    reasons = table.cell(group="nk").reasons
    assert (
        "nk_dominance: the 2 largest pupils contribute more than 90% of the cell total" in reasons
    )
    assert not any(r.startswith("p_percent") for r in reasons)


def test_p_percent_through_a_table_without_nk() -> None:
    policy = policy_from_toml(
        'name = "custom"\nextends = "research"\n[nk_dominance]\nenabled = false\n'
        "[school_dominance]\nenabled = false\n"  # one pupil per school, as above
    )
    at = pupils_in({"group": "at"}, [1] * 10, scores=[100, 50, *[1.25] * 8])
    below = pupils_in({"group": "below"}, [1] * 10, scores=[100, 50, *[1.1875] * 8])
    rest = background("group", "zz")
    for row in rest:
        row["score"] = 200.0
    table = crosstab(
        frame(at + below + rest),
        "group",
        pupil="pupil",
        school="school",
        values="score",
        aggfunc="sum",
        policy=policy,
    )
    assert table.cell(group="at").status != "primary"
    assert table.cell(group="below").reasons == (
        "p_percent: the second-largest pupil could estimate the largest pupil's contribution "
        "to within 10%",
        "p_percent: the second-largest school could estimate the largest school's "
        "contribution to within 10%",
    )


def test_school_contributions_dominate_a_magnitude_cell() -> None:
    # 30 pupils over 6 schools (no frequency rule fires), but two schools hold the value
    rows = pupils_in({"group": "a"}, [5] * 6, scores=[500.0] * 10 + [1.0] * 20)
    rest = background("group", "b")
    for row in rest:
        row["score"] = 200.0
    table = crosstab(
        frame(rows + rest), "group", pupil="pupil", school="school", values="score", aggfunc="mean"
    )
    reasons = table.cell(group="a").reasons
    assert (
        "nk_dominance: the 2 largest schools contribute more than 90% of the cell total" in reasons
    )
    assert "nk_dominance: the 2 largest pupils contribute more than 90% of the cell total" not in (
        reasons
    )


def test_zero_cells_are_flagged_for_review() -> None:
    rows = background("region", "N") + background("region", "S")
    for row in rows:
        row["domain"] = "lezen" if row["region"] == "N" else "rekenen"
    rows += pupils_in({"region": "N", "domain": "rekenen"}, spread(40, 8))
    table = crosstab(frame(rows), "region", "domain", pupil="pupil", school="school")
    empty = table.cell(region="S", domain="lezen")
    assert empty.value == 0
    assert empty.status == "ok"
    assert empty.review == ("zero_cells: no pupils in this cell",)
    assert table.outcome == "review"


def test_single_value_cells_are_flagged_for_review() -> None:
    same = pupils_in({"group": "same"}, spread(12, 6), scores=[180.0] * 12)
    rest = background("group", "other")
    for i, row in enumerate(rest):
        row["score"] = 150.0 + i % 50
    table = crosstab(
        frame(same + rest), "group", pupil="pupil", school="school", values="score", aggfunc="mean"
    )
    assert table.cell(group="same").review == (
        "single_value: every pupil in the cell has the same value",
    )
    assert table.cell(group="same").status == "ok"


def test_margins_are_checked_from_the_microdata() -> None:
    # each region has 6 pupils in its own 2 schools... but the domain total of a
    # region is a cell of its own: counted from the microdata, not by adding up
    rows = []
    for region in ("N", "S"):
        for domain in ("lezen", "rekenen"):
            rows += pupils_in(
                {"region": region, "domain": domain}, spread(30, 6), school_prefix=f"{region}"
            )
    table = crosstab(frame(rows), "region", "domain", pupil="pupil", school="school")
    # within a region the same 6 schools hold all pupils: 60 pupils over 6 schools
    assert table.cell(region="N", domain="All").status == "ok"
    assert table.cell(region="All", domain="All").value == 120


def test_policy_without_rules_suppresses_nothing() -> None:
    policy = load_policy("research")
    stats = CellStats.example(pupils=[1])
    assert any(rule.evaluate(stats)[0].cells[0] for rule in (policy.min_pupils,) if rule)
    assert np.asarray(MinPupils(1).evaluate(stats)[0].cells).tolist() == [False]
