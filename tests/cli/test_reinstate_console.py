"""A withdrawal after a retraction through the console: both sides are told what happened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cohortsafe.cli import main
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def _text(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_reinstate_through_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    school, office, out = tmp_path / "school", tmp_path / "office", tmp_path / "out"
    office_pub = str(office / "office.pub")
    deliver = ("school", "deliver", "--schooljaar", "2025-2026", "--office-key", office_pub)
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    assert _run(capsys, "school", "import", str(ExportKit.valid().write(tmp_path / "x")))[0] == 0
    assert _run(capsys, "keys", "new", "--name", "school", "--out", str(school))[0] == 0
    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    assert _run(capsys, "office", "init")[0] == 0
    assert (
        _run(capsys, "office", "school-add", "12AB00", "--key", str(school / "school.pub"))[0] == 0
    )

    def at_office(*argv: str) -> dict[str, object]:
        monkeypatch.setenv("COHORTSAFE_HOME", str(office))
        status, data = _run(capsys, *argv)
        assert status == 0
        return data

    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    status, _delivered = _run(capsys, *deliver, "--out", str(out / "1"))
    assert status == 0
    at_office("office", "receive", str(out / "1"))
    pupils_before = at_office("office", "status")["pupils"]

    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    args = ("--pupil", "1002")
    assert (
        _run(capsys, "school", "object", *args, "--received", "03-02-2026", "--from", "o")[0] == 0
    )
    status, _ = _run(
        capsys, "school", "retract", *args, "--office-key", office_pub, "--out", str(out / "2")
    )
    assert status == 0
    received = at_office("office", "receive", str(out / "2"))
    assert received["packages"][0]["status"] == "retracted"  # type: ignore[index]

    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    status, early = _run(
        capsys, "school", "reinstate", *args, "--office-key", office_pub, "--out", str(out / "3")
    )
    assert status != 0
    assert "active objection" in json.dumps(early)
    status, text = _text(capsys, "school", "object-withdraw", *args)
    assert status == 0
    assert "cohortsafe school reinstate --pupil 1002" in text
    status, listing = _text(capsys, "school", "objections")
    assert "REINSTATEMENT NEEDED" in listing
    status, text = _text(
        capsys, "school", "reinstate", *args, "--office-key", office_pub, "--out", str(out / "3")
    )
    assert status == 0
    assert "deliver the periods again" in text
    assert "--schooljaar 2025-2026" in text
    status, listing = _text(capsys, "school", "objections")
    assert "reinstated (12AB00-reinstatement-" in listing

    received = at_office("office", "receive", str(out / "3"))
    (package,) = received["packages"]  # type: ignore[misc]
    assert package["status"] == "reinstated"
    assert package["counts"]["pupils_lifted"] == 1
    assert at_office("office", "status")["reinstatements"] == 1
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    assert _run(capsys, *deliver, "--out", str(out / "4"))[0] == 0
    received = at_office("office", "receive", str(out / "4"))
    assert received["packages"][0]["counts"]["filtered_retracted_pupils"] == 0  # type: ignore[index]
    assert at_office("office", "status")["pupils"] == pupils_before
