"""`cohortsafe demo` (what `make demo` runs) goes through the whole chain and says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from stdnum.nl import bsn

from cohortsafe.cli._demo_steps import run_demo


@pytest.mark.slow
def test_the_demo_runs_the_chain_from_lvs_export_to_checked_table(tmp_path: Path) -> None:
    steps = run_demo(tmp_path, schools=5, seed=2026)

    titles = [step.title for step in steps]
    assert titles[0].startswith("An LVS vendor exports")
    summaries = {step.title: step.summary for step in steps}
    scan = summaries["The office scans every vault file for identifiers"]
    assert scan.startswith("nothing found")
    checked = summaries["An output checker checks a table of mean scores from the vault"]
    assert "cells with margins" in checked
    assert "table: fail" not in checked
    # nothing the demo prints is a number that passes the BSN eleven test
    printed = " ".join(step.summary for step in steps)
    assert not [n for n in re.findall(r"\b\d{9}\b", printed) if bsn.is_valid(n)]
