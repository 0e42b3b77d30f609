"""The microdata risk report against a count made by hand, on random extracts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohortsafe.research import Workspace, risk_report

_ROW = st.tuples(
    st.integers(0, 2),  # school
    st.sampled_from(["2016-01", "2016-02", "2017-05"]),
    st.sampled_from(["M", "V"]),
    st.integers(3, 4),  # jaargroep
    st.sampled_from([None, "vve", "kinderdagverblijf"]),
)


def _extract(folder: Path, rows: list[tuple[int, str, str, int, str | None]]) -> Workspace:
    extract = folder / "extract"
    extract.mkdir(parents=True)
    pupils = [f"p{i}" for i in range(len(rows))]
    leerlingen = pa.table(
        {
            "pupil": pupils,
            "school": [f"s{r[0]}" for r in rows],
            "record": [f"r{i}" for i in range(len(rows))],
            "geboortemaand": [r[1] for r in rows],
            "geslacht": [r[2] for r in rows],
            "jaargroep": pa.array([r[3] for r in rows], pa.int8()),
        }
    )
    care = [(p, r[4]) for p, r in zip(pupils, rows, strict=True) if r[4] is not None]
    voorschool = pa.table(
        {
            "pupil": pa.array([p for p, _ in care], pa.string()),
            "school": pa.array(["s0"] * len(care), pa.string()),
            "record": pa.array([f"v{i}" for i in range(len(care))], pa.string()),
            "soort": pa.array([s for _, s in care], pa.string()),
        }
    )
    pq.write_table(leerlingen, extract / "leerlingen.parquet")
    pq.write_table(voorschool, extract / "voorschool.parquet")
    manifest = {
        "project": "P1",
        "policy": "research",
        "tables": {
            "leerlingen": {"columns": leerlingen.column_names},
            "voorschool": {"columns": voorschool.column_names},
        },
    }
    (folder / "extract.json").write_text(json.dumps(manifest))
    return Workspace(folder)


def _below(keys: list[tuple[object, ...]], k: int) -> tuple[int, int, int, int]:
    sizes = Counter(keys)
    small = [n for n in sizes.values() if n < k]
    return len(sizes), len(small), sum(small), sum(1 for n in sizes.values() if n == 1)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_ROW, min_size=1, max_size=40), k=st.integers(2, 6))
def test_the_report_counts_what_a_count_by_hand_gives(
    tmp_path_factory: object, rows: list[tuple[int, str, str, int, str | None]], k: int
) -> None:
    folder = Path(tmp_path_factory.mktemp("risk"))  # type: ignore[attr-defined]
    with _extract(folder, rows) as workspace:
        report = risk_report(workspace, k)
    full = [(f"s{r[0]}", r[1], r[2], r[3], r[4]) for r in rows]
    combinations, below, at_risk, uniques = _below(full, k)
    assert report.population == len(rows)
    assert report.quasi_identifiers == (
        "school", "geboortemaand", "geslacht", "jaargroep", "voorschool"
    )  # fmt: skip
    assert (report.combinations, report.below_k, report.at_risk, report.uniques) == (
        combinations, below, at_risk, uniques,
    )  # fmt: skip
    by_change = {c.change: c.at_risk for c in report.coarsenings}
    yearly = [(s, m[:4], g, j, v) for s, m, g, j, v in full]
    assert by_change["birth year instead of birth month"] == _below(yearly, k)[2]
    no_school = [key[1:] for key in full]
    assert by_change["leave out school"] == _below(no_school, k)[2]
    # every combination listed is below k, and no school is named by its pseudonym
    for listed in report.smallest:
        assert listed["n"] < k
        assert "school" not in listed
    # each step taken together never leaves more pupils at risk than the one before
    steps = [c.at_risk for c in report.combined]
    assert steps == sorted(steps, reverse=True)
