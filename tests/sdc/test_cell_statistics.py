"""Property: the per-cell query returns, for every cell of every grouping set, exactly the
statistics a plain-Python count over the records it covers gives: records, distinct
pupils and schools, the largest schools' pupils, value sum and extremes, and the largest
contributions of pupils and of schools with their totals.

The data have many movers (pupils with results at two or three schools, within one
cell and across cells) because the query takes a separate path for them, negative
values, so that a contribution's sign matters, and a variable ``d`` that is usually
constant within each school (as a region is) but not always, because the query takes a
shortcut for such variables once it has checked them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohortsafe.errors import PolicyError
from cohortsafe.sdc._query import cell_statistics, school_level
from cohortsafe.sdc._source import open_source
from cohortsafe.sdc._structure import Layout

LAYOUTS = (
    Layout(index=("a",)),
    Layout(index=("a",), columns=("b",)),
    Layout(index=("a",), columns=("b",), margins=False),
    Layout(index=("a", "c"), columns=("b",), totals="all"),
    Layout(index=("a", "c"), columns=("b",), totals="nested"),
    Layout(index=("d",), columns=("b",)),
    Layout(index=("d", "a"), columns=("b",), totals="all"),
    Layout(index=("d", "a"), columns=("b",), totals="nested"),
)
TOP = 2

Key = tuple[int, tuple[Any, ...]]


def _largest(values: Sequence[float]) -> list[float]:
    ordered = sorted(values, reverse=True)[:TOP]
    return ordered + [0.0] * (TOP - len(ordered))


def expected(data: pd.DataFrame, layout: Layout, magnitude: bool) -> dict[Key, dict[str, Any]]:
    records = data.to_dict("records")
    out = {}
    for mask in layout.grouping_sets:
        names = layout.set_names(mask)
        cells: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            cells[tuple(record[n] for n in names)].append(record)
        for values, covered in cells.items():
            key = tuple(values[names.index(v)] if v in names else None for v in layout.variables)
            per_school: dict[str, set[str]] = defaultdict(set)
            pupil_sum: dict[str, float] = defaultdict(float)
            school_sum: dict[str, float] = defaultdict(float)
            for r in covered:
                per_school[r["school"]].add(r["pupil"])
                pupil_sum[r["pupil"]] += r["score"]
                school_sum[r["school"]] += r["score"]
            stats: dict[str, Any] = {
                "n_records": len(covered),
                "n_pupils": len({r["pupil"] for r in covered}),
                "n_schools": len(per_school),
                "school_top": _largest([len(p) for p in per_school.values()]),
            }
            if magnitude:
                scores = [r["score"] for r in covered]
                stats |= {
                    "value_sum": sum(scores),
                    "value_min": min(scores),
                    "value_max": max(scores),
                    "pupil_value_top": _largest([abs(v) for v in pupil_sum.values()]),
                    "pupil_value_total": sum(abs(v) for v in pupil_sum.values()),
                    "school_value_top": _largest([abs(v) for v in school_sum.values()]),
                    "school_value_total": sum(abs(v) for v in school_sum.values()),
                }
            out[(mask, key)] = stats
    return out


def observed(data: pd.DataFrame, layout: Layout, magnitude: bool) -> dict[Key, dict[str, Any]]:
    result = cell_statistics(
        open_source(data),
        layout,
        pupil="pupil",
        school="school",
        values="score" if magnitude else None,
        aggregate="mean" if magnitude else "count",
        school_top=TOP,
        value_top=TOP,
    )
    variables = [column.to_pylist() for column in result.variables]
    stats = result.stats
    out = {}
    for i, mask in enumerate(result.present.tolist()):
        key = tuple(values[i] for values in variables)
        cell: dict[str, Any] = {
            "n_records": int(stats.n_records[i]),
            "n_pupils": int(stats.n_pupils[i]),
            "n_schools": int(stats.n_schools[i]),
            "school_top": [float(v) for v in stats.school_top[i, :TOP]],
        }
        if magnitude:
            cell |= {
                "value_sum": float(stats.value_sum[i]),
                "value_min": float(stats.value_min[i]),
                "value_max": float(stats.value_max[i]),
                "pupil_value_top": stats.pupil_value_top[i, :TOP].tolist(),
                "pupil_value_total": float(stats.pupil_value_total[i]),
                "school_value_top": stats.school_value_top[i, :TOP].tolist(),
                "school_value_total": float(stats.school_value_total[i]),
            }
        out[(mask, key)] = cell
    return out


@st.composite
def microdata(draw: st.DrawFn) -> pd.DataFrame:
    """1–30 pupils at up to 5 schools; about half of them with results at 2–3 schools;
    integer scores (exact sums in floating point), some negative; ``d`` a value per
    school, now and then differing on a single row."""
    n_schools = draw(st.integers(1, 5))
    district = draw(st.lists(st.sampled_from(["N", "S"]), min_size=5, max_size=5))
    rows = []
    for i in range(draw(st.integers(1, 30))):
        schools = draw(st.lists(st.integers(0, n_schools - 1), min_size=1, max_size=3, unique=True))
        for _ in range(draw(st.integers(1, 4))):
            school = draw(st.sampled_from(schools))
            rows.append(
                {
                    "pupil": f"p{i}",
                    "school": f"s{school}",
                    "d": district[school],
                    "a": draw(st.sampled_from(["x", "y", "z"])),
                    "b": draw(st.integers(0, 2)),
                    "c": draw(st.sampled_from(["k", "l"])),
                    "score": float(draw(st.integers(-20, 100))),
                }
            )
    if draw(st.integers(0, 3)) == 0:
        rows[draw(st.integers(0, len(rows) - 1))]["d"] = "X"
    return pd.DataFrame.from_records(rows)


@pytest.mark.parametrize(
    "layout", LAYOUTS, ids=lambda layout: f"{'-'.join(layout.variables)}-{layout.totals}"
)
@pytest.mark.parametrize("magnitude", [False, True], ids=["count", "mean"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=microdata())
def test_every_statistic_of_every_cell_matches_a_plain_count(
    data: pd.DataFrame, layout: Layout, magnitude: bool
) -> None:
    assert observed(data, layout, magnitude) == expected(data, layout, magnitude)


def test_a_mover_with_two_schools_in_one_cell_is_one_pupil_of_each() -> None:
    # p0 has results at s0 and s1 in cell x: one pupil of the cell, one of each school;
    # its contribution is the sum of both results
    data = pd.DataFrame(
        {
            "pupil": ["p0", "p0", "p1"],
            "school": ["s0", "s1", "s1"],
            "a": ["x", "x", "x"],
            "score": [30.0, -50.0, 5.0],
        }
    )
    cell = observed(data, Layout(index=("a",), margins=False), magnitude=True)[(1, ("x",))]
    assert cell["n_pupils"] == 2
    assert cell["n_schools"] == 2
    assert cell["school_top"] == [2.0, 1.0]
    assert cell["pupil_value_top"] == [20.0, 5.0]
    assert cell["school_value_top"] == [45.0, 30.0]
    assert np.isclose(cell["school_value_total"], 75.0)


@pytest.mark.parametrize("missing", ["pupil", "school"])
def test_a_row_without_a_pseudonym_refuses_the_table(missing: str) -> None:
    data = pd.DataFrame(
        {"pupil": ["p0", "p1"], "school": ["s0", "s1"], "a": ["x", "y"], "score": [1.0, 2.0]}
    )
    data.loc[1, missing] = None
    with pytest.raises(PolicyError, match="pseudonym") as refused:
        observed(data, Layout(index=("a",)), magnitude=True)
    assert "p0" not in str(refused.value)
    assert "s1" not in str(refused.value)


def _school_level(data: pd.DataFrame, variables: tuple[str, ...]) -> tuple[bool, ...]:
    layout = Layout(index=variables)
    bits = school_level(open_source(data), layout, pupil="pupil", school="school", values=None)
    return tuple(bool(bits >> i & 1) for i in range(len(variables)))


def test_a_variable_is_school_level_only_if_every_school_has_one_value_of_it() -> None:
    data = pd.DataFrame(
        {
            "pupil": ["p0", "p1", "p2", "p3"],
            "school": ["s0", "s0", "s1", "s1"],
            "d": ["N", "N", "S", "S"],
            "a": ["x", "y", "x", "x"],
        }
    )
    assert _school_level(data, ("d", "a")) == (True, False)
    data.loc[3, "d"] = "N"  # s1 now has two values
    assert _school_level(data, ("d", "a")) == (False, False)
    data.loc[3, "d"] = None  # a row without the variable is not in the table
    assert _school_level(data, ("d", "a")) == (True, False)
