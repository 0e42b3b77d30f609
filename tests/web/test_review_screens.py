"""Researchers and output checkers on screen: a request from draft to signed bundle, votes
blind until both are in, the author never reviewing, a checker of the project never in."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.accounts.models import Account
from cohortsafe.app.research import airlock
from cohortsafe.app.research.models import Membership, Project
from tests.office.kit import office
from tests.research.airlock_kit import CODE, Cohort, cohort
from tests.web.staff import signed_in_with_code

pytestmark = pytest.mark.django_db
__all__ = ["cohort", "office"]  # fixtures

BY_DOMAIN = {"kind": "table", "index": ["leergebied"], "values": "vaardigheidsscore",
             "aggfunc": "mean"}  # fmt: skip


@pytest.fixture
def computed(cohort: Cohort) -> Cohort:
    airlock.compute_outputs(CODE, [cohort.spec("by_domain", **BY_DOMAIN)], user="anna", actor="t")
    return cohort


def _draft(anna: Client) -> int:
    answer = anna.post(f"/research/project/{CODE}/verzoek/", {"title": "paper 1"})
    assert answer.status_code == 302
    number = int(answer.headers["Location"].rstrip("/").split("/")[-1])
    added = anna.post(
        f"/research/verzoek/{number}/toevoegen/",
        {"outputs": ["by_domain"], "context": "mean score", "controls": "suppression"},
    )
    assert added.status_code == 302
    return number


def _vote(checker: Client, number: int, decision: str = "approve", comment: str = "") -> None:
    answer = checker.post(
        f"/review/verzoek/{number}/stem/",
        {"item_0": decision, "comment": comment, "action": "vote"},
    )
    assert answer.status_code == 302


def test_a_request_goes_from_draft_to_a_downloaded_bundle(computed: Cohort) -> None:
    anna = signed_in_with_code("anna")
    page = anna.get(f"/research/project/{CODE}/").content.decode()
    assert "by_domain" in page
    assert "vaardigheidsscore" in page
    number = _draft(anna)
    assert anna.post(f"/research/verzoek/{number}/indienen/").status_code == 302
    assert airlock.request_view(number, user=None)["state"] == "submitted"

    carla, dirk = signed_in_with_code("carla"), signed_in_with_code("dirk")
    assert f"/review/verzoek/{number}/" in carla.get("/review/").content.decode()
    detail = carla.get(f"/review/verzoek/{number}/").content.decode()
    assert "leergebied" in detail
    assert "mean score" in detail
    assert "leergebied = spelling" in detail  # the table cell by cell, with its status
    _vote(carla, number)
    # blind: dirk sees no vote of carla's before his own
    assert "carla" not in dirk.get(f"/review/verzoek/{number}/").content.decode()
    _vote(dirk, number)
    assert airlock.request_view(number, user=None)["state"] == "approved"

    accounts.add_user("olga", "office", home_role="office", actor="t")
    olga = signed_in_with_code("olga")
    assert "Release" in olga.get(f"/review/verzoek/{number}/").content.decode()
    assert olga.post(f"/review/verzoek/{number}/vrijgeven/").status_code == 302
    assert airlock.request_view(number, user=None)["state"] == "released"
    bundle = anna.get(f"/research/verzoek/{number}/bundel/")
    assert bundle.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).namelist()
    assert "outputs/by_domain.csv" in names
    assert "review.json" in names


def test_the_author_never_reviews_and_a_checker_in_the_project_never_sees_it(
    computed: Cohort,
) -> None:
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    anna.post(f"/research/verzoek/{number}/indienen/")
    assert anna.get("/review/").status_code == 404  # a researcher has no review screens
    assert anna.post(f"/review/verzoek/{number}/stem/", {"item_0": "approve"}).status_code == 404
    erik = signed_in_with_code("erik")
    assert erik.get(f"/review/verzoek/{number}/").status_code == 200
    # a checker who is somehow in the project (made so behind the services' back) sees nothing
    checker = Account.objects.get(user__username="erik")
    Membership.objects.create(project=Project.objects.get(code=CODE), account=checker)
    assert erik.get(f"/review/verzoek/{number}/").status_code == 404
    assert f"/review/verzoek/{number}/" not in erik.get("/review/").content.decode()
    assert erik.post(f"/review/verzoek/{number}/stem/", {"item_0": "approve"}).status_code == 404
    # bert is in the project but did not write it: he sees it, cannot change or review it
    bert = signed_in_with_code("bert")
    assert bert.get(f"/research/verzoek/{number}/").status_code == 200
    bert.post(f"/research/verzoek/{number}/intrekken/")
    assert airlock.request_view(number, user=None)["state"] == "submitted"
    assert bert.get(f"/research/verzoek/{number}/bundel/").status_code == 404  # not released


def test_asking_for_changes_needs_a_comment_and_returns_the_request(computed: Cohort) -> None:
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    anna.post(f"/research/verzoek/{number}/indienen/")
    carla, dirk = signed_in_with_code("carla"), signed_in_with_code("dirk")
    carla.post(
        f"/review/verzoek/{number}/stem/", {"item_0": "changes", "comment": "", "action": "vote"}
    )
    assert airlock.request_view(number, user=None)["reviews_in"] == 0
    _vote(carla, number, "changes", "round the means to whole numbers")
    _vote(dirk, number)
    view = anna.get(f"/research/verzoek/{number}/").content.decode()
    assert "returned" in view
    assert "round the means" in view


def test_a_draft_is_nobody_elses_and_another_project_is_not_found(computed: Cohort) -> None:
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    carla = signed_in_with_code("carla")
    assert carla.get(f"/review/verzoek/{number}/").status_code == 404  # still pending
    assert anna.get("/research/project/NCO-404/").status_code == 404
    assert anna.get("/research/verzoek/9999/").status_code == 404


def test_the_request_page_says_its_state_in_words_and_offers_only_outputs_not_in_it(
    computed: Cohort,
) -> None:
    anna = signed_in_with_code("anna")
    number = _draft(anna)
    page = anna.get(f"/research/verzoek/{number}/").content.decode()
    assert "being prepared" in page
    assert "<strong>pending</strong>" not in page
    assert 'value="by_domain"' not in page  # it is in the request already
    assert "in this request already" in page
