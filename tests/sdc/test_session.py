"""The ACRO-style session, end to end."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cohortsafe.errors import PolicyError
from cohortsafe.sdc import Session

from ._data import frame, pupils_in, spread


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for region, size in (("N", 80), ("S", 70), ("W", 5)):
        for domain in ("lezen", "rekenen"):
            rows += pupils_in(
                {"region": region, "domain": domain}, spread(size, 7), school_prefix=region
            )
    data = frame(rows)
    data["score"] = rng.normal(200, 20, len(data)).round(1)
    data["hours"] = rng.uniform(0, 8, len(data)).round(1)
    return data


def test_session_end_to_end(tmp_path: Path) -> None:
    df = _data()
    sess = Session(policy="research")
    table = sess.crosstab(
        df.region,
        df.domain,
        values=df.score,
        aggfunc="mean",
        margins=True,
        pupil=df.pupil,
        school=df.school,
    )
    assert np.isnan(table.loc["W", "lezen"])
    assert table.loc["All", "All"] == pytest.approx(df.score.mean())
    counts = sess.pivot_table(df, index="region", columns="domain", margins=True)
    assert counts.loc["N", "lezen"] == 80
    model = sess.ols(df.score, sm.add_constant(df.hours), pupil=df.pupil, school=df.school)
    assert model.df_resid > 10
    sess.olsr("score ~ hours", df)
    df["high"] = (df.score > 200).astype(int)
    sess.logitr("high ~ hours", df)
    sess.hist(df, "score", bins=5)
    sess.percentiles(df, "score", [0.5], by="region")
    sess.describe(df, "score", by="domain", statistics=["count", "mean", "std", "median"])
    assert len(sess.outputs) == 8
    sess.add_comments("output_0", "mean score by region and domain")
    sess.add_exception("output_2", "needed for the paper")
    sess.remove_output("output_7")
    report = sess.report()
    assert "output_0: table — pass" in report

    folder = sess.finalise(tmp_path / "outputs")
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        ["checksums.txt", "index.html", "results.json", *(f"output_{i}.csv" for i in range(7))]
    )
    results = json.loads((folder / "results.json").read_text())
    assert results["policy"]["name"] == "research"
    first = results["outputs"]["output_0"]
    assert first["comments"] == ["mean score by region and domain"]
    assert results["outputs"]["output_2"]["exception"] == "needed for the paper"
    w_cells = [
        c
        for c in first["check"]["cells"]
        if c["index"]["region"] == "W" and c["columns"]["domain"] != "All"
    ]
    assert w_cells
    assert all(c["value"] is None for c in w_cells)
    released = pd.read_csv(folder / "output_0.csv", index_col=0)
    assert released.loc["W", ["lezen", "rekenen"]].isna().all()
    html = (folder / "index.html").read_text()
    assert "output_0 (table)" in html
    assert "<table>" in html
    for line in (folder / "checksums.txt").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_finalise_refuses_an_existing_folder(tmp_path: Path) -> None:
    sess = Session()
    (tmp_path / "outputs").mkdir()
    with pytest.raises(PolicyError, match="already exists"):
        sess.finalise(tmp_path / "outputs")


def test_a_failed_output_leaves_only_with_an_exception_request(tmp_path: Path) -> None:
    df = _data()
    sess = Session(suppress=False)  # the west's cells stay recoverable from the margins
    for _ in range(2):
        sess.crosstab(df.region, df.domain, margins=True, pupil=df.pupil, school=df.school)
    assert {o.outcome for o in sess.outputs.values()} == {"fail"}
    sess.add_exception("output_1", "the checker may judge the totals")

    folder = sess.finalise(tmp_path / "outputs")

    assert not (folder / "output_0.csv").exists()
    assert (folder / "output_1.csv").exists()
    outputs = json.loads((folder / "results.json").read_text())["outputs"]
    assert outputs["output_0"]["files"] == []
    assert outputs["output_0"]["outcome"] == "fail"
    assert outputs["output_1"]["files"] == ["output_1.csv"]


def test_session_checks_each_output_with_the_projects_earlier_ones(tmp_path: Path) -> None:
    df = _data()
    sess = Session(ledger=tmp_path / "ledger", project="p1")
    first = sess.crosstab(df.domain, None, margins=True, pupil=df.pupil, school=df.school)
    assert sess.outputs["output_0"].outcome == "pass"
    assert "no earlier outputs" in sess.outputs["output_0"].ledger_note
    # the same table without the west, in a new session on the same project: the west's
    # few pupils are the difference of the two
    rest = df[df.region != "W"]
    later = Session(ledger=tmp_path / "ledger", project="p1")
    later.crosstab(rest.domain, None, margins=True, pupil=rest.pupil, school=rest.school)
    output = later.outputs["output_0"]
    assert output.outcome == "fail"
    assert "1 earlier output(s) of project 'p1'" in output.ledger_note
    assert any("combined check" in r and "output_0" in r for r in output.reasons)
    assert not first.isna().any().any()


def test_series_need_pupil_and_school_series() -> None:
    df = _data()
    with pytest.raises(PolicyError, match="as Series"):
        Session().crosstab(df.region, df.domain, pupil="pupil", school="school")


def test_unknown_output_keys() -> None:
    sess = Session()
    with pytest.raises(PolicyError, match="no output named"):
        sess.remove_output("output_9")
    with pytest.raises(PolicyError, match="no output named"):
        sess.add_exception("output_9", "reason")
    with pytest.raises(PolicyError, match="no output named"):
        sess.add_comments("output_9", "comment")
