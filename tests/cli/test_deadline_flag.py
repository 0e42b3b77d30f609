"""``school deliver`` before the period's objection deadline needs ``--before-deadline``."""

from __future__ import annotations

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
    argv = ["school", "deliver", "--period", "2099-2100", "--office-key", key]
    status = main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status != 0
    assert "--before-deadline" in err
    assert "Traceback" not in err
