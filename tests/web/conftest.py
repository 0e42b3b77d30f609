"""A school home with one imported export (school 12AB00, six pupils) and its administrator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.school.models import Pupil, School
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
    accounts.add_user(name, role, home_role=home_role, school=school, actor="test")
    accounts.set_password(name, PASSWORD, actor="test")
    return name


@pytest.fixture
def web_school(school: SchoolSetup) -> WebSchool:
    found = School.objects.get(brin="12AB", vestiging="00")
    found.name = "De Regenboog"
    found.contact = "bezwaar@regenboog.example"
    found.save()
    return WebSchool(school, found, add_account("beheer", "school", school=SCHOOL))
