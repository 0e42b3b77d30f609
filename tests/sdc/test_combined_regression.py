"""Models in the ledger: a regression is judged with everything released before it.

The estimates of a model publish, to an attacker who knows the design, the outcome's sum
over each group a two-valued column marks (the normal equations of least squares, the
score equations of a logit): two models one pupil apart, or a model beside a table that
hides a cell, give a pupil's score away. Each attack passes the single-model check and
must fail the combined one; a model that adds nothing to the tables before it passes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cohortsafe.sdc import Session
from tests.sdc.test_combined import _combined, _outcomes


def _pupils(n: int = 360, schools: int = 12, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "pupil": [f"p{i:04d}" for i in range(n)],
            "school": [f"s{i % schools:02d}" for i in range(n)],
            "region": rng.choice(["N", "O", "W"], n),
            "gender": rng.choice(["F", "M"], n),
            "score": rng.uniform(150, 250, n).round(1),
        }
    )
    df["passed"] = (df.score > 200).astype(int)
    df["record"] = [f"r{i:05d}" for i in range(n)]
    return df


def _session(tmp_path: Path) -> Session:
    return Session(ledger=tmp_path / "ledger", project="models")


def test_two_models_one_pupil_apart_give_the_score_away(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.olsr("score ~ C(region)", data=df)
    sess.olsr("score ~ C(region)", data=df[df.pupil != "p0007"])
    assert _outcomes(sess) == ["pass", "fail"]
    reasons = _combined(sess, "output_1")
    assert reasons
    assert "output_0" in reasons[0]
    assert str(df.score[7]) not in " ".join(sess.outputs["output_1"].reasons)


def test_a_model_beside_a_table_recovers_its_hidden_cell(tmp_path: Path) -> None:
    df = _pupils()
    # four boys in region W: their cell of the table is hidden
    w_boys = df.index[(df.region == "W") & (df.gender == "M")]
    df.loc[w_boys[4:], "gender"] = "F"
    sess = _session(tmp_path)
    table = sess.pivot_table(df, values="score", index="region", columns="gender", aggfunc="sum")
    assert np.isnan(table.loc["W", "M"])
    assert not np.isnan(table.loc["W", "F"])
    # region W's sum from the model, less the girls' cell: the four boys' total
    sess.olsr("score ~ C(region)", data=df)
    assert _outcomes(sess) == ["pass", "fail"]
    assert _combined(sess, "output_1")


def test_a_model_over_the_groups_of_a_table_adds_nothing(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.pivot_table(df, values="score", index="region", aggfunc="mean", margins=True)
    sess.olsr("score ~ C(region)", data=df)
    sess.logitr("passed ~ C(gender)", data=df)
    assert _outcomes(sess) == ["pass", "pass", "pass"]
    assert sess.ledger.outputs == 3


def test_logits_one_pupil_apart_give_the_outcome_away(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.logitr("passed ~ C(gender)", data=df)
    sess.logitr("passed ~ C(gender)", data=df[df.pupil != "p0011"])
    assert _outcomes(sess) == ["pass", "fail"]
    assert _combined(sess, "output_1")


def test_models_given_as_arrays_enter_the_ledger_by_record(tmp_path: Path) -> None:
    import statsmodels.api as sm

    df = _pupils()
    sess = _session(tmp_path)
    design = sm.add_constant(pd.get_dummies(df.region, drop_first=True, dtype=float))
    sess.ols(df.score, design, pupil=df.pupil, school=df.school, record=df.record)
    rest = df.pupil != "p0003"
    sess.ols(
        df.score[rest],
        design[rest],
        pupil=df.pupil[rest],
        school=df.school[rest],
        record=df.record[rest],
    )
    assert _outcomes(sess) == ["pass", "fail"]


def test_a_coded_covariate_of_three_values_is_a_dummy_for_one_pupil(tmp_path: Path) -> None:
    df = _pupils()
    # 0 for most, 1 for one pupil, 2 for the rest of region N: a pupil's own group
    df["code"] = np.where(df.region == "N", 2, 0)
    df.loc[5, "code"] = 1
    sess = _session(tmp_path)
    sess.olsr("score ~ code", data=df)
    assert _outcomes(sess) == ["fail"]
    assert any("at one value of 'code'" in r for r in sess.outputs["output_0"].reasons)


def test_a_removed_model_leaves_the_ledger(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.olsr("score ~ C(region)", data=df)
    assert sess.ledger.outputs == 1
    sess.remove_output("output_0")
    assert sess.ledger.outputs == 0
    sess.olsr("score ~ C(region)", data=df[df.pupil != "p0007"])
    assert _outcomes(sess) == ["pass"]
