"""One command at a time per home: an exclusive lock on a file in the home folder.

Two commands that change one home at once lose data (two imports of one school
each write a generation from the same old one; the later switch wins). So every
command that changes a home, or reads pupil data and audits it, holds this
lock: a second one waits up to ``wait`` seconds and then raises
:class:`HomeBusyError` naming the command that holds it.

The lock is ``flock`` on ``HOME/lock``: the kernel drops it when its holder
ends, however it ends, so a killed command never leaves a stale lock. The
file stays; its content (pid, command, start) only serves the busy message.
Within one process the lock is re-entrant, so a service may call another.

>>> import tempfile
>>> home = Path(tempfile.mkdtemp())
>>> with lock_home(home, command="school import"):
...     with lock_home(home):  # the same process: re-entrant
...         held_by(home)["command"]
'school import'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cohortsafe.errors import HomeBusyError, StorageError
from cohortsafe.files import private_dir

__all__ = ["DEFAULT_WAIT", "held_by", "lock_home"]

#: Seconds a command waits for another one on the same home before it gives up.
DEFAULT_WAIT = 30.0
_POLL = 0.05
_LOCKFILE = "lock"

_held: dict[Path, int] = {}  # home -> depth, for this process
_guard = threading.Lock()


def _path(home: Path) -> Path:
    return home.resolve() / _LOCKFILE


def held_by(home: Path) -> dict[str, Any]:
    """What the lock file says of its holder (empty when unreadable or never written)."""
    try:
        found: Any = json.loads(_path(home).read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _busy(home: Path, waited: float) -> HomeBusyError:
    holder = held_by(home)
    who = str(holder.get("command") or "another cohortsafe command")
    if holder.get("pid"):
        who += f" (process {holder['pid']}, started {holder.get('since', '?')})"
    return HomeBusyError(
        f"the home {home} is busy: {who} is working on it; waited {waited:g} s. "
        "Try again when it has finished."
    )


@contextlib.contextmanager
def lock_home(home: Path, *, command: str = "", wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold the home's lock for the ``with`` block; wait up to ``wait`` seconds for it."""
    key = home.resolve()
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return
    try:
        private_dir(home)
        fd = os.open(_path(home), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        # the first write of every changing command: a read-only or foreign home ends here
        raise StorageError(
            f"the home {home} cannot be written ({error.strerror}); "
            "a command that changes it needs a writable home"
        ) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(home, wait) from None
                time.sleep(_POLL)
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        note = json.dumps({"pid": os.getpid(), "command": command, "since": since}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, note, 0)
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                del _held[key]
    finally:
        os.close(fd)  # closing the descriptor releases the lock
