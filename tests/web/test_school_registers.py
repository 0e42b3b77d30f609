"""The school's other screens: the letter with the form's address, consents, deliveries."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from django.test import Client

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school import services
from cohortsafe.app.school.models import Consent, Delivery
from cohortsafe.config import load
from cohortsafe.files import write_private
from tests.web.conftest import SCHOOL, WebSchool

pytestmark = pytest.mark.django_db


def _named(web_school: WebSchool) -> Client:
    services.set_school(SCHOOL, name="De Regenboog", contact="bezwaar@regenboog.example",
                        actor="t")  # fmt: skip
    return web_school.signed_in(Client())


def test_the_letter_names_the_schools_own_form(web_school: WebSchool) -> None:
    admin = _named(web_school)
    page = admin.get("/school/brief/").content.decode()
    assert f"http://testserver/bezwaar/{SCHOOL}/" in page
    assert "De Regenboog" in page
    assert "bezwaar@regenboog.example" in page
    assert "<style" not in page  # the letter's own style stays in the download
    english = admin.get("/school/brief/?taal=en").content.decode()
    assert 'lang="en"' in english
    download = admin.get("/school/brief/download/")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert f"/bezwaar/{SCHOOL}/" in download.content.decode()


def test_the_letter_waits_for_the_schools_name_and_contact(web_school: WebSchool) -> None:
    admin = web_school.signed_in(Client())
    services.set_school(SCHOOL, name="", contact="", actor="t")
    assert "school set" in admin.get("/school/brief/").content.decode()
    assert admin.get("/school/brief/download/").status_code == 404


def test_a_consent_is_registered_and_withdrawn_on_screen(web_school: WebSchool) -> None:
    services.add_study(
        code="DYS-2026", title="Dyslexie", categories=["dyslexie"], starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 12, 31), actor="t",
    )  # fmt: skip
    admin = web_school.signed_in(Client())
    pupil = web_school.pupil("1001")
    study = services.registers.Study.objects.get(code="DYS-2026")
    answer = admin.post(
        "/school/toestemmingen/",
        {
            "pupil": pupil.pk,
            "study": study.pk,
            "categories": ["dyslexie"],
            "given_by": "A. van der Meer",
            "given_on": "2026-11-01",
            "evidence": "map 3",
        },
    )
    assert answer.status_code == 302
    consent = Consent.objects.get(pupil=pupil, withdrawn_at__isnull=True)
    assert "Meer0" in admin.get("/school/toestemmingen/").content.decode()
    admin.post(f"/school/toestemmingen/{consent.pk}/intrekken/")
    assert not Consent.objects.filter(pupil=pupil, withdrawn_at__isnull=True).exists()
    future = admin.post(
        "/school/toestemmingen/",
        {"pupil": pupil.pk, "study": study.pk, "categories": ["dyslexie"],
         "given_by": "X", "given_on": "2099-01-01"},
    )  # fmt: skip
    assert "error-summary" in future.content.decode()


def test_a_delivery_is_checked_made_and_downloaded(web_school: WebSchool) -> None:
    home = load().home
    shutil.copy(web_school.setup.office_pub, home / "office.pub")
    write_private(home / "school.key", web_school.setup.signing_key.read_bytes())
    services.register_objection(
        web_school.pupil("1003"), received_on=dt.date(2026, 11, 2), received_from="ouder",
        channel="brief", actor="t",
    )  # fmt: skip
    admin = web_school.signed_in(Client())
    form = {"period": "2025-2026", "before_deadline": "on"}
    preview = admin.post("/school/leveringen/", {**form, "step": "check"}).content.decode()
    assert "1 leerling van wie de ouders bezwaar maakten" in preview
    assert not Delivery.objects.exists()  # a check writes and records nothing
    made = admin.post("/school/leveringen/", {**form, "step": "build"})
    assert made.status_code == 302
    delivery = Delivery.objects.get()
    listing = admin.get("/school/leveringen/").content.decode()
    assert delivery.file_name in listing
    download = admin.get(f"/school/leveringen/{delivery.file_name}/")
    assert download.status_code == 200
    assert (
        b"".join(download.streaming_content) == (home / "outbox" / delivery.file_name).read_bytes()
    )
    assert AuditEvent.objects.filter(action="school.delivery_download").exists()
    assert admin.get("/school/leveringen/other-file.nco/").status_code == 404
