"""Who may open a screen: a signed-in account of the right role, with a second factor for
every role but a school administrator's; anything else of another school is a 404."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from cohortsafe.app.accounts.models import Account

__all__ = ["SECOND_FACTOR_ROLES", "account_of", "needs_second_factor", "role_required"]

#: roles that see more than one school's data sign in with a TOTP code as well
SECOND_FACTOR_ROLES = frozenset(
    {Account.Role.OFFICE, Account.Role.RESEARCHER, Account.Role.CHECKER}
)

View = Callable[..., HttpResponse]


def account_of(request: HttpRequest) -> Account | None:
    user = request.user
    if not user.is_authenticated:
        return None
    return Account.objects.filter(user=user).first()


def needs_second_factor(held: Account) -> bool:
    return held.role in SECOND_FACTOR_ROLES


def role_required(*roles: str) -> Callable[[View], View]:
    """Let the view run for a signed-in (and, where needed, verified) account of ``roles``;
    send others to sign in, and show a signed-in account of another role nothing (404)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            held = account_of(request)
            if held is None:
                return redirect("web:sign-in")
            if needs_second_factor(held) and not request.user.is_verified():  # type: ignore[union-attr]
                return redirect("web:second-factor")
            if held.role not in roles:
                raise Http404
            request.account = held  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return checked

    return decorate
