"""A registry database that cannot be written (full disk, read-only) becomes a StorageError.

The transaction rolled back, so the home is as it was before that step; the
user gets the reason instead of an internal error. Only fixed texts are shown:
a database message may quote a value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import OperationalError

from cohortsafe.errors import StorageError

__all__ = ["registry_storage_errors"]

# What SQLite says (fixed texts) and PostgreSQL's classes of resource errors.
_SQLITE_STORAGE = ("database or disk is full", "readonly database", "disk I/O error")
_PG_STORAGE_CLASSES = ("53", "58")  # insufficient resources, system error


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
