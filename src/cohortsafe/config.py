"""Settings, declared once as data with their help text, read from the environment.

Every setting has a safe default for the embedded set-up (SQLite and files in
the home folder), so a new user needs nothing running. ``docs/settings.md`` is
checked against :data:`SETTINGS` by a test, so the documentation cannot drift.

>>> cfg = load({"COHORTSAFE_HOME": "/tmp/x", "COHORTSAFE_OBJECTION_DEADLINE": "15-03"})
>>> cfg.objection_deadline
MonthDay(month=3, day=15)
>>> cfg.delivery_domains
('rekenen_wiskunde', 'begrijpend_lezen', 'spelling')
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cohortsafe.domain.codes import NCO_DOMAINS
from cohortsafe.errors import ConfigurationError
from cohortsafe.files import HOME_PRIVATE, loose_paths

__all__ = ["SETTINGS", "Config", "MonthDay", "Setting", "check_private_home", "load"]


@dataclass(frozen=True, slots=True)
class MonthDay:
    """A yearly date such as the objection deadline (7 March)."""

    month: int
    day: int

    @classmethod
    def parse(cls, text: str) -> MonthDay:
        try:
            day, month = (int(part) for part in text.strip().split("-"))
            dt.date(2024, month, day)  # a leap year, so 29-02 is allowed
        except ValueError:
            raise ConfigurationError("a yearly date is written day-month, e.g. 07-03") from None
        return cls(month, day)

    def in_year(self, year: int) -> dt.date:
        """This day in ``year`` (29 February falls back to the 28th)."""
        try:
            return dt.date(year, self.month, self.day)
        except ValueError:
            return dt.date(year, self.month, self.day - 1)

    def __str__(self) -> str:
        return f"{self.day:02d}-{self.month:02d}"


def _domains(text: str) -> tuple[str, ...]:
    """A non-empty subset of the NCO domains, in their order: a setting may only narrow it."""
    codes = {part.strip() for part in text.split(",") if part.strip()}
    if not codes or not codes <= set(NCO_DOMAINS):
        raise ConfigurationError(
            f"delivery domains may only narrow the NCO set: one or more of {', '.join(NCO_DOMAINS)}"
        )
    return tuple(code for code in NCO_DOMAINS if code in codes)


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError("a yes/no setting is written 1 or 0")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigurationError("a wait is written in seconds, e.g. 30 or 0.5")
    return value


def _hosts(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _report_min_pupils(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError("COHORTSAFE_REPORT_MIN_PUPILS must be a whole number") from None
    if not 5 <= value <= 50:
        # NCO's floor is 5 pupils per figure; a setting may raise it, never lower it
        raise ConfigurationError("COHORTSAFE_REPORT_MIN_PUPILS must be between 5 and 50")
    return value


def _optional(text: str) -> str | None:
    return text or None


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: the attribute of :class:`Config`, its variable, default and help."""

    name: str
    env: str
    default: str
    help: str
    parse: Callable[[str], Any]


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        "COHORTSAFE_HOME",
        ".cohortsafe",
        "Folder holding one role's database, keys and files; created on first use.",
        lambda text: Path(text).expanduser(),
    ),
    Setting(
        "database_url",
        "DATABASE_URL",
        "",
        "Registry database, e.g. postgres://user@host/db. Empty: SQLite in the home folder.",
        _optional,
    ),
    Setting(
        "secret_key_file",
        "COHORTSAFE_SECRET_KEY_FILE",
        "",
        "File holding the web application's secret key. Empty: `secret_key` in the home "
        "folder, created with mode 0600 on first use.",
        _optional,
    ),
    Setting(
        "objection_deadline",
        "COHORTSAFE_OBJECTION_DEADLINE",
        "07-03",
        "Yearly day (day-month) until which parents are reminded they can object before the "
        "delivery. Objections registered later still apply at once.",
        MonthDay.parse,
    ),
    Setting(
        "delivery_domains",
        "COHORTSAFE_DELIVERY_DOMAINS",
        ",".join(NCO_DOMAINS),
        "Comma-separated learning domains whose results a delivery carries: one or more of the "
        "NCO domains (the default). It can only narrow that set; any other code is refused.",
        _domains,
    ),
    Setting(
        "lock_wait",
        "COHORTSAFE_LOCK_WAIT",
        "30",
        "Seconds a command waits while another command works on the same home, before it "
        "stops and says the home is busy.",
        _seconds,
    ),
    Setting(
        "debug",
        "COHORTSAFE_DEBUG",
        "0",
        "1 shows Django's debug pages; never in production.",
        _flag,
    ),
    Setting(
        "allowed_hosts",
        "COHORTSAFE_ALLOWED_HOSTS",
        "localhost,127.0.0.1",
        "Comma-separated host names the web application answers to.",
        _hosts,
    ),
    Setting(
        "https",
        "COHORTSAFE_HTTPS",
        "0",
        "1 when the web application is reached over HTTPS (behind a TLS proxy that sets "
        "X-Forwarded-Proto): cookies are sent only over HTTPS, browsers are told to keep to it "
        "(HSTS) and plain HTTP is redirected.",
        _flag,
    ),
    Setting(
        "report_min_pupils",
        "COHORTSAFE_REPORT_MIN_PUPILS",
        "5",
        "Smallest number of pupils a figure of a school feedback report may rest on (5 to "
        "50; NCO's pages name 5 and 6).",
        _report_min_pupils,
    ),
)


@dataclass(frozen=True, slots=True)
class Config:
    """The settings in effect, parsed; build it with :func:`load`."""

    home: Path
    database_url: str | None
    secret_key_file: str | None
    objection_deadline: MonthDay
    delivery_domains: tuple[str, ...]
    lock_wait: float
    debug: bool
    allowed_hosts: tuple[str, ...]
    https: bool
    report_min_pupils: int


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Read every setting from ``environ`` (default: the process environment).

    ``overrides`` replace parsed values by attribute name, for the console's
    ``--home`` and for tests.
    """
    environ = os.environ if environ is None else environ
    values = {s.name: s.parse(environ.get(s.env, s.default)) for s in SETTINGS}
    unknown = set(overrides) - {f.name for f in fields(Config)}
    if unknown:
        raise ConfigurationError(f"unknown settings: {', '.join(sorted(unknown))}")
    values.update(overrides)
    return Config(**values)


def check_private_home(root: Path, patterns: tuple[str, ...] = HOME_PRIVATE) -> None:
    """Refuse ``root`` when it, or what ``patterns`` match under it, is open to others.

    Raises :class:`ConfigurationError` naming the paths (at most five) and the
    command that fixes them.
    """
    loose = loose_paths(root, patterns)
    if loose:
        listed = ", ".join(str(path) for path in loose[:5])
        if len(loose) > 5:
            listed += f" and {len(loose) - 5} more"
        raise ConfigurationError(
            f"{root} holds pupil data or keys but others may read it ({listed}); "
            f"make it private first: chmod -R go-rwx {root}"
        )
