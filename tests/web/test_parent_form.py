"""The parent form: it learns nothing about who is at the school, stores each objection once,
keeps robots and floods out, and an objection the school confirms keeps the child out."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cohortsafe.app.school.models import Objection, ParentForm
from tests.test_homelock import held  # noqa: F401 (a fixture: another process holds the home)
from tests.web.conftest import SCHOOL, WebSchool

URL = f"/bezwaar/{SCHOOL}/"
REFERENCE = re.compile(r"[2-9A-Z]{4}-[2-9A-Z]{4}")

pytestmark = pytest.mark.django_db


def _form(**changes: str) -> dict[str, str]:
    data = {
        "child_name": "Zoë van der Meer0",
        "child_birth_date": "2016-03-05",
        "child_group": "5",
        "parent_name": "A. van der Meer",
        "parent_contact": "ouder@example.org",
        "website": "",
    }
    return {**data, **changes}


def _send(client: Client, **changes: str) -> tuple[int, str]:
    response = client.post(URL, _form(**changes), REMOTE_ADDR=changes.pop("addr", "10.0.0.1"))
    return response.status_code, response.content.decode()


def test_the_form_answers_the_same_for_a_child_at_the_school_and_one_who_is_not(
    web_school: WebSchool, client: Client
) -> None:
    status_known, known = _send(client)
    status_unknown, unknown = _send(
        client, child_name="Niemand Bestaat", child_birth_date="2017-01-01", child_group="3"
    )
    assert status_known == status_unknown == 200
    references = REFERENCE.findall(known) + REFERENCE.findall(unknown)
    assert len(set(references)) == 2
    strip = lambda page: REFERENCE.sub("REF", page)  # noqa: E731
    strip_token = lambda page: re.sub(r'value="[^"]{32,}"', "TOKEN", strip(page))  # noqa: E731
    assert strip_token(known) == strip_token(unknown)
    assert ParentForm.objects.count() == 2  # both stored as pending, neither looked up
    assert not Objection.objects.exists()


def test_a_filled_trap_field_gets_the_same_page_and_never_reaches_the_school(
    web_school: WebSchool, client: Client
) -> None:
    status, page = _send(client, website="http://spam.example")
    assert status == 200
    (reference,) = set(REFERENCE.findall(page))
    assert ParentForm.objects.get(reference=reference).state == "discarded"
    admin = web_school.signed_in(Client())
    assert reference not in admin.get("/school/formulieren/").content.decode()
    assert admin.get(f"/school/formulieren/{reference}/").status_code == 404
    # to whoever looks it up it is pending, like any form the school has not seen
    answer = client.post("/bezwaar/status/", {"reference": reference}).content.decode()
    assert "nog niet bekeken" in answer


def test_one_address_can_send_five_forms_an_hour(web_school: WebSchool, client: Client) -> None:
    for _ in range(5):
        assert _send(client)[0] == 200
    status, page = _send(client)
    assert status == 429
    assert not REFERENCE.search(page)
    assert ParentForm.objects.count() == 5
    assert _send(client, addr="10.0.0.2")[0] == 200  # another address is not held back


def test_an_unknown_school_is_not_found(web_school: WebSchool, client: Client) -> None:
    assert client.get("/bezwaar/99ZZ00/").status_code == 404
    assert client.get("/bezwaar/nonsense/").status_code == 404


def test_a_wrong_birth_date_is_shown_next_to_its_field(
    web_school: WebSchool, client: Client
) -> None:
    status, page = _send(client, child_birth_date="1970-01-01")
    assert status == 200
    assert "error-summary" in page
    assert 'aria-invalid="true"' in page
    assert not ParentForm.objects.exists()


def test_the_status_page_shows_only_the_state(web_school: WebSchool, client: Client) -> None:
    _, page = _send(client)
    (reference,) = set(REFERENCE.findall(page))
    answer = client.post("/bezwaar/status/", {"reference": reference}).content.decode()
    assert "nog niet" in answer  # pending, in Dutch by default
    assert "Meer0" not in answer
    assert "ouder@example.org" not in answer
    unknown = client.post("/bezwaar/status/", {"reference": "AAAA-AAAA"}).content.decode()
    assert "niet bekend" in unknown


def test_a_form_without_its_csrf_token_is_refused(web_school: WebSchool) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, _form())
    assert response.status_code == 403
    assert not ParentForm.objects.exists()


def test_the_pages_load_nothing_from_elsewhere_and_forbid_inline_code(
    web_school: WebSchool, client: Client
) -> None:
    response = client.get(URL)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    page = response.content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script" not in page
    assert "style=" not in page


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_form_speaks_dutch_and_english(
    web_school: WebSchool, client: Client, language: str
) -> None:
    client.post("/i18n/setlang/", {"language": language, "next": URL})
    page = client.get(URL).content.decode()
    assert f'<html lang="{language}">' in page
    expected = "Bezwaar" if language == "nl" else "Object to sharing"
    assert expected in page


def test_the_empty_form_kept_for_the_next_parent_is_in_their_language_and_holds_nothing_sent(
    web_school: WebSchool, client: Client
) -> None:
    """The empty form's fields are rendered once per language and kept: a parent never gets
    another language's labels, nor what another parent filled in."""
    first = client.get(URL).content.decode()
    _send(client, child_birth_date="not a date")  # a bound form with an error, never kept
    _send(client)
    again = client.get(URL).content.decode()
    strip_token = lambda page: re.sub(r'value="[^"]{32,}"', "TOKEN", page)  # noqa: E731
    strip_nonce = lambda page: re.sub(r'nonce="[^"]+"', "NONCE", strip_token(page))  # noqa: E731
    assert strip_nonce(again) == strip_nonce(first)
    assert "Zoë" not in again
    assert "ouder@example.org" not in again
    english = Client()
    english.post("/i18n/setlang/", {"language": "en", "next": URL})
    page = english.get(URL).content.decode()
    assert "Your child&#x27;s full name" in page
    assert "Volledige naam van uw kind" not in page
    assert "Volledige naam van uw kind" in again


def test_a_parent_is_not_kept_waiting_while_the_school_works_on_its_home(
    web_school: WebSchool,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """An administrator's import holds the home for a while: the form is one registry
    transaction, which the database orders, so a parent neither waits nor gets an error."""
    request.getfixturevalue("held")  # after the school is set up
    monkeypatch.setenv("COHORTSAFE_LOCK_WAIT", "0.2")
    status, page = _send(client)
    assert status == 200
    (reference,) = set(REFERENCE.findall(page))
    looked = client.post("/bezwaar/status/", {"reference": reference}, REMOTE_ADDR="10.0.0.9")
    assert "De school heeft uw formulier nog niet bekeken." in looked.content.decode()
