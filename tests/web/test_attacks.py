"""The web screens attacked: a parent or outsider on the public form and status page, a school
administrator after another school's data, researchers and checkers after what is not theirs,
and the plumbing (CSRF, redirects, headers, sessions, throttles, error pages, logs).

A passing test is a defence that holds. A hole is a test that asserts the safe behaviour and
is marked ``xfail(strict=True)`` with the reason; it starts to pass (and so fails the run)
once the hole is closed, and then loses its mark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import runpy
import zipfile
from base64 import b32decode
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

import cohortsafe.app.settings as app_settings
from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.research import airlock
from cohortsafe.app.research import services as research
from cohortsafe.app.research.models import Project, RequestItem, Vote
from cohortsafe.app.school.models import Objection, ParentForm, Pupil
from tests.office.kit import office
from tests.research.airlock_kit import CODE, Cohort, cohort
from tests.web.conftest import PASSWORD, WebSchool, add_account
from tests.web.staff import signed_in_with_code
from tests.web.test_parent_form import REFERENCE, URL, _form
from tests.web.test_review_screens import BY_DOMAIN, _draft, _vote, computed

pytestmark = pytest.mark.django_db
__all__ = ["cohort", "computed", "office"]  # fixtures

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
NEXT = re.compile(r'name="next" value="[^"]*"')  # the language switch repeats the address
#: pupil 1001 of the fixture's school: the details a stranger would try
KNOWN_CHILD = {
    "child_name": "Zoë van der Meer0",
    "child_birth_date": "2016-03-05",
    "child_group": "5",
}
UNKNOWN_CHILD = {
    "child_name": "Niemand Bestaat",
    "child_birth_date": "2017-01-01",
    "child_group": "3",
}
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _normal(page: str) -> str:
    """A page without what differs by design between two answers: the reference, the CSRF
    token, and the address the language switch returns to."""
    return NEXT.sub("NEXT", TOKEN.sub("TOKEN", REFERENCE.sub("REF", page)))


def _reference(response: HttpResponse) -> str:
    (found,) = set(REFERENCE.findall(response.content.decode()))
    return found


def _browser() -> Client:
    """A parent's browser: CSRF enforced, with the token taken from the form as a browser does."""
    return Client(enforce_csrf_checks=True)


def _token(client: Client, url: str = URL) -> str:
    page = client.get(url).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _send(client: Client, addr: str = "10.0.0.1", **changes: str) -> HttpResponse:
    return client.post(URL, _form(**changes), REMOTE_ADDR=addr)


def _status(client: Client, reference: str) -> str:
    page = client.post("/bezwaar/status/", {"reference": reference}).content.decode()
    return _normal(page)


def _tables(sql: str) -> set[str]:
    return set(re.findall(r'(?:FROM|INTO|UPDATE|JOIN)\s+"(\w+)"', sql))


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match
    return match.group(1)


def _assert_security_headers(response: HttpResponse) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "base-uri 'none'" in policy
    assert "unsafe" not in policy
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def logged() -> Iterator[_Collect]:
    """Everything that reaches a handler of the loggers the settings configure, and the root's."""
    collect = _Collect()
    names = ["django.request", "django.security", "axes", "cohortsafe", ""]
    for name in names:
        logging.getLogger(name).addHandler(collect)
    yield collect
    for name in names:
        logging.getLogger(name).removeHandler(collect)


# --- the parent form: the identical answer ------------------------------------------------


def test_the_form_answers_byte_for_byte_the_same_for_a_known_an_unknown_and_a_robot_child(
    web_school: WebSchool,
) -> None:
    """Stricter than test_parent_form: same status, every header, every cookie, the page up to
    the reference, the same queries (none on pupils) and the same audit event; for a pupil of
    the school, a child who is not, and a robot that filled the trap field."""
    answers, queries = [], []
    for n, child in enumerate([KNOWN_CHILD, UNKNOWN_CHILD, {**KNOWN_CHILD, "website": "x"}]):
        browser = _browser()
        token = _token(browser)
        with CaptureQueriesContext(connection) as captured:
            answer = browser.post(
                URL, {**_form(**child), "csrfmiddlewaretoken": token}, REMOTE_ADDR=f"10.0.1.{n}"
            )
        answers.append(answer)
        queries.append([q["sql"] for q in captured.captured_queries])
    known, unknown, robot = answers
    assert known.status_code == unknown.status_code == robot.status_code == 200
    assert dict(known.headers) == dict(unknown.headers) == dict(robot.headers)
    assert known.cookies.keys() == unknown.cookies.keys() == robot.cookies.keys()
    assert settings.SESSION_COOKIE_NAME not in known.cookies  # no session for a parent
    pages = [_normal(a.content.decode()) for a in answers]
    assert pages[0] == pages[1] == pages[2]
    # the form never looks a child up: not one query reads the pupils
    for sqls in queries:
        assert all("school_pupil" not in _tables(sql) for sql in sqls)
    assert [_tables(s) for s in queries[0]] == [_tables(s) for s in queries[1]]
    assert [_tables(s) for s in queries[0]] == [_tables(s) for s in queries[2]]
    events = AuditEvent.objects.filter(action="school.parent_form").order_by("seq")
    shapes = [(e.actor, e.subject, sorted(e.details)) for e in events]
    assert len(shapes) == 3  # the robot's too, kept as discarded through the same path
    assert shapes[0] == shapes[1] == shapes[2]
    assert ParentForm.objects.count() == 3
    assert ParentForm.objects.filter(state="discarded").count() == 1
    assert not Objection.objects.exists()


def test_a_refused_form_is_refused_the_same_for_a_known_and_an_unknown_child(
    web_school: WebSchool, client: Client
) -> None:
    """A form with an error (no contact) about a pupil and about nobody: the same page, apart
    from the values typed in, which it shows again."""
    known = _send(client, **KNOWN_CHILD, parent_contact="")
    unknown = _send(client, **UNKNOWN_CHILD, parent_contact="")
    assert known.status_code == unknown.status_code == 200

    def typed_out(answer: HttpResponse) -> str:
        page = re.sub(r'value="[^"]*"', 'value=""', answer.content.decode())
        return page.replace(" selected", "")

    assert typed_out(known) == typed_out(unknown)
    assert not ParentForm.objects.exists()


def test_the_status_of_a_pending_form_is_the_same_for_a_known_and_an_unknown_child(
    web_school: WebSchool, client: Client
) -> None:
    known = _reference(_send(client, **KNOWN_CHILD))
    unknown = _reference(_send(client, **UNKNOWN_CHILD))
    assert _status(client, known) == _status(client, unknown)


@pytest.mark.xfail(
    strict=True,
    reason="KNOWN, by design (issue 13 asks for three states: pending, confirmed, needs "
    "contact): a school that confirms a stranger's form about its pupil tells the stranger the "
    "child is there. Confirming needs the administrator's statement that they checked with the "
    "parent or guardian (ConfirmForm.checked); this test has them say so falsely.",
)
def test_the_status_page_never_tells_a_stranger_whether_the_child_is_at_the_school(
    web_school: WebSchool, client: Client
) -> None:
    known = _reference(_send(client, **KNOWN_CHILD, parent_contact="vreemde@example.org"))
    unknown = _reference(_send(client, **UNKNOWN_CHILD, parent_contact="vreemde@example.org"))
    admin = web_school.signed_in(Client())
    # the school does what it can: it confirms the form about its pupil; the other one it
    # cannot confirm for anyone, so it marks it as needing contact
    pupil = web_school.pupil("1001")
    assert (
        admin.post(
            f"/school/formulieren/{known}/",
            {"decision": "confirm", "pupil": pupil.pk, "checked": "on"},
        ).status_code
        == 302
    )
    admin.post(
        f"/school/formulieren/{unknown}/", {"decision": "contact", "reason": "geen leerling"}
    )
    assert _status(client, known) == _status(client, unknown)


# --- the parent form: the trap field and the limits ---------------------------------------


def test_a_trap_reference_looks_like_a_real_one_on_the_status_page(
    web_school: WebSchool, client: Client
) -> None:
    real = _reference(_send(client, addr="10.0.2.1"))
    trapped = _reference(_send(client, addr="10.0.2.2", website="http://spam.example"))
    assert _status(client, trapped) == _status(client, real)


def test_past_the_limit_a_trap_form_answers_like_a_real_one(
    web_school: WebSchool, client: Client
) -> None:
    for _ in range(5):
        assert _send(client).status_code == 200
    real = _send(client)
    trapped = _send(client, website="http://spam.example")
    assert real.status_code == 429
    assert trapped.status_code == real.status_code


@override_settings(COHORTSAFE_BEHIND_PROXY=True)  # COHORTSAFE_HTTPS=1
def test_parents_behind_the_tls_proxy_are_not_limited_together(web_school: WebSchool) -> None:
    answers = []
    for n in range(6):  # six different parents, each sending one form
        answers.append(
            Client().post(
                URL,
                _form(parent_contact=f"ouder{n}@example.org"),
                REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}",
                HTTP_X_FORWARDED_PROTO="https",
            )
        )
    assert [a.status_code for a in answers] == [200] * 6


def test_one_ipv6_network_cannot_send_more_than_five_forms(
    web_school: WebSchool, client: Client
) -> None:
    for n in range(5):
        assert _send(client, addr=f"2001:db8:1:2::{n + 1:x}").status_code == 200
    assert _send(client, addr="2001:db8:1:2::abcd").status_code == 429


def test_the_sender_is_stored_as_a_keyed_digest_never_as_the_address(
    web_school: WebSchool, client: Client
) -> None:
    _send(client, addr="192.0.2.77")
    (form,) = ParentForm.objects.all()
    assert "192.0.2.77" not in form.sender
    assert form.sender != hashlib.sha256(b"192.0.2.77").hexdigest()[:32]  # keyed, not plain


def test_the_form_takes_no_other_method_and_no_data_from_the_address(
    web_school: WebSchool, client: Client
) -> None:
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(URL).status_code == 405
    answer = client.get(URL, _form())  # a form "sent" in the address stores nothing
    assert answer.status_code == 200
    assert not REFERENCE.search(answer.content.decode())
    assert not ParentForm.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"child_name": "x" * 201},
        {"child_name": "Kind\x00Naam"},
        {"child_group": "9"},
        {"child_group": "0"},
        {"child_birth_date": "2016-02-30"},
        {"child_birth_date": (dt.date.today() + dt.timedelta(days=1)).isoformat()},
        {"parent_contact": ""},
    ],
)
def test_odd_input_gets_a_form_error_never_a_crash_nor_a_stored_form(
    web_school: WebSchool, client: Client, changes: dict[str, str]
) -> None:
    answer = _send(client, **changes)
    assert answer.status_code == 200
    assert "error-summary" in answer.content.decode()
    assert not ParentForm.objects.exists()


def test_a_flood_of_fields_is_refused_and_stores_nothing(
    web_school: WebSchool, client: Client, logged: _Collect
) -> None:
    data = {**_form(), **{f"f{n}": "x" for n in range(300)}}
    answer = client.post(URL, data)
    assert answer.status_code == 400
    assert not ParentForm.objects.exists()
    assert not any("Meer0" in line or "ouder@example.org" in line for line in logged.lines)


def test_what_a_parent_types_is_escaped_on_the_schools_screens(
    web_school: WebSchool, client: Client
) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    reference = _reference(_send(client, child_name=evil, parent_name=evil, parent_contact=evil))
    admin = web_school.signed_in(Client())
    for url in ("/school/formulieren/", f"/school/formulieren/{reference}/"):
        page = admin.get(url).content.decode()
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;" in page


# --- the status page ----------------------------------------------------------------------


def test_a_status_is_never_looked_up_from_the_address(
    web_school: WebSchool, client: Client
) -> None:
    reference = _reference(_send(client))
    page = client.get("/bezwaar/status/", {"reference": reference}).content.decode()
    assert "nog niet" not in page  # no lookup on GET: a reference never rides in a URL
    assert 'role="status"' not in page
    assert client.put("/bezwaar/status/").status_code == 405


def test_the_status_page_answers_the_same_to_junk_and_an_unknown_reference(
    web_school: WebSchool, client: Client
) -> None:
    def typed_out(reference: str) -> str:
        return re.sub(r'value="[^"]*"', 'value=""', _status(client, reference))

    unknown = typed_out("AAAA-AAAA")
    for junk in ("%", "' OR 1=1 --", "*", "k7m4-q2x_", "____-____"):
        assert typed_out(junk) == unknown


def test_the_status_page_stops_an_address_that_keeps_guessing(
    web_school: WebSchool, client: Client
) -> None:
    codes = [client.post("/bezwaar/status/", {"reference": f"AAAA-AA{n:02d}"}).status_code
             for n in range(60)]  # fmt: skip
    assert 429 in codes


# --- CSRF, redirects, headers -------------------------------------------------------------


def test_every_state_changing_post_needs_its_csrf_token(
    web_school: WebSchool, other_school: Pupil
) -> None:
    pupil = web_school.pupil("1002")
    Objection.objects.create(
        pupil=pupil, received_on=dt.date(2026, 1, 5), received_from="X", channel="brief"
    )
    reference = _reference(_send(Client()))
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/bezwaar/status/", {"reference": reference}).status_code == 403
    assert strict.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403
    assert (
        strict.post("/inloggen/", {"username": "beheer", "password": PASSWORD}).status_code == 403
    )
    strict.force_login(accounts.account("beheer").user)
    refused = strict.post(f"/school/leerling/{pupil.pk}/intrekken/", {"note": "csrf"})
    assert refused.status_code == 403
    assert "kon niet worden verstuurd" in refused.content.decode()  # the plain Dutch page
    assert Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).exists()
    confirm = {"decision": "confirm", "pupil": pupil.pk}
    assert strict.post(f"/school/formulieren/{reference}/", confirm).status_code == 403
    assert strict.post("/uitloggen/").status_code == 403
    assert ParentForm.objects.get(reference=reference).state == "pending"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "https:evil.example",
        "http://testserver@evil.example/",
        "javascript:alert(1)",
        " //evil.example/",
        "/%2F%2Fevil.example/",
    ],
)
def test_the_language_switch_never_sends_a_visitor_elsewhere(
    web_school: WebSchool, client: Client, target: str
) -> None:
    answer = client.post("/i18n/setlang/", {"language": "en", "next": target})
    location = answer.headers["Location"].strip().replace("\\", "/")
    parts = urlsplit(location)
    assert location.startswith("/")
    assert not location.startswith("//")
    assert not parts.scheme
    assert not parts.netloc
    referred = client.post(
        "/i18n/setlang/", {"language": "nl"}, HTTP_REFERER="https://evil.example/x"
    )
    assert "evil.example" not in referred.headers.get("Location", "")


def test_the_language_switch_changes_nothing_on_a_get(
    web_school: WebSchool, client: Client
) -> None:
    answer = client.get("/i18n/setlang/", {"language": "en", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies
    assert '<html lang="nl">' in client.get(URL).content.decode()


def test_the_address_is_escaped_where_the_language_switch_repeats_it(
    web_school: WebSchool, client: Client
) -> None:
    page = client.get(URL + '?x="><script>alert(1)</script>').content.decode()
    assert "<script>alert(1)" not in page
    assert 'value="/bezwaar/12AB00/?x=%22%3E%3Cscript%3E' in page


def test_every_kind_of_answer_carries_the_security_headers(
    web_school: WebSchool, client: Client
) -> None:
    answers = {
        "page": client.get(URL),
        "not found": client.get("/bezwaar/99ZZ00/"),
        "no such path": client.get("/wp-admin/"),
        "method": client.put(URL),
        "redirect": client.get("/school/"),
        "csrf": Client(enforce_csrf_checks=True).post(URL, _form()),
    }
    for _ in range(5):
        _send(client, addr="10.0.3.1")
    answers["too many"] = _send(client, addr="10.0.3.1")
    for _ in range(5):
        locked = client.post(
            "/inloggen/", {"username": "beheer", "password": "fout"}, HTTP_USER_AGENT="b"
        )
    answers["locked"] = locked
    expected = {"page": 200, "not found": 404, "no such path": 404, "method": 405,
                "redirect": 302, "csrf": 403, "too many": 429, "locked": 429}  # fmt: skip
    for kind, answer in answers.items():
        assert answer.status_code == expected[kind], kind
        _assert_security_headers(answer)


def test_pages_with_personal_data_are_never_stored_by_a_cache(
    web_school: WebSchool, client: Client
) -> None:
    sent = _send(client)
    status = client.post("/bezwaar/status/", {"reference": _reference(sent)})
    admin = web_school.signed_in(Client())
    pupil = admin.get(f"/school/leerling/{web_school.pupil().pk}/")
    forms = admin.get("/school/formulieren/")
    for answer in (sent, status, pupil, forms):
        assert "no-store" in answer.headers.get("Cache-Control", "")


def test_over_https_cookies_are_secure_and_browsers_keep_to_https(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COHORTSAFE_HOME", str(tmp_path / "https-home"))
    monkeypatch.setenv("COHORTSAFE_HTTPS", "1")
    loaded: dict[str, Any] = runpy.run_path(app_settings.__file__)
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["DEBUG"] is False
    assert "*" not in loaded["ALLOWED_HOSTS"]


def test_cookies_are_httponly_and_same_site(web_school: WebSchool) -> None:
    client = Client()
    csrf = client.get("/inloggen/").cookies["csrftoken"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Strict"
    answer = client.post(
        "/inloggen/", {"username": "beheer", "password": PASSWORD}, HTTP_USER_AGENT="b"
    )
    session = answer.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert not session["max-age"]  # gone when the browser closes
    assert not session["expires"]


# --- sessions and signing in --------------------------------------------------------------


def test_a_planted_session_is_replaced_at_sign_in(web_school: WebSchool) -> None:
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    victim = Client()
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    answer = victim.post(
        "/inloggen/", {"username": "beheer", "password": PASSWORD}, HTTP_USER_AGENT="b"
    )
    assert answer.status_code == 302
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert attacker.get("/school/").status_code == 302  # the planted key signs nobody in


def test_a_session_is_dead_on_the_server_after_sign_out(web_school: WebSchool) -> None:
    client = Client()
    client.post("/inloggen/", {"username": "beheer", "password": PASSWORD}, HTTP_USER_AGENT="b")
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/school/").status_code == 200
    client.post("/uitloggen/")
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert thief.get("/school/").status_code == 302


def test_an_idle_session_ends_on_the_server_too(web_school: WebSchool) -> None:
    client = Client()
    client.post("/inloggen/", {"username": "beheer", "password": PASSWORD}, HTTP_USER_AGENT="b")
    assert client.get("/school/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/school/").status_code == 302


def test_a_wrong_user_name_and_a_wrong_password_look_the_same(web_school: WebSchool) -> None:
    pages = []
    for name in ("beheer", "bestaat-niet"):
        answer = Client().post("/inloggen/", {"username": name, "password": "verkeerd-wachtwoord"})
        assert answer.status_code == 200
        pages.append(_normal(answer.content.decode()).replace(name, "NAME"))
    assert pages[0] == pages[1]


def test_signing_in_goes_nowhere_but_home(web_school: WebSchool, client: Client) -> None:
    answer = client.post(
        "/inloggen/?next=https://evil.example/",
        {"username": "beheer", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert answer.headers["Location"] == "/"


def test_a_forged_forwarded_address_does_not_lift_a_lock(
    web_school: WebSchool, client: Client
) -> None:
    for _ in range(5):
        client.post("/inloggen/", {"username": "beheer", "password": "fout"}, HTTP_USER_AGENT="b")
    again = client.post(
        "/inloggen/",
        {"username": "beheer", "password": PASSWORD},
        HTTP_USER_AGENT="b",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
        HTTP_X_REAL_IP="203.0.113.50",
    )
    assert again.status_code == 429


def test_changing_the_browser_name_gives_no_more_guesses(
    web_school: WebSchool, client: Client
) -> None:
    codes = []
    for n in range(15):
        answer = client.post(
            "/inloggen/",
            {"username": "beheer", "password": f"gok-{n}"},
            HTTP_USER_AGENT=f"guesser/{n // 5}",
        )
        codes.append(answer.status_code)
    assert codes[10:] == [429] * 5


@override_settings(COHORTSAFE_BEHIND_PROXY=True)  # COHORTSAFE_HTTPS=1
def test_a_stranger_behind_the_proxy_cannot_lock_the_administrator_out(
    web_school: WebSchool,
) -> None:
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36"
    proxied = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": chrome}
    for _ in range(5):
        Client().post(
            "/inloggen/",
            {"username": "beheer", "password": "fout"},
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            **proxied,
        )
    real = Client().post(
        "/inloggen/",
        {"username": "beheer", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **proxied,
    )
    assert real.status_code == 302


def test_a_password_alone_opens_no_research_or_review_screen(web_school: WebSchool) -> None:
    add_account("onderzoeker", "researcher")
    add_account("controleur", "checker")
    for name in ("onderzoeker", "controleur"):
        client = Client()
        client.post("/inloggen/", {"username": name, "password": PASSWORD})
        for url in ("/", "/research/", "/research/verzoek/1/", "/review/", "/review/verzoek/1/"):
            assert client.get(url).headers.get("Location") == "/inloggen/code/", url
        for url in ("/research/verzoek/1/indienen/", "/review/verzoek/1/stem/"):
            assert client.post(url).headers.get("Location") == "/inloggen/code/", url


def test_a_code_works_once_and_not_right_after_a_wrong_one(web_school: WebSchool) -> None:
    add_account("onderzoeker", "researcher")
    key = accounts.set_second_factor("onderzoeker", actor="test")
    code = f"{totp(b32decode(key.secret)):06d}"
    first = Client()
    first.post("/inloggen/", {"username": "onderzoeker", "password": PASSWORD})
    assert first.post("/inloggen/code/", {"code": code}).status_code == 302
    replay = Client()  # someone who saw the code over the shoulder
    replay.post("/inloggen/", {"username": "onderzoeker", "password": PASSWORD})
    assert replay.post("/inloggen/code/", {"code": code}).status_code == 200
    assert replay.get("/research/").headers["Location"] == "/inloggen/code/"
    # a wrong code makes the next one wait: guessing 10^6 codes is not on
    TOTPDevice.objects.update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    guesser = Client()
    guesser.post("/inloggen/", {"username": "onderzoeker", "password": PASSWORD})
    guesser.post("/inloggen/code/", {"code": "000000" if code != "000000" else "111111"})
    assert guesser.post("/inloggen/code/", {"code": code}).status_code == 200


# --- a school administrator and another school --------------------------------------------


def test_another_schools_data_stays_out_of_every_list_and_count(
    web_school: WebSchool, other_school: Pupil
) -> None:
    Client().post("/bezwaar/34CD00/", _form(child_name="Kim Elderszoon"), REMOTE_ADDR="10.9.9.9")
    admin = web_school.signed_in(Client())
    for url in ("/school/", "/school/bezwaren/", "/school/bezwaren/?toon=alle",
                "/school/formulieren/", "/school/bezwaren/nieuw/"):  # fmt: skip
        page = admin.get(url).content.decode()
        assert "Elderszoon" not in page, url
        assert "Andere school" not in page, url
    assert 'class="next-step"' not in admin.get("/school/").content.decode()  # none of ours wait


def test_another_schools_form_cannot_be_decided_nor_confirmed_for_their_pupil(
    web_school: WebSchool, other_school: Pupil, client: Client
) -> None:
    theirs = _reference(client.post("/bezwaar/34CD00/", _form(), REMOTE_ADDR="10.9.9.8"))
    ours = _reference(_send(client))
    admin = web_school.signed_in(Client())
    contact = {"decision": "contact", "reason": "van een andere school"}
    assert admin.post(f"/school/formulieren/{theirs}/", contact).status_code == 404
    assert admin.post(f"/school/formulieren/{theirs.lower()}/", contact).status_code == 404
    confirm = {"decision": "confirm", "pupil": other_school.pk, "checked": "on"}
    assert admin.post(f"/school/formulieren/{ours}/", confirm).status_code == 200  # not a choice
    assert ParentForm.objects.get(reference=theirs).state == "pending"
    assert ParentForm.objects.get(reference=ours).state == "pending"
    assert Objection.objects.filter(pupil=other_school).count() == 1  # only its own, untouched


def test_another_schools_pupil_is_as_unknown_as_one_that_never_existed(
    web_school: WebSchool, other_school: Pupil
) -> None:
    admin = web_school.signed_in(Client())
    theirs = admin.get(f"/school/leerling/{other_school.pk}/")
    nobody = admin.get("/school/leerling/999999/")
    assert theirs.status_code == nobody.status_code == 404
    assert _normal(theirs.content.decode()) == _normal(nobody.content.decode())
    assert admin.post(f"/school/leerling/{other_school.pk}/intrekken/").status_code == 404
    assert Objection.objects.get(pupil=other_school).withdrawn_at is None


def test_a_get_never_changes_anything(web_school: WebSchool, client: Client) -> None:
    pupil = web_school.pupil("1003")
    Objection.objects.create(
        pupil=pupil, received_on=dt.date(2026, 1, 5), received_from="X", channel="brief"
    )
    reference = _reference(_send(client))
    admin = web_school.signed_in(Client())
    assert admin.get(f"/school/leerling/{pupil.pk}/intrekken/").status_code == 405
    admin.get(f"/school/formulieren/{reference}/", {"decision": "confirm", "pupil": pupil.pk})
    admin.get(f"/school/formulieren/{reference}/", {"decision": "contact", "reason": "x"})
    admin.get("/school/bezwaren/nieuw/", {"pupil": pupil.pk, "received_on": "2026-01-01",
                                         "received_from": "x", "channel": "brief"})  # fmt: skip
    assert admin.get("/uitloggen/").status_code == 405
    assert Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).count() == 1
    assert ParentForm.objects.get(reference=reference).state == "pending"
    assert admin.get("/school/").status_code == 200  # still signed in


def test_no_name_or_birth_date_in_a_page_title_or_address(
    web_school: WebSchool, client: Client
) -> None:
    reference = _reference(_send(client))
    pupil = web_school.pupil("1001")
    admin = web_school.signed_in(Client())
    made = admin.post(
        "/school/bezwaren/nieuw/",
        {"pupil": pupil.pk, "received_on": "2026-01-05", "received_from": "Ouder Meer",
         "channel": "brief", "note": ""},
    )  # fmt: skip
    confirmed = admin.post(
        f"/school/formulieren/{reference}/",
        {"decision": "confirm", "pupil": web_school.pupil("1002").pk, "checked": "on"},
    )
    locations = [made.headers["Location"], confirmed.headers["Location"]]
    urls = ["/school/", "/school/bezwaren/", "/school/formulieren/", locations[0],
            f"/school/leerling/{web_school.pupil('1002').pk}/"]  # fmt: skip
    private = ("Zoë", "Meer", "2016", "05-03", "Ouder")
    for url in urls:
        title = _title(admin.get(url).content.decode())
        assert not any(word in title for word in private), (url, title)
    for location in locations:
        assert not any(word in location for word in private)
        assert re.fullmatch(r"/school/[a-z/]*(\d+/)?", location)


def test_each_role_sees_nothing_of_the_other_roles_screens(web_school: WebSchool) -> None:
    admin = web_school.signed_in(Client())
    for url in ("/research/", "/research/project/NCO-1/", "/research/verzoek/1/",
                "/research/verzoek/1/bundel/", "/review/", "/review/verzoek/1/",
                "/review/verzoek/1/bundel/"):  # fmt: skip
        assert admin.get(url).status_code == 404, url
    for name, role in (("kantoor", "office"), ("checker", "checker"), ("onderz", "researcher")):
        add_account(name, role)
        other = signed_in_with_code(name)
        for url in ("/school/", f"/school/leerling/{web_school.pupil().pk}/",
                    "/school/formulieren/"):  # fmt: skip
            assert other.get(url).status_code == 404, (name, url)


# --- logs ---------------------------------------------------------------------------------


def test_nothing_personal_reaches_a_log(
    web_school: WebSchool, client: Client, logged: _Collect
) -> None:
    for _ in range(6):  # five forms, then a refused one
        _send(client, addr="192.0.2.44", parent_contact="ouder@example.org")
    Client(enforce_csrf_checks=True).post(URL, _form(), REMOTE_ADDR="192.0.2.44")
    client.get("/bezwaar/99ZZ00/", REMOTE_ADDR="192.0.2.44")
    client.get("/school/leerling/Zo%C3%AB-van-der-Meer0/", REMOTE_ADDR="192.0.2.44")
    client.put(URL, REMOTE_ADDR="192.0.2.44")
    client.post("/bezwaar/status/", {"reference": "Meer0"}, REMOTE_ADDR="192.0.2.44")
    for _ in range(6):
        client.post(
            "/inloggen/",
            {"username": "beheer", "password": "geheim-wachtwoord"},
            REMOTE_ADDR="192.0.2.44",
        )
    admin = web_school.signed_in(Client())
    admin.get(f"/school/leerling/{web_school.pupil().pk}/")
    logging.getLogger("django.request").error("probe")  # the collector does hear the loggers
    text = "\n".join(logged.lines)
    assert "probe" in text
    for private in ("Meer0", "Zoë", "ouder@example.org", "192.0.2.44", "beheer", "geheim"):
        assert private not in text


# --- researchers, checkers and the office -------------------------------------------------


@pytest.fixture
def submitted(computed: Cohort) -> tuple[Client, int]:
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    assert anna.post(f"/research/verzoek/{number}/indienen/").status_code == 302
    return anna, number


def _release(number: int) -> Client:
    for name in ("carla", "dirk"):
        _vote(signed_in_with_code(name), number)
    accounts.add_user("olga", "office", home_role="office", actor="t")
    olga = signed_in_with_code("olga")
    assert olga.post(f"/review/verzoek/{number}/vrijgeven/").status_code == 302
    assert airlock.request_view(number, user=None)["state"] == "released"
    return olga


def test_a_researcher_of_another_project_reaches_none_of_it(
    submitted: tuple[Client, int],
) -> None:
    _, number = submitted
    _release(number)
    accounts.add_user("zoe", "researcher", home_role="office", actor="t")
    zoe = signed_in_with_code("zoe")
    nobody = zoe.get("/research/verzoek/99999/")
    for url in (f"/research/project/{CODE}/", f"/research/verzoek/{number}/",
                f"/research/verzoek/{number}/bundel/"):  # fmt: skip
        answer = zoe.get(url)
        assert answer.status_code == 404, url
        assert _normal(answer.content.decode()) == _normal(nobody.content.decode())
    assert CODE not in zoe.get("/research/").content.decode()
    for url in (f"/research/project/{CODE}/verzoek/", f"/research/verzoek/{number}/toevoegen/",
                f"/research/verzoek/{number}/indienen/",
                f"/research/verzoek/{number}/intrekken/"):  # fmt: skip
        assert zoe.post(url, {"title": "x", "outputs": ["by_domain"], "context": "x",
                              "controls": "x"}).status_code == 404, url  # fmt: skip
    assert not Project.objects.get(code=CODE).requests.filter(author__user__username="zoe").exists()


def test_a_fellow_researcher_reads_but_never_changes_the_authors_request(
    computed: Cohort,
) -> None:
    airlock.compute_outputs(CODE, [computed.spec("second", **BY_DOMAIN)], user="anna", actor="t")
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    bert = signed_in_with_code("bert")
    assert bert.get(f"/research/verzoek/{number}/").status_code == 200
    bert.post(
        f"/research/verzoek/{number}/toevoegen/",
        {"outputs": ["second"], "context": "x", "controls": "x"},
    )
    bert.post(f"/research/verzoek/{number}/indienen/")
    bert.post(f"/research/verzoek/{number}/intrekken/")
    view = airlock.request_view(number, user=None)
    assert view["state"] == "pending"
    assert [i["name"] for i in view["items"]] == ["by_domain"]


def test_checkers_vote_blind_and_the_author_sees_no_vote_before_the_round_is_decided(
    submitted: tuple[Client, int],
) -> None:
    anna, number = submitted
    carla = signed_in_with_code("carla")
    _vote(carla, number, "changes", "GEHEIM-COMMENTAAR rond af")
    assert "GEHEIM-COMMENTAAR" in carla.get(f"/review/verzoek/{number}/").content.decode()
    dirk = signed_in_with_code("dirk")
    bert = signed_in_with_code("bert")
    pages = {
        "dirk's request": dirk.get(f"/review/verzoek/{number}/"),
        "dirk's queue": dirk.get("/review/"),
        "author": anna.get(f"/research/verzoek/{number}/"),
        "member": bert.get(f"/research/verzoek/{number}/"),
        "project": anna.get(f"/research/project/{CODE}/"),
    }
    for who, answer in pages.items():
        page = answer.content.decode()
        assert "GEHEIM" not in page, who
        assert "carla" not in page, who
        assert "changes_requested" not in page, who
    assert "Save my review" in pages["dirk's request"].content.decode()  # dirk may still vote


def test_only_checkers_vote_once_and_only_the_office_releases(
    submitted: tuple[Client, int],
) -> None:
    _, number = submitted
    accounts.add_user("olga", "office", home_role="office", actor="t")
    olga = signed_in_with_code("olga")
    olga.post(f"/review/verzoek/{number}/stem/", {"item_0": "approve", "action": "vote"})
    assert not Vote.objects.filter(reviewer__user__username="olga").exists()
    carla = signed_in_with_code("carla")
    _vote(carla, number)
    _vote(carla, number)  # twice
    assert Vote.objects.filter(reviewer__user__username="carla").count() == 1
    assert carla.post(f"/review/verzoek/{number}/vrijgeven/").status_code == 404
    assert carla.get(f"/review/verzoek/{number}/bundel/").status_code == 404
    assert carla.get(f"/research/verzoek/{number}/bundel/").status_code == 404
    for url in (f"/review/verzoek/{number}/stem/", f"/review/verzoek/{number}/vrijgeven/"):
        assert olga.get(url).status_code == 405


def test_the_researchers_posts_take_no_get(submitted: tuple[Client, int]) -> None:
    anna, number = submitted
    for url in (f"/research/project/{CODE}/verzoek/", f"/research/verzoek/{number}/toevoegen/",
                f"/research/verzoek/{number}/indienen/",
                f"/research/verzoek/{number}/intrekken/"):  # fmt: skip
        assert anna.get(url).status_code == 405, url
    assert airlock.request_view(number, user=None)["state"] == "submitted"


def test_the_bundle_goes_to_the_projects_researchers_and_the_office_only(
    submitted: tuple[Client, int],
) -> None:
    anna, number = submitted
    olga = _release(number)
    bert = signed_in_with_code("bert")
    for client, url in ((anna, f"/research/verzoek/{number}/bundel/"),
                        (bert, f"/research/verzoek/{number}/bundel/"),
                        (olga, f"/review/verzoek/{number}/bundel/")):  # fmt: skip
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.headers["Content-Disposition"].startswith("attachment")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    erik = signed_in_with_code("erik")
    assert erik.get(f"/review/verzoek/{number}/bundel/").status_code == 404
    assert erik.get(f"/research/verzoek/{number}/bundel/").status_code == 404


def test_a_draft_withdrawn_before_it_was_submitted_stays_hidden_from_checkers(
    computed: Cohort,
) -> None:
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    anna.post(f"/research/verzoek/{number}/intrekken/")
    assert airlock.request_view(number, user=None)["state"] == "withdrawn"
    carla = signed_in_with_code("carla")
    assert f"/review/verzoek/{number}/" not in carla.get("/review/").content.decode()
    assert carla.get(f"/review/verzoek/{number}/").status_code == 404


def test_outputs_added_to_a_returned_request_stay_hidden_until_it_is_submitted_again(
    submitted: tuple[Client, int],
) -> None:
    anna, number = submitted
    airlock.compute_outputs(
        CODE, [{"name": "nieuw_concept", "table": "toetsresultaten", **BY_DOMAIN}],
        user="anna", actor="t",
    )  # fmt: skip
    _vote(signed_in_with_code("carla"), number, "changes", "rond af")
    _vote(signed_in_with_code("dirk"), number)
    assert airlock.request_view(number, user=None)["state"] == "returned"
    anna.post(
        f"/research/verzoek/{number}/toevoegen/",
        {"outputs": ["nieuw_concept"], "context": "concept", "controls": "geen"},
    )
    assert RequestItem.objects.filter(request_id=number, name="nieuw_concept").exists()
    page = signed_in_with_code("erik").get(f"/review/verzoek/{number}/").content.decode()
    assert "nieuw_concept" not in page


def test_an_ended_project_is_closed_to_its_researchers(submitted: tuple[Client, int]) -> None:
    anna, number = submitted
    research.end_project(CODE, actor="t")
    assert anna.get(f"/research/project/{CODE}/").status_code == 404
    assert (
        anna.post(f"/research/project/{CODE}/verzoek/", {"title": "na het einde"}).status_code
        == 404
    )
    assert anna.post(f"/research/verzoek/{number}/intrekken/").status_code == 404
    assert airlock.request_view(number, user=None)["state"] == "submitted"  # refused


def test_an_ended_projects_requests_are_closed_to_its_researchers(
    submitted: tuple[Client, int],
) -> None:
    anna, number = submitted
    research.end_project(CODE, actor="t")
    assert anna.get(f"/research/verzoek/{number}/").status_code == 404


def test_an_ended_projects_request_is_refused_at_release_not_a_crash(
    submitted: tuple[Client, int],
) -> None:
    _, number = submitted
    for name in ("carla", "dirk"):
        _vote(signed_in_with_code(name), number)
    research.end_project(CODE, actor="t")
    accounts.add_user("olga", "office", home_role="office", actor="t")
    olga = Client(raise_request_exception=False)
    olga.cookies = signed_in_with_code("olga").cookies
    answer = olga.post(f"/review/verzoek/{number}/vrijgeven/")
    assert answer.status_code == 302
    assert airlock.request_view(number, user=None)["state"] != "released"


def test_a_project_being_rebuilt_shows_a_page_not_a_crash(computed: Cohort) -> None:
    Project.objects.filter(code=CODE).update(stale=True, stale_reason="retraction")
    anna = Client(raise_request_exception=False)
    anna.cookies = signed_in_with_code("anna").cookies
    assert anna.get(f"/research/project/{CODE}/").status_code != 500


def test_an_error_page_tells_nothing_of_the_error(
    computed: Cohort, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("GEHEIME-REDEN in project_for_researcher")

    monkeypatch.setattr("cohortsafe.app.web.research.research.projects", broken)
    anna = Client(raise_request_exception=False)
    anna.cookies = signed_in_with_code("anna").cookies
    answer = anna.get(f"/research/project/{CODE}/")
    assert answer.status_code == 500
    page = answer.content.decode()
    for detail in ("GEHEIME-REDEN", "Traceback", "RuntimeError", "project_for_researcher"):
        assert detail not in page
    assert "Er ging iets mis" in page
    _assert_security_headers(answer)
    missing = anna.get("/research/nergens/")
    assert missing.status_code == 404
    assert "urlpatterns" not in missing.content.decode()
    assert "Using the URLconf" not in missing.content.decode()
