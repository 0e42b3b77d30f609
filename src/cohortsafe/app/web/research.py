"""A researcher's screens: their projects, each project's tables and outputs, and their
output requests from first draft to release. Another project's anything is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.research import airlock
from cohortsafe.app.research import services as research
from cohortsafe.app.web.access import role_required
from cohortsafe.app.web.forms import AddOutputsForm, NewRequestForm
from cohortsafe.app.web.views import web_actor
from cohortsafe.errors import AccessError, CohortsafeError, ProjectError, WorkspaceError

researcher = role_required(Account.Role.RESEARCHER)
#: states in which the author may still change a request
EDITABLE = ("pending", "returned")


def _name(request: HttpRequest) -> str:
    return str(request.user.get_username())


def _mine(request: HttpRequest, code: str) -> research.ProjectInfo:
    """The project, if the researcher is in it and it is open (its workspace may be being
    built: that is said on the page, not an error)."""
    try:
        research.project_for_researcher(code, _name(request))
    except (AccessError, ProjectError):
        raise Http404 from None
    except WorkspaceError:
        pass
    (info,) = [p for p in research.projects() if p.code == code]
    return info


def _outputs(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    try:
        return airlock.outputs(code, user=_name(request))
    except WorkspaceError as error:
        messages.warning(request, str(error))
        return []


def _view(request: HttpRequest, number: int) -> dict[str, Any]:
    """The request, if the researcher may see it and its project is still open."""
    try:
        view = airlock.request_view(number, user=_name(request))
    except (AccessError, ProjectError):
        raise Http404 from None
    if research.project_state(research.project(view["project"])) != "open":
        raise Http404
    return view


def _show_refusal(request: HttpRequest, outcome: dict[str, Any]) -> bool:
    refused = outcome.get("refused")
    if not refused:
        return False
    messages.error(request, refused["message"])
    for reason in refused["reasons"]:
        messages.error(request, reason)
    return True


@researcher
def projects(request: HttpRequest) -> HttpResponse:
    name = _name(request)
    mine = [p for p in research.projects() if name in p.researchers]
    return render(request, "web/research/projects.html", {"projects": mine})


@researcher
def project(request: HttpRequest, code: str) -> HttpResponse:
    info = _mine(request, code)
    name = _name(request)
    return render(
        request,
        "web/research/project.html",
        {
            "project": info,
            "outputs": _outputs(request, code),
            "requests": [r for r in airlock.requests(user=name) if r["project"] == code],
            "form": NewRequestForm(),
        },
    )


@researcher
@require_POST
def request_new(request: HttpRequest, code: str) -> HttpResponse:
    _mine(request, code)
    form = NewRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the request a title."))
        return redirect("web:research-project", code=code)
    number = airlock.new_request(
        code, user=_name(request), actor=web_actor(request), title=form.cleaned_data["title"]
    )
    return redirect("web:research-request", number=number)


@researcher
def request_detail(request: HttpRequest, number: int) -> HttpResponse:
    view = _view(request, number)
    name = _name(request)
    mine = view["author"] == name
    form = None
    if mine and view["state"] in EDITABLE:
        added = {item["name"] for item in view["items"]}
        choices = [o["name"] for o in _outputs(request, view["project"]) if o["name"] not in added]
        form = AddOutputsForm(names=choices)
    return render(
        request,
        "web/research/request.html",
        {"view": view, "mine": mine, "form": form, "editable": mine and view["state"] in EDITABLE},
    )


@researcher
@require_POST
def request_add(request: HttpRequest, number: int) -> HttpResponse:
    view = _view(request, number)
    choices = [o["name"] for o in _outputs(request, view["project"])]
    form = AddOutputsForm(request.POST, names=choices)
    if not form.is_valid():
        messages.error(request, _("Choose at least one output, and say what it shows."))
        return redirect("web:research-request", number=number)
    data = form.cleaned_data
    try:
        outcome = airlock.add_to_request(
            number,
            data["outputs"],
            user=_name(request),
            actor=web_actor(request),
            context=data["context"],
            controls=data["controls"],
            exception=data["exception"],
        )
    except CohortsafeError as error:
        messages.error(request, str(error))
    else:
        if not _show_refusal(request, outcome):
            messages.success(request, _("Added to the request."))
    return redirect("web:research-request", number=number)


@researcher
@require_POST
def request_submit(request: HttpRequest, number: int) -> HttpResponse:
    _view(request, number)
    try:
        outcome = airlock.submit(number, user=_name(request), actor=web_actor(request))
    except CohortsafeError as error:
        messages.error(request, str(error))
    else:
        if not _show_refusal(request, outcome):
            messages.success(
                request, _("Submitted. Two output checkers review it; you see their decision here.")
            )
    return redirect("web:research-request", number=number)


@researcher
@require_POST
def request_withdraw(request: HttpRequest, number: int) -> HttpResponse:
    _view(request, number)
    try:
        airlock.withdraw(number, user=_name(request), actor=web_actor(request))
    except CohortsafeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The request is withdrawn."))
    return redirect("web:research-request", number=number)


def bundle_response(number: int, user: str) -> FileResponse:
    try:
        path = airlock.bundle_of(number, user=user)
    except (AccessError, ProjectError):
        raise Http404 from None
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@researcher
def request_bundle(request: HttpRequest, number: int) -> FileResponse:
    return bundle_response(number, _name(request))
