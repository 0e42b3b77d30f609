"""Office staff's screens: what was received and refused, the registered schools and their
keys, projects (variables, researchers, workspace, risk report), and accounts."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.accounts.models import Account
from cohortsafe.app.office import listings
from cohortsafe.app.office import services as office
from cohortsafe.app.research import services as research
from cohortsafe.app.web.access import role_required
from cohortsafe.app.web.forms import (
    AccountForm,
    GrantForm,
    ProjectForm,
    ReceiveForm,
    SchoolKeyForm,
    VariablesForm,
)
from cohortsafe.app.web.uploads import save_upload
from cohortsafe.app.web.views import web_actor
from cohortsafe.config import load
from cohortsafe.errors import CohortsafeError

office_staff = role_required(Account.Role.OFFICE)
#: a package is a few MB per school; a whole board's year stays well under this
PACKAGE_LIMIT = 512 * 2**20


@office_staff
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "web/office/overview.html", {"status": office.status()})


@office_staff
@require_http_methods(["GET", "POST"])
def packages(request: HttpRequest) -> HttpResponse:
    form = ReceiveForm(request.POST or None, request.FILES or None)
    reports: list[office.ReceiveReport] = []
    if request.method == "POST" and form.is_valid():
        try:
            paths = [
                save_upload(f, load().home / "inbox", suffixes=(".nco",), limit=PACKAGE_LIMIT)
                for f in form.cleaned_data["files"]
            ]
            reports = office.receive(paths, actor=web_actor(request))
        except CohortsafeError as error:
            messages.error(request, str(error))
    return render(
        request,
        "web/office/packages.html",
        {
            "form": form,
            "reports": reports,
            "deliveries": listings.received("delivery"),
            "retractions": listings.received("retraction"),
            "unreadable": listings.received(""),
        },
    )


@office_staff
@require_http_methods(["GET", "POST"])
def schools(request: HttpRequest) -> HttpResponse:
    form = SchoolKeyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = save_upload(
                form.cleaned_data["key"], load().home / "inbox", suffixes=(".pub",), limit=2**20
            )
            added = office.add_school(
                form.cleaned_data["school"],
                key,
                actor=web_actor(request),
                replace=form.cleaned_data["replace"],
            )
        except CohortsafeError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The key of school %(code)s: %(outcome)s.") % {
                "code": added.school.code, "outcome": added.outcome})  # fmt: skip
            return redirect("web:office-schools")
    return render(
        request,
        "web/office/schools.html",
        {"form": form, "schools": listings.registered_schools()},
    )


@office_staff
@require_http_methods(["GET", "POST"])
def projects(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = research.new_project(
                data["code"],
                title=data["title"],
                institution=data["institution"],
                until=data["until"],
                approval=data["approval"],
                reviews=data["reviews"],
                actor=web_actor(request),
            )
        except CohortsafeError as error:
            form.add_error(None, str(error))
        else:
            return redirect("web:office-project", code=made.code)
    return render(
        request, "web/office/projects.html", {"form": form, "projects": research.projects()}
    )


def _project(code: str) -> research.ProjectInfo:
    found = [p for p in research.projects() if p.code == code]
    if not found:
        raise Http404
    return found[0]


@office_staff
def project(request: HttpRequest, code: str) -> HttpResponse:
    info = _project(code)
    report = None
    if info.workspace == "built" and request.GET.get("risico"):
        report = research.risk(code, actor=web_actor(request)).as_dict()
    return render(
        request,
        "web/office/project.html",
        {
            "project": info,
            "grant": GrantForm(),
            "variables": VariablesForm(),
            "risk": report,
        },
    )


@office_staff
@require_POST
def project_change(request: HttpRequest, code: str, step: str) -> HttpResponse:
    _project(code)
    actor = web_actor(request)
    try:
        if step == "grant":
            form = GrantForm(request.POST)
            if form.is_valid():
                research.grant(code, form.cleaned_data["user"], actor=actor)
                messages.success(request, _("Access granted."))
        elif step == "variables":
            variables = VariablesForm(request.POST)
            if variables.is_valid():
                research.approve_table(
                    code, variables.cleaned_data["table"], variables.columns_list, actor=actor
                )
                messages.success(request, _("Columns approved. Rebuild the workspace."))
        elif step == "build":
            rows = research.build_workspace(code, actor=actor)
            messages.success(request, _("Workspace built: %(rows)s rows.") % {
                "rows": sum(rows.values())})  # fmt: skip
        elif step == "end":
            research.end_project(code, actor=actor)
            messages.success(request, _("The project is ended. Its extract is removed."))
        else:
            raise Http404
    except CohortsafeError as error:
        messages.error(request, str(error))
    return redirect("web:office-project", code=code)


@office_staff
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = accounts.add_user(
                form.cleaned_data["name"],
                form.cleaned_data["role"],
                home_role="office",
                actor=web_actor(request),
            )
        except CohortsafeError as error:
            form.add_error("name", str(error))
        else:
            messages.success(
                request,
                _(
                    "Account %(name)s added. Set its password and authenticator key at the "
                    "console: cohortsafe user password %(name)s; cohortsafe user second-factor "
                    "%(name)s"
                )
                % {"name": made.name},
            )
            return redirect("web:office-users")
    return render(request, "web/office/users.html", {"form": form, "users": accounts.users()})
