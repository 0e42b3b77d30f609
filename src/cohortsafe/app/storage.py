"""A registry database that cannot be written (full disk, read-only) becomes a StorageError,
one that cannot be reached (no server, no such database, wrong password) a ConfigurationError.

The transaction rolled back, so the home is as it was before that step; the
user gets the reason instead of an internal error. Only fixed texts are shown:
a database message may quote a value, and ``DATABASE_URL`` may hold a password.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from django.db import OperationalError, connection

from cohortsafe.errors import ConfigurationError, StorageError

__all__ = ["connect_registry", "registry_storage_errors"]

# What SQLite says (fixed texts) and PostgreSQL's classes of resource errors.
_SQLITE_STORAGE = ("database or disk is full", "readonly database", "disk I/O error")
_PG_STORAGE_CLASSES = ("53", "58")  # insufficient resources, system error
# What libpq says of a connection the server refused (it gives no SQLSTATE for them); the
# text is matched, never shown, since it names the database and the user.
_PG_UNREACHABLE = (
    (
        re.compile(r'database ".*" does not exist'),
        "the database it names does not exist: create it (createdb) or name one that does",
    ),
    (re.compile(r'role ".*" does not exist'), "the user it names does not exist on the server"),
    (
        re.compile(r"password authentication failed|no password supplied"),
        "the server refused the user name or password",
    ),
)
_PG_NO_ANSWER = "no database server answers at the address it gives, or it refused the connection"


def _storage_reason(error: OperationalError) -> str | None:
    text = str(error)
    for known in _SQLITE_STORAGE:
        if known in text:
            return known
    code = getattr(error.__cause__, "sqlstate", None) or ""
    if code[:2] in _PG_STORAGE_CLASSES:
        return f"PostgreSQL error {code}"
    return None


@contextlib.contextmanager
def registry_storage_errors() -> Iterator[None]:
    """Raise a :class:`StorageError` for a registry write that failed for want of storage."""
    try:
        yield
    except OperationalError as error:
        reason = _storage_reason(error)
        if reason is None:
            raise
        raise StorageError(
            f"the registry database could not be written ({reason}); the step it was in "
            "was rolled back: make room (or make the home writable) and run it again"
        ) from None


def connect_registry() -> None:
    """Open PostgreSQL's connection, or raise a :class:`ConfigurationError` saying why not.

    SQLite's registry is a file in the home: what keeps it from opening (a read-only or
    full home) is reported by the home's own checks and :func:`registry_storage_errors`."""
    if connection.vendor != "postgresql":
        return
    try:
        connection.ensure_connection()
    except OperationalError as error:
        text = str(error)
        reason = next((why for known, why in _PG_UNREACHABLE if known.search(text)), _PG_NO_ANSWER)
        raise ConfigurationError(
            f"the registry database in DATABASE_URL cannot be used: {reason}"
        ) from None
