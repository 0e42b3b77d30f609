"""The school feedback report: what it shows, what it withholds, and what it never gives away."""

from __future__ import annotations

import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cohortsafe.sdc as sdc
from cohortsafe.publish import (
    ReportHeading,
    SchoolReport,
    build_school_report,
    growth_cells,
    render_report_html,
)
from cohortsafe.publish._growth import MEASURES
from tests.publish.kit import DOMAINS, PERIOD, connect, country, results

SCHOOL_REPORT = sdc.load_policy("school_report")
RESEARCH = sdc.load_policy("research")


def _report(
    sizes: dict[str, dict[int, int]],
    school: str = "s00",
    *,
    reference: dict[str, float] | None = None,
    policy: sdc.Policy = SCHOOL_REPORT,
    **options: object,
) -> tuple[SchoolReport, pa.Table]:
    table = results(sizes, **options)  # type: ignore[arg-type]
    cells = growth_cells(connect(table), PERIOD, DOMAINS)
    report = build_school_report(
        cells, school, PERIOD, policy=policy, comparison=RESEARCH, reference=reference or {}
    )
    return report, table


def _part(report: SchoolReport, domain: str = "rekenen_wiskunde") -> object:
    return next(p for p in report.parts if p.leergebied == domain)


def _numbers(page: str) -> set[str]:
    return set(re.findall(r"\d+,\d", page))


def _growth_frame(table: pa.Table) -> pa.Table:
    """Pupil growth by hand (E - M), as the report must compute it."""
    rows = table.to_pylist()
    scores: dict[tuple[object, ...], dict[str, float]] = {}
    for r in rows:
        key = (r["school"], r["pupil"], r["leergebied"], r["schaal"], r["jaargroep"])
        scores.setdefault(key, {})[r["toetsmoment"]] = r["vaardigheidsscore"]
    out: dict[str, list[object]] = {
        k: [] for k in ("school", "pupil", "leergebied", "schaal", "jaargroep", "m", "e", "groei")
    }
    for (school, pupil, domain, scale, group), s in scores.items():
        if "M" in s and "E" in s:
            for name, value in zip(
                out,
                (school, pupil, domain, scale, group, s["M"], s["E"], s["E"] - s["M"]),
                strict=False,
            ):
                out[name].append(value)
    return pa.table(out)


def test_a_group_under_the_threshold_shows_no_figure_and_its_figures_appear_nowhere() -> None:
    sizes = country(schools=16)
    sizes["s00"][4] = 4  # one pupil short of the school_report policy's 5
    report, table = _report(sizes)
    row = next(r for r in _part(report).rows if r.jaargroep == 4)
    assert (row.pupils, row.school, row.more_growth) == (None, None, None)
    assert row.missing == ("pupils",)
    growth = _growth_frame(table)
    mine = growth.filter(
        pc.and_(pc.equal(growth["school"], "s00"), pc.equal(growth["jaargroep"], 4))
    ).to_pandas()
    page = render_report_html(report, ReportHeading("12AB00"))
    # M and E scores of groep 4 lie below every other group's: none may be on the page
    hidden = {
        f"{mine[m][mine['leergebied'] == d].mean():.1f}".replace(".", ",")
        for m in ("m", "e")
        for d in DOMAINS
    }
    assert not hidden & _numbers(page)
    assert '<tr><th scope="row">4</th>' + "<td>–</td>" * 8 + "</tr>" in page
    assert "Groep 4</text>" not in page  # no bars
    assert "groep 4: minder dan 5 leerlingen" in page


def test_the_setting_raises_the_threshold_for_every_figure() -> None:
    sizes = country(schools=16)
    sizes["s00"][5] = 5
    policy = sdc.load_policy(
        {"extends": "school_report", "name": "school_report_min6", "min_pupils": {"threshold": 6}}
    )
    shown, _ = _report(sizes)
    hidden, _ = _report(sizes, policy=policy)
    assert next(r for r in _part(shown).rows if r.jaargroep == 5).pupils == 5
    assert next(r for r in _part(hidden).rows if r.jaargroep == 5).pupils is None
    assert "minder dan 6 leerlingen" in render_report_html(hidden, ReportHeading("12AB00"))


@pytest.mark.parametrize(("shift", "shown"), [(3.0, "> 95 %"), (-3.0, "< 5 %")])
def test_shares_are_clipped_and_never_read_0_or_100_percent(shift: float, shown: str) -> None:
    sizes = country(schools=16)
    table = results(sizes)
    # every pupil of s00 grows far more (or less) than the country: the share is 100 % (0 %)
    moved = pc.if_else(
        pc.and_(pc.equal(table["school"], "s00"), pc.equal(table["toetsmoment"], "E")),
        pc.add(table["vaardigheidsscore"], shift * 20),
        table["vaardigheidsscore"],
    )
    table = table.set_column(
        table.schema.get_field_index("vaardigheidsscore"), "vaardigheidsscore", moved
    )
    cells = growth_cells(connect(table), PERIOD, DOMAINS)
    report = build_school_report(
        cells, "s00", PERIOD, policy=SCHOOL_REPORT, comparison=RESEARCH, reference={}
    )
    texts = {r.more_growth.text() for p in report.parts for r in p.rows if r.more_growth}
    assert texts == {shown}
    page = render_report_html(report, ReportHeading("12AB00"))
    assert not re.search(r"(?<![\d,<>] )(?<![\d,])(0|100) %", page)


def test_a_domain_with_less_than_half_its_groups_shown_is_withheld_whole() -> None:
    sizes = country(schools=16)
    sizes["s00"] = {4: 3, 5: 2, 6: 4, 7: 20, 8: 20}  # 2 of 5 groups can be shown
    report, _ = _report(sizes)
    assert all(part.withheld for part in report.parts)
    assert report.withheld
    page = render_report_html(report, ReportHeading("12AB00"))
    assert "kunnen wij geen rapport maken" in page
    assert "<table>" not in page
    assert "<svg" not in page
    sizes["s00"] = {4: 3, 5: 2, 6: 20, 7: 20, 8: 20}  # 3 of 5: shown, with two groups empty
    report, _ = _report(sizes)
    assert not any(part.withheld for part in report.parts)


def test_a_part_is_withheld_alone_when_only_that_domain_lacks_data() -> None:
    sizes = country(schools=16)
    sizes["s00"] = {4: 3, 5: 2, 6: 4, 7: 20, 8: 20}
    table = results(sizes)
    # the spelling results of s00's small groups are the only ones: drop its other domains'
    keep = pc.invert(
        pc.and_(
            pc.equal(table["school"], "s00"),
            pc.and_(pc.not_equal(table["leergebied"], "spelling"), pc.less(table["jaargroep"], 7)),
        )
    )
    cells = growth_cells(connect(table.filter(keep)), PERIOD, DOMAINS)
    report = build_school_report(
        cells, "s00", PERIOD, policy=SCHOOL_REPORT, comparison=RESEARCH, reference={}
    )
    withheld = {p.leergebied: p.withheld for p in report.parts}
    assert withheld == {"spelling": True, "rekenen_wiskunde": False, "begrijpend_lezen": False}
    page = render_report_html(report, ReportHeading("12AB00"))
    assert "Voor spelling laten wij geen cijfers zien" in page


@pytest.mark.parametrize(
    ("others", "shown"),
    [(2, False), (4, True)],  # 3 equal schools: two of them hold 66.7 % of the pupils, near
)
def test_the_country_is_shown_only_when_the_other_schools_are_enough(
    others: int, shown: bool
) -> None:
    # the school-dominance limit of 67 %, so it is left to the value's noise
    sizes = country(schools=1 + others)
    # schools on another scale are never part of the comparison
    sizes.update({f"b{i}": dict.fromkeys(range(4, 9), 20) for i in range(10)})
    scale = {f"b{i}": "boom-vs" for i in range(10)}
    report, _ = _report(sizes, scale=scale)
    rows = [r for p in report.parts for r in p.rows]
    assert all((r.national is not None) == shown for r in rows)
    if not shown:
        assert all("comparison" in r.missing for r in rows)


def test_one_dominant_other_school_keeps_the_country_from_being_shown() -> None:
    sizes = country(schools=4)
    sizes["s01"] = dict.fromkeys(range(4, 9), 200)  # 200 of the other schools' 240 pupils
    report, _ = _report(sizes)
    assert all(r.national is None for p in report.parts for r in p.rows)


def _rest_check(table: pa.Table, school: str, policy: sdc.Policy) -> dict[tuple[str, int], bool]:
    """The engine's own verdict on the other schools' pupils, per domain and group."""
    growth = _growth_frame(table).to_pandas()
    rest = growth[growth["school"] != school]
    verdict: dict[tuple[str, int], bool] = {}
    if rest.empty:
        return verdict
    for measure in MEASURES:
        checked = sdc.pivot_table(
            rest,
            measure,
            index=["leergebied", "jaargroep"],
            aggfunc="mean",
            pupil="pupil",
            school="school",
            policy=policy,
            margins=False,
        )
        for cell in checked.cells:
            key = (cell.index["leergebied"], int(cell.index["jaargroep"]))
            verdict[key] = verdict.get(key, True) and cell.status == "ok"
    return verdict


@settings(max_examples=int(os.environ.get("COHORTSAFE_REPORT_EXAMPLES", "60")), deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 14), min_size=5, max_size=5), min_size=2, max_size=7),
    st.integers(0, 2**16),
)
def test_every_figure_is_judged_as_the_engine_judges_it(groups: list[list[int]], seed: int) -> None:
    sizes = {
        f"s{i:02d}": {4 + g: n for g, n in enumerate(row) if n} for i, row in enumerate(groups)
    }
    sizes = {s: g for s, g in sizes.items() if g}
    if "s00" not in sizes:
        return
    report, table = _report(sizes, seed=seed)
    engine = _rest_check(table, "s00", RESEARCH)
    for part in report.parts:
        for row in part.rows:
            if row.pupils is not None:
                assert row.pupils >= SCHOOL_REPORT.pupil_threshold
                assert (row.national is not None) == engine.get(
                    (part.leergebied, row.jaargroep), False
                )
            if row.national is not None:
                growth = _growth_frame(table).to_pandas()
                rest = growth[
                    (growth["school"] != "s00")
                    & (growth["leergebied"] == part.leergebied)
                    & (growth["jaargroep"] == row.jaargroep)
                ]
                # what the school learns (the other schools' mean) rests on enough schools
                per_school = rest.groupby("school")["pupil"].nunique()
                assert len(per_school) >= RESEARCH.min_schools.threshold  # type: ignore[union-attr]
                assert per_school.max() <= 0.5 * per_school.sum()


def test_the_predicted_reference_needs_enough_other_schools_with_a_schoolweging() -> None:
    sizes = country(schools=20)
    effect = {f"s{i:02d}": (i - 10) / 10 for i in range(20)}
    weging = {f"s{i:02d}": 40.0 - i for i in range(20)}
    report, _ = _report(sizes, reference=weging, effect=effect)
    rows = [r for p in report.parts for r in p.rows]
    assert all(r.predicted is not None for r in rows)
    # the line follows the schools: s00 (highest weging, weakest pupils) is predicted low
    assert all(r.predicted.m < r.national.m for r in rows)  # type: ignore[union-attr]
    few = {s: w for s, w in weging.items() if s <= "s11"}  # s00 and 11 others: one short
    report, _ = _report(sizes, reference=few, effect=effect)
    rows = [r for p in report.parts for r in p.rows]
    assert all(r.predicted is None and "model" in r.missing for r in rows)
    report, _ = _report(sizes, reference={s: w for s, w in weging.items() if s != "s00"})
    rows = [r for p in report.parts for r in p.rows]
    assert all(r.predicted is None and "reference" in r.missing for r in rows)


def test_the_page_names_no_pseudonym_and_no_other_school() -> None:
    sizes = country(schools=16)
    report, _ = _report(sizes)
    page = render_report_html(report, ReportHeading("12AB00", "OBS De Linde"))
    assert "OBS De Linde (12AB00)" in page
    assert not re.search(r"\bs\d\d\b", page)
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")
    english = render_report_html(report, ReportHeading("12AB00"), lang="en")
    assert '<html lang="en">' in english
    assert "Learning results and growth" in english


def test_standardised_growth_says_about_average_within_half_a_deviation() -> None:
    sizes = country(schools=16)
    report, _ = _report(sizes)
    for row in (r for p in report.parts for r in p.rows):
        assert row.standardised is not None
        expected = (
            "about"
            if abs(row.standardised) <= 0.5
            else ("above" if row.standardised > 0 else "below")
        )
        assert row.verdict == expected
    assert np.isfinite([r.standardised for p in report.parts for r in p.rows]).all()


def _released(table: pa.Table) -> dict[object, dict[str, int]]:
    cells = growth_cells(connect(table), PERIOD, DOMAINS)
    return {k: cells.populations(k) for k in cells.keys}


def _without(table: pa.Table, pupils: set[str]) -> pa.Table:
    return table.filter(pc.invert(pc.is_in(table["pupil"], pa.array(sorted(pupils)))))


def test_a_report_made_again_after_a_retraction_withholds_the_countrys_changed_cells() -> None:
    """Two runs of one period, one pupil apart: both national figures together give that
    pupil's scores, so the second run shows the country only where the difference is a
    group the research policy would publish (10 pupils of 3 schools, none dominant)."""
    table = results(country(schools=16))
    first = _released(table)
    one = _without(table, {"s07-6-3"})
    cells = growth_cells(connect(one), PERIOD, DOMAINS)
    report = build_school_report(
        cells,
        "s00",
        PERIOD,
        policy=SCHOOL_REPORT,
        comparison=RESEARCH,
        reference={},
        released=[first],  # type: ignore[list-item]
    )
    for part in report.parts:
        for row in part.rows:
            assert (row.national is None) == (row.jaargroep == 6), (part.leergebied, row)
            if row.jaargroep == 6:
                assert "comparison" in row.missing
    # twelve pupils of four schools: a group the policy publishes, so the country shows
    many = _without(table, {f"s{s:02d}-6-{p}" for s in (3, 4, 5, 6) for p in range(3)})
    cells = growth_cells(connect(many), PERIOD, DOMAINS)
    report = build_school_report(
        cells,
        "s00",
        PERIOD,
        policy=SCHOOL_REPORT,
        comparison=RESEARCH,
        reference={},
        released=[first],  # type: ignore[list-item]
    )
    assert all(row.national is not None for part in report.parts for row in part.rows)


def test_a_boards_own_schools_are_no_comparison_for_its_reports() -> None:
    """A board that reads the reports of four of a cell's five schools subtracts its own
    four: the country is shown to it only when the schools outside the board pass."""
    sizes = {s: {6: 20} for s in ("b1", "b2", "b3", "b4", "x1")}
    table = results(sizes)
    cells = growth_cells(connect(table), PERIOD, DOMAINS)

    def national(coalition: tuple[str, ...]) -> list[object]:
        report = build_school_report(
            cells,
            "b1",
            PERIOD,
            policy=SCHOOL_REPORT,
            comparison=RESEARCH,
            reference={},
            coalition=coalition,
        )
        return [row.national for part in report.parts for row in part.rows]

    assert all(n is not None for n in national(()))
    assert all(n is None for n in national(("b2", "b3", "b4")))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 30),
    st.integers(0, 2**16),
    st.sets(st.integers(0, 29), max_size=20),
    st.booleans(),
)
def test_the_rest_of_a_cell_has_the_statistics_of_its_schools_counted_one_by_one(
    schools: int, seed: int, left_out: set[int], masked: bool
) -> None:
    """The fast way (the whole cell less a few schools) gives what the rules would get
    from the remaining schools themselves, for every measure."""
    rng = np.random.default_rng(seed)
    sizes = {f"s{i:02d}": {6: int(rng.integers(1, 12))} for i in range(schools)}
    cells = growth_cells(connect(results(sizes, seed=seed)), PERIOD, DOMAINS)
    keys = cells.keys
    without = {f"s{i:02d}" for i in left_out}
    among = [rng.random(len(cells.names(k))) < 0.7 for k in keys] if masked else None
    for measure in MEASURES:
        fast = cells.stats_without(keys, measure, without, among=among, tag=str(masked))
        groups = [
            cells.mask(k, without=without) & (among[j] if among is not None else True)
            for j, k in enumerate(keys)
        ]
        slow = cells.stats(keys, measure, groups)
        for name in ("n_pupils", "n_schools", "school_top"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
        for name in (
            "value_sum",
            "pupil_value_total",
            "school_value_total",
            "school_value_top",
            "pupil_value_top",
        ):
            assert np.allclose(getattr(fast, name), getattr(slow, name)), name
        some = slow.n_pupils > 0
        for name in ("value_min", "value_max"):
            assert np.allclose(getattr(fast, name)[some], getattr(slow, name)[some]), name
