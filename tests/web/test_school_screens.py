"""A school administrator's screens: only their own school, every change through the services,
and an objection confirmed on screen keeps the child out of the next delivery."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school.models import DeliveredPupil, Objection, ParentForm, Pupil, School
from tests.web.conftest import SCHOOL, WebSchool
from tests.web.test_parent_form import REFERENCE, _form

pytestmark = pytest.mark.django_db


def test_a_parent_form_confirmed_on_screen_keeps_the_child_out_of_the_delivery(
    web_school: WebSchool, client: Client
) -> None:
    page = client.post(f"/bezwaar/{SCHOOL}/", _form(), REMOTE_ADDR="10.0.0.9").content.decode()
    (reference,) = set(REFERENCE.findall(page))
    admin = web_school.signed_in(Client())
    listing = admin.get("/school/formulieren/").content.decode()
    assert reference in listing
    detail = admin.get(f"/school/formulieren/{reference}/").content.decode()
    pupil = web_school.pupil("1001")
    assert "Meer0" in detail  # the birth date and group match: offered as a candidate
    done = admin.post(
        f"/school/formulieren/{reference}/",
        {"decision": "confirm", "pupil": pupil.pk, "checked": "on"},
    )
    assert done.status_code == 302, done.content.decode()
    objection = Objection.objects.get(pupil=pupil, withdrawn_at__isnull=True)
    assert objection.channel == "formulier"
    assert ParentForm.objects.get(reference=reference).state == "confirmed"
    status = client.post("/bezwaar/status/", {"reference": reference}).content.decode()
    assert "bevestigd" in status
    (report,) = web_school.setup.deliver(before_deadline=True)
    assert report.exclusions["objection"] == 1
    delivered = DeliveredPupil.objects.filter(delivery__file_name=report.file)
    assert not delivered.filter(pupil=pupil).exists()
    assert delivered.count() == 5


def test_a_form_that_needs_contact_says_so_to_the_parent(
    web_school: WebSchool, client: Client
) -> None:
    page = client.post(f"/bezwaar/{SCHOOL}/", _form(child_name="Onbekend Kind")).content.decode()
    (reference,) = set(REFERENCE.findall(page))
    admin = web_school.signed_in(Client())
    empty = admin.post(f"/school/formulieren/{reference}/", {"decision": "contact", "reason": ""})
    assert empty.status_code == 200
    assert "error-summary" in empty.content.decode()
    admin.post(
        f"/school/formulieren/{reference}/",
        {"decision": "contact", "reason": "geen leerling met deze naam"},
    )
    assert ParentForm.objects.get(reference=reference).state == "needs_contact"
    status = client.post("/bezwaar/status/", {"reference": reference}).content.decode()
    assert "contact met u op" in status
    assert "geen leerling" not in status  # the school's reason is not the parent's to read


def test_an_administrator_registers_and_withdraws_an_objection(web_school: WebSchool) -> None:
    admin = web_school.signed_in(Client())
    pupil = web_school.pupil("1002")
    answer = admin.post(
        "/school/bezwaren/nieuw/",
        {
            "pupil": pupil.pk,
            "received_on": "2026-11-02",
            "received_from": "J. van der Meer",
            "channel": "brief",
            "note": "",
        },
    )
    assert answer.status_code == 302
    assert Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).exists()
    assert "geldt sinds" in admin.get(answer.headers["Location"]).content.decode()
    listing = admin.get("/school/bezwaren/").content.decode()
    assert "Meer1" in listing
    admin.post(f"/school/leerling/{pupil.pk}/intrekken/", {"note": "ouder belde"})
    assert not Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"school.objection", "school.objection_withdrawn", "school.view_pupil"} <= actions


def test_another_schools_pupil_and_form_are_not_found(web_school: WebSchool) -> None:
    other = School.objects.create(brin="34CD", vestiging="00", name="Andere school")
    stranger = Pupil.objects.create(
        school=other,
        leerlingnummer="9",
        voornamen="Kim",
        achternaam="Elders",
        geboortedatum="2016-05-01",
        geslacht="M",
        postcode="1234AB",
        huisnummer=1,
        jaargroep=5,
    )
    client = Client()
    page = client.post("/bezwaar/34CD00/", _form()).content.decode()
    (reference,) = set(REFERENCE.findall(page))
    admin = web_school.signed_in(Client())
    assert admin.get(f"/school/leerling/{stranger.pk}/").status_code == 404
    assert admin.post(f"/school/leerling/{stranger.pk}/intrekken/").status_code == 404
    assert admin.get(f"/school/formulieren/{reference}/").status_code == 404
    new = admin.post(
        "/school/bezwaren/nieuw/",
        {
            "pupil": stranger.pk,
            "received_on": "2026-11-02",
            "received_from": "X",
            "channel": "brief",
        },
    )
    assert new.status_code == 200  # not one of the choices
    assert not Objection.objects.filter(pupil=stranger).exists()


def test_the_overview_shows_what_the_school_holds_per_school_year(web_school: WebSchool) -> None:
    page = web_school.signed_in(Client()).get("/school/").content.decode()
    imported = web_school.school.imports.get()
    row = re.search(r"<tr><td>(\d{4}-\d{4})</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert row is not None
    assert row.group(1) == imported.school_year
    counts = [int(n) for n in row.groups()[1:]]
    assert counts == [imported.rows[t] for t in ("leerlingen", "toetsresultaten", "voorschool")]
