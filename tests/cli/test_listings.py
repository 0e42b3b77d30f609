"""Listings, dry runs, audit verify, progress and bulk commands, through the console."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from cohortsafe.cli import main
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return status, json.loads(out)


def _school_and_office(tmp_path: Path, capsys, monkeypatch) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    school, office = tmp_path / "school", tmp_path / "office"
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    assert _run(capsys, "school", "import", str(ExportKit.valid().write(tmp_path / "x")))[0] == 0
    assert _run(capsys, "keys", "new", "--name", "school", "--out", str(school))[0] == 0
    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    assert _run(capsys, "office", "init")[0] == 0
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    return school, office


def test_school_listings_dry_run_and_office_listings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    school, office = _school_and_office(tmp_path, capsys, monkeypatch)
    deliver = ["school", "deliver", "--schooljaar", "2025-2026", "--office-key"]
    deliver += [str(office / "office.pub")]
    status, dry = _run(capsys, *deliver, "--dry-run")
    assert status == 0
    assert dry["deliveries"][0]["rows"]["leerlingen"] == 3
    assert dry["deliveries"][0]["file"] is None
    assert _run(capsys, "school", "deliveries")[1]["deliveries"] == []  # nothing recorded
    assert not (tmp_path / "out").exists()

    status, made = _run(capsys, *deliver, "--out", str(tmp_path / "out"))
    assert status == 0
    status, listed = _run(capsys, "school", "deliveries", "--schooljaar", "2025-2026")
    (item,) = listed["deliveries"]
    assert item["file"] == made["deliveries"][0]["file"]
    assert item["rows"]["leerlingen"] == 3
    assert _run(capsys, "school", "deliveries", "--schooljaar", "2024-2025")[1]["deliveries"] == []

    status, state = _run(capsys, "school", "status")
    (one,) = state["schools"]
    assert one["pupils"]["total"] >= 2
    assert one["imports"]["2025-2026"]["count"] == 1
    assert one["deliveries"]["2025-2026"] == {"count": 1, "newest_file": item["file"]}
    assert one["pending_retractions"] == []
    main(["school", "object", "--pupil", "1002", "--received", "03-02-2026", "--from", "ouder"])
    capsys.readouterr()
    state = _run(capsys, "school", "status")[1]["schools"][0]
    assert state["objections"] == {"active": 1, "withdrawn": 0}
    assert state["pending_retractions"] == ["1002"]
    assert _run(capsys, "school", "status", "--school", "99ZZ00")[0] == 1  # unknown school

    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    assert (
        _run(capsys, "office", "school-add", "12AB00", "--key", str(school / "school.pub"))[0] == 0
    )
    status, schools = _run(capsys, "office", "schools")
    assert schools["schools"][0]["school"] == "12AB00"
    assert len(schools["schools"][0]["fingerprint"]) == 64
    package = str(tmp_path / "out" / item["file"])
    status, checked = _run(capsys, "office", "receive", "--check", package)
    assert (status, checked["packages"][0]["status"]) == (0, "received")
    assert _run(capsys, "office", "deliveries")[1]["deliveries"] == []  # check stored nothing
    assert _run(capsys, "office", "status")[1]["deliveries_current"] == 0
    assert _run(capsys, "office", "receive", package)[0] == 0
    status, checked = _run(capsys, "office", "receive", "--check", package)
    assert checked["packages"][0]["status"] == "duplicate"
    (received,) = _run(capsys, "office", "deliveries", "--school", "12AB00")[1]["deliveries"]
    assert received["status"] == "received"
    assert received["rows"]["leerlingen"] == 3
    assert _run(capsys, "office", "retractions")[1]["retractions"] == []
    assert _run(capsys, "office", "receive", "--check", str(tmp_path / "nope.nco"))[0] == 1


def test_rotate_key_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "office", "init")[0] == 0
    status, preview = _run(capsys, "office", "rotate-key")
    assert status == 1
    assert preview["preview"]["purpose"] == "pupil"
    from cohortsafe.app.office.models import KeyRecord

    assert KeyRecord.objects.filter(purpose="pupil").count() == 1
    assert _run(capsys, "office", "rotate-key", "--yes")[0] == 0
    assert KeyRecord.objects.filter(purpose="pupil").count() == 2


def test_audit_verify_finds_a_tampered_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "school", "import", str(ExportKit.valid().write(tmp_path / "x")))[0] == 0
    status, check = _run(capsys, "audit", "verify")
    assert status == 0
    assert check["events"] >= 1
    from cohortsafe.app.audit.models import AuditEvent

    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}"')
        else:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        cursor.execute(f"UPDATE \"{table}\" SET actor = 'someone else' WHERE seq = 1")
    status, check = _run(capsys, "audit", "verify")
    assert (status, check["intact"], check["first_broken"]) == (1, False, 1)


def test_progress_callback_counts_up_and_no_bar_off_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cohortsafe.cli._home import open_home

    open_home("school", create=True)
    from cohortsafe.app.school import services

    calls: list[tuple[int, int]] = []
    folders = [ExportKit.valid().write(tmp_path / "a"), tmp_path / "missing"]
    services.import_exports(folders[:1], actor="test", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]
    status = main(["school", "import", str(ExportKit.valid().write(tmp_path / "b"))])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.err == ""  # no bar: stderr is not a terminal
    assert "1 export(s): 1 imported, 0 rejected;" in captured.out


def test_bulk_set_and_letters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "school", "import", str(ExportKit.valid().write(tmp_path / "x")))[0] == 0
    out = tmp_path / "letters"
    status, refused = _run(capsys, "school", "letter", "--all", "--out", str(out))
    assert status == 1
    assert "12AB00" in refused["error"]["message"]
    assert not out.exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("school,name\n12AB00,De Linde\n")
    status, rejected = _run(capsys, "school", "set", "--from", str(bad))
    assert status == 1
    assert rejected["problems"][0]["column"] == "contact"
    bad.write_text("school,name,contact\n99ZZ00,X,y@x.nl\n")
    assert _run(capsys, "school", "set", "--from", str(bad))[1]["problems"][0]["line"] == 2
    assert _run(capsys, "school", "set", "--from", str(tmp_path / "none.csv"))[0] == 1
    good = tmp_path / "good.csv"
    good.write_text("school;name;contact\n12AB00;De Linde;directie@delinde.nl\n")
    status, done = _run(capsys, "school", "set", "--from", str(good))
    assert (status, done["updated"]) == (0, ["12AB00"])
    status, written = _run(capsys, "school", "letter", "--all", "--out", str(out))
    assert status == 0
    assert [Path(f).name for f in written["files"]] == ["12AB00.html"]
    assert "De Linde" in (out / "12AB00.html").read_text()


def test_office_school_add_from_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys"
    for name in ("a", "b"):
        main(["keys", "new", "--name", name, "--out", str(keys)])
    capsys.readouterr()
    assert _run(capsys, "office", "init")[0] == 0
    listing = keys / "schools.csv"
    listing.write_text("school,key\n12AB00,a.pub\n34CD00,missing.pub\n")
    status, rejected = _run(capsys, "office", "school-add", "--from", str(listing))
    assert status == 1
    assert [(p["line"], p["column"]) for p in rejected["problems"]] == [(3, "key")]
    assert _run(capsys, "office", "schools")[1]["schools"] == []  # all or nothing
    listing.write_text("school,key\n12AB00,a.pub\n34CD00,b.pub\n")
    status, added = _run(capsys, "office", "school-add", "--from", str(listing))
    assert (status, added["added"]) == (0, ["12AB00", "34CD00"])
    listing.write_text("school,key\n12AB00,b.pub\n")
    status, rejected = _run(capsys, "office", "school-add", "--from", str(listing))
    assert status == 1
    assert "registered with key" in rejected["problems"][0]["reason"]
    listing.write_text("school\n12AB00\n")
    assert (
        _run(capsys, "office", "school-add", "--from", str(listing))[1]["problems"][0]["column"]
        == "key"
    )
