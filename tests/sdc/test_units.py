"""Rules count the right units (issue 11 item 5): records, values and 0/1 sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cohortsafe.sdc as sdc


def _rows(region: str, pupils: int, records: int, school: str, score: float = 1.0) -> list[dict]:
    start = sum(len(r) for r in _made)
    rows = [
        {
            "region": region,
            "pupil": f"{region}{school}p{start + i}",
            "school": school,
            "score": score,
        }
        for i in range(pupils)
        for _ in range(records)
    ]
    _made.append(rows)
    return rows


_made: list[list[dict]] = []


def _spread(region: str, pupils: int, records: int, schools: int = 5) -> list[dict]:
    rows = []
    for k in range(schools):
        rows += _rows(region, pupils // schools, records, f"{region}s{k}")
    return rows


def test_a_count_of_records_mostly_one_pupils_is_suppressed() -> None:
    # nine pupils with one result each and one with a hundred retakes, over five schools
    dominated = (
        _spread("A", 10, 1)
        + [{"region": "A", "pupil": "retaker", "school": "As0", "score": 1.0}] * 99
    )
    plain = _spread("B", 40, 3)
    frame = pd.DataFrame(dominated + plain)
    table = sdc.crosstab(frame, "region", pupil="pupil", school="school", margins=False)
    a, b = table.cell(region="A"), table.cell(region="B")
    assert a.status == "primary"
    assert "nk_dominance: the 2 largest pupils hold more than 90% of the records" in a.reasons
    assert b.status == "ok"


def test_a_school_with_few_pupils_but_most_results_cannot_carry_a_mean() -> None:
    rows = []
    rows += _rows("A", 10, 20, "big", score=100.0)  # 40 % of the pupils, 87 % of the results
    for k in range(4):
        rows += _rows("A", 4, 2, f"small{k}", score=100.0)
        rows += _rows("B", 10, 2, f"b{k}", score=100.0)
    frame = pd.DataFrame(rows)
    share = (frame.school == "big").sum() / (frame.region == "A").sum()
    assert share > 0.85
    table = sdc.crosstab(
        frame,
        "region",
        values="score",
        aggfunc="mean",
        pupil="pupil",
        school="school",
        margins=False,
    )
    a = table.cell(region="A")
    assert a.status == "primary"
    assert "school_dominance: one school holds more than 50% of the cell's value" in a.reasons
    assert table.cell(region="B").status == "ok"


def test_a_sum_of_zeros_and_ones_is_protected_as_a_count() -> None:
    rng = np.random.default_rng(2)
    rows = _spread("A", 40, 1) + _spread("B", 40, 1) + _spread("C", 5, 1, schools=5)
    frame = pd.DataFrame(rows)
    frame["passed"] = rng.integers(0, 2, len(frame)).astype(float)
    frame.loc[frame.region == "C", "passed"] = 1.0
    as_sum = sdc.crosstab(
        frame,
        "region",
        values="passed",
        aggfunc="sum",
        pupil="pupil",
        school="school",
        margins=True,
        suppress=True,
    )
    as_count = sdc.crosstab(
        frame[frame.passed == 1],
        "region",
        pupil="pupil",
        school="school",
        margins=True,
        suppress=True,
    )
    primary = [i for i, c in enumerate(as_sum.cells) if c.status == "primary"]
    assert primary
    count_primary = [i for i, c in enumerate(as_count.cells) if c.status == "primary"]
    assert as_sum._upper[primary].tolist() == as_count._upper[count_primary].tolist()
    assert as_sum._upper[primary].min() >= 3


@pytest.mark.parametrize("records", [1, 3])
def test_counts_without_retakes_are_not_flagged_for_records(records: int) -> None:
    frame = pd.DataFrame(_spread("A", 30, records) + _spread("B", 30, records))
    table = sdc.crosstab(frame, "region", pupil="pupil", school="school")
    assert table.outcome == "pass"
    assert all(c.status == "ok" for c in table.cells)
