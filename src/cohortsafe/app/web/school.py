"""Screens of a school administrator: only their own school's pupils, objections and forms.

A pupil or form of another school is a 404, whatever the address says.
"""

from __future__ import annotations

import shutil
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.school import services
from cohortsafe.app.school.models import Consent, Delivery, Objection, ParentForm, Pupil, School
from cohortsafe.app.school.services import deliveries, parent_forms
from cohortsafe.app.web.access import role_required
from cohortsafe.app.web.forms import (
    ConfirmForm,
    ConsentForm,
    DeliveryForm,
    ImportForm,
    NeedsContactForm,
    ObjectionForm,
    WithdrawForm,
)
from cohortsafe.app.web.reasons import reason_in_language
from cohortsafe.app.web.uploads import unpack_export_zip
from cohortsafe.app.web.views import web_actor
from cohortsafe.config import load
from cohortsafe.domain import SchoolYear
from cohortsafe.errors import CohortsafeError

school_admin = role_required(Account.Role.SCHOOL)


#: the session's key for the school an administrator of several schools is working on
CHOSEN_SCHOOL = "school"


def _school(request: HttpRequest) -> School:
    """The school the administrator is working on: the one chosen, else their first."""
    codes: list[str] = request.account.schools  # type: ignore[attr-defined]
    if not codes:
        raise Http404
    chosen = request.session.get(CHOSEN_SCHOOL)
    code = chosen if chosen in codes else codes[0]
    held = {s.code: s for s in School.objects.filter(brin__in=[c[:4] for c in codes])}
    found = held.get(code)
    if found is None:
        raise Http404
    if len(codes) > 1:
        request.school_choices = [  # type: ignore[attr-defined]
            (c, held[c].name if c in held else "") for c in codes
        ]
    return found


@school_admin
@require_POST
def choose_school(request: HttpRequest) -> HttpResponse:
    """Work on another of the administrator's schools; any other code is a 404."""
    code = request.POST.get("school", "")
    if code not in request.account.schools:  # type: ignore[attr-defined]
        raise Http404
    request.session[CHOSEN_SCHOOL] = code
    return redirect("web:school-overview")


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
    form = ObjectionForm(request.POST or None, request.FILES or None, pupils=_pupils(school))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.register_objection(
                data["pupil"],
                received_on=data["received_on"],
                received_from=data["received_from"],
                channel=data["channel"],
                note=data["note"],
                evidence=data["evidence"],
                actor=web_actor(request),
            )
        except services.RegisterError:
            form.add_error("pupil", _("This pupil has an objection already."))
        else:
            messages.success(request, _("The objection is registered. It applies from now on."))
            return redirect("web:school-pupil", pupil_id=data["pupil"].pk)
    return render(request, "web/school/objection_new.html", {"school": school, "form": form})


@school_admin
def objection_evidence(request: HttpRequest, objection_id: int) -> HttpResponse:
    """The letter or e-mail kept with an objection, always as a download of a fixed type."""
    objection = get_object_or_404(
        Objection.objects.exclude(evidence_file="").select_related("pupil__school"),
        pk=objection_id,
        pupil__school=_school(request),
    )
    try:
        kind, data = services.objection_evidence(objection, actor=web_actor(request))
    except CohortsafeError:
        messages.error(
            request,
            _(
                "The letter or e-mail of this objection is missing or damaged. "
                "Ask the person who manages this system."
            ),
        )
        return redirect("web:school-pupil", pupil_id=objection.pupil.pk)
    response = HttpResponse(data, content_type=kind.content_type)
    # a name of our own: the parent's file name may hold a name
    response["Content-Disposition"] = f'attachment; filename="bewijs-{objection.pk}.{kind.suffix}"'
    return response


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


# --- the letter for parents ---------------------------------------------------------------


def _letter(request: HttpRequest, school: School, fmt: str) -> tuple[str, str | None]:
    """The letter's language, and the letter with the school's form address (None while
    the school's name or contact is missing)."""
    lang = "en" if request.GET.get("taal") == "en" else "nl"
    address = request.build_absolute_uri(reverse("web:parent-form", args=[school.code]))
    try:
        return lang, services.parent_letter(school.code, lang=lang, fmt=fmt, form_url=address)
    except CohortsafeError:
        return lang, None


@school_admin
def letter(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    lang, body = _letter(request, school, "body")
    return render(request, "web/school/letter.html", {"school": school, "body": body, "lang": lang})


@school_admin
def letter_download(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    lang, page = _letter(request, school, "html")
    if page is None:
        raise Http404
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="brief-{school.code}-{lang}.html"'
    return response


# --- consents -----------------------------------------------------------------------------


@school_admin
@require_http_methods(["GET", "POST"])
def consent_list(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    form = ConsentForm(request.POST or None, pupils=_pupils(school))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.register_consent(
                data["pupil"],
                study=data["study"].code,
                categories=list(data["categories"]),
                given_by=data["given_by"],
                given_on=data["given_on"],
                evidence=data["evidence"],
                actor=web_actor(request),
            )
        except CohortsafeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The consent is registered."))
            for warning in outcome.warnings:
                messages.warning(request, warning)
            return redirect("web:school-consents")
    found = services.consents(school=school.code, actor=web_actor(request))
    return render(
        request,
        "web/school/consents.html",
        {"school": school, "consents": found, "form": form},
    )


@school_admin
@require_POST
def consent_withdraw(request: HttpRequest, consent_id: int) -> HttpResponse:
    school = _school(request)
    consent = get_object_or_404(
        Consent, pk=consent_id, pupil__school=school, withdrawn_at__isnull=True
    )
    services.withdraw_consent(
        consent.pupil,
        study=consent.study.code,
        categories=[consent.category],
        actor=web_actor(request),
    )
    messages.success(request, _("The consent is withdrawn. It is not used from now on."))
    return redirect("web:school-consents")


# --- deliveries ---------------------------------------------------------------------------


def _years(school: School) -> list[str]:
    found = school.imports.values_list("school_year", flat=True).distinct()
    return sorted({str(y) for y in found}, reverse=True)


@school_admin
@require_http_methods(["GET", "POST"])
def delivery_list(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    form = DeliveryForm(request.POST or None, years=_years(school))
    previews: list[services.DeliveryReport] = []
    made = services.deliveries_made(school.code, actor=web_actor(request))
    office_key = deliveries.office_key_in_home()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        build = request.POST.get("step") == "build"
        if office_key is None:
            messages.error(request, _("The office's public key (office.pub) is not in this home."))
        else:
            try:
                previews = services.deliver(
                    period=SchoolYear.parse(data["period"]),
                    office_key=office_key,
                    out=deliveries.outbox(),
                    actor=web_actor(request),
                    school=school.code,
                    study=data["study"].code if data["study"] else None,
                    before_deadline=data["before_deadline"],
                    dry_run=not build,
                )
            except CohortsafeError as error:
                messages.error(request, str(error))
            else:
                if build and any(r.delivered for r in previews):
                    messages.success(request, _("The delivery is made. Download it below."))
                    return redirect("web:school-deliveries")
    return render(
        request,
        "web/school/deliveries.html",
        {
            "school": school,
            "form": form,
            "previews": [_explained(r) for r in previews],
            "deliveries": made,
            "office_key": office_key is not None,
        },
    )


#: what a delivery leaves out, in words, with its count as %(n)s
EXCLUSIONS = {
    "objection": ngettext_lazy(
        "%(n)s pupil whose parents objected", "%(n)s pupils whose parents objected", "n"
    ),
    "results_outside_delivered_domains": ngettext_lazy(
        "%(n)s result of another subject (never delivered)",
        "%(n)s results of other subjects (never delivered)",
        "n",
    ),
    "special_category_rows_without_study": ngettext_lazy(
        "%(n)s row of special-category data (no study chosen)",
        "%(n)s rows of special-category data (no study chosen)",
        "n",
    ),
    "special_category_rows_without_consent": ngettext_lazy(
        "%(n)s row of special-category data without consent",
        "%(n)s rows of special-category data without consent",
        "n",
    ),
}


def _explained(report: services.DeliveryReport) -> dict[str, Any]:
    left_out = []
    for kind, count in report.exclusions.items():
        if count:
            words = EXCLUSIONS.get(kind)
            left_out.append(words % {"n": count} if words else f"{count} {kind}")
    return {"report": report, "left_out": left_out}


@school_admin
def delivery_download(request: HttpRequest, file_name: str) -> FileResponse:
    school = _school(request)
    delivery = get_object_or_404(Delivery, school=school, file_name=file_name)
    path = deliveries.outbox() / delivery.file_name
    if not path.is_file():
        raise Http404
    services.record_download(delivery, actor=web_actor(request))
    return FileResponse(path.open("rb"), as_attachment=True, filename=delivery.file_name)


# --- imports ------------------------------------------------------------------------------

#: a school year's export is a few MB; these bounds keep a zip bomb out
IMPORT_LIMIT = 100 * 2**20
IMPORT_UNPACKED_LIMIT = 1024 * 2**20


@school_admin
@require_http_methods(["GET", "POST"])
def import_export(request: HttpRequest) -> HttpResponse:
    school = _school(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    reports: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        try:
            folder = unpack_export_zip(
                form.cleaned_data["export"],
                load().home / "uploads",
                limit=IMPORT_LIMIT,
                unpacked_limit=IMPORT_UNPACKED_LIMIT,
            )
        except CohortsafeError as error:
            form.add_error("export", str(error))
        else:
            try:
                found = services.import_exports(
                    [folder],
                    actor=web_actor(request),
                    replace=form.cleaned_data["replace"],
                    only_school=school.code,
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)  # what was accepted is in the store
            reports = [_import_report(r) for r in found]
    return render(
        request, "web/school/import.html", {"school": school, "form": form, "reports": reports}
    )


def _import_report(report: services.ImportReport) -> dict[str, Any]:
    shown = report.as_dict()
    return {
        "accepted": report.accepted,
        "school_year": report.school_year,
        "rows": report.rows,
        "groups": [
            {**group, "reason": reason_in_language(group["reason"])}
            for group in shown["problem_groups"]
        ],
        "ignored": report.ignored_columns,
    }
