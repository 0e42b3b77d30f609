"""Screens of a school administrator: only their own school's pupils, objections and forms.

A pupil or form of another school is a 404, whatever the address says.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.school import services
from cohortsafe.app.school.models import ParentForm, Pupil, School
from cohortsafe.app.school.services import parent_forms
from cohortsafe.app.web.access import role_required
from cohortsafe.app.web.forms import (
    ConfirmForm,
    NeedsContactForm,
    ObjectionForm,
    WithdrawForm,
)
from cohortsafe.app.web.views import web_actor
from cohortsafe.errors import CohortsafeError

school_admin = role_required(Account.Role.SCHOOL)


def _school(request: HttpRequest) -> School:
    code: str = request.account.school  # type: ignore[attr-defined]
    found = School.objects.filter(brin=code[:4], vestiging=code[4:]).first()
    if found is None:
        raise Http404
    return found


def _pupils(school: School) -> QuerySet[Pupil]:
    return school.pupils.filter(current=True).order_by("achternaam", "voornamen")


@school_admin
def overview(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    (status,) = services.school_status(school.code, actor=web_actor(request))
    pending = school.parent_forms.filter(state=ParentForm.State.PENDING).count()
    return render(
        request,
        "web/school/overview.html",
        {
            "school": school,
            "status": status,
            "pending_forms": pending,
            "deadline": services.objection_deadline(),
        },
    )


@school_admin
def objection_list(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    show_all = request.GET.get("toon") == "alle"
    found = services.objections(school.code, include_withdrawn=show_all, actor=web_actor(request))
    return render(
        request,
        "web/school/objections.html",
        {"school": school, "objections": found, "show_all": show_all},
    )


@school_admin
@require_http_methods(["GET", "POST"])
def objection_new(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    form = ObjectionForm(request.POST or None, pupils=_pupils(school))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.register_objection(
                data["pupil"],
                received_on=data["received_on"],
                received_from=data["received_from"],
                channel=data["channel"],
                note=data["note"],
                actor=web_actor(request),
            )
        except CohortsafeError:
            form.add_error("pupil", _("This pupil has an objection already."))
        else:
            messages.success(request, _("The objection is registered. It applies from now on."))
            return redirect("web:school-pupil", pupil_id=data["pupil"].pk)
    return render(request, "web/school/objection_new.html", {"school": school, "form": form})


@school_admin
def pupil_detail(request: HttpRequest, pupil_id: int) -> HttpResponse:
    school = _school(request)
    pupil = get_object_or_404(Pupil, pk=pupil_id, school=school)
    services.view_pupil(pupil, actor=web_actor(request))
    return render(
        request,
        "web/school/pupil.html",
        {
            "school": school,
            "pupil": pupil,
            "objections": pupil.objections.order_by("-registered_at"),
            "active": pupil.objections.filter(withdrawn_at__isnull=True).first(),
            "withdraw_form": WithdrawForm(),
        },
    )


@school_admin
@require_POST
def objection_withdraw(request: HttpRequest, pupil_id: int) -> HttpResponse:
    school = _school(request)
    pupil = get_object_or_404(Pupil, pk=pupil_id, school=school)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            withdrawn = services.withdraw_objection(
                pupil, note=form.cleaned_data["note"], actor=web_actor(request)
            )
        except CohortsafeError:
            messages.error(request, _("This pupil has no objection to withdraw."))
        else:
            messages.success(request, _("The objection is withdrawn."))
            if withdrawn.needs_reinstatement:
                messages.warning(
                    request,
                    _(
                        "The office still holds a retraction for this pupil. "
                        "Send a reinstatement with the next delivery."
                    ),
                )
    return redirect("web:school-pupil", pupil_id=pupil.pk)


@school_admin
def form_list(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    pending = parent_forms.pending_parent_forms(school, actor=web_actor(request))
    return render(request, "web/school/forms.html", {"school": school, "forms": pending})


@school_admin
@require_http_methods(["GET", "POST"])
def form_detail(request: HttpRequest, reference: str) -> HttpResponse:
    school = _school(request)
    sent = get_object_or_404(
        ParentForm, school=school, reference=reference, state=ParentForm.State.PENDING
    )
    confirm = ConfirmForm(None, pupils=_pupils(school))
    contact = NeedsContactForm()
    if request.method == "POST":
        if request.POST.get("decision") == "confirm":
            confirm = ConfirmForm(request.POST, pupils=_pupils(school))
            if confirm.is_valid():
                try:
                    parent_forms.confirm_parent_form(
                        school,
                        sent.reference,
                        confirm.cleaned_data["pupil"],
                        actor=web_actor(request),
                    )
                except CohortsafeError:
                    confirm.add_error("pupil", _("This pupil has an objection already."))
                else:
                    messages.success(
                        request, _("The objection is confirmed. It applies from now on.")
                    )
                    return redirect("web:school-forms")
        else:
            contact = NeedsContactForm(request.POST)
            if contact.is_valid():
                parent_forms.decide_needs_contact(
                    school,
                    sent.reference,
                    reason=contact.cleaned_data["reason"],
                    actor=web_actor(request),
                )
                messages.success(request, _("Saved: the parent sees that you will contact them."))
                return redirect("web:school-forms")
    return render(
        request,
        "web/school/form.html",
        {
            "school": school,
            "sent": sent,
            "candidates": parent_forms.candidates(sent),
            "confirm": confirm,
            "contact": contact,
        },
    )
