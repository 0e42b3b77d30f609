"""Opening a role's home: its role, settings, database and migrations.

A home holds one role's state (a school's or an office's) and says which in
``home.json``. Only the commands that start a role create a home (``school
import``, ``office init``); every other command needs an existing home of its
own role, so a typing error in ``--home`` is reported instead of answered with
an empty new home.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from cohortsafe.config import Config, check_private_home, load
from cohortsafe.errors import ConfigurationError
from cohortsafe.files import private_dir, write_atomic
from cohortsafe.homelock import lock_home

__all__ = ["ROLES", "home_role", "open_home"]

ROLES = ("school", "office")
_MARKER = "home.json"
_FIRST_COMMAND = {
    "school": "cohortsafe school import DIR",
    "office": "cohortsafe office init",
}


def home_role(home: Path) -> str | None:
    """The role ``home`` holds, or None for a folder that is no home yet.

    Homes made before ``home.json`` existed are recognised by what they hold.
    """
    marker = home / _MARKER
    if marker.is_file():
        try:
            role = json.loads(marker.read_text()).get("role")
        except (OSError, ValueError, AttributeError):
            raise ConfigurationError(f"{marker} is damaged: it must name the home's role") from None
        if role not in ROLES:
            raise ConfigurationError(f"{marker} names an unknown role")
        return str(role)
    if (home / "office.key").exists() or (home / "vault").is_dir():
        return "office"
    if (home / "lvs").is_dir() or (home / "school.key").exists():
        return "school"
    return None


def _check_role(home: Path, role: str | None, *, create: bool) -> str:
    if home.exists() and not home.is_dir():
        raise ConfigurationError(f"the home {home} is a file, not a folder (see --home)")
    found = home_role(home) if home.is_dir() else None
    if role is None:
        if found is None:
            raise ConfigurationError(
                f"{home} is no cohortsafe home; give a school's or an office's home with --home"
            )
        return found
    if found is not None and found != role:
        raise ConfigurationError(
            f"{home} is {_a(found)} home; `{role} …` commands need {_a(role)} home "
            "(give another with --home)"
        )
    if found is None and not create:
        where = "does not exist" if not home.exists() else "is not a cohortsafe home"
        raise ConfigurationError(
            f"{home} {where}; a {role} home is made by `{_FIRST_COMMAND[role]}` "
            "(or give the right one with --home)"
        )
    return role


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _mark(home: Path, role: str) -> None:
    if (home / _MARKER).exists():
        return
    document = {
        "role": role,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_atomic(home / _MARKER, json.dumps(document).encode(), mode=0o600)


def open_home(role: str | None = None, *, create: bool = False) -> Config:
    """Set up Django on the ``role`` home in ``$COHORTSAFE_HOME`` and apply migrations.

    With ``create`` a missing home is made (mode 0700); otherwise it must exist and
    hold ``role`` (any role when ``role`` is None, for commands such as ``audit verify``).
    """
    config = load()
    role = _check_role(config.home, role, create=create and role is not None)
    try:
        private_dir(config.home)
    except OSError as error:
        raise ConfigurationError(
            f"cannot create the home folder {config.home}: {error.strerror}"
        ) from None
    check_private_home(config.home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohortsafe.app.settings")

    import django
    from django.conf import settings

    if not settings.configured or not _django_ready():
        django.setup()
    from cohortsafe.app.storage import connect_registry, registry_storage_errors

    connect_registry()
    with registry_storage_errors():
        if _needs_setting_up(config.home):
            # two first commands at once must not both mark and migrate the home
            with lock_home(config.home, command="set up home", wait=config.lock_wait):
                _mark(config.home, role)
                _migrate_if_needed()
    return config


def _needs_setting_up(home: Path) -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if not (home / _MARKER).exists():
        return True
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _django_ready() -> bool:
    from django.apps import apps

    return apps.ready


def _migrate_if_needed() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)
