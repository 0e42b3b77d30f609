"""``school deliver`` before the period's objection deadline needs ``--before-deadline``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cohortsafe.cli import main
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db


def test_delivering_a_period_parents_can_still_object_to_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    school = tmp_path / "school"
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    assert main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))]) == 0
    assert main(["keys", "new", "--name", "school", "--out", str(school)]) == 0
    capsys.readouterr()
    key = str(school / "school.pub")
    argv = ["school", "deliver", "--schooljaar", "2099-2100", "--office-key", key]
    status = main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status != 0
    assert "--before-deadline" in err
    assert "Traceback" not in err


def test_consent_for_a_pupil_who_objected_prints_a_warning_and_json_carries_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COHORTSAFE_HOME", str(tmp_path / "school"))
    assert main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))]) == 0
    study = ["school", "study-add", "--code", "A", "--title", "Studie A"]
    assert (
        main([*study, "--categories", "dyslexie", "--from", "01-01-2026", "--until", "31-12-2027"])
        == 0
    )
    objection = ["school", "object", "--pupil", "1002", "--received", "03-02-2026"]
    assert main([*objection, "--from", "ouder"]) == 0
    consent = ["school", "consent", "--pupil", "1002", "--study", "A", "--categories", "dyslexie"]
    consent += ["--given-by", "ouder", "--date", "01-09-2026"]
    capsys.readouterr()
    assert main(consent) == 0
    assert "warning: pupil 1002 has an objection in force" in capsys.readouterr().out
    assert main(["school", "consent-withdraw", "--pupil", "1002", "--study", "A"]) == 0
    capsys.readouterr()
    assert main([*consent, "--json"]) == 0
    (warning,) = json.loads(capsys.readouterr().out)["warnings"]
    assert "nothing about the pupil is delivered" in warning
