"""Service functions hold the home's lock while they run (see :mod:`cohortsafe.homelock`).

Every service that changes the home or reads pupil data (and so writes the
audit log) is wrapped with :func:`holds_home`; a test finds every public
service taking an ``actor`` and checks it is wrapped. The one exception is
:func:`registry_only`: a service whose whole work is one registry transaction.

The wrapper also turns a registry that cannot be written into a
:class:`~cohortsafe.errors.StorageError` (:mod:`cohortsafe.app.storage`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from cohortsafe.app.storage import registry_storage_errors
from cohortsafe.config import load
from cohortsafe.homelock import lock_home

__all__ = ["holds_home", "registry_only"]

P = ParamSpec("P")
R = TypeVar("R")


def holds_home(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` holding the lock of the home in effect."""
    command = function.__qualname__.replace("_", " ")

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        config = load()
        with (
            lock_home(config.home, command=command, wait=config.lock_wait),
            registry_storage_errors(),
        ):
            return function(*args, **kwargs)

    locked.__holds_home__ = True  # type: ignore[attr-defined]
    return locked


def registry_only(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function``, whose whole work is one registry transaction, without the home's lock.

    The database orders such a transaction against every other writer (SQLite's immediate
    transactions; on PostgreSQL the audit log's head, which a service that counts before it
    writes takes first: :func:`cohortsafe.app.audit.services.hold_chain`), and it touches no
    file of the home, so the lock would add nothing but waiting: the public parent form must
    not hang, or fail, while the school's administrator runs an import."""

    @functools.wraps(function)
    def unlocked(*args: P.args, **kwargs: P.kwargs) -> R:
        with registry_storage_errors():
            return function(*args, **kwargs)

    unlocked.__registry_only__ = True  # type: ignore[attr-defined]
    return unlocked
