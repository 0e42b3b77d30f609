"""Console conventions: --json prints one document, exit codes 0/1/2, the home on first use."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cohortsafe.cli import main
from tests.exportkit import BSNS, ExportKit


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "exactly one JSON document on one line"
    document: dict[str, object] = json.loads(out)
    return document


def test_synth_reports_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["synth", "--schools", "2", "--seed", "1", "--out", str(tmp_path), "--json"])
    assert status == 0
    document = _json(capsys)
    assert document["ok"] is True
    assert document["exports"] == 2


def test_usage_errors_exit_2_with_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--json"]) == 2
    document = _json(capsys)
    assert document["ok"] is False
    assert "--schools" in str(document["error"])
    assert main(["synth"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--schools" in captured.err
    assert main(["nonsense"]) == 2


@pytest.mark.django_db
def test_a_rejected_import_exits_1_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "bsn", "123456789")
    kit.set("toetsresultaten.csv", 4, "leergebied", "Geschiedenis")
    status = main(["school", "import", str(kit.write(tmp_path / "x")), "--json"])
    assert status == 1
    document = _json(capsys)
    (export,) = document["exports"]  # type: ignore[misc]
    assert export["accepted"] is False
    assert [(p["file"], p["line"], p["column"]) for p in export["problems"]] == [
        ("leerlingen.csv", 3, "bsn"),
        ("toetsresultaten.csv", 4, "leergebied"),
    ]


@pytest.mark.django_db
def test_text_output_never_shows_identifiers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "bsn", BSNS[0])
    assert main(["school", "import", str(kit.write(tmp_path / "x"))]) == 1
    captured = capsys.readouterr()
    assert "leerlingen.csv:3 [bsn]" in captured.out
    assert BSNS[0] not in captured.out + captured.err
    assert "Zoë" not in captured.out + captured.err


def test_the_home_is_created_and_migrated_on_first_use(tmp_path: Path) -> None:
    """A fresh process on a fresh home, as a user runs it."""
    home = tmp_path / "new-home"
    folder = ExportKit.valid().write(tmp_path / "export")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cohortsafe.cli",
            "--home",
            str(home),
            "school",
            "import",
            str(folder),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["exports"][0]["accepted"] is True
    assert (home / "secret_key").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(home / "cohortsafe.sqlite3") as db:
        pupils = db.execute("SELECT count(*) FROM school_pupil").fetchone()[0]
    assert pupils == 3
    assert (home / "lvs" / "12AB00" / "manifest.json").exists()
