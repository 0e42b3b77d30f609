"""`cohortsafe demo` (what `make demo` runs) goes through the whole chain and says so."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from stdnum.nl import bsn

from cohortsafe.cli._demo_steps import demo_summary, describe_summary, run_demo


@pytest.mark.slow
def test_the_demo_runs_the_chain_from_lvs_export_to_a_verified_release(tmp_path: Path) -> None:
    steps = run_demo(tmp_path, schools=5, seed=2026)

    titles = [step.title for step in steps]
    assert titles[0].startswith("An LVS vendor exports")
    outputs = {step.title: step.output for step in steps}
    scan = outputs["The office scans every vault file for identifiers"]
    assert scan.startswith("no column of any vault file holds")
    checked = next(o for title, o in outputs.items() if title.startswith("The server computes"))
    assert checked == "score_by_childcare: pass"
    (verified,) = [o for title, o in outputs.items() if title.startswith("Anyone verifies")]
    assert "signature and 3 checksums verify" in verified
    (bundle,) = (tmp_path / "release").glob("*.zip")
    with zipfile.ZipFile(bundle) as archive:
        report = archive.read("reports/score_by_childcare.json").decode()
        table = archive.read("outputs/score_by_childcare.csv").decode()
    # hidden cells leave as "suppressed": not which were primary, nor which rule hid them
    assert '"suppressed"' in report
    assert "primary" not in report
    assert "secondary" not in report
    assert ",," in table or table.endswith(",\n")  # and blank in the table
    # nothing the demo prints is a number that passes the BSN eleven test
    printed = " ".join(step.describe() for step in steps)
    assert not [n for n in re.findall(r"\b\d{9}\b", printed) if bsn.is_valid(n)]
    # every command is shown as one a user can copy: no glob, no loop, and it runs as printed
    for step in steps:
        assert not any(ch in part for part in step.command for ch in "*?"), step.command
    shown = steps[-1].describe().splitlines()[1].removeprefix("$ cohortsafe ")
    again = subprocess.run(
        [sys.executable, "-m", "cohortsafe.cli", *shlex.split(shown)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip("\n") == steps[-1].output
    # the chain ends in publication: a report per school, public tables checked and with DP
    reports = sorted((tmp_path / "school-reports").glob("*.html"))
    assert len(reports) == 5
    for page in reports:
        own = page.name[:6]
        text = page.read_text()
        assert own in text
        assert not [p.name[:6] for p in reports if p.name[:6] != own and p.name[:6] in text]
    assert (tmp_path / "public-tables" / "index.html").is_file()
    assert (tmp_path / "public-tables" / "leerlingen_per_leergebied.csv").is_file()
    dp = next(o for title, o in outputs.items() if "differential privacy" in title)
    assert "privacy budget spent in total: epsilon 1" in dp
    summary = demo_summary(tmp_path)
    assert summary["left_out"]["objection"] >= 1
    assert "public-tables/index.html" in summary["files"]
    assert any(f.startswith("school-reports/") for f in summary["files"])
    assert "pupils left out because a parent objected" in describe_summary(summary)
