"""One rule for birth dates on both sides (the office side: tests/office/test_plausibility.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohortsafe.domain import EARLIEST_BIRTH_DATE
from cohortsafe.lvs import read_export
from tests.exportkit import ExportKit

TODAY = dt.date(2026, 11, 30)
EDGE = [EARLIEST_BIRTH_DATE - dt.timedelta(days=1), EARLIEST_BIRTH_DATE, dt.date(1950, 6, 1)]


@pytest.mark.parametrize("born", EDGE)
def test_the_school_refuses_what_the_office_would(tmp_path: Path, born: dt.date) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 2, "geboortedatum", f"{born:%d-%m-%Y}")
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    if born >= EARLIEST_BIRTH_DATE:
        assert outcome.export is not None, outcome.problems
        return
    assert [(p.file, p.line, p.column) for p in outcome.problems] == [
        ("leerlingen.csv", 2, "geboortedatum")
    ]
    assert "before 01-01-1990" in outcome.problems[0].reason
