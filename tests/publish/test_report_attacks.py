"""Privacy attacks on the school feedback reports (cohortsafe.publish), written by a
reviewing attacker against the first version; six of them leaked then and are closed now
(differencing between runs, a board's coalition, the fit's dominance and its schools).

Every test carries out one attack with only what reports show (``SchoolReport.as_dict()``,
or the HTML's rounding of it) plus what the attacker legitimately knows (its own pupils'
scores and counts; for a board, every report of its schools; public schoolweging where
stated). Each test ASSERTS THAT THE ATTACK FAILS: a passing test means safe, a failing
test means a leak was found (the assertion message carries the numbers).

Protection criterion for approximate attacks: the research policy's secondary-suppression
level, 30 % of the value, at least 1.0 (``minimum_value``). An exact recovery (error below
1e-6) is always a leak.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import cohortsafe.sdc as sdc
from cohortsafe.publish import GrowthCells, build_school_report, growth_cells
from cohortsafe.publish._growth import CellKey
from tests.publish.kit import DOMAINS, PERIOD, connect, results

SCHOOL_REPORT = sdc.load_policy("school_report")
RESEARCH = sdc.load_policy("research")
PERCENT, MIN_VALUE = 0.30, 1.0
EXACT = 1e-6


def _level(value: float) -> float:
    return max(PERCENT * abs(value), MIN_VALUE)


def _cells(table: pa.Table) -> GrowthCells:
    return growth_cells(connect(table), PERIOD, DOMAINS)


def _report(
    cells: GrowthCells,
    school: str,
    reference: dict[str, float] | None = None,
    *,
    coalition: tuple[str, ...] = (),
    released: tuple[GrowthCells, ...] = (),
) -> dict:
    """A report as the office makes it: ``released`` the cells of earlier runs of the
    period (the service keeps their populations), ``coalition`` the schools whose reports
    reach the same administrator."""
    return build_school_report(
        cells,
        school,
        PERIOD,
        policy=SCHOOL_REPORT,
        comparison=RESEARCH,
        reference=reference or {},
        coalition=coalition,
        released=[{k: c.populations(k) for k in c.keys} for c in released],
    ).as_dict()


def _rows(report: dict) -> dict[tuple[str, str, int], dict]:
    """A report's shown rows by (domain, scale, jaargroep)."""
    return {
        (p["leergebied"], p["schaal"], r["jaargroep"]): r
        for p in report["parts"]
        for r in p["rows"]
    }


def _without_pupil(table: pa.Table, pupil: str) -> pa.Table:
    return table.filter(pc.not_equal(table["pupil"], pupil))


def _pupil_scores(table: pa.Table, pupil: str, domain: str) -> tuple[float, float]:
    rows = [r for r in table.to_pylist() if r["pupil"] == pupil and r["leergebied"] == domain]
    m = np.mean([r["vaardigheidsscore"] for r in rows if r["toetsmoment"] == "M"])
    e = np.mean([r["vaardigheidsscore"] for r in rows if r["toetsmoment"] == "E"])
    return float(m), float(e)


def _national_sd(row: dict) -> float:
    """Standardised growth is (own - national) / sd, shown at full precision: sd exactly."""
    return (row["school"]["groei"] - row["national"]["groei"]) / row["standardised"]


# ---------------------------------------------------------------------------------------
# 1. Two versions of a report: one pupil of ANOTHER school retracted
# ---------------------------------------------------------------------------------------


def _solve_retraction(before: dict, after: dict, n_max: int = 20000) -> tuple[int, dict]:
    """From national mean and SD before/after one pupil left: the cell's N, then the
    leaving pupil's M, E and growth. Unknowns T, Q, N, v; equations nat1, nat2, sd1, sd2."""
    nat1, nat2 = before["national"], after["national"]
    sd1, sd2 = _national_sd(before), _national_sd(after)
    best, best_n = np.inf, -1
    for n in range(3, n_max):
        t = n * nat1["groei"]
        v = t - (n - 1) * nat2["groei"]
        q = (n - 1) * sd1**2 + t * t / n
        predicted = (q - v * v - (t - v) ** 2 / (n - 1)) / (n - 2)
        err = abs(predicted - sd2**2)
        if err < best:
            best, best_n = err, n
    n = best_n
    pupil = {m: n * nat1[m] - (n - 1) * nat2[m] for m in ("m", "e", "groei")}
    return n, pupil


def test_retraction_of_another_schools_pupil_does_not_reveal_that_pupils_scores() -> None:
    """Attack: the office re-makes every report after one pupil of school s07 is
    retracted (a parent's objection). School s00 keeps both versions of its own report.
    National mean (3 measures) and the national SD (from standardised growth, shown at
    full precision) before and after give four equations in four unknowns (N, sum, sum of
    squares, the pupil's value): N is found by an integer search, and then the retracted
    pupil's M score, E score and growth follow exactly. The research policy's own
    differencing rule (10 pupils) is not applied between report versions."""
    sizes = {f"s{i:02d}": dict.fromkeys(range(4, 9), 20) for i in range(20)}
    table = results(sizes, seed=11)
    victim = "s07-6-3"
    first = _cells(table)
    before = _rows(_report(first, "s00"))
    after = _rows(_report(_cells(_without_pupil(table, victim)), "s00", released=(first,)))
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    if after[key]["national"] is None:  # the re-made report withholds what changed
        return
    n, pupil = _solve_retraction(before[key], after[key])
    m, e = _pupil_scores(table, victim, "rekenen_wiskunde")
    errors = (abs(pupil["m"] - m), abs(pupil["e"] - e), abs(pupil["groei"] - (e - m)))
    assert max(errors) > MIN_VALUE, (
        f"LEAK: retracted pupil recovered exactly: N={n} (true {20 * 20}), "
        f"M={pupil['m']:.4f} (true {m}), E={pupil['e']:.4f} (true {e}), "
        f"growth={pupil['groei']:.4f} (true {e - m:.4f})"
    )


def test_retraction_attack_on_the_html_precision_fails() -> None:
    """The same attack on what the HTML shows (national growth to 0.1, standardised to
    0.01, no national M/E): N cannot be pinned and the pupil's growth is not recovered
    within protection."""
    sizes = {f"s{i:02d}": dict.fromkeys(range(4, 9), 20) for i in range(20)}
    table = results(sizes, seed=11)
    victim = "s07-6-3"
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    rows = []
    for t in (table, _without_pupil(table, victim)):
        # without the ledger of earlier runs, to test the rounding on its own
        row = _rows(_report(_cells(t), "s00"))[key]
        own = round(row["school"]["groei"], 1)
        nat = round(row["national"]["groei"], 1)
        std = round(row["standardised"], 2)
        rows.append(
            {
                "school": {"groei": own},
                "national": {"groei": nat, "m": nat, "e": nat},
                "standardised": std,
            }
        )
    _, pupil = _solve_retraction(rows[0], rows[1])
    m, e = _pupil_scores(table, victim, "rekenen_wiskunde")
    assert abs(pupil["groei"] - (e - m)) > _level(e - m)


# ---------------------------------------------------------------------------------------
# 2. Own retraction gives N; a board then solves the one school it does not hold
# ---------------------------------------------------------------------------------------


def _small_cell_country() -> dict[str, dict[int, int]]:
    # a rare scale: five schools, four of one board (b1..b4) and one other (x)
    return {"b1": {6: 20}, "b2": {6: 20}, "b3": {6: 20}, "b4": {6: 20}, "x": {6: 16}}


def test_own_retraction_plus_board_reports_do_not_reveal_the_other_school() -> None:
    """Attack: school b1 has one of its own pupils retracted (it knows that pupil's
    scores) and gets its report re-made. nat_before*N = nat_after*(N-1) + v gives the
    cell's pupil count N exactly (national pupil counts are 'never shown'). The board of
    b1..b4 holds all reports: each board school's 'rest' has 4 schools and passes the
    research rules, but together with N the board gets the one remaining school x:
    S_x = N*nat - sum(board sums), n_x = N - sum(board pupils)."""
    table = results(_small_cell_country(), seed=5, effect={"x": 0.8})
    cells = _cells(table)
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    board = ("b1", "b2", "b3", "b4")
    reports = {s: _rows(_report(cells, s, coalition=board))[key] for s in board}
    gone = "b1-6-0"
    after = _rows(
        _report(_cells(_without_pupil(table, gone)), "b1", coalition=board, released=(cells,))
    )[key]
    if after["national"] is None or any(r["national"] is None for r in reports.values()):
        return  # the board's own schools are no comparison for it: nothing to subtract
    v_m, _ = _pupil_scores(table, gone, "rekenen_wiskunde")
    nat1, nat2 = reports["b1"]["national"]["m"], after["national"]["m"]
    n_total = round((v_m - nat2) / (nat1 - nat2))
    n_board = sum(r["pupils"] for r in reports.values())
    n_x = n_total - n_board
    found = {
        m: (
            n_total * reports["b1"]["national"][m]
            - sum(r["pupils"] * r["school"][m] for r in reports.values())
        )
        / n_x
        for m in ("m", "e", "groei")
    }
    k = CellKey(*key)
    true = {m: cells.mean(k, m, "x") for m in found}
    worst = max(abs(found[m] - true[m]) for m in found)
    assert worst > MIN_VALUE, (
        f"LEAK: school x recovered exactly: n_x={n_x} (true {cells.pupils(k, 'x')}), "
        + ", ".join(f"{m}={found[m]:.4f} (true {true[m]:.4f})" for m in found)
    )


def test_board_of_two_with_n_does_not_reveal_a_two_school_figure() -> None:
    """Attack: as above, but the board holds b1, b2, b3 of a five-school cell: with N
    (one own retraction) it gets the mean of the remaining two schools (b4 and x) - a
    figure on 2 schools, below the research policy's min_schools = 3."""
    table = results(_small_cell_country(), seed=5, effect={"x": 0.8})
    cells = _cells(table)
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    board = ("b1", "b2", "b3")
    reports = {s: _rows(_report(cells, s, coalition=board))[key] for s in board}
    gone = "b1-6-0"
    after = _rows(
        _report(_cells(_without_pupil(table, gone)), "b1", coalition=board, released=(cells,))
    )[key]
    if after["national"] is None or any(r["national"] is None for r in reports.values()):
        return
    v_m, _ = _pupil_scores(table, gone, "rekenen_wiskunde")
    nat1, nat2 = reports["b1"]["national"]["m"], after["national"]["m"]
    n_total = round((v_m - nat2) / (nat1 - nat2))
    n_two = n_total - sum(r["pupils"] for r in reports.values())
    two = (n_total * nat1 - sum(r["pupils"] * r["school"]["m"] for r in reports.values())) / n_two
    k = CellKey(*key)
    true = (cells.mean(k, "m", "b4") * 20 + cells.mean(k, "m", "x") * 16) / 36
    assert abs(two - true) > MIN_VALUE, (
        f"LEAK: mean M of the two schools b4+x recovered exactly: {two:.4f} (true {true:.4f}),"
        f" n={n_two}"
    )


def test_board_without_any_retraction_cannot_pin_the_other_school() -> None:
    """Control: without N (no second version), the board of b1..b4 only knows
    n_x*(mean_x - nat) = D. The interval of mean_x over every n_x the rules allow (1 up to
    what keeps x under 50 % of each board school's rest) is wider than protection. (With
    n_x from public DUO pupil counts the interval shrinks: see the report.)"""
    table = results(_small_cell_country(), seed=5, effect={"x": 0.8})
    cells = _cells(table)
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    reports = {s: _rows(_report(cells, s))[key] for s in ("b1", "b2", "b3", "b4")}
    nat = reports["b1"]["national"]["groei"]
    d = sum(r["pupils"] * (r["school"]["groei"] - nat) for r in reports.values())
    n_max = min(sum(r["pupils"] for s2, r in reports.items() if s2 != s) for s in reports)
    candidates = [nat - d / n for n in range(1, n_max + 1)]
    true = cells.mean(CellKey(*key), "groei", "x")
    width = max(candidates) - min(candidates)
    assert width > 2 * _level(true), f"LEAK: mean growth of x within {width:.3f}"


# ---------------------------------------------------------------------------------------
# 3. The predicted reference (WLS line of school means on schoolweging)
# ---------------------------------------------------------------------------------------


def _line(reports: dict[str, dict], weging: dict[str, float], measure: str) -> tuple[float, float]:
    """Two board reports at different schoolweging give the line's slope and intercept."""
    (s1, r1), (s2, r2) = sorted(reports.items(), key=lambda kv: weging[kv[0]])[:: len(reports) - 1]
    b = (r2["predicted"][measure] - r1["predicted"][measure]) / (weging[s2] - weging[s1])
    return r1["predicted"][measure] - b * weging[s1], b


def _thirteen(seed: int = 2) -> tuple[pa.Table, dict[str, float], dict[str, float]]:
    sizes = {f"s{i:02d}": {6: 15 + i} for i in range(13)}
    effect = {f"s{i:02d}": (i - 6) / 6 for i in range(13)}
    weging = {f"s{i:02d}": 40.0 - 1.3 * i for i in range(13)}
    return results(sizes, seed=seed, effect=effect), weging, effect


def test_board_with_all_but_one_school_cannot_solve_the_line_for_that_school() -> None:
    """Attack: a cell of 13 schools with a schoolweging; a board holds 12 of them (each
    board school has 12 others in the fit: the predicted reference is shown). The two
    normal equations of the weighted fit hold over all 13 schools, the board knows its
    own n_i, x_i, y_i, and the line (a, b) from two of its reports. The last school's
    weighted residual moments follow: x_X = R1/R0; with the national mean also
    n_X = (R0 - D)/(a + b x_X - nat) and y_X = nat - D/n_X: the school's schoolweging,
    its pupil count and its means, exactly, without any retraction."""
    table, weging, _ = _thirteen()
    cells = _cells(table)
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    target = "s12"
    board = [s for s in weging if s != target]
    reports = {s: _rows(_report(cells, s, weging, coalition=tuple(board)))[key] for s in board}
    if any(r["predicted"] is None or r["national"] is None for r in reports.values()):
        return  # the fit leaves too few schools outside the board: no line to solve
    k = CellKey(*key)
    out = {}
    for measure in ("m", "e", "groei"):
        a, b = _line(reports, weging, measure)
        nat = reports[board[0]]["national"][measure]
        n = np.asarray([reports[s]["pupils"] for s in board], float)
        x = np.asarray([weging[s] for s in board])
        y = np.asarray([reports[s]["school"][measure] for s in board])
        r0 = float(np.sum(n * (y - a - b * x)))
        r1 = float(np.sum(n * x * (y - a - b * x)))
        d = float(np.sum(n * (y - nat)))
        x_x = r1 / r0
        n_x = (r0 - d) / (a + b * x_x - nat)
        out[measure] = (x_x, n_x, nat - d / n_x, cells.mean(k, measure, target))
    worst = max(abs(v[2] - v[3]) for v in out.values())
    assert worst > MIN_VALUE, "LEAK: school s12 solved from the line: " + ", ".join(
        f"{m}: weging={v[0]:.4f} (true {weging[target]}), n={v[1]:.4f} "
        f"(true {cells.pupils(k, target)}), mean={v[2]:.4f} (true {v[3]:.4f})"
        for m, v in out.items()
    )


def test_board_with_all_but_two_schools_and_public_weging_cannot_solve_them() -> None:
    """Attack: the board holds 11 of 13 schools; the two others' schoolweging is public
    (CBS publishes it per school). Per measure the normal equations give q_i = n_i r_i
    (weighted residuals) of both schools exactly; the national mean and the line's
    centroid x_w = (nat - a)/b leave ONE equation on the counts,
    n1 (x1 - x_w) + n2 (x2 - x_w) = K (the same for every measure and domain). So the
    attacker gets an integer lattice of candidate (n1, n2), each with its own means
    y_i = a + b x_i + q_i/n_i: not one answer (safe), but one known count of either
    school (public DUO pupil numbers) makes both exact."""
    table, weging, _ = _thirteen(seed=4)
    cells = _cells(table)
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    targets = ("s05", "s12")
    board = [s for s in weging if s not in targets]
    reports = {s: _rows(_report(cells, s, weging))[key] for s in board}
    assert all(r["predicted"] is not None and r["national"] is not None for r in reports.values())
    n = np.asarray([reports[s]["pupils"] for s in board], float)
    x = np.asarray([weging[s] for s in board])
    xt = np.asarray([weging[s] for s in targets])
    a, b = _line(reports, weging, "m")
    nat = reports[board[0]]["national"]["m"]
    y = np.asarray([reports[s]["school"]["m"] for s in board])
    r0 = float(np.sum(n * (y - a - b * x)))
    r1 = float(np.sum(n * x * (y - a - b * x)))
    q = np.linalg.solve(np.asarray([[1.0, 1.0], xt]), np.asarray([-r0, -r1]))
    xw = (nat - a) / b
    k_rhs = -float(np.sum(n * (x - xw)))
    candidates = []
    for n1 in range(1, 201):
        n2 = (k_rhs - n1 * (xt[0] - xw)) / (xt[1] - xw)
        if 1 <= round(n2) <= 200 and abs(n2 - round(n2)) < 1e-6:
            candidates.append((n1, round(n2), a + b * xt[0] + q[0] / n1))
    k = CellKey(*key)
    truth = (cells.pupils(k, targets[0]), cells.pupils(k, targets[1]))
    assert truth in [(c[0], c[1]) for c in candidates]
    spread = max(c[2] for c in candidates) - min(c[2] for c in candidates)
    assert len(candidates) > 1, f"LEAK: one candidate {candidates} (true {truth})"
    assert spread > 2 * MIN_VALUE, f"LEAK: candidates {candidates} (true {truth})"


def _grown(table: pa.Table, extra: dict[str, float]) -> pa.Table:
    """Add ``extra[school]`` to every E score of the school: growth differs by school."""
    shift = pa.array(
        [
            extra.get(s, 0.0) if mo == "E" else 0.0
            for s, mo in zip(
                table["school"].to_pylist(), table["toetsmoment"].to_pylist(), strict=True
            )
        ]
    )
    moved = pc.add(table["vaardigheidsscore"], shift)
    return table.set_column(
        table.schema.get_field_index("vaardigheidsscore"), "vaardigheidsscore", moved
    )


def _dominated() -> tuple[GrowthCells, dict[str, float], dict[float, float]]:
    # 14 schools: s13 has 400 pupils, the others 20: s13 holds > 50 % of any rest.
    # School effects on level (M, E) and on growth, so schools' means differ widely.
    sizes = {f"s{i:02d}": {6: 20} for i in range(14)}
    sizes["s13"] = {6: 400}
    effect = {f"s{i:02d}": (i - 7) / 7 for i in range(14)}
    extra = {f"s{i:02d}": 3.0 * np.sin(1.7 * i) for i in range(14)}
    weging = {f"s{i:02d}": 25.0 + i for i in range(14)}
    table = _grown(results(sizes, effect=effect, seed=3), extra)
    return _cells(table), weging, extra


def _spread(cells: GrowthCells, key: CellKey, measure: str) -> float:
    _, means = cells.school_means(key, measure)
    return float(np.ptp(means))


def test_predicted_reference_does_not_bypass_the_dominance_rule() -> None:
    """Attack: one school (s13) holds 400 of 660 pupils: the national figure is withheld
    for every other school (school dominance), but the predicted reference needs only 12
    other schools with a schoolweging - no dominance rule - and is shown. The
    pupil-weighted line runs through the dominant school: two board reports (s00, s12)
    give the line; evaluated at s13's public schoolweging it gives s13's means within
    less than minimum_value 1.0 (and a small fraction of the schools' spread)."""
    cells, weging, _ = _dominated()
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    reports = {s: _rows(_report(cells, s, weging))[key] for s in ("s00", "s12")}
    assert all(r["national"] is None for r in reports.values())  # dominance works here
    if any(r["predicted"] is None for r in reports.values()):
        return  # and holds for the line too
    k = CellKey(*key)
    msgs, leaks = [], 0
    for measure in ("m", "e", "groei"):
        a, b = _line(reports, weging, measure)
        est, true = a + b * weging["s13"], cells.mean(k, measure, "s13")
        msgs.append(
            f"{measure}: {est:.3f} (true {true:.3f}, schools spread "
            f"{_spread(cells, k, measure):.1f})"
        )
        leaks += abs(est - true) < MIN_VALUE
    assert not leaks, "LEAK: dominant school s13 estimated from the line: " + "; ".join(msgs)


def test_predicted_reference_of_a_single_report_does_not_reveal_the_dominant_school() -> None:
    """Attack without a board, on the HTML: s12 (schoolweging 37, next to s13's 38) reads
    its own 'Groei verwacht' (0.1 precision) and takes it as s13's mean growth, which the
    withheld national figure was meant to hide."""
    cells, weging, _ = _dominated()
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    k = CellKey(*key)
    row = _rows(_report(cells, "s12", weging))[key]
    if row["predicted"] is None:
        return
    est = round(row["predicted"]["groei"], 1)
    true = cells.mean(k, "groei", "s13")
    assert abs(est - true) >= MIN_VALUE, (
        f"LEAK: s12's own predicted growth {est} vs s13's mean growth {true:.3f} "
        f"(schools' mean growth spread {_spread(cells, k, 'groei'):.1f})"
    )


# ---------------------------------------------------------------------------------------
# 4. Standardised growth, the share 'more growth than national'
# ---------------------------------------------------------------------------------------


def test_standardised_growth_gives_the_sd_but_no_school_mean() -> None:
    """Attack: the national SD of growth is exactly (own - national)/standardised (the
    same number in every board report). It adds the cell's sum of squares: one equation
    and one unknown (Q_x). Its only bite is Q_x >= S_x^2/n_x (a variance is >= 0), which
    rules out the smallest n_x. The other school's mean growth over every n_x still
    consistent (1 .. what keeps x under 50 % of each board school's rest) stays a wide
    interval: the board of b1..b4 does not get x without N."""
    table = results(_small_cell_country(), seed=5, effect={"x": 0.8})
    cells = _cells(table)
    key = ("rekenen_wiskunde", "cito-vs-3.0", 6)
    k = CellKey(*key)
    reports = {s: _rows(_report(cells, s))[key] for s in ("b1", "b2", "b3", "b4")}
    # standardised growth is shown to two decimals: each report gives the SD only roughly
    sds = {round(_national_sd(r), 9) for r in reports.values()}
    assert len(sds) > 1
    sd = _national_sd(reports["b1"])
    nat = reports["b1"]["national"]["groei"]
    board_n = sum(r["pupils"] for r in reports.values())
    own_q = sum(float(np.sum(cells.growth_values(k, s) ** 2)) for s in reports)
    own_s = sum(r["pupils"] * r["school"]["groei"] for r in reports.values())
    n_max = min(sum(r["pupils"] for s2, r in reports.items() if s2 != s) for s in reports)
    means = []
    for n_x in range(1, n_max + 1):
        n = board_n + n_x
        s_x = nat * n - own_s
        q_x = (n - 1) * sd**2 + (nat * n) ** 2 / n - own_q
        if q_x - s_x**2 / n_x >= 0:
            means.append(s_x / n_x)
    true = cells.mean(k, "groei", "x")
    width = max(means) - min(means)
    assert width > 2 * _level(true), f"LEAK: mean growth of x within {width:.3f}"


def test_share_more_growth_than_national_tells_nothing_beyond_the_national_mean() -> None:
    """Attack: the share of own pupils who grew more than national is a function of the
    school's own pupils and the national mean growth, both already known to it; the
    shown (clipped, rounded) share is recomputed exactly from them, so it adds nothing
    about other schools (beyond placing the national mean between two own pupils'
    growth values, finer than the HTML's 0.1 - still the national mean only)."""
    sizes = {f"s{i:02d}": dict.fromkeys(range(4, 9), 20) for i in range(16)}
    cells = _cells(results(sizes, seed=9))
    for key, row in _rows(_report(cells, "s00")).items():
        grew = cells.growth_values(CellKey(*key), "s00")
        share = 100.0 * float(np.mean(grew > row["national"]["groei"]))
        share = min(max(share, 5.0), 95.0)
        shown = row["more_growth"].replace("%", "").replace("<", "").replace(">", "").strip()
        assert abs(float(shown) - round(share)) < 1


# ---------------------------------------------------------------------------------------
# 5. Scales
# ---------------------------------------------------------------------------------------


def test_a_school_on_a_second_scale_is_not_compared_with_a_rest_that_is_one_school() -> None:
    """Attack: a school tests its pupils on a rare scale that only two other schools use;
    the national figure of that scale must not be shown (rest of 2 schools), and the
    school's cito cells compare only with cito schools."""
    sizes = {f"s{i:02d}": {6: 20} for i in range(16)}
    sizes.update({"r1": {6: 20}, "r2": {6: 20}, "r3": {6: 20}})
    scale = {"r1": "rare-vs", "r2": "rare-vs", "r3": "rare-vs"}
    cells = _cells(results(sizes, seed=1, scale=scale))
    rows = _rows(_report(cells, "r1"))
    assert all(r["national"] is None for r in rows.values()), rows
