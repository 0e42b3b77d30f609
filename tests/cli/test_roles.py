"""The school and office commands end to end, as a user runs them, through the console."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cohortsafe.cli import main
from tests.exportkit import BSNS, ExportKit

pytestmark = pytest.mark.django_db


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return status, json.loads(out)


def test_school_to_office_through_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    school, office = tmp_path / "school", tmp_path / "office"
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    assert _run(capsys, "school", "import", str(ExportKit.valid().write(tmp_path / "x")))[0] == 0
    assert _run(capsys, "keys", "new", "--name", "school", "--out", str(school))[0] == 0
    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    status, made = _run(capsys, "office", "init")
    assert status == 0
    assert made["fingerprint"]
    assert (office / "office.key").stat().st_mode & 0o777 == 0o600
    assert _run(capsys, "office", "init")[0] == 1  # never twice
    assert (
        _run(capsys, "office", "school-add", "12AB00", "--key", str(school / "school.pub"))[0] == 0
    )

    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    status, objected = _run(
        capsys, "school", "object", "--pupil", "1002", "--received", "03-02-2026", "--from", "ouder"
    )
    assert status == 0
    assert objected["earlier_deliveries"] == 0
    status, delivered = _run(
        capsys,
        "school",
        "deliver",
        "--schooljaar",
        "2025-2026",
        "--office-key",
        str(office / "office.pub"),
        "--out",
        str(tmp_path / "out"),
    )
    assert status == 0
    (delivery,) = delivered["deliveries"]  # type: ignore[misc]
    assert delivery["exclusions"]["objection"] == 1
    status, register = _run(capsys, "school", "objections")
    assert register["objections"][0]["delivered_in"] == []  # type: ignore[index]

    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    package = tmp_path / "out" / delivery["file"]
    status, received = _run(capsys, "office", "receive", str(package))
    assert status == 0
    assert received["packages"][0]["status"] == "received"  # type: ignore[index]
    status, again = _run(capsys, "office", "receive", str(tmp_path / "out"))
    assert again["packages"][0]["status"] == "duplicate"  # type: ignore[index]
    status, state = _run(capsys, "office", "status")
    assert (status, state["pupils"], state["deliveries_current"]) == (0, 2, 1)
    assert _run(capsys, "office", "scan")[0] == 0

    pq.write_table(pa.table({"x": [BSNS[0]]}), office / "vault" / "data" / "leak.parquet")
    status, scanned = _run(capsys, "office", "scan")
    assert status == 1
    assert scanned["findings"][0]["column"] == "x"  # type: ignore[index]
    assert BSNS[0] not in json.dumps(scanned)
    # a file the catalog does not list is kept and refused by intake, never deleted
    status, kept = _run(capsys, "office", "receive", str(package))
    assert (status, "leak.parquet" in kept["error"]["message"]) == (1, True)  # type: ignore[index]
    (office / "vault" / "data" / "leak.parquet").unlink()

    altered = tmp_path / "altered.nco"
    raw = bytearray(package.read_bytes())
    raw[-40] ^= 1
    altered.write_bytes(raw)
    status, refused = _run(capsys, "office", "receive", str(altered))
    assert status == 1
    assert "altered" in refused["packages"][0]["reason"]  # type: ignore[index]


def test_package_open_refuses_with_a_reason_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("school", "office", "other"):
        role = "office" if name == "office" else "school"
        main(["keys", "new", "--name", name, "--role", role, "--out", str(tmp_path)])
    capsys.readouterr()
    monkeypatch.setenv("COHORTSAFE_HOME", str(tmp_path / "home"))
    main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))])
    main(
        [
            "school",
            "deliver",
            "--schooljaar",
            "2025-2026",
            "--office-key",
            str(tmp_path / "office.pub"),
            "--signing-key",
            str(tmp_path / "school.key"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    capsys.readouterr()
    (package,) = (tmp_path / "out").glob("*.nco")
    status, opened = _run(
        capsys,
        "package",
        "open",
        str(package),
        "--office-key",
        str(tmp_path / "other.key"),
        "--school-key",
        str(tmp_path / "school.pub"),
        "--out",
        str(tmp_path / "o"),
    )
    assert status == 1
    assert opened["error"]["kind"] == "decryption"  # type: ignore[index]
    status, _ = _run(
        capsys,
        "package",
        "open",
        str(package),
        "--office-key",
        str(tmp_path / "office.key"),
        "--school-key",
        str(tmp_path / "other.pub"),
        "--out",
        str(tmp_path / "o"),
    )
    assert status == 1
    status, opened = _run(
        capsys,
        "package",
        "open",
        str(package),
        "--office-key",
        str(tmp_path / "office.key"),
        "--school-key",
        str(tmp_path / "school.pub"),
        "--out",
        str(tmp_path / "o"),
    )
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "leerlingen.parquet",
        "manifest.json",
        "toetsresultaten.parquet",
        "voorschool.parquet",
    ]
