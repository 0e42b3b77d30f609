"""Signing in: throttled after five failures, a second factor for every role but a school's,
and a signed-in account sees only its own role's screens."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cohortsafe.app.accounts import services as accounts
from cohortsafe.errors import UsageError
from tests.web.conftest import PASSWORD, WebSchool, add_account

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, name: str, password: str) -> int:
    answer = client.post(
        "/inloggen/", {"username": name, "password": password}, HTTP_USER_AGENT="test-browser"
    )
    return answer.status_code


def test_screens_send_a_visitor_to_sign_in(web_school: WebSchool, client: Client) -> None:
    for url in ("/school/", "/school/bezwaren/", "/school/formulieren/"):
        answer = client.get(url)
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/inloggen/"


def test_five_wrong_passwords_block_the_right_one(web_school: WebSchool, client: Client) -> None:
    for _ in range(4):
        assert _sign_in(client, "beheer", "verkeerd-wachtwoord") == 200
    assert _sign_in(client, "beheer", "verkeerd-wachtwoord") == 429  # the fifth locks
    assert _sign_in(client, "beheer", PASSWORD) == 429
    assert "_auth_user_id" not in client.session
    other = Client()  # another browser and address is not blocked
    assert (
        other.post(
            "/inloggen/",
            {"username": "beheer", "password": PASSWORD},
            HTTP_USER_AGENT="other-browser",
            REMOTE_ADDR="10.1.1.1",
        ).status_code
        == 302
    )


def test_a_researcher_needs_a_code_and_then_sees_no_school_screen(
    web_school: WebSchool, client: Client
) -> None:
    add_account("onderzoeker", "researcher")
    assert _sign_in(client, "onderzoeker", PASSWORD) == 302
    # signed in with a password only: every screen asks for the code first
    assert client.get("/school/").headers["Location"] == "/inloggen/code/"
    page = client.get("/inloggen/code/").content.decode()
    assert "nog geen authenticator-app" in page  # no key yet: cannot go on
    key = accounts.set_second_factor("onderzoeker", actor="test")

    wrong = client.post("/inloggen/code/", {"code": "000000"})
    assert wrong.status_code == 200
    # django-otp makes the next try wait after a wrong code; the test does not wait
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    code = f"{totp(b32decode(key.secret)):06d}"
    assert client.post("/inloggen/code/", {"code": code}).status_code == 302
    assert client.get("/school/").status_code == 404  # a researcher sees no school's pupils


def test_a_school_administrator_signs_in_without_a_code(web_school: WebSchool) -> None:
    client = Client()
    assert _sign_in(client, "beheer", PASSWORD) == 302
    assert client.get("/school/").status_code == 200


def test_a_weak_password_is_refused(web_school: WebSchool) -> None:
    with pytest.raises(UsageError, match="too weak"):
        accounts.set_password("beheer", "12345678", actor="test")


def test_signing_out_needs_a_post(web_school: WebSchool) -> None:
    client = web_school.signed_in(Client())
    assert client.get("/uitloggen/").status_code == 405
    client.post("/uitloggen/")
    assert client.get("/school/").status_code == 302
