"""Opening a role's home: settings, database and migrations, on first use."""

from __future__ import annotations

import os

from cohortsafe.config import Config, check_private_home, load
from cohortsafe.errors import ConfigurationError
from cohortsafe.files import private_dir


def open_home() -> Config:
    """Set up Django on the home in ``$COHORTSAFE_HOME`` and apply pending migrations."""
    config = load()
    try:
        private_dir(config.home)
    except OSError as error:
        raise ConfigurationError(f"cannot create the home folder {config.home}: {error}") from None
    check_private_home(config.home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohortsafe.app.settings")

    import django
    from django.conf import settings

    if not settings.configured or not _django_ready():
        django.setup()
    _migrate_if_needed()
    return config


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
