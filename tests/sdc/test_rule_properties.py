"""Property: on random microdata, every cell of a checked table (margins included) is
primary for exactly the reasons an independent oracle, computed here in plain Python from
the records, gives under the research policy; review flags agree as well."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from cohortsafe.sdc import crosstab

from ._data import frame, pupils_in

TOTAL = "All"
ROWS, COLUMNS = "region", "domain"
AGGFUNCS: tuple[str | None, ...] = (None, "mean")

# The research policy's reason texts, written out (not taken from the rule classes).
MIN_PUPILS = "min_pupils: fewer than 10 pupils"
MIN_SCHOOLS = "min_schools: fewer than 3 schools"
SCHOOL_DOMINANCE = {
    1: "school_dominance: one school holds more than 50% of the pupils",
    2: "school_dominance: two schools hold more than 67% of the pupils",
}
SCHOOL_VALUE = {
    1: "school_dominance: one school holds more than 50% of the cell's value",
    2: "school_dominance: two schools hold more than 67% of the cell's value",
}
NK = "nk_dominance: the 2 largest {unit}s contribute more than 90% of the cell total"
RECORDS = "nk_dominance: the 2 largest pupils hold more than 90% of the records"
P_PERCENT = (
    "p_percent: the second-largest {unit} could estimate the largest {unit}'s contribution "
    "to within 10%"
)
ZERO = "zero_cells: no pupils in this cell"
SINGLE = "single_value: every pupil in the cell has the same value"

Key = tuple[Any, Any]
Verdict = tuple[frozenset[str], frozenset[str]]  # primary reasons, review flags


@dataclass(frozen=True)
class Thresholds:
    """The research policy's parameters, as the oracle applies them."""

    min_pupils: int = 10
    min_schools: int = 3
    school_limits: tuple[tuple[int, int], ...] = ((1, 50), (2, 67))
    nk_n: int = 2
    nk_k: int = 90
    p: int = 10


RESEARCH = Thresholds()

# --- the oracle -------------------------------------------------------------------


def _contributions(records: Sequence[dict[str, Any]], unit: str) -> list[Fraction]:
    """Absolute value contributed by each pupil or school of a cell, largest first."""
    sums: dict[Any, Fraction] = defaultdict(Fraction)
    for record in records:
        sums[record[unit]] += Fraction(record["score"])
    return sorted((abs(v) for v in sums.values()), reverse=True)


def _verdict(records: Sequence[dict[str, Any]], magnitude: bool, t: Thresholds) -> Verdict:
    primary: set[str] = set()
    review: set[str] = set()
    if not records:
        return frozenset(), frozenset({ZERO})
    pupils = {r["pupil"] for r in records}
    schools = {r["school"] for r in records}
    if len(pupils) < t.min_pupils:
        primary.add(MIN_PUPILS)
    if len(schools) < t.min_schools:
        primary.add(MIN_SCHOOLS)
    # a pupil with results at two schools is a pupil of each of them
    per_school: dict[Any, set[Any]] = defaultdict(set)
    for r in records:
        per_school[r["school"]].add(r["pupil"])
    held = sorted((len(p) for p in per_school.values()), reverse=True)
    for n, percent in t.school_limits:
        if sum(held[:n]) * 100 > percent * len(pupils):
            primary.add(SCHOOL_DOMINANCE[n])
    if not magnitude and len(records) > len(pupils):
        per_pupil: dict[Any, int] = defaultdict(int)
        for r in records:
            per_pupil[r["pupil"]] += 1
        most = sorted(per_pupil.values(), reverse=True)
        if sum(most[: t.nk_n]) * 100 > t.nk_k * len(records):
            primary.add(RECORDS)
    if magnitude:
        shares = [*_contributions(records, "school"), Fraction(0), Fraction(0)]
        for n, percent in t.school_limits:
            if sum(shares[:n]) * 100 > percent * sum(shares):
                primary.add(SCHOOL_VALUE[n])
        for unit in ("pupil", "school"):
            top = [*_contributions(records, unit), Fraction(0), Fraction(0)]
            total = sum(top)
            if sum(top[: t.nk_n]) * 100 > t.nk_k * total:
                primary.add(NK.format(unit=unit))
            if (total - top[0] - top[1]) * 100 < t.p * top[0]:
                primary.add(P_PERCENT.format(unit=unit))
        if len({r["score"] for r in records}) == 1:
            review.add(SINGLE)
    return frozenset(primary), frozenset(review)


def oracle(data: pd.DataFrame, aggfunc: str | None, t: Thresholds = RESEARCH) -> dict[Key, Verdict]:
    """Every cell of the table, margins included, judged from the records it covers."""
    records = data.to_dict("records")
    rows = [*sorted(data[ROWS].unique().tolist()), TOTAL]
    columns = [*sorted(data[COLUMNS].unique().tolist()), TOTAL]
    verdicts = {}
    for row in rows:
        for column in columns:
            covered = [
                r for r in records if row in (TOTAL, r[ROWS]) and column in (TOTAL, r[COLUMNS])
            ]
            verdicts[(row, column)] = _verdict(covered, aggfunc is not None, t)
    return verdicts


def observed(data: pd.DataFrame, aggfunc: str | None) -> dict[Key, Verdict]:
    """What cohortsafe says about every cell, checked without secondary suppression."""
    table = crosstab(
        data,
        ROWS,
        COLUMNS,
        pupil="pupil",
        school="school",
        values=None if aggfunc is None else "score",
        aggfunc=aggfunc,
        suppress=False,
        policy="research",
    )
    verdicts = {}
    for cell in table.cells:
        key = (cell.index[ROWS], cell.columns[COLUMNS])
        assert cell.status in ("ok", "primary")  # suppress=False: no secondary cells
        assert (cell.status == "primary") == bool(cell.reasons), cell
        if cell.status == "primary":
            assert cell.value is None
        elif aggfunc is None:
            assert isinstance(cell.value, int)
        verdicts[key] = (frozenset(cell.reasons), frozenset(cell.review))
    return verdicts


# --- random microdata ---------------------------------------------------------------

LABELS: tuple[tuple[Any, ...], ...] = (("lezen", "rekenen", "taal"), (3, 0, 12))
SCORES = st.one_of(
    st.integers(0, 100).map(float),
    st.sampled_from([0.0, 0.5, 2.5, 1000.0, 5000.0]),
)


def _weighted(draw: st.DrawFn, items: Sequence[Any]) -> list[Any]:
    """The items, each repeated by a drawn weight: even or skewed draws from them."""
    weight = st.integers(1, 12) if draw(st.booleans()) else st.just(1)
    weights = draw(st.lists(weight, min_size=len(items), max_size=len(items)))
    return [item for item, w in zip(items, weights, strict=True) for _ in range(w)]


@st.composite
def microdata(draw: st.DrawFn) -> pd.DataFrame:
    """Results of 1–40 pupils at 1–6 schools of even or skewed sizes; some pupils have several
    results, some at two schools; string- or integer-coded categories; scores from a
    small pool (so that cells of one value occur) with a few dominant ones."""
    n_schools = draw(st.integers(1, 6) | st.integers(4, 6))  # often enough to pass
    schools = _weighted(draw, [f"s{k}" for k in range(n_schools)])
    categories = {}
    for variable in (ROWS, COLUMNS):
        coding = draw(st.sampled_from(LABELS))
        categories[variable] = _weighted(draw, coding[: draw(st.integers(1, 3))])
    scores = draw(st.lists(SCORES, min_size=1, max_size=6))
    rows = []
    n_pupils = draw(st.integers(1, 40) | st.integers(20, 40))
    for i in range(n_pupils):
        home = draw(st.sampled_from(schools))
        second = draw(st.sampled_from(schools)) if draw(st.integers(0, 4)) == 0 else home
        for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
            rows.append(
                {
                    "pupil": f"p{i}",
                    "school": draw(st.sampled_from([home, second])),
                    ROWS: draw(st.sampled_from(categories[ROWS])),
                    COLUMNS: draw(st.sampled_from(categories[COLUMNS])),
                    "score": draw(st.sampled_from(scores)),
                }
            )
    return pd.DataFrame.from_records(rows)


# --- the property -----------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=microdata())
def test_primary_cells_and_reasons_match_the_oracle(data: pd.DataFrame) -> None:
    for aggfunc in AGGFUNCS:
        assert observed(data, aggfunc) == oracle(data, aggfunc)


def _flagged_both_ways(reason: str, aggfunc: str | None) -> Callable[[pd.DataFrame], bool]:
    def condition(data: pd.DataFrame) -> bool:
        verdicts = [primary | review for primary, review in oracle(data, aggfunc).values()]
        return any(reason in v for v in verdicts) and any(
            reason not in v and ZERO not in v for v in verdicts
        )

    return condition


@pytest.mark.parametrize(
    ("reason", "aggfunc"),
    [
        (MIN_PUPILS, None),
        (MIN_SCHOOLS, None),
        (SCHOOL_DOMINANCE[1], None),
        (SCHOOL_DOMINANCE[2], None),
        (ZERO, None),
        (RECORDS, None),
        (SCHOOL_VALUE[1], "mean"),
        (SCHOOL_VALUE[2], "mean"),
        (NK.format(unit="pupil"), "mean"),
        (NK.format(unit="school"), "mean"),
        (P_PERCENT.format(unit="pupil"), "mean"),
        (P_PERCENT.format(unit="school"), "mean"),
        (SINGLE, "mean"),
    ],
)
def test_the_data_reach_both_sides_of_every_rule(reason: str, aggfunc: str | None) -> None:
    # the strategy yields tables where the rule fires on one non-empty cell and not on
    # another, so the property compares both outcomes of every rule
    find(
        microdata(),
        _flagged_both_ways(reason, aggfunc),
        settings=settings(max_examples=500, phases=[Phase.generate], database=None),
    )


def test_a_wrong_oracle_disagrees() -> None:
    # 10 pupils at 4 schools (none dominant) pass; an oracle asking for 11 pupils differs
    rows = pupils_in({ROWS: "N", COLUMNS: "lezen"}, [3, 3, 2, 2], scores=range(10, 20))
    rows += pupils_in({ROWS: "S", COLUMNS: "rekenen"}, [3, 3, 2, 2], scores=range(20, 30))
    data = frame(rows)
    for aggfunc in AGGFUNCS:
        assert observed(data, aggfunc) == oracle(data, aggfunc)
        wrong = oracle(data, aggfunc, replace(RESEARCH, min_pupils=11))
        assert observed(data, aggfunc) != wrong
        assert MIN_PUPILS in wrong[("N", "lezen")][0]
        assert MIN_PUPILS not in observed(data, aggfunc)[("N", "lezen")][0]
