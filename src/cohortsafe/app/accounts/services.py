"""Adding and finding accounts, and checking what an account may do.

A home holds the accounts of the people who work in it: an office's home its staff,
its researchers and its output checkers; a school's home its administrators. An
account made here has no password yet: the web application's sign-in sets one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction

from cohortsafe.app.accounts.models import Account, SchoolAccess
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.domain import SchoolCode
from cohortsafe.errors import AccessError, ExistsError, IdentifierError, UsageError

__all__ = [
    "ROLES_OF_HOME",
    "AccountInfo",
    "SecondFactor",
    "account",
    "add_user",
    "grant_school",
    "require_role",
    "revoke_school",
    "set_password",
    "set_second_factor",
    "users",
]

#: which roles' accounts each kind of home keeps
ROLES_OF_HOME: dict[str, tuple[str, ...]] = {
    "school": (Account.Role.SCHOOL,),
    # a school's administrator at the office fetches that school's feedback reports only
    "office": (
        Account.Role.OFFICE,
        Account.Role.RESEARCHER,
        Account.Role.CHECKER,
        Account.Role.SCHOOL,
    ),
}


@dataclass(frozen=True)
class AccountInfo:
    name: str
    role: str
    schools: tuple[str, ...]  # a school administrator's school locations
    added_at: str

    @classmethod
    def of(cls, held: Account) -> AccountInfo:
        added = held.added_at.isoformat(timespec="seconds")
        return cls(held.name, held.role, tuple(held.schools), added)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "schools": list(self.schools),
            "added_at": self.added_at,
        }


def _checked_name(name: str) -> str:
    try:
        UnicodeUsernameValidator()(name)
    except ValidationError:
        raise UsageError(
            "a user name is letters, digits and @ . + - _ only, e.g. j.jansen"
        ) from None
    if not 2 <= len(name) <= 150:
        raise UsageError("a user name is 2 to 150 characters")
    return name


def _school_code(code: str) -> str:
    try:
        return SchoolCode.parse(code).code
    except IdentifierError as error:
        raise UsageError(f"--school: {error}") from None


@holds_home
def add_user(
    name: str,
    role: str,
    *,
    home_role: str,
    schools: Sequence[str] = (),
    actor: str,
) -> AccountInfo:
    """Add an account with one role; a school administrator's names one or more schools."""
    _checked_name(name)
    if role not in Account.Role.values:
        raise UsageError(f"a role is one of {', '.join(Account.Role.values)}")
    allowed = ROLES_OF_HOME.get(home_role, ())
    if role not in allowed:
        raise UsageError(
            f"{_a(home_role)} home keeps accounts of role {', '.join(allowed)}; "
            f"{role} accounts belong in {_a(_home_of(role))} home"
        )
    codes: list[str] = []
    if role == Account.Role.SCHOOL:
        if not schools:
            raise UsageError("a school administrator's account names the school: --school BRINVEST")
        codes = sorted({_school_code(code) for code in schools})
    elif schools:
        raise UsageError("only a school administrator's account names a school")
    users = get_user_model()
    with transaction.atomic():
        if users.objects.filter(username=name).exists():
            raise ExistsError(f"there is a user named {name} already")
        user = users(username=name)
        user.set_unusable_password()
        user.save()
        held = Account.objects.create(user=user, role=role, added_by=actor)
        SchoolAccess.objects.bulk_create(
            SchoolAccess(account=held, school=code, granted_by=actor) for code in codes
        )
        record("user.add", actor=actor, subject=name, role=role, schools=codes or None)
    return AccountInfo.of(held)


@holds_home
def grant_school(name: str, school: str, *, actor: str) -> AccountInfo:
    """Let the school administrator ``name`` look after ``school`` as well."""
    held = require_role(name, Account.Role.SCHOOL)
    code = _school_code(school)
    with transaction.atomic():
        _, made = SchoolAccess.objects.get_or_create(
            account=held, school=code, defaults={"granted_by": actor}
        )
        if made:
            record("user.school_granted", actor=actor, subject=name, school=code)
    return AccountInfo.of(held)


@holds_home
def revoke_school(name: str, school: str, *, actor: str) -> AccountInfo:
    """Take ``school`` away from the school administrator ``name``; never their last one."""
    held = require_role(name, Account.Role.SCHOOL)
    code = _school_code(school)
    with transaction.atomic():
        access = held.school_access.select_for_update().filter(school=code).first()
        if access is None:
            raise UsageError(f"{name} does not look after school {code}")
        if held.school_access.count() == 1:
            raise UsageError(
                f"school {code} is the only school of {name}; an administrator keeps at least one"
            )
        access.delete()
        record("user.school_revoked", actor=actor, subject=name, school=code)
    return AccountInfo.of(held)


def users(role: str | None = None) -> list[AccountInfo]:
    """Every account (of one role), by name."""
    found = Account.objects.select_related("user")
    if role is not None:
        found = found.filter(role=role)
    return [AccountInfo.of(a) for a in found]


def account(name: str) -> Account:
    """The account named ``name``; an unknown name is an :class:`AccessError`."""
    held = Account.objects.select_related("user").filter(user__username=name).first()
    if held is None or not held.user.is_active:
        raise AccessError(f"there is no active user named {name} in this home")
    return held


def require_role(name: str, role: str) -> Account:
    """``name``'s account, which must hold ``role``."""
    held = account(name)
    if held.role != role:
        raise AccessError(f"{name} is {_a(held.role)}, not {_a(role)}: this needs {_a(role)}")
    return held


def _home_of(role: str) -> str:
    return next(home for home, roles in ROLES_OF_HOME.items() if role in roles)


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


@holds_home
def set_password(name: str, password: str, *, actor: str) -> AccountInfo:
    """Give ``name`` a password for the web sign-in; it must pass Django's validators."""
    held = account(name)
    try:
        validate_password(password, held.user)
    except ValidationError as error:
        raise UsageError("the password is too weak: " + " ".join(error.messages)) from None
    with transaction.atomic():
        held.user.set_password(password)
        held.user.save(update_fields=["password"])
        record("user.password", actor=actor, subject=name)
    return AccountInfo.of(held)


@dataclass(frozen=True)
class SecondFactor:
    """A new authenticator-app key: shown once, to be entered in the app, then never again."""

    name: str
    secret: str  # base32, as apps take it typed in
    uri: str  # otpauth:// for a QR code


@holds_home
def set_second_factor(name: str, *, actor: str) -> SecondFactor:
    """Give ``name`` a new TOTP key for the web sign-in, replacing any earlier one."""
    from base64 import b32encode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    held = account(name)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=held.user).delete()
        device = TOTPDevice.objects.create(user=held.user, name="authenticator", confirmed=True)
        record("user.second_factor", actor=actor, subject=name)
    return SecondFactor(name, b32encode(device.bin_key).decode(), device.config_url)
