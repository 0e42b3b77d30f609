"""Screens every visitor shares: signing in and out, the start page, the accessibility
statement, and the pages for a refused request."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.audit.services import record
from cohortsafe.app.school.models import School
from cohortsafe.app.web.access import account_of, needs_second_factor
from cohortsafe.app.web.forms import CodeForm, SignInForm

#: where each role starts
START = {
    Account.Role.SCHOOL: "web:school-overview",
    Account.Role.RESEARCHER: "web:research-projects",
    Account.Role.CHECKER: "web:review-queue",
    Account.Role.OFFICE: "web:office-overview",
}


def web_actor(request: HttpRequest) -> str:
    """The audit log's name for the signed-in user."""
    return f"web:{request.user.get_username()}"


def _holds_school(held: Account) -> bool:
    codes = held.schools
    return any(s.code in codes for s in School.objects.filter(brin__in=[c[:4] for c in codes]))


def home(request: HttpRequest) -> HttpResponse:
    held = account_of(request)
    if held is None:
        return redirect("web:sign-in")
    if needs_second_factor(held) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("web:second-factor")
    start = START.get(held.role)
    if held.role == Account.Role.SCHOOL and not _holds_school(held):
        start = "web:school-reports"  # an office's home: the school's reports are all it has
    if start is not None:
        return redirect(start)
    return render(request, "web/waiting.html", {"account": held})


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    failed = False
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        held = Account.objects.filter(user=user).first() if user is not None else None
        if user is not None and held is not None:
            login(request, user)
            record("web.sign_in", actor=f"web:{user.get_username()}", subject=held.role)
            return redirect("web:second-factor" if needs_second_factor(held) else "web:home")
        failed = True
    return render(request, "web/sign_in.html", {"form": form, "failed": failed})


@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    held = account_of(request)
    if held is None:
        return redirect("web:sign-in")
    if not needs_second_factor(held) or request.user.is_verified():  # type: ignore[union-attr]
        return redirect("web:home")
    has_device = request.user.totpdevice_set.filter(confirmed=True).exists()  # type: ignore[union-attr]
    form = CodeForm(request.POST or None)
    failed = False
    if request.method == "POST" and has_device and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].strip())
        if device is not None:
            otp_login(request, device)
            record("web.second_factor", actor=web_actor(request), subject=held.role)
            return redirect("web:home")
        failed = True
    return render(
        request,
        "web/second_factor.html",
        {"form": form, "failed": failed, "has_device": has_device},
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record("web.sign_out", actor=web_actor(request))
    logout(request)
    return redirect("web:sign-in")


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "web/accessibility.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "web/refused.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/not_found.html", status=404)
