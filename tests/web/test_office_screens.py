"""Office staff's screens: packages taken in by upload, schools and their keys, projects from
registration to a risk report, accounts; nobody else reaches them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.accounts.models import Account
from cohortsafe.app.office.models import ReceivedPackage, RegisteredSchool
from cohortsafe.app.research.models import Project
from cohortsafe.package import KeyPair, write_key_pair
from tests.office.kit import Office, Pupil, office
from tests.research.airlock_kit import CODE, Cohort, cohort, valid_bsns
from tests.web.staff import signed_in_with_code

pytestmark = pytest.mark.django_db
__all__ = ["cohort", "office"]  # fixtures


@pytest.fixture
def olga(office: Office) -> Client:
    accounts.add_user("olga", "office", home_role="office", actor="t")
    return signed_in_with_code("olga")


def test_a_package_is_received_by_upload_and_listed(office: Office, olga: Client) -> None:
    pupils = [Pupil(n, number=i + 1) for i, n in enumerate(valid_bsns(3))]
    package = office.delivery(pupils)
    upload = SimpleUploadedFile(package.name, package.read_bytes())
    page = olga.post("/office/pakketten/", {"files": [upload]}).content.decode()
    assert "received" in page
    assert ReceivedPackage.objects.filter(status="received").count() == 1
    junk = SimpleUploadedFile("notes.txt", b"hello")
    refused = olga.post("/office/pakketten/", {"files": [junk]}).content.decode()
    assert "not accepted" in refused
    assert ReceivedPackage.objects.count() == 1
    forged = SimpleUploadedFile("forged.nco", b"\x00" * 64)
    olga.post("/office/pakketten/", {"files": [forged]})
    assert ReceivedPackage.objects.filter(status="refused").count() == 1
    assert "forged.nco" in olga.get("/office/pakketten/").content.decode()


def test_a_schools_key_is_registered_and_its_fingerprint_shown(
    office: Office, olga: Client, tmp_path: object
) -> None:
    key = KeyPair.generate("school")
    folder = office.root / "newschool"
    write_key_pair(key, folder)
    upload = SimpleUploadedFile("school.pub", (folder / "school.pub").read_bytes())
    answer = olga.post("/office/scholen/", {"school": "99XY00", "key": upload})
    assert answer.status_code == 302
    registered = RegisteredSchool.objects.get(brin="99XY", vestiging="00")
    assert registered.fingerprint in olga.get("/office/scholen/").content.decode()
    again = SimpleUploadedFile("school.pub", (folder / "school.pub").read_bytes())
    olga.post("/office/scholen/", {"school": "99XY00", "key": again})  # the same: no change
    assert RegisteredSchool.objects.filter(brin="99XY").count() == 1


def test_a_project_goes_from_registration_to_a_risk_report(cohort: Cohort, olga: Client) -> None:
    until = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    made = olga.post(
        "/office/projecten/",
        {"code": "NCO-2", "title": "Lezen", "institution": "RUG", "approval": "A-1",
         "until": until, "reviews": "2"},
    )  # fmt: skip
    assert made.status_code == 302
    assert Project.objects.filter(code="NCO-2").exists()
    base = "/office/projecten/NCO-2/"
    columns = "leergebied,jaargroep,vaardigheidsscore"
    olga.post(base + "variables/", {"table": "toetsresultaten", "columns": columns})
    olga.post(base + "grant/", {"user": "bert"})
    olga.post(base + "build/")
    page = olga.get(base).content.decode()
    assert "bert" in page
    assert "vaardigheidsscore" in page
    assert "built" in page
    risk = olga.get(base + "?risico=1").content.decode()
    assert "Sample uniques" in risk
    olga.post(base + "end/")
    assert "ended" in olga.get(base).content.decode()
    assert olga.post(base + "nonsense/").status_code == 404


def test_an_account_is_added_on_screen(office: Office, olga: Client) -> None:
    answer = olga.post("/office/gebruikers/", {"name": "k.smit", "role": "checker"})
    assert answer.status_code == 302
    assert Account.objects.get(user__username="k.smit").role == "checker"
    school_role = olga.post("/office/gebruikers/", {"name": "s.school", "role": "school"})
    assert school_role.status_code == 200  # not a choice in an office's home
    assert not Account.objects.filter(user__username="s.school").exists()


def test_nobody_but_office_staff_reaches_the_office_screens(cohort: Cohort) -> None:
    for name in ("anna", "carla"):
        client = signed_in_with_code(name)
        for url in (
            "/office/",
            "/office/pakketten/",
            "/office/projecten/",
            f"/office/projecten/{CODE}/",
        ):
            assert client.get(url).status_code == 404, (name, url)
    assert Client().get("/office/").status_code == 302  # to the sign-in
