"""Output specifications, tried as a researcher who wants more than the rules allow.

With free SQL a researcher could give every row another pupil's score, make each
pupil a school of their own, or label a cell with a pupil's value; with a free
formula, run code on the server. A specification names rows and statistics only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cohortsafe.errors import PolicyError
from cohortsafe.research import OutputSpec, compute_output
from cohortsafe.research._rows import checked_formula
from cohortsafe.sdc import Ledger
from tests.research.test_workspace import SPEC, _built, vault

__all__ = ["vault"]  # the fixture


def _spec(**given: Any) -> dict[str, Any]:
    return {"name": "t", "kind": "table", "table": "toetsresultaten", "index": ["leergebied"],
            **given}  # fmt: skip


@pytest.mark.parametrize(
    "given",
    [
        {"sql": "SELECT record AS pupil, pupil AS school, * FROM toetsresultaten"},
        {"index": ["school"]},
        {"index": ["pupil"]},
        {"values": "record", "aggfunc": "count"},
        {"columns": ["record"]},
        {"table": "toetsresultaten; DROP TABLE x"},
        {"where": [['pupil" OR 1=1 --', "=", "x"]]},
        {"where": [["leergebied", "LIKE", "%"]]},
        {"where": [["pupil", "!=", "a" * 64]]},
        {"where": [["school", "in", ["a" * 64]]]},
        {"where": [["leergebied", "=", {"sql": "1"}]]},
        {"where": [["leergebied", "is null", "x"]]},
        {"with": [{"table": "leerlingen", "column": "geslacht", "how": "string_agg"}]},
        {"extra": 1},
    ],
)
def test_a_specification_that_reaches_past_rows_and_statistics_is_refused(
    given: dict[str, Any],
) -> None:
    with pytest.raises(PolicyError):
        OutputSpec.parse(_spec(**given)).checked(SPEC_TABLES)


SPEC_TABLES = {
    "leerlingen": ["pupil", "school", "record", *SPEC.tables["leerlingen"]],
    "toetsresultaten": ["pupil", "school", "record", *SPEC.tables["toetsresultaten"]],
}


def test_a_measured_value_is_the_rows_own() -> None:
    borrowed = _spec(
        values="leerlingen_jaargroep",
        aggfunc="sum",
        **{"with": [{"table": "leerlingen", "column": "jaargroep", "how": "max"}]},
    )
    with pytest.raises(PolicyError, match="values is a column of toetsresultaten"):
        OutputSpec.parse(borrowed).checked(SPEC_TABLES)
    # as a group it is the same pupil's own fact, and allowed
    grouped = _spec(
        columns=["leerlingen_geslacht"],
        **{"with": [{"table": "leerlingen", "column": "geslacht"}]},
    )
    assert "LEFT JOIN" in OutputSpec.parse(grouped).checked(SPEC_TABLES)


@pytest.mark.parametrize(
    "formula",
    [
        "vaardigheidsscore ~ I(__import__('os').system('touch MARKER'))",
        "vaardigheidsscore ~ np.log(jaargroep)",
        "vaardigheidsscore ~ jaargroep ** 2",
        "vaardigheidsscore ~ C(leergebied, Treatment('spelling'))",
        "vaardigheidsscore ~ pupil",
        "vaardigheidsscore ~ leergebied ~ jaargroep",
        "vaardigheidsscore ~ (leergebied",
        "vaardigheidsscore ~ {leergebied}",
    ],
)
def test_a_formula_runs_no_code_and_names_only_variables(formula: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    columns = [c for c in SPEC_TABLES["toetsresultaten"] if c not in ("pupil", "school", "record")]
    with pytest.raises(PolicyError):
        checked_formula(formula.replace("MARKER", str(marker)), columns)
    assert not marker.exists()


def test_formulas_a_researcher_writes_pass() -> None:
    columns = ["vaardigheidsscore", "leergebied", "jaargroep"]
    for formula in (
        "vaardigheidsscore ~ leergebied + C(jaargroep)",
        "vaardigheidsscore ~ leergebied * jaargroep - 1",
        "vaardigheidsscore ~ leergebied:jaargroep + 0",
    ):
        assert checked_formula(formula, columns) == formula


def test_a_quote_in_a_condition_is_a_value_not_sql(vault: Any, tmp_path: Path) -> None:
    quoted = "x' OR '1'='1"
    with _built(vault, tmp_path / "p") as workspace:
        ledger = Ledger.open(tmp_path / "ledger", project=SPEC.code)
        session = workspace.session(ledger)
        # no domain is called that: every row is kept by != and none by =
        kept = compute_output(
            workspace, session, OutputSpec.parse(_spec(where=[["leergebied", "!=", quoted]]))
        )
        with pytest.raises(PolicyError):
            compute_output(
                workspace,
                session,
                OutputSpec.parse(_spec(name="u", where=[["leergebied", "=", quoted]])),
            )
        ledger.close()
        domains = workspace.sql("SELECT count(DISTINCT leergebied) FROM toetsresultaten").rows
    assert kept.report["kind"] == "table"
    listed = (kept.content or b"").decode()
    assert domains == [[2]]
    assert "rekenen_wiskunde" in listed or kept.outcome == "fail"
