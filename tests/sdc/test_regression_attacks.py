"""Regressions checked as the groups they rest on (issue 11 item 4): each attack that
residual degrees of freedom let through now fails, and a sound model still passes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from cohortsafe.sdc import Session, check_regression

from ._data import frame, pupils_in, spread


def _data(seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for region, size in (("N", 60), ("S", 60), ("W", 5)):
        rows += pupils_in({"region": region}, spread(size, 6), school_prefix=region)
    data = frame(rows)
    data["score"] = rng.normal(200, 20, len(data)).round(2)
    data["hours"] = rng.uniform(0, 8, len(data)).round(2)
    data["passed"] = (data.score > 200).astype(int)
    return data


def _check(results: object, data: pd.DataFrame) -> tuple[str, tuple[str, ...]]:
    checked = check_regression(results, pupil=data.pupil, school=data.school)
    return checked.outcome, checked.reasons


def test_a_sound_model_passes() -> None:
    data = _data()
    big = data[data.region != "W"]
    outcome, reasons = _check(smf.ols("score ~ hours + C(region)", data=big).fit(), big)
    assert (outcome, reasons) == ("pass", ())


def test_region_dummies_cannot_give_a_small_regions_mean() -> None:
    data = _data()
    outcome, reasons = _check(smf.ols("score ~ C(region)", data=data).fit(), data)
    assert outcome == "fail"
    assert "regression: the pupils with 'C(region)[T.W]' are fewer than 10" in reasons


def test_a_dummy_for_one_pupil_fails() -> None:
    data = _data().assign(me=lambda d: (d.pupil == d.pupil.iloc[7]).astype(int))
    outcome, reasons = _check(smf.ols("score ~ hours + me", data=data).fit(), data)
    assert outcome == "fail"
    assert "regression: the pupils with 'me' are fewer than 10" in reasons


def test_one_schools_pupils_or_school_fixed_effects_fail() -> None:
    data = _data()
    one = data[data.school == "N0"]
    assert _check(smf.ols("score ~ hours", data=one).fit(), one)[0] == "fail"
    big = data[data.region != "W"]
    outcome, reasons = _check(smf.ols("score ~ hours + C(school)", data=big).fit(), big)
    assert outcome == "fail"
    assert any("at fewer than 3 schools" in r for r in reasons)


def test_one_pupils_row_repeated_counts_once() -> None:
    data = _data()
    rows = pd.concat([data.iloc[[0]]] * 11 + [data.iloc[1:3]], ignore_index=True)
    results = smf.ols("score ~ hours", data=rows).fit()
    assert results.df_resid >= 10  # what the old check looked at
    outcome, reasons = _check(results, rows)
    assert outcome == "fail"
    assert any(r.startswith("residual_df") and "3 pupils" in r for r in reasons)


def test_a_weighted_fit_counts_only_pupils_with_weight() -> None:
    data = _data()
    weights = np.zeros(len(data))
    weights[:3] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels takes the log of the zero weights
        results = sm.WLS(data.score, sm.add_constant(data.hours), weights=weights).fit()
        outcome, reasons = _check(results, data)
    assert outcome == "fail"
    assert any(r.startswith("residual_df") for r in reasons)


def test_a_logit_with_separation_fails() -> None:
    data = _data()
    big = data[data.region != "W"].copy()
    big.loc[big.region == "S", "passed"] = 1  # every pupil of the south passed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = smf.logit("passed ~ C(region)", data=big).fit(disp=0, maxiter=100)
    outcome, reasons = _check(results, big)
    assert outcome == "fail"
    assert any("separation" in r or "standard errors" in r for r in reasons)


def test_without_pupil_and_school_a_model_fails_and_the_session_supplies_them() -> None:
    data = _data()
    big = data[data.region != "W"]
    results = smf.ols("score ~ hours", data=big).fit()
    assert check_regression(results).outcome == "fail"
    sess = Session()
    sess.olsr("score ~ hours", big)
    sess.ols(big.score, sm.add_constant(big.hours), pupil=big.pupil, school=big.school)
    assert [o.outcome for o in sess.outputs.values()] == ["pass", "pass"]
    with pytest.raises(Exception, match="fixes the pupil"):
        Session(fixed_columns=True).ols(big.score, big.hours, pupil=big.school, school=big.pupil)
