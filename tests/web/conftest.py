"""A school home with one imported export (school 12AB00, six pupils) and its administrator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.school.models import Objection, Pupil, School
from tests.school.conftest import SchoolSetup, school

__all__ = ["school"]  # the school fixture: an imported export and the keys to deliver it

SCHOOL = "12AB00"
PASSWORD = "lang-genoeg-wachtwoord-7"


@dataclass
class WebSchool:
    setup: SchoolSetup
    school: School
    admin: str

    def pupil(self, number: str = "1001") -> Pupil:
        return Pupil.objects.get(school=self.school, leerlingnummer=number)

    def signed_in(self, client: Client) -> Client:
        client.force_login(accounts.account(self.admin).user)  # axes needs a request to log in
        return client


def add_account(name: str, role: str, *, school: str | None = None) -> str:
    home_role = "school" if role == "school" else "office"
    schools = [school] if school else []
    accounts.add_user(name, role, home_role=home_role, schools=schools, actor="test")
    accounts.set_password(name, PASSWORD, actor="test")
    return name


@pytest.fixture
def web_school(school: SchoolSetup) -> WebSchool:
    found = School.objects.get(brin="12AB", vestiging="00")
    found.name = "De Regenboog"
    found.contact = "bezwaar@regenboog.example"
    found.save()
    return WebSchool(school, found, add_account("beheer", "school", school=SCHOOL))


@pytest.fixture
def other_school(web_school: WebSchool) -> Pupil:
    """A second school in the same home, with a pupil who has an objection."""
    other = School.objects.create(brin="34CD", vestiging="00", name="Andere school")
    stranger = Pupil.objects.create(
        school=other,
        leerlingnummer="9",
        voornamen="Kim",
        achternaam="Elderszoon",
        geboortedatum="2016-05-01",
        geslacht="M",
        postcode="1234AB",
        huisnummer=1,
        jaargroep=5,
    )
    Objection.objects.create(
        pupil=stranger,
        received_on=dt.date(2026, 1, 5),
        received_from="Ouder Elderszoon",
        channel="brief",
    )
    return stranger
