"""The combined check: a new table judged with a project's release ledger.

    python bench/bench_ledger.py [--quick]

The issue's benchmark: a new 160-cell table of mean scores (region × band, margins) on
1 M synthetic results (``--quick``: 100 k), checked alone (``crosstab`` with every
research rule and secondary suppression) and checked with a ledger of 100 earlier
outputs of about 200 cells each (the same check, plus the table's ledger entry and the
combined check). The ratio of the two is the figure (goal: ≤ 2×). How the cost grows
with the number of earlier outputs is measured on 10, 100 and 1,000 earlier outputs
(at 100 k rows, since building 1,000 outputs at 1 M rows takes long).

Earlier outputs are what a project on these data would take out: count and mean tables
of about 200 cells, for all results and for all but one topic's, either on the new
table's own variables (region × band) or ranging over four (region, band, area,
level). They are entered in the ledger directly (each is a real entry: members
fingerprinted, atoms refined, basis cells chosen); only the new table's check is timed.
The number of atoms the ledger holds is reported: it, not the number of outputs, is
what the check's size depends on.

In "same variables" the new table repeats earlier ones (the same table on all
results), and the check sees at once that it tells nothing new; "same variables,
table new" is the same project with every earlier output leaving one topic out, so the
new table repeats none of them and the whole check runs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import best_of, report  # noqa: E402
from _sdc_data import microdata  # noqa: E402
from cohortsafe.sdc import Ledger, crosstab, open_source  # noqa: E402
from cohortsafe.sdc._combined import combined_check  # noqa: E402
from cohortsafe.sdc._entries import table_entry  # noqa: E402
from cohortsafe.sdc._policy import load_policy  # noqa: E402

# (index, columns, statistic) of the earlier outputs, each about 200 cells with margins:
# a project on the new table's own variables, and one ranging over four variables
SCENARIOS = {
    "same variables": [("region", "band", "count"), ("region", "band", "mean")],
    # the same, but every earlier output leaves one topic out: the new table repeats
    # none of them, so the check cannot take its shortcut for repeated cells
    "same variables, table new": [("region", "band", "count"), ("region", "band", "mean")],
    "four variables": [
        ("area", "band", "count"),
        ("level", "band", "mean"),
        ("region", "band", "count"),
        ("area", "band", "mean"),
        ("level", "band", "count"),
    ],
}


def _data(rows: int) -> pa.Table:
    data = microdata(rows)
    return data.append_column("record", pa.array([f"r{i}" for i in range(rows)]))


def _earlier(data: pa.Table, number: int, shapes: int, whole: bool = True) -> pa.Table:
    """The data an earlier output was computed from: all results, or all but one topic's
    (``whole`` False: always all but one of the 22 topics)."""
    topic = number // shapes % 23 - 1 if whole else number // shapes % 22
    if topic < 0:
        return data
    return data.filter(pc.not_equal(data.column("topic"), topic))


def _build(folder: Path, data: pa.Table, outputs: int, scenario: str) -> tuple[Ledger, float]:
    shapes = SCENARIOS[scenario]
    whole = scenario != "same variables, table new"
    policy = load_policy("research")
    ledger = Ledger.open(folder, project="bench")
    start = time.perf_counter()
    for number in range(outputs):
        index, columns, statistic = shapes[number % len(shapes)]
        source = open_source(_earlier(data, number, len(shapes), whole))
        table = crosstab(
            None,
            index,
            columns,
            pupil="pupil",
            school="school",
            values="score" if statistic == "mean" else None,
            aggfunc=statistic,
            policy=policy,
            source=source,
        )
        entry = table_entry(
            table, source, ledger, record="record", name=f"t{number}", kind="table", command=""
        )
        ledger.record(entry)
    return ledger, (time.perf_counter() - start) / max(outputs, 1)


def _atoms(ledger: Ledger) -> int:
    rows = ledger.con.execute(
        "SELECT space, count(DISTINCT atom) FROM members GROUP BY space"
    ).fetchall()
    return max((int(n) for _, n in rows), default=0)


def _new_table(data: pa.Table, ledger: Ledger | None) -> Any:
    policy = load_policy("research")
    source = open_source(data)
    table = crosstab(
        None,
        "region",
        "band",
        pupil="pupil",
        school="school",
        values="score",
        aggfunc="mean",
        policy=policy,
        source=source,
    )
    if ledger is None:
        return table
    entry = table_entry(
        table, source, ledger, record="record", name="new", kind="table", command=""
    )
    return combined_check(ledger, entry, policy)


def _measure(
    rows: int, earlier: list[int], runs: int, scenarios: list[str]
) -> list[dict[str, Any]]:
    data = _data(rows)
    alone = best_of(runs, lambda: _new_table(data, None))
    out: list[dict[str, Any]] = [
        {
            "ledger": "",
            "rows": rows,
            "earlier outputs": 0,
            "atoms": None,
            "seconds": alone,
            "ratio": 1.0,
            "outcome": "checked alone",
            "build s/output": None,
        }
    ]
    for scenario, count in ((s, c) for s in scenarios for c in earlier):
        with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
            ledger, per_output = _build(Path(tmp) / "ledger", data, count, scenario)
            verdicts: list[Any] = []
            combined = best_of(
                runs, lambda into=verdicts, ledger=ledger: into.append(_new_table(data, ledger))
            )
            out.append(
                {
                    "ledger": scenario,
                    "rows": rows,
                    "earlier outputs": count,
                    "atoms": _atoms(ledger),
                    "seconds": combined,
                    "ratio": combined / alone,
                    "outcome": _outcome(verdicts[-1]),
                    "build s/output": per_output,
                }
            )
            ledger.close()
    return out


def _outcome(verdict: Any) -> str:
    if verdict.passed:
        return "pass"
    return "fail: too many atoms" if "groups, more than" in verdict.reasons[0] else "fail"


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    every = list(SCENARIOS)
    if quick:
        rows = _measure(100_000, [10, 100], runs=1, scenarios=every)
    else:
        rows = _measure(1_000_000, [100], runs=2, scenarios=every)
        rows += _measure(100_000, [10, 100, 1000], runs=2, scenarios=["same variables"])
        rows += _measure(100_000, [10, 100], runs=2, scenarios=["same variables, table new"])
    notes = [
        "seconds = wall time of checking the new 160-cell mean table: alone (crosstab "
        "with every research rule and secondary suppression), or with the ledger (the "
        "same, plus its ledger entry and the combined check); ratio = against alone at "
        "the same size. atoms = the largest number of atoms in one space of the ledger.",
        "Goal: ≤ 2× at 1 M rows with 100 earlier outputs.",
    ]
    report("ledger", "Combined check against a release ledger", rows, notes)


if __name__ == "__main__":
    main()
