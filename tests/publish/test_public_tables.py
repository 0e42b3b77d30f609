"""Public tables: no school breakdown, secondary suppression that holds across the tables of
a publication and against earlier ones, and a differential-privacy budget that adds up."""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

import cohortsafe.sdc as sdc
from cohortsafe.publish import (
    TABLES,
    PublicTable,
    checked_tables,
    dp_tables,
    public_csv,
    public_frames,
    render_public_html,
)
from cohortsafe.publish._public import TOTAL
from tests.publish.kit import PERIOD, country, results, with_registers

RESEARCH = sdc.load_policy("research")
YEARS = [PERIOD]


def _small_country() -> dict[str, dict[int, int]]:
    # uneven schools, so that small cells and suppression occur
    sizes = country(schools=8, pupils=9)
    sizes["s00"] = {4: 2, 5: 30}
    sizes["s01"] = {8: 3}
    return sizes


def _tables(ledger: sdc.Ledger | None = None, sizes=None, seed: int = 3) -> list[PublicTable]:
    con = with_registers(results(sizes or _small_country(), seed=seed), seed=seed)
    frames = public_frames(con, YEARS)
    return checked_tables(frames, YEARS, policy=RESEARCH, ledger=ledger or sdc.Ledger.memory("p"))


def _rows(table: PublicTable) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(public_csv(table).decode())))


def test_no_table_is_broken_down_by_school_and_categories_are_the_public_lists() -> None:
    tables = _tables()
    assert sum(t.published for t in tables) >= 2
    for table in tables:
        header = public_csv(table).decode().splitlines()[0].split(",")
        assert header == [table.spec.by, table.spec.second, "schooljaar", "leerlingen"]
        rows = _rows(table)
        assert {r[table.spec.by] for r in rows} <= {*table.spec.categories, TOTAL}
        text = public_csv(table).decode()
        assert not any(f"s{i:02d}" in text for i in range(10))


def test_every_checked_table_passes_the_secondary_suppression_audit() -> None:
    tables = _tables()
    assert any(t.suppressed for t in tables if t.published)  # the data do need protection
    for table in tables:
        if table.published:
            assert table.checked.audit().passed
            hidden = [r for r in _rows(table) if r["leerlingen"] == "."]
            assert len(hidden) == table.suppressed


def _bounds(
    tables: list[PublicTable],
) -> dict[tuple[int, tuple[str, str, str]], tuple[float, float]]:
    """What an attacker works out for every hidden figure from every published one: each
    table's margins, and the childcare and sex tables counting the same pupils per year."""
    unknown = [
        (i, key)
        for i, t in enumerate(tables)
        if t.published
        for key, v in t.cells.items()
        if v is None
    ]
    index = {u: j for j, u in enumerate(unknown)}
    rows, rhs = [], []

    def term(i: int, key: tuple[str, str, str]) -> tuple[int | None, float]:
        value = tables[i].cells[key]
        return (index[(i, key)], 0.0) if value is None else (None, float(value))

    def equal(
        left: list[tuple[int, tuple[str, str, str]]], right: list[tuple[int, tuple[str, str, str]]]
    ) -> None:
        row, constant = np.zeros(len(unknown)), 0.0
        for sign, side in ((1, left), (-1, right)):
            for i, key in side:
                j, value = term(i, key)
                if j is None:
                    constant -= sign * value
                else:
                    row[j] += sign
        rows.append(row)
        rhs.append(constant)

    for i, table in enumerate(tables):
        if not table.published:
            continue
        inner = [k for k in table.cells if TOTAL not in k]
        for c, g in {(c, g) for c, g, _ in inner}:
            equal([(i, k) for k in inner if k[:2] == (c, g)], [(i, (c, g, TOTAL))])
        for y in table.years:
            equal([(i, k) for k in inner if k[2] == y], [(i, (TOTAL, TOTAL, y))])
    same = [
        i for i, t in enumerate(tables) if t.published and t.spec.by in ("voorschool", "geslacht")
    ]
    for a, b in itertools.combinations(same, 2):
        for y in YEARS:
            equal([(a, (TOTAL, TOTAL, y))], [(b, (TOTAL, TOTAL, y))])
            # and group by group: both tables split the same pupils of each jaargroep
            for g in {k[1] for k in tables[a].cells if TOTAL not in k}:
                equal(
                    [(a, k) for k in tables[a].cells if k[1:] == (g, y) and k[0] != TOTAL],
                    [(b, k) for k in tables[b].cells if k[1:] == (g, y) and k[0] != TOTAL],
                )
    found = {}
    for u, j in index.items():
        ends = []
        for sense in (1, -1):
            c = np.zeros(len(unknown))
            c[j] = sense
            done = linprog(
                c, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None), method="highs"
            )
            assert done.status == 0
            ends.append(sense * done.fun)
        found[u] = (ends[0], ends[1])
    return found


def test_no_hidden_figure_can_be_worked_out_from_the_tables_together() -> None:
    tables = _tables()
    threshold = RESEARCH.pupil_threshold
    for (i, key), (low, high) in _bounds(tables).items():
        assert high - low > 1e-6, (tables[i].spec.name, key)  # never pinned exactly
        assert not (low >= 1 and high < threshold), (tables[i].spec.name, key, low, high)


def test_a_re_run_after_one_pupil_left_is_judged_with_the_first_publication() -> None:
    ledger = sdc.Ledger.memory("publications")
    sizes = _small_country()
    first = _tables(ledger, sizes)
    assert all(t.published for t in first[:1])
    sizes["s02"][6] -= 1  # one pupil fewer: a retraction
    again = _tables(ledger, sizes)
    # publishing both would give the difference: the pupil's domain, sex and childcare
    assert not any(t.published for t in again)
    for before, after in zip(first, again, strict=True):
        if before.published and after.published:
            changed = {
                k
                for k in after.cells
                if after.cells[k] is not None
                and before.cells.get(k) is not None
                and after.cells[k] != before.cells[k]
            }
            assert not changed, (after.spec.name, sorted(changed)[:3])


def test_the_page_explains_the_symbols_and_the_method() -> None:
    tables = _tables()
    page = render_public_html(tables, min_pupils=10, min_schools=3, policy="policy research")
    assert "Verklaring van symbolen" in page
    assert ". = geheim" in page
    assert "minstens 10 leerlingen van minstens 3 scholen" in page
    assert "<script" not in page
    assert "http" not in page


@pytest.mark.parametrize("epsilon", [0.5, 2.0])
def test_with_dp_the_budget_adds_up_and_every_public_category_is_there(epsilon: float) -> None:
    con = with_registers(results(_small_country()))
    frames = public_frames(con, YEARS)
    tables = dp_tables(frames, YEARS, epsilon=epsilon)
    spent = [t.epsilon for t in tables]
    assert sum(spent) == pytest.approx(epsilon)  # type: ignore[arg-type]
    assert all(s == pytest.approx(epsilon / len(TABLES)) for s in spent)
    for table in tables:
        inner = {k for k in table.cells if TOTAL not in k}
        assert {k[0] for k in inner} == set(table.spec.categories)
        assert {k[1] for k in inner} == {str(g) for g in table.spec.groups}
        assert all(v is not None and v >= 0 for v in table.cells.values())
        # totals are sums of the noisy cells: nothing more to learn from them
        assert table.cells[(TOTAL, TOTAL, TOTAL)] == sum(table.cells[k] for k in inner)  # type: ignore[misc]
    page = render_public_html(tables, min_pupils=10, min_schools=3, policy="-", dp_total=sum(spent))  # type: ignore[arg-type]
    assert f"samen: {epsilon:.3g}".replace(".", ",") in page


def test_dp_noise_hides_one_pupil() -> None:
    """Two runs one pupil apart: the count of that pupil's cell is not told by the output."""
    sizes = _small_country()
    con = with_registers(results(sizes))
    frames = public_frames(con, YEARS)
    key = ("M", "5", PERIOD)
    draws = [dp_tables(frames, YEARS, epsilon=1.0)[2].cells[key] for _ in range(200)]
    exact = int(
        frames["leerlingen_per_geslacht"]
        .query("geslacht == 'M' and jaargroep == 5")["pupil"]
        .nunique()
    )
    assert len(set(draws)) > 10  # spread, not the exact count
    assert abs(np.mean(draws) - exact) < 2.0  # and unbiased around it
