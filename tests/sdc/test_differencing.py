"""Differencing: a table one filter or one category away from a released one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cohortsafe.errors import PolicyError
from cohortsafe.sdc import ReleaseHistory, crosstab

from ._data import frame, pupils_in, spread


def _cohort() -> pd.DataFrame:
    rows = []
    for region in ("N", "S", "E"):
        rows += pupils_in({"region": region}, spread(60, 6), school_prefix=region)
    data = frame(rows)
    data["special"] = False
    data.loc[data.index[:4], "special"] = True  # four pupils in the north
    data["year"] = 2025
    return data


def test_one_filter_more_reveals_a_small_group() -> None:
    data = _cohort()
    history = ReleaseHistory()
    first = crosstab(data, "region", pupil="pupil", school="school", history=history)
    history.record(first)
    second = crosstab(
        data[~data.special], "region", pupil="pupil", school="school", history=history
    )
    flagged = {c.index["region"]: c for c in second.cells}
    reason = (
        "differencing: differs from a cell of an earlier released output by fewer than 10 pupils"
    )
    assert reason in flagged["N"].reasons
    assert reason in flagged["All"].reasons
    assert flagged["S"].status == "ok"
    assert flagged["E"].status != "primary"
    assert second.audit().passed


def test_the_same_population_again_is_no_difference() -> None:
    data = _cohort()
    history = ReleaseHistory()
    history.record(crosstab(data, "region", pupil="pupil", school="school", history=history))
    again = crosstab(data, "region", pupil="pupil", school="school", history=history)
    assert again.counts["primary"] == 0


def test_a_large_difference_is_not_flagged() -> None:
    data = _cohort()
    history = ReleaseHistory()
    history.record(crosstab(data, "region", pupil="pupil", school="school", history=history))
    north_only = data[data.region != "E"]
    table = crosstab(north_only, "region", pupil="pupil", school="school", history=history)
    # the total differs by 60 pupils; the regions themselves are unchanged
    assert table.counts["primary"] == 0


def test_one_category_more_reveals_a_small_group() -> None:
    data = _cohort()
    data["age"] = "old"
    data.loc[data.index[60:63], "age"] = "young"  # three pupils in the south
    history = ReleaseHistory()
    history.record(crosstab(data, "region", pupil="pupil", school="school", history=history))
    by_age = crosstab(data, "region", "age", pupil="pupil", school="school", history=history)
    # south/old is the released south minus three pupils
    assert by_age.cell(region="S", age="old").status == "primary"
    assert by_age.cell(region="S", age="young").status == "primary"


def test_only_released_cells_count(tmp_path: Path) -> None:
    data = _cohort()
    history = ReleaseHistory(tmp_path / "history.duckdb")
    small = data[data.special | (data.region == "S")]
    released = crosstab(small, "region", pupil="pupil", school="school", history=history)
    assert released.cell(region="N").status == "primary"  # the four special pupils
    history.record(released)
    assert history.releases == 1
    history.close()
    reopened = ReleaseHistory(tmp_path / "history.duckdb")
    assert reopened.releases == 1
    # the north cell was never released: a later table of north pupils is not flagged
    # for differing from it (it is only flagged for what was published)
    later = crosstab(
        data[data.region == "N"], "region", pupil="pupil", school="school", history=reopened
    )
    assert later.cell(region="N").status == "ok"


def test_recording_needs_a_table_checked_with_the_history() -> None:
    table = crosstab(_cohort(), "region", pupil="pupil", school="school")
    with pytest.raises(PolicyError, match="without a release history"):
        ReleaseHistory().record(table)
