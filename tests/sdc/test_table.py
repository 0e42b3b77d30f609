"""Checked tables end to end: inputs, margins, shapes, statuses, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from cohortsafe.errors import PolicyError
from cohortsafe.sdc import CheckedTable, crosstab, pivot_table
from cohortsafe.sdc._policy import policy_from_toml

from ._data import background, frame, pupils_in, spread


def _sample() -> pd.DataFrame:
    rows = []
    for region, size in (("N", 60), ("S", 48), ("W", 6)):
        for domain in ("lezen", "rekenen"):
            rows += pupils_in(
                {"region": region, "domain": domain},
                spread(size // 2, 6),
                scores=[150.0 + (i * 7) % 90 for i in range(size // 2)],
            )
    return frame(rows)


def test_json_shape_margins_and_nulls() -> None:
    table = crosstab(_sample(), "region", "domain", pupil="pupil", school="school")
    document = json.loads(json.dumps(table.to_dict()))
    cells = document["cells"]
    assert {"index", "columns", "value", "status", "reasons"} <= set(cells[0])
    margins = [c for c in cells if "All" in (c["index"]["region"], c["columns"]["domain"])]
    assert len(margins) == 3 + 2 + 1
    suppressed = [c for c in cells if c["status"] != "ok"]
    assert suppressed
    assert all(c["value"] is None for c in suppressed)
    assert {c["index"]["region"] for c in cells if c["status"] == "primary"} == {"W"}
    grand = next(c for c in cells if c["index"]["region"] == c["columns"]["domain"] == "All")
    assert grand["value"] == 114
    assert grand["status"] == "ok"


def _vocabulary() -> set[str]:
    """Every reason a research-policy cell can carry: fixed texts, no data in them."""
    from cohortsafe.sdc import load_policy
    from cohortsafe.sdc._table import _SECONDARY_REASON

    policy = load_policy("research")
    texts = {_SECONDARY_REASON}
    for rule in (policy.min_pupils, policy.min_schools, policy.zero_cells, policy.single_value):
        assert rule is not None
        texts.add(rule.reason())
    assert policy.school_dominance
    assert policy.nk_dominance
    assert policy.p_percent
    texts |= {policy.school_dominance.reason(n, p) for n, p in policy.school_dominance.limits}
    texts |= {policy.school_dominance.value_reason(n, p) for n, p in policy.school_dominance.limits}
    texts.add(policy.nk_dominance.record_reason())
    texts |= {policy.nk_dominance.reason(u) for u in ("pupil", "school")}
    texts |= {policy.p_percent.reason(u) for u in ("pupil", "school")}
    return texts


@pytest.mark.parametrize("aggfunc", ["count", "sum", "mean"])
def test_reasons_come_from_a_fixed_vocabulary(aggfunc: str) -> None:
    # a reason is a rule and its parameter: it cannot carry a count or a value
    table = crosstab(
        _sample(),
        "region",
        "domain",
        pupil="pupil",
        school="school",
        values=None if aggfunc == "count" else "score",
        aggfunc=aggfunc,
    )
    used = {r for c in table.cells for r in (*c.reasons, *c.review)}
    assert used
    assert used <= _vocabulary()


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow", "duckdb", "parquet", "csv"])
def test_every_kind_of_input_gives_the_same_table(kind: str, tmp_path: Path) -> None:
    data = _sample()
    source: object = data
    if kind == "polars":
        source = pl.from_pandas(data)
    elif kind == "arrow":
        source = pa.Table.from_pandas(data)
    elif kind == "duckdb":
        connection = duckdb.connect()
        connection.register("results", data)
        source = connection.table("results")
    elif kind == "parquet":
        source = tmp_path / "data.parquet"
        data.to_parquet(source)
    elif kind == "csv":
        source = tmp_path / "data.csv"
        data.to_csv(source, index=False)
    table = crosstab(
        source, "region", "domain", values="score", aggfunc="mean", pupil="pupil", school="school"
    )
    reference = crosstab(
        data, "region", "domain", values="score", aggfunc="mean", pupil="pupil", school="school"
    )
    assert [c.as_dict() for c in table.cells] == [c.as_dict() for c in reference.cells]


def test_to_frame_looks_like_pandas() -> None:
    data = _sample()
    table = crosstab(data, "region", "domain", pupil="pupil", school="school", suppress=False)
    expected = pd.crosstab(data.region, data.domain, margins=True).astype(float)
    shown = table.to_frame()
    assert shown.loc["N", "lezen"] == expected.loc["N", "lezen"]
    assert shown.loc["All", "All"] == expected.loc["All", "All"]
    assert np.isnan(shown.loc["W", "lezen"])


def test_mean_and_sum_values() -> None:
    data = _sample()
    mean = crosstab(
        data,
        "region",
        "domain",
        values="score",
        aggfunc="mean",
        pupil="pupil",
        school="school",
        suppress=False,
    )
    total = pivot_table(
        data,
        "score",
        "region",
        "domain",
        aggfunc="sum",
        pupil="pupil",
        school="school",
        suppress=False,
    )
    n = data[(data.region == "N") & (data.domain == "lezen")]
    assert mean.cell(region="N", domain="lezen").value == pytest.approx(n.score.mean())
    assert total.cell(region="N", domain="lezen").value == pytest.approx(n.score.sum())
    assert mean.cell(region="All", domain="All").value == pytest.approx(data.score.mean())


def test_without_suppression_recoverable_primaries_fail_the_table() -> None:
    table = crosstab(_sample(), "region", "domain", pupil="pupil", school="school", suppress=False)
    assert table.outcome == "fail"
    assert table.counts["secondary"] == 0
    assert table.cell(region="W", domain="lezen").value is None


def test_without_margins_primaries_alone_are_enough() -> None:
    table = crosstab(
        _sample(), "region", "domain", pupil="pupil", school="school", margins=False, suppress=False
    )
    assert table.outcome == "pass"
    assert table.counts == {"ok": 4, "primary": 2, "secondary": 0}


def test_suppressed_table_passes_its_audit() -> None:
    table = crosstab(_sample(), "region", "domain", pupil="pupil", school="school")
    report = table.audit()
    assert report.passed
    assert {table.cells[i.cell].status for i in report.intervals} == {"primary", "secondary"}


def test_extremes_are_refused_as_an_outcome() -> None:
    table = crosstab(
        _sample(), "region", values="score", aggfunc="max", pupil="pupil", school="school"
    )
    assert table.outcome == "fail"
    assert table.reasons == ("extremes: minimum and maximum values are never released",)
    assert table.cells == ()
    assert table.to_frame().empty


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"aggfunc": "median", "values": "score"}, "aggfunc"),
        ({"aggfunc": "mean"}, "needs a values column"),
        ({"index": ["a", "b", "c", "d", "e"]}, "at most 4"),
        ({"index": ["region", "region"]}, "named twice"),
        ({"index": ["nope"]}, "no column 'nope'"),
        ({"normalize": "index", "values": "score", "aggfunc": "mean"}, "count tables"),
    ],
)
def test_malformed_requests_are_refused(options: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"index": "region", "pupil": "pupil", "school": "school"}
    arguments.update(options)
    data = _sample()
    data["a"] = data["b"] = data["c"] = data["d"] = data["e"] = 1
    with pytest.raises(PolicyError, match=message):
        crosstab(data, **arguments)  # type: ignore[arg-type]


def test_missing_pseudonyms_are_refused() -> None:
    data = _sample()
    data.loc[0, "school"] = None
    with pytest.raises(PolicyError, match="pupil and a school"):
        crosstab(data, "region", pupil="pupil", school="school")


def test_a_category_named_like_the_margins_is_refused() -> None:
    data = frame(background("region", "All"))
    with pytest.raises(PolicyError, match="named like the margins"):
        crosstab(data, "region", pupil="pupil", school="school")


def test_rows_with_a_missing_category_are_left_out() -> None:
    data = _sample()
    data.loc[data.region == "W", "region"] = None
    table = crosstab(data, "region", pupil="pupil", school="school")
    assert [c.index["region"] for c in table.cells] == ["N", "S", "All"]


@pytest.mark.parametrize("totals", ["axes", "all", "nested"])
def test_four_variables_and_every_kind_of_totals(totals: str) -> None:
    rng = np.random.default_rng(3)
    rows = background("a", 1, n=800, schools=40)
    for row in rows:
        row.update(
            a=int(rng.integers(2)),
            b=int(rng.integers(2)),
            c=str(rng.integers(3)),
            d=bool(rng.integers(2)),
        )
    rows += pupils_in({"a": 0, "b": 0, "c": "0", "d": True}, [2, 1])
    table = crosstab(
        frame(rows), ["a", "b"], ["c", "d"], pupil="pupil", school="school", totals=totals
    )  # type: ignore[arg-type]
    assert isinstance(table, CheckedTable)
    assert table.audit().passed
    grand = table.cell(a="All", b="All", c="All", d="All")
    assert grand.value == len(rows)


def test_percentages_with_the_school_report_policy() -> None:
    rows = []
    for level, size in (("a", 3), ("b", 4), ("c", 8), ("d", 185)):
        rows += pupils_in({"level": level}, [size])
    table = crosstab(
        frame(rows),
        "level",
        pupil="pupil",
        school="school",
        policy="school_report",
        normalize="all",
    )
    shown = {c.index["level"]: c for c in table.cells}
    assert shown["a"].status == shown["b"].status == "primary"
    assert shown["c"].value == 5.0  # 4 % is shown as "< 5 %"
    assert shown["c"].reasons == ("percent_clip: shown as <5%",)
    assert shown["d"].value == pytest.approx(92.5)
    assert shown["All"].value == 100.0
    assert shown["All"].reasons == ()


def test_a_part_is_withheld_when_too_little_survives() -> None:
    rows = []
    for level, size in (("a", 3), ("b", 4), ("c", 2), ("d", 30)):
        rows += pupils_in({"school_id": "X", "level": level}, [size])
    table = crosstab(frame(rows), "level", pupil="pupil", school="school", policy="school_report")
    assert table.outcome == "fail"
    assert table.reasons == ("withhold: fewer than 50% of the cells could be released",)
    assert all(c.value is None for c in table.cells)


def test_cost_parameter_changes_the_pattern() -> None:
    rows = pupils_in({"g": "small"}, spread(4, 4))
    rows += pupils_in({"g": "mid"}, spread(40, 8), school_prefix="m")
    rows += pupils_in({"g": "big1"}, spread(300, 30), school_prefix="b")
    rows += pupils_in({"g": "big2"}, spread(300, 30), school_prefix="c")
    by_value = crosstab(frame(rows), "g", pupil="pupil", school="school")
    assert by_value.cell(g="mid").status == "secondary"
    cells = policy_from_toml(
        'name = "custom"\nextends = "research"\n[secondary_suppression]\ncost = "cells"\n'
    )
    by_cells = crosstab(frame(rows), "g", pupil="pupil", school="school", policy=cells)
    assert by_cells.counts["secondary"] == 1


def test_the_heuristic_is_reported_as_such() -> None:
    policy = policy_from_toml(
        'name = "custom"\nextends = "research"\n[secondary_suppression]\nexact_cell_limit = 0\n'
    )
    table = crosstab(_sample(), "region", "domain", pupil="pupil", school="school", policy=policy)
    assert table.suppression is not None
    assert table.suppression.method == "heuristic"
    assert not table.suppression.optimal
    assert table.audit().passed


def test_a_policy_without_secondary_suppression_still_refuses_recoverable_cells() -> None:
    policy = policy_from_toml(
        'name = "custom"\nextends = "research"\n[secondary_suppression]\nenabled = false\n'
    )
    table = crosstab(_sample(), "region", "domain", pupil="pupil", school="school", policy=policy)
    assert table.suppression is None
    assert table.outcome == "fail"


def test_protection_that_cannot_be_verified_in_time_fails_the_table() -> None:
    policy = policy_from_toml(
        'name = "custom"\nextends = "research"\n[secondary_suppression]\ntime_limit_seconds = 0\n'
    )
    table = crosstab(_sample(), "region", "domain", pupil="pupil", school="school", policy=policy)
    assert table.outcome == "fail"
    assert table.reasons[0].startswith(
        "secondary_suppression: the protection could not be verified within"
    )
    # nothing unverified is shown: every eligible cell is withheld
    assert all(cell.value is None for cell in table.cells)
