"""Percentage tables carry their known totals (100 %) into suppression and the audit
(issue 11 finding 3 and item 4): no hidden share is 100 % minus the published ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cohortsafe.sdc as sdc

from ._data import frame, pupils_in, spread


def _data() -> pd.DataFrame:
    rows = []
    sizes = {
        ("N", "1F"): 40,
        ("N", "2F"): 35,
        ("N", "1S"): 4,
        ("S", "1F"): 50,
        ("S", "2F"): 30,
        ("S", "1S"): 25,
        ("W", "1F"): 30,
        ("W", "2F"): 28,
        ("W", "1S"): 26,
    }
    for (region, level), size in sizes.items():
        rows += pupils_in({"region": region, "level": level}, spread(size, 5), school_prefix=region)
    return frame(rows)


def _hidden_per_group(table: sdc.CheckedTable, by: str | None) -> dict[object, int]:
    hidden: dict[object, int] = {}
    for cell in table.cells:
        if cell.margin:
            continue
        key = None if by is None else {**cell.index, **cell.columns}[by]
        hidden.setdefault(key, 0)
        hidden[key] += cell.value is None
    return hidden


@pytest.mark.parametrize("margins", [False, True])
@pytest.mark.parametrize(
    ("normalize", "by"), [("index", "region"), ("columns", "level"), ("all", None)]
)
def test_no_group_hides_a_single_share(margins: bool, normalize: str, by: str | None) -> None:
    table = sdc.crosstab(
        _data(),
        "region",
        "level",
        pupil="pupil",
        school="school",
        normalize=normalize,
        margins=margins,
        suppress=True,
    )
    assert any(c.status == "primary" for c in table.cells)
    for key, hidden in _hidden_per_group(table, by).items():
        assert hidden != 1, (normalize, key)  # one hidden share = 100 % − the others
    assert table.audit().passed


def test_the_session_default_without_margins_is_protected() -> None:
    data = _data()
    sess = sdc.Session()
    shares = sess.crosstab(
        data.region, data.level, normalize="index", pupil=data.pupil, school=data.school
    )
    north = shares.loc["N"]
    assert north.isna().sum() >= 2
    # what an attacker computes: the hidden shares together, not one of them
    assert not np.isclose(100 - north.dropna().sum(), 4 / 79 * 100)


def test_a_row_total_of_100_percent_is_shown_not_suppressed() -> None:
    table = sdc.crosstab(
        _data(), "region", "level", pupil="pupil", school="school", normalize="index", margins=True
    )
    totals = [c for c in table.cells if c.columns["level"] == "All" and c.index["region"] != "All"]
    assert totals
    assert all(c.value == pytest.approx(100.0) for c in totals)
