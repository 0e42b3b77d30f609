"""The school's screens and the parent form in a real browser (Debian's Chromium), with
axe-core checking every page visited against WCAG 2.1 A and AA."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from base64 import b32decode
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.research import airlock
from cohortsafe.app.school.models import School
from cohortsafe.config import load
from cohortsafe.files import write_private
from tests.office.kit import office
from tests.research.airlock_kit import CODE, Cohort, cohort
from tests.web.conftest import PASSWORD, SCHOOL, WebSchool

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = Path(os.environ.get("COHORTSAFE_SCREENSHOTS", tempfile.gettempdir())) / "cohortsafe-screens"

__all__ = ["cohort", "office"]  # fixtures

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="make test installs Debian's chromium"),
]


class Visits:
    """A browser page that checks, and photographs, every page it lands on."""

    def __init__(self, page: playwright.Page, base: str, name: str) -> None:
        self.page, self.base, self.name, self.count = page, base, name, 0
        self.axe = Axe()

    def check(self, label: str) -> None:
        # every request of the page done: the test's queries share the server's connection
        self.page.wait_for_load_state("networkidle")
        self.count += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=SHOTS / f"{self.name}-{self.count:02d}-{label}.png", full_page=True
        )
        found = self.axe.run(self.page, options={"runOnly": {"type": "tag", "values": WCAG}})
        violations = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])}×)" for v in found.response["violations"]
        ]
        assert not violations, f"{label}: {violations}"

    def go(self, path: str, label: str) -> None:
        answer = self.page.goto(self.base + path)
        assert answer is not None, label
        assert answer.ok, f"{label}: {answer.status}"
        self.check(label)


@pytest.fixture
def web_server(db: None) -> Iterator[str]:
    """The app on a free loopback port, on the test's own database connection: the test's
    data are visible without committing them (a transactional test could not flush the
    append-only audit log)."""
    from django.core import signals
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.db import close_old_connections, connections
    from django.test.testcases import LiveServerThread

    # as Django's test client does: a request must not close the test's connection
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    connection = connections["default"]
    connection.inc_thread_sharing()

    class SharedConnectionServer(ThreadedWSGIServer):  # type: ignore[misc]
        def _close_connections(self) -> None:
            pass  # the connection is the test's: it ends with the test

    class ServerThread(LiveServerThread):  # type: ignore[misc]
        server_class = SharedConnectionServer

    # static files as in production: whitenoise, not the test server's own handler
    thread = ServerThread(
        "127.0.0.1", lambda app: app, connections_override={"default": connection}
    )
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    base = f"http://127.0.0.1:{thread.port}"
    # one request first: the server's first one sets things up on the shared connection,
    # which must not overlap the test's own queries
    with urllib.request.urlopen(base + "/toegankelijkheid/") as answer:  # noqa: S310
        assert answer.status == 200
    yield base
    thread.terminate()
    connection.dec_thread_sharing()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[playwright.Browser]:
    # Playwright's sync API keeps an event loop running in this thread; the test's own
    # queries are still plain synchronous ones
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as run:
        launched = run.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def with_keys(web_school: WebSchool) -> WebSchool:
    """The office's public key and the school's signing key in the home, for deliveries."""
    home = load().home
    shutil.copy(web_school.setup.office_pub, home / "office.pub")
    write_private(home / "school.key", web_school.setup.signing_key.read_bytes())
    # the administrator looks after a second school too: every page shows the switch
    School.objects.create(brin="34CD", vestiging="00", name="De Esch")
    accounts.grant_school(web_school.admin, "34CD00", actor="test")
    return web_school


def test_a_parent_objects_online_and_the_administrator_confirms_it(
    with_keys: WebSchool, web_server: str, browser: playwright.Browser
) -> None:
    web_school = with_keys
    # no query of its own from here: the server thread has the test's connection
    base = web_server
    parent = Visits(browser.new_page(), base, "parent")
    parent.go(f"/bezwaar/{SCHOOL}/", "form")
    form = parent.page
    form.get_by_label("Volledige naam van uw kind").fill("Zoë van der Meer0")
    form.get_by_label("Geboortedatum van uw kind").fill("2016-03-05")
    form.get_by_label("Groep op school").select_option("5")
    form.get_by_label("Uw naam").fill("A. van der Meer")
    form.get_by_label("Uw e-mailadres of telefoonnummer").fill("ouder@example.org")
    with form.expect_navigation():  # the check after it waits for the new page
        form.get_by_role("button", name="Bezwaar versturen").click()
    parent.check("sent")
    reference = form.locator(".reference").inner_text().strip()
    parent.go("/bezwaar/status/", "status")

    admin = Visits(browser.new_page(), base, "school")
    admin.go("/inloggen/", "sign-in")
    admin.page.get_by_label("Gebruikersnaam").fill(web_school.admin)
    admin.page.get_by_label("Wachtwoord").fill(PASSWORD)
    with admin.page.expect_navigation():
        admin.page.get_by_role("button", name="Inloggen").click()
    admin.check("overview")
    with admin.page.expect_navigation():
        admin.page.get_by_role("link", name="Formulieren bekijken").click()
    admin.check("forms")
    with admin.page.expect_navigation():
        admin.page.get_by_role("link", name=reference).click()
    admin.check("form")
    admin.page.get_by_label("De leerling voor wie dit bezwaar is").select_option(
        label="Zoë van der Meer0 (05-03-2016, groep 5)"
    )
    admin.page.get_by_label("Ik heb gecontroleerd dat de afzender een ouder of verzorger").check()
    with admin.page.expect_navigation():
        admin.page.get_by_role("button", name="Bezwaar bevestigen").click()
    admin.check("confirmed")
    assert "bevestigd" in admin.page.locator(".messages").inner_text()

    # the parent sees it confirmed
    parent.page.get_by_label("Referentienummer").fill(reference)
    with parent.page.expect_navigation():
        parent.page.get_by_role("button", name="Bekijken").click()
    parent.check("status-confirmed")
    assert "bevestigd" in parent.page.locator(".outcome").inner_text()

    # and the administrator withdraws one by keyboard alone
    # the next delivery leaves the child out, in words the administrator reads
    admin.go("/school/leveringen/", "deliveries")
    admin.page.get_by_label("Leveren terwijl ouders dit jaar nog bezwaar kunnen maken").check()
    with admin.page.expect_navigation():
        admin.page.get_by_role("button", name="Kijk wat er meegaat").click()
    admin.check("delivery-check")
    assert "1 leerling van wie de ouders bezwaar maakten" in admin.page.locator("main").inner_text()

    # an objection by letter, registered on screen
    admin.go("/school/bezwaren/nieuw/", "objection-new")
    admin.page.get_by_label("Leerling").select_option(
        label="Zoë van der Meer1 (05-03-2016, groep 5)"
    )
    admin.page.get_by_label("Ontvangen op").fill("2026-11-02")
    admin.page.get_by_label("Van (ouder of verzorger)").fill("J. van der Meer")
    admin.page.get_by_label("Hoe").select_option("brief")
    with admin.page.expect_navigation():
        admin.page.get_by_role("button", name="Vastleggen").click()
    admin.check("objection-registered")
    assert "geldt sinds 02-11-2026" in admin.page.locator("main").inner_text()

    admin.go("/school/bezwaren/", "objections")
    admin.page.get_by_role("link", name="Zoë van der Meer0").focus()
    with admin.page.expect_navigation():
        admin.page.keyboard.press("Enter")
    admin.check("pupil")
    assert "geldt sinds" in admin.page.locator("main").inner_text()
    admin.page.get_by_role("button", name="Bezwaar intrekken").focus()
    with admin.page.expect_navigation():
        admin.page.keyboard.press("Enter")
    admin.check("withdrawn")
    assert "ingetrokken" in admin.page.locator(".messages").inner_text()
    for path, label in (
        ("/school/toestemmingen/", "consents"),
        ("/school/import/", "import"),
        ("/school/brief/", "letter"),
        ("/toegankelijkheid/", "accessibility"),
    ):
        admin.go(path, label)
    admin.go("/school/", "overview-again")
    admin.page.get_by_label("U werkt aan school").select_option("34CD00")
    with admin.page.expect_navigation():
        admin.page.get_by_role("button", name="Andere school kiezen").click()
    admin.check("other-school")
    assert "De Esch" in admin.page.locator("header").inner_text()


@pytest.fixture
def staff_keys(cohort: Cohort) -> dict[str, bytes]:
    """Outputs computed, and every person's password and authenticator key, set before the
    server starts (afterwards the test makes no query of its own)."""
    airlock.compute_outputs(
        CODE,
        [
            cohort.spec(
                "by_domain",
                kind="table",
                index=["leergebied"],
                values="vaardigheidsscore",
                aggfunc="mean",
            )
        ],
        user="anna",
        actor="t",
    )
    accounts.add_user("olga", "office", home_role="office", actor="t")
    keys = {}
    for name in ("anna", "carla", "dirk", "olga"):
        accounts.set_password(name, PASSWORD, actor="t")
        keys[name] = b32decode(accounts.set_second_factor(name, actor="t").secret)
    return keys


def _sign_in(visits: Visits, name: str, key: bytes) -> None:
    visits.go("/inloggen/", "sign-in")
    visits.page.get_by_label("Gebruikersnaam").fill(name)
    visits.page.get_by_label("Wachtwoord").fill(PASSWORD)
    with visits.page.expect_navigation():
        visits.page.get_by_role("button", name="Inloggen").click()
    visits.check("code")
    visits.page.get_by_label("Code uit uw authenticator-app").fill(f"{totp(key):06d}")
    with visits.page.expect_navigation():
        visits.page.get_by_role("button", name="Verder").click()
    visits.check("start")


def test_a_request_is_reviewed_blind_by_two_checkers_and_released(
    staff_keys: dict[str, bytes], web_server: str, browser: playwright.Browser, tmp_path: Path
) -> None:
    anna = Visits(browser.new_page(), web_server, "researcher")
    _sign_in(anna, "anna", staff_keys["anna"])
    with anna.page.expect_navigation():
        anna.page.get_by_role("link", name=f"{CODE}: Rekenen").click()
    anna.check("project")
    anna.page.get_by_label("Title of the request").fill("Paper 1: means per domain")
    with anna.page.expect_navigation():
        anna.page.get_by_role("button", name="Start a request").click()
    anna.check("request")
    anna.page.get_by_label("by_domain").check()
    anna.page.get_by_label("What the outputs show").fill("Mean score per domain")
    anna.page.get_by_label("How they are protected").fill("Cells under 10 pupils suppressed")
    with anna.page.expect_navigation():
        anna.page.get_by_role("button", name="Add", exact=True).click()
    anna.check("added")
    with anna.page.expect_navigation():
        anna.page.get_by_role("button", name="Submit", exact=True).click()
    anna.check("submitted")
    assert "waiting for review" in anna.page.locator("main").inner_text()
    address = anna.page.url.replace("/research/", "/review/")
    anna.page.goto(address)
    assert "Page not found" in anna.page.locator("main").inner_text()  # no reviewing one's own

    for number, name in enumerate(("carla", "dirk")):
        checker = Visits(browser.new_page(), web_server, name)
        _sign_in(checker, name, staff_keys[name])
        with checker.page.expect_navigation():
            checker.page.get_by_role("link", name="Paper 1").click()
        checker.check("request")
        text = checker.page.locator("main").inner_text()
        assert "leergebied" in text
        assert "Mean score per domain" in text
        assert "carla:" not in text  # blind: no earlier vote is shown
        checker.page.get_by_label("Approve").check()
        with checker.page.expect_navigation():
            checker.page.get_by_role("button", name="Save my review").click()
        checker.check("voted")
        if number == 0:
            assert "stay hidden" in checker.page.locator("main").inner_text()
        else:
            assert "approved" in checker.page.locator("main").inner_text()

    olga = Visits(browser.new_page(), web_server, "office")
    _sign_in(olga, "olga", staff_keys["olga"])
    with olga.page.expect_navigation():
        olga.page.get_by_role("link", name="Output requests").click()
    olga.check("queue")
    with olga.page.expect_navigation():
        olga.page.get_by_role("link", name="Paper 1").click()
    olga.check("approved")
    with olga.page.expect_navigation():
        olga.page.get_by_role("button", name="Release", exact=True).click()
    olga.check("released")
    request_page = urllib.parse.urlsplit(olga.page.url).path  # its number is the database's
    for path, label in (
        ("/office/pakketten/", "packages"),
        ("/office/scholen/", "schools"),
        ("/office/projecten/", "projects"),
        (f"/office/projecten/{CODE}/?risico=1", "project"),
        ("/office/gebruikers/", "accounts"),
    ):
        olga.go(path, label)
    olga.go(request_page, "released-again")
    with olga.page.expect_download() as download:
        olga.page.get_by_role("link", name="Download the bundle").click()
    saved = tmp_path / "bundle.zip"
    download.value.save_as(saved)
    assert "outputs/by_domain.csv" in zipfile.ZipFile(saved).namelist()


@pytest.fixture
def school_reports(office: object) -> str:
    """Two schools' reports at the office; an administrator of one of them, with a
    password (set before the server starts)."""
    from cohortsafe.app.publish.models import SchoolReportFile
    from cohortsafe.app.publish.services import reports_folder
    from cohortsafe.files import private_dir, write_atomic

    folder = private_dir(reports_folder())
    for brin, name in (("12AB", "eigen"), ("34CD", "ander")):
        page = f'<!DOCTYPE html><html lang="nl"><title>Rapport</title><p>{name}</p></html>'
        write_atomic(folder / f"{name}.html", page.encode())
        SchoolReportFile.objects.create(
            brin=brin,
            vestiging="00",
            period="2025-2026",
            made_by="t",
            html_file=f"{name}.html",
            html_sha256="0" * 64,
        )
    accounts.add_user("rapport", "school", home_role="office", schools=["12AB00"], actor="t")
    accounts.set_password("rapport", PASSWORD, actor="t")
    return "rapport"


def test_a_school_fetches_its_own_report_from_the_office(
    school_reports: str, web_server: str, browser: playwright.Browser
) -> None:
    visits = Visits(browser.new_page(), web_server, "school-reports")
    visits.go("/inloggen/", "sign-in")
    visits.page.get_by_label("Gebruikersnaam").fill(school_reports)
    visits.page.get_by_label("Wachtwoord").fill(PASSWORD)
    with visits.page.expect_navigation():
        visits.page.get_by_role("button", name="Inloggen").click()
    visits.check("reports")  # a school's account at the office lands on its reports
    assert visits.page.url.endswith("/school/rapporten/")
    links = visits.page.get_by_role("link", name="Rapport (webpagina)")
    assert links.count() == 1  # its own school's only
    with visits.page.expect_download() as download:
        links.first.click()
    saved = download.value.path()
    assert saved is not None
    assert b"eigen" in Path(saved).read_bytes()
