"""Signing in office staff, researchers and checkers in a test client: password and code."""

from __future__ import annotations

from base64 import b32decode

from django.test import Client
from django_otp.oath import totp

from cohortsafe.app.accounts import services as accounts
from tests.web.conftest import PASSWORD


def signed_in_with_code(name: str, client: Client | None = None) -> Client:
    """A client of ``name`` through both steps of the sign-in, as a browser would."""
    client = client or Client()
    accounts.set_password(name, PASSWORD, actor="test")
    key = accounts.set_second_factor(name, actor="test")
    answer = client.post("/inloggen/", {"username": name, "password": PASSWORD})
    assert answer.headers["Location"] == "/inloggen/code/"
    code = f"{totp(b32decode(key.secret)):06d}"
    assert client.post("/inloggen/code/", {"code": code}).status_code == 302
    return client
