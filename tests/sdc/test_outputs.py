"""Regressions, percentiles, histograms and summary statistics."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from cohortsafe.sdc import check_regression, histogram, percentiles, summary_statistics

from ._data import frame, pupils_in, spread


def _scores(n: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = frame(pupils_in({"group": "a"}, spread(n, 10)))
    data["score"] = rng.normal(200.0, 25.0, n).round(1)
    data["hours"] = rng.uniform(0, 10, n).round(2)
    data["passed"] = (data.score > 200).astype(int)
    return data


@pytest.mark.parametrize(("n", "outcome"), [(12, "fail"), (13, "pass")])
def test_regression_residual_degrees_of_freedom(n: int, outcome: str) -> None:
    # three parameters: 12 observations leave 9 residual df, 13 leave 10
    data = _scores(n)
    # a measurement, one value per pupil (of 12 or fewer values it would be groups)
    data["other"] = np.sqrt(np.arange(n) + 2.0)
    results = smf.ols("score ~ hours + other", data=data).fit()
    checked = check_regression(results, pupil=data.pupil, school=data.school)
    assert checked.outcome == outcome
    if outcome == "fail":
        assert checked.reasons[0] == (
            "residual_df: fewer than 10 residual degrees of freedom, counted in distinct "
            "pupils with non-zero weight (12 pupils, 3 parameters)"
        )
        assert all(row["estimate"] is None for row in checked.rows)
    else:
        assert checked.rows[0]["estimate"] == pytest.approx(results.params.iloc[0])


def test_logit_is_checked_too() -> None:
    data = _scores(200)
    results = sm.Logit(data.passed, sm.add_constant(data.hours)).fit(disp=0)
    checked = check_regression(results, kind="logit", pupil=data.pupil, school=data.school)
    assert checked.outcome == "pass"
    assert [row["term"] for row in checked.rows] == ["const", "hours"]


def test_percentile_needs_pupils_on_both_sides() -> None:
    data = _scores(100)
    checked = percentiles(
        data, "score", [0.05, 0.09, 0.1, 0.5, 0.91], pupil="pupil", school="school"
    )
    states = {row["q"]: row["status"] for row in checked.rows}
    # 100 pupils: the 5th percentile has about 5 below, the 10th about 10
    assert states[0.05] == "primary"
    assert states[0.5] == "ok"
    assert states[0.09] == "primary"
    assert states[0.91] == "primary"
    ok = [row for row in checked.rows if row["status"] == "ok"]
    assert all(row["value"] is not None for row in ok)
    assert all(row["value"] is None for row in checked.rows if row["status"] != "ok")


def test_percentiles_by_group_follow_the_group_rules() -> None:
    data = _scores(100)
    data.loc[data.index[:6], "group"] = "tiny"
    checked = percentiles(data, "score", [0.5], by="group", pupil="pupil", school="school")
    states = {row["group"]: row["status"] for row in checked.rows}
    assert states == {"a": "ok", "tiny": "primary", "All": "ok"}


def test_histogram_bins_are_cells_and_extremes_stay_hidden() -> None:
    data = _scores(300)
    checked = histogram(data, "score", 6, pupil="pupil", school="school")
    bins = [row for row in checked.rows if row["bin"] != "All"]
    assert 3 <= len(bins) <= 6  # round edges: at most the bins asked for
    assert bins[0]["low"] is None
    assert bins[-1]["high"] is None
    inner = checked.details["inner_edges"]
    assert min(inner) > data.score.min()
    assert max(inner) < data.score.max()
    assert sum(row["count"] or 0 for row in bins) <= 300
    total = next(row for row in checked.rows if row["bin"] == "All")
    assert total["count"] == 300


def test_automatic_edges_are_round_and_no_pupils_score() -> None:
    data = _scores(300)
    # one pupil far out: the old edges were row percentiles, one of which was a score
    data["score"] = data.score + np.arange(300) * 1e-4
    checked = histogram(data, "score", 8, pupil="pupil", school="school")
    inner = checked.details["inner_edges"]
    steps = np.diff(inner)
    assert np.allclose(steps, steps[0])
    assert any(np.isclose(steps[0], f * 10.0**k) for f in (1, 2, 2.5, 5) for k in range(-2, 4))
    assert not set(inner) & set(data.score.round(6))


def test_histogram_suppresses_small_bins() -> None:
    data = _scores(300)
    checked = histogram(data, "score", [100.0, 140.0, 200.0, 260.0], pupil="pupil", school="school")
    statuses = [row["status"] for row in checked.rows]
    assert "primary" in statuses
    assert checked.outcome == "pass"
    assert checked.table is not None
    assert checked.table.audit().passed


def test_summary_statistics_never_show_extremes() -> None:
    data = _scores(120)
    refused = summary_statistics(
        data, "score", statistics=["mean", "max"], pupil="pupil", school="school"
    )
    assert refused.outcome == "fail"
    assert refused.reasons == ("extremes: minimum and maximum values are never released",)
    summary = summary_statistics(
        data, "score", statistics=["count", "mean", "std", "median"], pupil="pupil", school="school"
    )
    (row,) = summary.rows
    assert row["count"] == 120
    assert row["mean"] == pytest.approx(data.score.mean())
    assert row["std"] == pytest.approx(data.score.std())
    assert row["median"] == pytest.approx(data.score.median())


def test_summary_statistics_by_group() -> None:
    data = _scores(120)
    data.loc[data.index[:4], "group"] = "tiny"
    summary = summary_statistics(
        data, ["score", "hours"], by="group", pupil="pupil", school="school"
    )
    tiny = [row for row in summary.rows if row["group"] == "tiny"]
    assert all(row["mean"] is None and row["status"] == "primary" for row in tiny)


def test_a_grid_of_percentiles_cannot_list_every_pupils_score() -> None:
    data = _scores(300)
    grid = [q / 100 for q in range(1, 100)]
    checked = percentiles(data, "score", grid, pupil="pupil", school="school")
    shown = sorted(row["value"] for row in checked.rows if row["status"] == "ok")
    assert 0 < len(shown) <= 300 // 10
    scores = data.score.to_numpy()
    for low, high in itertools.pairwise(shown):
        between = data.pupil[(scores > low) & (scores < high)].nunique()
        assert between >= 10
    withheld = [row for row in checked.rows if row["status"] == "primary"]
    assert any("between this and the next lower" in r for row in withheld for r in row["reasons"])


def test_percentiles_by_group_are_spaced_within_each_group() -> None:
    data = pd.concat(
        [
            _scores(150, seed=3).assign(group="a"),
            _scores(150, seed=4).assign(group="b", pupil=lambda d: d.pupil + "b"),
        ]
    )
    checked = percentiles(
        data, "score", [q / 20 for q in range(1, 20)], by="group", pupil="pupil", school="school"
    )
    for group in ("a", "b"):
        part = data[data.group == group]
        shown = sorted(
            r["value"] for r in checked.rows if r.get("group") == group and r["status"] == "ok"
        )
        for low, high in itertools.pairwise(shown):
            assert part.pupil[(part.score > low) & (part.score < high)].nunique() >= 10
