"""A delivery is refused when the school's store holds free text an earlier import let in.

Such an import is made here by switching the import's free-text checks off, as
they were before they existed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohortsafe.app.school import services
from cohortsafe.lvs import _export
from tests.exportkit import BSNS, ExportKit
from tests.school.conftest import SchoolSetup

pytestmark = pytest.mark.django_db


def _import_unchecked(kit: ExportKit, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(_export, "free_text_problems", lambda files: [])
        patch.setattr(_export, "scale_code", lambda value: value)
        (report,) = services.import_exports(
            [kit.write(folder)], actor="test", today=dt.date(2026, 11, 30), replace=True
        )
    assert report.accepted


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (
            "toets",
            f"Cito M6 {BSNS[1]}",
            "toetsresultaten.toets: 1 row(s) with a value that holds a BSN",
        ),
        (
            "toets",
            "Rekenen van der Meer3",
            "toetsresultaten.toets: 1 row(s) with a value that holds the name",
        ),
        ("schaal", "cito", "toetsresultaten.schaal: 1 row(s) outside the code list"),
    ],
)
def test_a_stored_identifier_in_free_text_stops_the_delivery(
    school: SchoolSetup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    column: str,
    value: str,
    reason: str,
) -> None:
    kit = ExportKit.valid(pupils=6).set("toetsresultaten.csv", 3, column, value)
    _import_unchecked(kit, tmp_path / "earlier", monkeypatch)
    (report,) = school.deliver()
    assert not report.delivered
    assert report.reason is not None
    assert reason in report.reason
    assert value not in report.reason
    assert not (school.root / "out").exists() or not list((school.root / "out").iterdir())
