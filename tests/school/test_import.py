"""Importing exports into the school home: all or nothing, idempotent, newer replaces older."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school import services
from cohortsafe.app.school.models import ExportImport, Pupil, School
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import StorageError
from cohortsafe.lvs import LvsStore
from cohortsafe.synth import SynthSpec, write_exports
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 30)
SCHOOL = SchoolCode("12AB", "00")


def _import(*folders: Path) -> list[services.ImportReport]:
    return services.import_exports(list(folders), actor="test", today=TODAY)


def _store_rows(table: str) -> int:
    return services.lvs_store().read(SCHOOL, table).num_rows


def test_a_valid_export_lands_in_the_registry_and_the_store(tmp_path: Path) -> None:
    (report,) = _import(ExportKit.valid().write(tmp_path / "x"))
    assert report.accepted
    school = School.objects.get()
    assert (school.code, school.latest_year) == ("12AB00", "2025-2026")
    assert Pupil.objects.count() == 3
    assert _store_rows("toetsresultaten") == 18
    assert _store_rows("voorschool") == 3
    assert _store_rows("inschrijvingen") == 3
    assert AuditEvent.objects.filter(action="school.import").count() == 1


def test_a_rejected_export_writes_nothing(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("toetsresultaten.csv", 5, "vaardigheidsscore", "x")
    (report,) = _import(kit.write(tmp_path / "x"))
    assert not report.accepted
    assert [(p.file, p.line) for p in report.problems] == [("toetsresultaten.csv", 5)]
    assert School.objects.count() == Pupil.objects.count() == ExportImport.objects.count() == 0
    assert not (services.lvs_store().root / SCHOOL.code).exists()
    assert AuditEvent.objects.filter(action="school.import_rejected").count() == 1


def test_reimporting_the_same_export_changes_nothing(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    _import(folder)
    before = (Pupil.objects.count(), _store_rows("toetsresultaten"), _store_rows("voorschool"))
    _import(folder)
    after = (Pupil.objects.count(), _store_rows("toetsresultaten"), _store_rows("voorschool"))
    assert before == after == (3, 18, 3)


def test_a_newer_export_updates_pupils_and_replaces_its_year(tmp_path: Path) -> None:
    _import(ExportKit.valid().write(tmp_path / "old"))
    newer = ExportKit.valid(pupils=2)
    newer.set("leerlingen.csv", 2, "achternaam", "Verhuisd")
    newer.set("toetsresultaten.csv", 2, "vaardigheidsscore", "150")
    _import(newer.write(tmp_path / "new"))
    assert Pupil.objects.get(leerlingnummer="1001").achternaam == "Verhuisd"
    # the pupil missing from the newer export is kept, no longer current
    assert not Pupil.objects.get(leerlingnummer="1003").current
    assert _store_rows("toetsresultaten") == 12
    scores = services.lvs_store().read(SCHOOL, "toetsresultaten").column("vaardigheidsscore")
    assert 150.0 in scores.to_pylist()


def test_exports_of_successive_years_accumulate(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    write_exports(
        SynthSpec(schools=2, seed=3, years=tuple(SchoolYear.span("2023-2024..2025-2026"))), out
    )
    reports = _import(out)
    assert len(reports) == 6
    assert all(r.accepted for r in reports), [r.describe() for r in reports]
    store = services.lvs_store()
    for code in store.schools():
        years = set(store.read(code, "toetsresultaten").column("schooljaar").to_pylist())
        assert years == {"2023-2024", "2024-2025", "2025-2026"}
        enrolled = set(store.read(code, "inschrijvingen").column("schooljaar").to_pylist())
        assert enrolled == years
    # importing everything again adds nothing
    counts = {c: store.read(c, "toetsresultaten").num_rows for c in store.schools()}
    _import(out)
    assert counts == {c: store.read(c, "toetsresultaten").num_rows for c in store.schools()}


def test_an_older_export_after_a_newer_one_only_fills_gaps(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    write_exports(
        SynthSpec(schools=1, seed=4, years=tuple(SchoolYear.span("2024-2025..2025-2026"))), out
    )
    (newest,) = _import(out / "2025-2026")
    (older,) = _import(out / "2024-2025")
    assert newest.accepted
    assert older.accepted
    assert not older.newer
    assert School.objects.get().latest_year == "2025-2026"
    code = SchoolCode.parse(newest.school or "")
    years = set(services.lvs_store().read(code, "toetsresultaten").column("schooljaar").to_pylist())
    assert years == {"2024-2025", "2025-2026"}


def test_one_bad_export_does_not_stop_the_others(tmp_path: Path) -> None:
    good = ExportKit.valid().write(tmp_path / "a")
    bad = ExportKit.valid().set("leerlingen.csv", 2, "brin", "XX").write(tmp_path / "b")
    reports = _import(good, bad)
    assert [r.accepted for r in reports] == [True, False]


def test_a_failing_switch_after_the_registry_committed_is_finished_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store used to delete its old files and then fail: every later import crashed."""
    folder = ExportKit.valid().write(tmp_path / "x")
    commit = LvsStore.commit

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LvsStore, "commit", full_disk)
    with pytest.raises(StorageError, match="next command finishes it"):
        _import(folder)
    assert School.objects.get().latest_year == "2025-2026"  # the registry committed
    monkeypatch.setattr(LvsStore, "commit", commit)
    assert _store_rows("toetsresultaten") == 18  # the next command finished the switch
    school_folder = services.lvs_store().root / SCHOOL.code
    assert sorted(p.name for p in school_folder.iterdir()) == [
        "bijzonder.g1.parquet",
        "inschrijvingen.g1.parquet",
        "manifest.json",
        "toetsresultaten.g1.parquet",
        "voorschool.g1.parquet",
    ]
    (report,) = _import(folder)
    assert report.accepted


def test_many_exports_are_read_in_worker_processes(tmp_path: Path) -> None:
    """From eight exports on, reading runs in spawned workers that know nothing of Django."""
    write_exports(SynthSpec(schools=9, seed=8), tmp_path / "synth")
    reports = _import(tmp_path / "synth")
    assert len(reports) == 9
    assert all(r.accepted for r in reports), [r.describe() for r in reports]
    assert School.objects.count() == 9


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_damaged_store_file_is_a_clear_error_naming_it(tmp_path: Path, damage: str) -> None:
    _import(ExportKit.valid().write(tmp_path / "x"))
    (path,) = (services.lvs_store().root / SCHOOL.code).glob("toetsresultaten.g*.parquet")
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(b"not parquet")
    with pytest.raises(StorageError, match=f"damaged: {path}"):
        _store_rows("toetsresultaten")
