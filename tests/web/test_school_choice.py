"""An administrator of several schools (a board's) works on one at a time, chosen in the
session; what belongs to the others stays a 404 until they switch, and never beyond their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school.models import Pupil
from cohortsafe.cli import main
from cohortsafe.errors import UsageError
from tests.web.conftest import WebSchool

pytestmark = pytest.mark.django_db


def test_a_board_administrator_switches_between_their_schools(
    web_school: WebSchool, other_school: Pupil
) -> None:
    ours = web_school.pupil("1001")
    admin = web_school.signed_in(Client())
    assert "id_chosen_school" not in admin.get("/school/").content.decode()  # one school
    assert admin.post("/school/kies/", {"school": "34CD00"}).status_code == 404

    accounts.grant_school("beheer", "34cd00", actor="t")
    assert AuditEvent.objects.filter(action="user.school_granted").count() == 1
    page = admin.get("/school/").content.decode()
    assert 'value="34CD00"' in page
    assert "Andere school" in page
    assert admin.get(f"/school/leerling/{ours.pk}/").status_code == 200
    assert admin.get(f"/school/leerling/{other_school.pk}/").status_code == 404

    assert admin.post("/school/kies/", {"school": "34CD00"}).status_code == 302
    assert admin.get(f"/school/leerling/{other_school.pk}/").status_code == 200
    assert admin.get(f"/school/leerling/{ours.pk}/").status_code == 404
    assert "Elderszoon" in admin.get("/school/bezwaren/").content.decode()

    accounts.revoke_school("beheer", "34CD00", actor="t")
    assert admin.get(f"/school/leerling/{other_school.pk}/").status_code == 404  # chosen, gone
    assert admin.get(f"/school/leerling/{ours.pk}/").status_code == 200
    assert "Elderszoon" not in admin.get("/school/bezwaren/").content.decode()
    with pytest.raises(UsageError, match="keeps at least one"):
        accounts.revoke_school("beheer", "12AB00", actor="t")


def test_schools_are_given_and_taken_at_the_console(
    web_school: WebSchool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["user", "add", "bestuur", "--role", "school", "--school", "12AB00"]
    assert main([*argv, "--school", "34cd00", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["user"]["schools"] == ["12AB00", "34CD00"]
    assert main(["user", "schools", "bestuur", "--remove", "34CD00"]) == 0
    assert "looks after 12AB00" in capsys.readouterr().out
    assert main(["user", "schools", "bestuur", "--remove", "12AB00"]) == 2
    assert main(["user", "schools", "bestuur", "--add", "XXXX"]) == 2
    assert "at least one" in capsys.readouterr().err
    assert accounts.account("bestuur").schools == ["12AB00"]
