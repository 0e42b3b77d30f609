"""A float NaN is a missing value, as pandas treats it; frames hold only cells (issue 11 item 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import cohortsafe.sdc as sdc


def _data(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "pupil": [f"p{i}" for i in range(n)],
            "school": [f"s{i % 10}" for i in range(n)],
            "region": ["A", "B", "C"] * (n // 3),
            "score": rng.normal(100, 10, n),
        }
    )
    frame.loc[[3, 4], "score"] = np.nan
    return frame


def _with_nan(frame: pd.DataFrame) -> pa.Table:
    """Arrow with real NaN floats, not nulls (as Parquet written by other tools holds)."""
    return pa.table({c: pa.array(frame[c].to_numpy(), from_pandas=False) for c in frame})


@pytest.mark.parametrize("kind", ["pandas", "arrow-nan"])
def test_a_nan_value_is_left_out_of_means_and_summaries(kind: str) -> None:
    frame = _data()
    data = frame if kind == "pandas" else _with_nan(frame)
    table = sdc.crosstab(
        data, "region", values="score", aggfunc="mean", pupil="pupil", school="school"
    )
    expected = frame.groupby("region").score.mean()
    assert table.outcome == "pass"
    for region in "ABC":
        assert table.cell(region=region).value == pytest.approx(expected[region])
    assert table.cell(region="All").value == pytest.approx(frame.score.mean())
    (row,) = sdc.summary_statistics(data, "score", pupil="pupil", school="school").rows
    assert row["count"] == frame.score.count()
    assert row["std"] == pytest.approx(frame.score.std())


def test_a_frame_with_several_index_variables_holds_only_cells() -> None:
    n = 600
    frame = pd.DataFrame(
        {
            "pupil": [f"p{i}" for i in range(n)],
            "school": [f"s{i % 10}" for i in range(n)],
            "region": ["A", "B", "C"] * 200,
            "group": ["x"] * 200 + ["y"] * 400,
            "domain": ["l", "r"] * 300,
        }
    )
    table = sdc.crosstab(
        frame, ["region", "group"], "domain", pupil="pupil", school="school", margins=True
    )
    shown = table.to_frame()
    assert shown.notna().all().all()  # nothing is suppressed, so no entry may be empty
    assert shown.size == sum(1 for _ in table.cells)
    assert ("A", "All") not in shown.index
