"""An output checker's screens: the queue, each request with its outputs cell by cell, the
project's earlier releases, and the blind vote; office staff release an approved request.

A checker never reaches a request of a project they belong to, nor one still being drafted.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.research import airlock
from cohortsafe.app.web.access import role_required
from cohortsafe.app.web.forms import ReviewForm
from cohortsafe.app.web.research import bundle_response
from cohortsafe.app.web.views import web_actor
from cohortsafe.errors import AccessError, CohortsafeError, ProjectError

reviewer = role_required(Account.Role.CHECKER, Account.Role.OFFICE)
office_only = role_required(Account.Role.OFFICE)
#: the states in which checkers vote
VOTING = ("submitted", "partially_reviewed")


def _name(request: HttpRequest) -> str:
    return str(request.user.get_username())


def _view(request: HttpRequest, number: int) -> dict[str, Any]:
    try:
        return airlock.request_view(number, user=_name(request))
    except (AccessError, ProjectError):
        raise Http404 from None


@reviewer
def queue(request: HttpRequest) -> HttpResponse:
    seen = airlock.requests(user=_name(request))
    waiting = [r for r in seen if r["state"] in VOTING]
    ready = [r for r in seen if r["state"] == "approved"]
    others = [r for r in seen if r["state"] not in VOTING and r["state"] != "approved"]
    return render(
        request,
        "web/review/queue.html",
        {"waiting": waiting, "ready": ready, "others": others},
    )


@reviewer
def request_detail(request: HttpRequest, number: int) -> HttpResponse:
    view = _view(request, number)
    name = _name(request)
    voted = any(v["reviewer"] == name for item in view["items"] for v in item["votes"])
    role = request.account.role  # type: ignore[attr-defined]
    may_vote = role == Account.Role.CHECKER and view["state"] in VOTING and not voted
    earlier = [
        _view(request, r["request"])
        for r in airlock.requests(user=name)
        if r["project"] == view["project"] and r["state"] == "released" and r["request"] != number
    ]
    return render(
        request,
        "web/review/request.html",
        {
            "view": view,
            "form": ReviewForm(items=[i["name"] for i in view["items"]]) if may_vote else None,
            "voted": voted,
            "earlier": earlier,
            "may_release": role == Account.Role.OFFICE and view["state"] == "approved",
            "released": view["state"] == "released",
        },
    )


@reviewer
@require_POST
def vote(request: HttpRequest, number: int) -> HttpResponse:
    view = _view(request, number)
    form = ReviewForm(request.POST, items=[i["name"] for i in view["items"]])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("web:review-request", number=number)
    try:
        after = airlock.review(
            number,
            user=_name(request),
            actor=web_actor(request),
            reject=form.rejects,
            approve=form.approved,
            changes=form.changes,
            comment=form.cleaned_data["comment"],
        )
    except CohortsafeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your review is saved."))
        if after["state"] == "returned":  # the author's again: checkers see it once resubmitted
            messages.info(request, _("Both reviews are in: the request went back to its author."))
            return redirect("web:review-queue")
    return redirect("web:review-request", number=number)


@office_only
@require_POST
def release(request: HttpRequest, number: int) -> HttpResponse:
    _view(request, number)
    try:
        outcome = airlock.release_in_project(number, actor=web_actor(request))
    except CohortsafeError as error:
        messages.error(request, str(error))
    else:
        refused = outcome.get("refused")
        if refused:
            messages.error(request, refused["message"])
            for reason in refused["reasons"]:
                messages.error(request, reason)
        else:
            messages.success(request, _("Released as a signed bundle."))
    return redirect("web:review-request", number=number)


@office_only
def bundle(request: HttpRequest, number: int) -> FileResponse:
    return bundle_response(number, _name(request))
