"""The public objection form for parents, and the status page of a reference.

The form never looks a child up: whatever is filled in, a valid form gets the same page
with a new reference, so nobody learns from it whether a child is at the school.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from cohortsafe.app.school.models import School
from cohortsafe.app.school.services import parent_forms
from cohortsafe.app.school.services.registers import find_school
from cohortsafe.app.web.addresses import limit_key
from cohortsafe.app.web.forms import ParentObjectionForm, ReferenceForm
from cohortsafe.errors import CohortsafeError


def _school(code: str) -> School:
    try:
        return find_school(code.upper())
    except CohortsafeError:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def objection_form(request: HttpRequest, school_code: str) -> HttpResponse:
    school = _school(school_code)
    form = ParentObjectionForm(request.POST or None)
    context = {"school": school, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        sent = parent_forms.send_parent_form(
            school,
            child_name=data["child_name"],
            child_birth_date=data["child_birth_date"],
            child_group=data["child_group"],
            parent_name=data["parent_name"],
            parent_contact=data["parent_contact"],
            sender=parent_forms.sender_digest(limit_key(request), settings.SECRET_KEY),
            # a robot filled the trap: the same limits and answer, never shown to the school
            discard=bool(data["website"]),
        )
        if sent.too_many:
            return render(request, "web/parent/too_many.html", context, status=429)
        return render(request, "web/parent/sent.html", {**context, "reference": sent.reference})
    return render(request, "web/parent/form.html", context)


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    form = ReferenceForm(request.POST or None)
    state: str | None = None
    looked = False
    if request.method == "POST" and form.is_valid():
        answer = parent_forms.look_up_parent_form(
            form.cleaned_data["reference"],
            sender=parent_forms.sender_digest(limit_key(request), settings.SECRET_KEY),
        )
        if answer.too_many:
            return render(request, "web/parent/status_too_many.html", status=429)
        looked, state = True, answer.state
    return render(
        request, "web/parent/status.html", {"form": form, "state": state, "looked": looked}
    )
