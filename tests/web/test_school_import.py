"""Importing an export by upload: all or nothing, per file, line and column; only the
administrator's own school; and a zip that climbs out, bombs or lies is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cohortsafe.app.school.models import ExportImport, School
from cohortsafe.config import load
from tests.exportkit import ExportKit
from tests.web.conftest import WebSchool

pytestmark = pytest.mark.django_db


def _zipped(kit: ExportKit, folder: Path, prefix: str = "export/") -> SimpleUploadedFile:
    kit.write(folder)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, prefix + path.name)
    return SimpleUploadedFile("export.zip", data.getvalue())


def _raw_zip(entries: dict[str, bytes]) -> SimpleUploadedFile:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return SimpleUploadedFile("export.zip", data.getvalue())


def _leftovers() -> list[Path]:
    uploads = load().home / "uploads"
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


def test_an_export_is_imported_by_upload(web_school: WebSchool, tmp_path: Path) -> None:
    admin = web_school.signed_in(Client())
    before = ExportImport.objects.count()
    kit = ExportKit.valid(pupils=6)
    page = admin.post("/school/import/", {"export": _zipped(kit, tmp_path / "e")}).content.decode()
    assert "Geïmporteerd: schooljaar 2025-2026" in page
    assert ExportImport.objects.count() == before + 1
    assert _leftovers() == []  # the unpacked files go once they are in the store


def test_a_wrong_line_is_shown_with_its_file_line_and_column(
    web_school: WebSchool, tmp_path: Path
) -> None:
    admin = web_school.signed_in(Client())
    before = ExportImport.objects.count()
    kit = ExportKit.valid(pupils=6).set("leerlingen.csv", 3, "geboortedatum", "31-02-2016")
    page = admin.post("/school/import/", {"export": _zipped(kit, tmp_path / "e")}).content.decode()
    assert "leerlingen.csv" in page
    assert "geboortedatum" in page
    assert "<td>3</td>" in page
    assert "deze datum bestaat niet" in page  # the reason in Dutch
    assert "date does not exist" not in page
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = admin.post("/school/import/", {"export": _zipped(kit, tmp_path / "en")})
    english = english.content.decode()
    assert "date does not exist" in english
    assert ExportImport.objects.count() == before  # nothing saved
    assert _leftovers() == []


def test_an_export_of_another_school_is_refused(web_school: WebSchool, tmp_path: Path) -> None:
    admin = web_school.signed_in(Client())
    kit = ExportKit.valid(pupils=3)
    for line in range(2, 5):
        kit.set("leerlingen.csv", line, "brin", "34CD")
    page = admin.post("/school/import/", {"export": _zipped(kit, tmp_path / "e")}).content.decode()
    assert "Niet geïmporteerd" in page
    assert "een andere school" in page
    assert not School.objects.filter(brin="34CD").exists()


@pytest.mark.parametrize(
    "entries",
    [
        {"../../evil.csv": b"x"},
        {"/etc/evil.csv": b"x"},
        {"export/notes.txt": b"x"},
        {"export/a.csv": b"x", "export/b.sh": b"x"},
    ],
    ids=["climbs-out", "absolute", "not-csv", "one-not-csv"],
)
def test_a_zip_with_anything_but_plain_csv_files_is_refused(
    web_school: WebSchool, entries: dict[str, bytes]
) -> None:
    admin = web_school.signed_in(Client())
    page = admin.post("/school/import/", {"export": _raw_zip(entries)}).content.decode()
    assert "error-summary" in page
    assert _leftovers() == []
    assert not (load().home.parent / "evil.csv").exists()


def test_a_zip_bomb_and_a_non_zip_are_refused(
    web_school: WebSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cohortsafe.app.web.school.IMPORT_UNPACKED_LIMIT", 2**20)
    admin = web_school.signed_in(Client())
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/leerlingen.csv", b"0" * (3 * 2**20))  # 3 MB, a few kB zipped
    bomb = SimpleUploadedFile("bomb.zip", data.getvalue())
    assert "error-summary" in admin.post("/school/import/", {"export": bomb}).content.decode()
    junk = SimpleUploadedFile("export.zip", b"not a zip at all")
    assert "error-summary" in admin.post("/school/import/", {"export": junk}).content.decode()
    assert _leftovers() == []


def test_unpacked_pupil_files_are_private_while_they_are_read(
    web_school: WebSchool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cohortsafe.app.school import services

    seen: list[int] = []
    real = services.import_exports

    def looking(paths: list[Path], **kwargs: object) -> object:
        for path in Path(paths[0]).rglob("*"):
            seen.append(path.stat().st_mode & 0o777)
        return real(paths, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("cohortsafe.app.web.school.services.import_exports", looking)
    admin = web_school.signed_in(Client())
    admin.post("/school/import/", {"export": _zipped(ExportKit.valid(pupils=6), tmp_path / "e")})
    assert seen
    assert set(seen) <= {0o600, 0o700}
