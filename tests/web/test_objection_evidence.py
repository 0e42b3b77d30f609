"""The letter or e-mail an objection came in: kept 0600 at the school, read only by its
own administrator as a download of a fixed type, and never left behind by a failure."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school import services
from cohortsafe.app.school.models import Objection, Pupil
from cohortsafe.cli import main
from cohortsafe.config import load
from cohortsafe.errors import UsageError
from cohortsafe.evidence import EVIDENCE_LIMIT, evidence_kind
from tests.web.conftest import WebSchool

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PAGE = b"<html><script>alert(document.cookie)</script></html>"


def _register(admin: Client, pupil: Pupil, name: str, data: bytes) -> str:
    answer = admin.post(
        "/school/bezwaren/nieuw/",
        {
            "pupil": pupil.pk,
            "received_on": "2026-11-02",
            "received_from": "J. de Vries",
            "channel": "brief",
            "evidence": SimpleUploadedFile(name, data),
        },
    )
    return answer.content.decode() if answer.status_code == 200 else answer["Location"]


def _kept() -> list[Path]:
    folder = load().home / "evidence"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_the_evidence_is_kept_private_and_downloads_as_it_came(web_school: WebSchool) -> None:
    admin = web_school.signed_in(Client())
    pupil = web_school.pupil("1001")
    _register(admin, pupil, "brief van de Vries.pdf", PDF)
    objection = Objection.objects.get(pupil=pupil)
    (kept,) = _kept()
    assert kept.read_bytes() == PDF
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert "Vries" not in str(kept)  # the parent's file name is not kept
    event = AuditEvent.objects.get(action="school.objection")
    assert event.details["evidence_sha256"] == objection.evidence_sha256

    page = admin.get(f"/school/leerling/{pupil.pk}/").content.decode()
    link = f"/school/bezwaren/{objection.pk}/bewijs/"
    assert link in page
    download = admin.get(link)
    assert download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="bewijs-{objection.pk}.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="school.objection_evidence_read").count() == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("brief.pdf", PAGE),  # a web page renamed
        ("brief.html", PAGE),
        ("brief.svg", b"<svg onload='alert(1)'/>"),
        ("foto.png", PDF),  # the name and content disagree
        ("mail.eml", b"\x00\x01binary"),
        ("mail.txt", "café".encode("latin-1")),
        ("leeg.pdf", b""),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_and_nothing_is_kept(
    web_school: WebSchool, name: str, data: bytes
) -> None:
    admin = web_school.signed_in(Client())
    pupil = web_school.pupil("1001")
    page = _register(admin, pupil, name, data)
    assert "error-summary" in page
    assert not Objection.objects.filter(pupil=pupil).exists()
    assert _kept() == []


def test_a_failed_registration_leaves_no_file(web_school: WebSchool) -> None:
    pupil = web_school.pupil("1001")
    services.register_objection(
        pupil, received_on=dt.date(2026, 1, 5), received_from="X", channel="brief", actor="t"
    )
    page = _register(web_school.signed_in(Client()), pupil, "brief.pdf", PDF)
    assert "error-summary" in page  # an objection is in force already
    assert _kept() == []


def test_a_file_no_objection_names_is_swept_by_the_next_command(web_school: WebSchool) -> None:
    """A crash between writing the file and the commit leaves a file without a record."""
    pupil = web_school.pupil("1001")
    services.register_objection(
        pupil, received_on=dt.date(2026, 1, 5), received_from="X", channel="brief",
        evidence=services.Evidence("a.pdf", PDF), actor="t",
    )  # fmt: skip
    (named,) = _kept()
    orphan = named.with_name("0" * 32 + ".pdf")
    orphan.write_bytes(PDF)
    services.school_status(None, actor="t")
    assert _kept() == [named]


def test_another_school_cannot_download_it_and_a_changed_file_is_not_served(
    web_school: WebSchool, other_school: Pupil
) -> None:
    theirs = Objection.objects.get(pupil=other_school)
    services.withdraw_objection(other_school, actor="t")
    services.register_objection(
        other_school, received_on=dt.date(2026, 1, 5), received_from="X", channel="brief",
        evidence=services.Evidence("a.pdf", PDF), actor="t",
    )  # fmt: skip
    theirs = Objection.objects.get(pupil=other_school, withdrawn_at__isnull=True)
    admin = web_school.signed_in(Client())
    assert admin.get(f"/school/bezwaren/{theirs.pk}/bewijs/").status_code == 404
    assert not AuditEvent.objects.filter(action="school.objection_evidence_read").exists()

    ours = web_school.pupil("1002")
    _register(admin, ours, "brief.pdf", PDF)
    objection = Objection.objects.get(pupil=ours)
    (load().home / "evidence" / objection.evidence_file).write_bytes(PDF + b"changed")
    answer = admin.get(f"/school/bezwaren/{objection.pk}/bewijs/")
    assert answer.status_code == 302  # back to the pupil, with the reason
    assert b"changed" not in admin.get(answer["Location"]).content


def test_a_body_larger_than_the_page_takes_is_refused_before_it_is_read(
    web_school: WebSchool,
) -> None:
    big = b"x" * (2 * 2**20)
    answer = Client(enforce_csrf_checks=True).post(
        f"/bezwaar/{web_school.school.code}/",
        {"child_name": "A", "evidence": SimpleUploadedFile("a.txt", big)},
    )
    assert answer.status_code == 413  # not 403: the CSRF check never parsed the form
    admin = web_school.signed_in(Client())
    page = _register(admin, web_school.pupil("1001"), "groot.pdf", PDF + b"0" * EVIDENCE_LIMIT)
    assert "error-summary" in page  # within the page's limit: the form says why


def test_the_console_keeps_and_writes_out_the_evidence(
    web_school: WebSchool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    letter = tmp_path / "brief.eml"
    letter.write_bytes(b"From: ouder\n\nWij maken bezwaar.\n")
    argv = ["school", "object", "--pupil", "1003", "--received", "03-02-2026", "--from", "ouder"]
    assert main([*argv, "--evidence", str(letter)]) == 0
    out = tmp_path / "terug.eml"
    capsys.readouterr()
    assert main(["school", "object-evidence", "--pupil", "1003", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "eml"
    assert out.read_bytes() == letter.read_bytes()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    page = tmp_path / "page.pdf"
    page.write_bytes(PAGE)
    assert main([*argv[:3], "1004", *argv[4:], "--evidence", str(page)]) == 2
    assert "not the PDF its name says" in capsys.readouterr().err
    assert main(["school", "object-evidence", "--pupil", "1004", "--out", str(out)]) != 0


def test_the_kind_is_judged_by_content_and_name_together() -> None:
    assert evidence_kind("SCAN.JPEG", b"\xff\xd8\xff\xe0").suffix == "jpg"
    assert evidence_kind("mail.txt", b"Beste meester, wij maken bezwaar").suffix == "txt"
    with pytest.raises(UsageError, match="evidence must be one of"):
        evidence_kind("brief.docx", b"PK\x03\x04")
    with pytest.raises(UsageError) as refused:
        evidence_kind("brief.pdf", b"geheim: J. de Vries")
    assert "Vries" not in str(refused.value)
