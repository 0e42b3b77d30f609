"""A folder of exports in which one holds CSV files but no leerlingen.csv: rejected, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cohortsafe.cli import main
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db


def test_an_export_without_leerlingen_is_rejected_not_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exports = tmp_path / "exports"
    ExportKit.valid().write(exports / "12AB00")
    incomplete = ExportKit.valid().write(exports / "34CD00")
    (incomplete / "leerlingen.csv").unlink()

    assert main(["school", "import", str(exports), "--json"]) == 1
    first, second = json.loads(capsys.readouterr().out)["exports"]
    assert first["accepted"] is True
    assert second["folder"] == str(incomplete)
    assert second["accepted"] is False
    assert second["problem_groups"] == [
        {
            "file": "leerlingen.csv",
            "column": None,
            "reason": "file is missing from the export",
            "count": 1,
            "lines": [],
        }
    ]

    assert main(["school", "import", str(incomplete)]) == 1
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"rejected {incomplete}: 1 problem(s), nothing was written",
        "  leerlingen.csv: file is missing from the export",
    ]
