"""`school import --replace`, `school import-remove` and grouped problems on the console."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.cli import main
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def test_a_systematic_error_prints_one_line_and_json_keeps_every_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kit = ExportKit.valid(pupils=6)
    for line in range(2, 38):
        kit.set("toetsresultaten.csv", line, "vaardigheidsscore", "veel")
    folder = kit.write(tmp_path / "x")
    assert main(["school", "import", str(folder)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[1:] == [
        "  toetsresultaten.csv [vaardigheidsscore]: not a number — 36 rows, lines 2, 3, 4, 5, 6 …",
        "1 export(s): 0 imported, 1 rejected; 0 rows",
    ]
    assert main(["school", "import", str(folder), "--json"]) == 1
    (export,) = _json(capsys)["exports"]  # type: ignore[misc]
    assert len(export["problems"]) == 36
    (group,) = export["problem_groups"]
    assert group["count"] == 36
    assert group["lines"] == list(range(2, 38))


def test_import_remove_and_its_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))]) == 0
    capsys.readouterr()
    assert main(["school", "import-remove", "--schooljaar", "2024-2025", "--json"]) == 1
    error = _json(capsys)["error"]
    assert error == {
        "kind": "import_removal",
        "message": "12AB00 holds no import of 2024-2025: nothing to remove",
    }
    assert main(["school", "import-remove", "--schooljaar", "2025-2026", "--json"]) == 0
    document = _json(capsys)
    assert document["school_year"] == "2025-2026"
    assert document["latest_year"] is None
    assert AuditEvent.objects.filter(action="school.import_removed").count() == 1


def test_import_replace_flag_reaches_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    assert main(["school", "import", "--replace", str(folder), "--json"]) == 0
    (export,) = _json(capsys)["exports"]  # type: ignore[misc]
    assert export["accepted"] is True
    assert export["problem_groups"] == []


def test_objection_list_problems_are_grouped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))]) == 0
    capsys.readouterr()
    listing = tmp_path / "bezwaren.csv"
    listing.write_text(
        "leerlingnummer;datum\n1001;32-01-2026\n1002;32-01-2026\n1003;32-01-2026\n",
        encoding="utf-8",
    )
    assert main(["school", "objections-import", str(listing)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == ["  bezwaren.csv [datum]: date does not exist — 3 rows, lines 2, 3, 4"]
    assert main(["school", "objections-import", str(listing), "--json"]) == 1
    document = _json(capsys)
    assert len(document["problems"]) == 3  # type: ignore[arg-type]
    assert document["problem_groups"] == [
        {
            "file": "bezwaren.csv",
            "column": "datum",
            "reason": "date does not exist",
            "count": 3,
            "lines": [2, 3, 4],
        }
    ]
