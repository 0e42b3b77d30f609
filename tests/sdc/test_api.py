"""The public API of cohortsafe.sdc is small and pinned."""

from __future__ import annotations

import cohortsafe.sdc as sdc

EXPECTED = {
    "AGGREGATES",
    "ATTACKER_MODEL",
    "DEFAULT_POLICY",
    "POLICY_NAMES",
    "AuditReport",
    "Base",
    "Cell",
    "CellInterval",
    "CheckedOutput",
    "CheckedTable",
    "CombinedResult",
    "Ledger",
    "Output",
    "Policy",
    "ReleaseHistory",
    "Released",
    "Session",
    "SuppressionSummary",
    "TableRequest",
    "check_regression",
    "combined_check",
    "crosstab",
    "histogram",
    "load_policy",
    "open_source",
    "percentiles",
    "pivot_table",
    "release",
    "summary_statistics",
    "table_text",
}


def test_public_names_are_pinned() -> None:
    assert set(sdc.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(sdc, name), name


def test_modules_behind_the_api_are_private() -> None:
    public_modules = {
        name
        for name in dir(sdc)
        if not name.startswith("_") and type(getattr(sdc, name)).__name__ == "module"
    }
    # only the rules package is a public module (one module per rule, documented)
    assert public_modules <= {"rules"}
