"""An import can be replaced (`replace`) or removed per school year, audited and atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohortsafe import faults
from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school import services
from cohortsafe.app.school.models import ExportImport, Pupil, School
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.synth import SynthSpec, write_exports
from tests.exportkit import ExportKit
from tests.school.conftest import PERIOD, SchoolSetup

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 30)
SCHOOL = SchoolCode("12AB", "00")


def _older_kit(score: str = "145,5") -> ExportKit:
    """The valid export moved one school year back, 2024-2025, with every score ``score``."""
    kit = ExportKit.valid()
    results = kit.files["toetsresultaten.csv"]
    for line in range(2, len(results) + 1):
        kit.set("toetsresultaten.csv", line, "schooljaar", "2024-2025")
        day = results[line - 1][results[0].index("afnamedatum")]
        kit.set("toetsresultaten.csv", line, "afnamedatum", day.replace("2026", "2025"))
        kit.set("toetsresultaten.csv", line, "vaardigheidsscore", score)
    return kit


def _import(folder: Path, **kwargs: object) -> services.ImportReport:
    (report,) = services.import_exports([folder], actor="test", today=TODAY, **kwargs)  # type: ignore[arg-type]
    assert report.accepted, report.describe()
    return report


def _scores(year: str) -> list[float]:
    results = services.lvs_store().read(SCHOOL, "toetsresultaten")
    return [r["vaardigheidsscore"] for r in results.to_pylist() if r["schooljaar"] == year]


def test_replace_lets_an_older_export_replace_its_year(tmp_path: Path) -> None:
    _import(_older_kit("100").write(tmp_path / "old1"))
    _import(ExportKit.valid().write(tmp_path / "new"))
    corrected = _older_kit("120").write(tmp_path / "old2")
    kept = _import(corrected)
    assert not kept.newer
    assert not kept.replaced
    assert set(_scores("2024-2025")) == {100.0}
    replaced = _import(corrected, replace=True)
    assert replaced.replaced
    assert "replaced its school year" in replaced.describe()
    assert set(_scores("2024-2025")) == {120.0}
    assert set(_scores("2025-2026")) == {145.5}
    assert School.objects.get().latest_year == "2025-2026"
    assert services.lvs_store().latest_year(SCHOOL) == SchoolYear(2025)
    event = AuditEvent.objects.filter(action="school.import").last()
    assert event is not None
    assert event.details["replaced"] is True


def test_removing_a_year_takes_its_rows_and_import_records(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    write_exports(
        SynthSpec(schools=1, seed=4, years=tuple(SchoolYear.span("2024-2025..2025-2026"))), out
    )
    services.import_exports([out], actor="test", today=TODAY)
    school = School.objects.get()
    code = SchoolCode(school.brin, school.vestiging)
    store = services.lvs_store()
    before = {t: store.read(code, t).num_rows for t in ("toetsresultaten", "inschrijvingen")}
    pupils = Pupil.objects.count()

    removed = services.remove_import(SchoolYear(2025), None, actor="test")
    assert removed.imports == 1
    assert removed.latest_year == "2024-2025"
    assert School.objects.get().latest_year == "2024-2025"
    assert store.latest_year(code) == SchoolYear(2024)
    assert store.years(code) == [SchoolYear(2024)]
    for table, rows in before.items():
        assert store.read(code, table).num_rows == rows - removed.rows[table] < rows
    assert list(ExportImport.objects.values_list("school_year", flat=True)) == ["2024-2025"]
    assert Pupil.objects.count() == pupils  # objections and consents hang on them
    event = AuditEvent.objects.get(action="school.import_removed")
    assert event.subject == code.code
    assert event.details["school_year"] == "2025-2026"
    # pupils enrolled only in the removed year lose their childcare rows too
    enrolled = set(store.read(code, "inschrijvingen").column("leerlingnummer").to_pylist())
    assert set(store.read(code, "voorschool").column("leerlingnummer").to_pylist()) <= enrolled

    last = services.remove_import(SchoolYear(2024), None, actor="test")
    assert last.latest_year is None
    assert School.objects.get().latest_year == ""
    assert store.schools() == []
    assert not (store.root / code.code).exists()
    assert store.read(code, "toetsresultaten").num_rows == 0


def test_removing_a_year_never_imported_is_refused(tmp_path: Path) -> None:
    _import(ExportKit.valid().write(tmp_path / "x"))
    with pytest.raises(services.ImportRemovalError, match="no import of 2023-2024"):
        services.remove_import(SchoolYear(2023), None, actor="test")
    assert not AuditEvent.objects.filter(action="school.import_removed").exists()


def test_removing_a_delivered_year_is_refused(school: SchoolSetup) -> None:
    (report,) = school.deliver()
    assert report.delivered
    generation = services.lvs_store()._manifest(SCHOOL)
    with pytest.raises(services.ImportRemovalError, match="delivered 2025-2026 already"):
        services.remove_import(PERIOD, None, actor="test")
    assert services.lvs_store()._manifest(SCHOOL) == generation
    assert ExportImport.objects.filter(school_year=str(PERIOD)).exists()


def test_a_failing_registry_commit_leaves_store_and_registry_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(ExportKit.valid().write(tmp_path / "x"))
    folder = services.lvs_store().root / SCHOOL.code
    store_files = sorted(p.name for p in folder.iterdir())

    def fail(step: str) -> None:
        if step == "import_removal.registry_written":
            raise OSError("disk full")

    monkeypatch.setattr(faults, "fault_point", fail)
    with pytest.raises(OSError, match="disk full"):
        services.remove_import(SchoolYear(2025), None, actor="test")
    assert ExportImport.objects.count() == 1
    assert School.objects.get().latest_year == "2025-2026"
    assert not AuditEvent.objects.filter(action="school.import_removed").exists()
    assert (
        sorted(p.name for p in (services.lvs_store().root / SCHOOL.code).iterdir()) == store_files
    )
