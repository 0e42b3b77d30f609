"""One command at a time per home: an exclusive lock on a file in the home folder.

Two commands that change one home at once lose data (two imports of one school
each write a generation from the same old one; the later switch wins). So every
command that changes a home, or reads pupil data and audits it, holds this
lock: a second one waits up to ``wait`` seconds and then raises
:class:`HomeBusyError` naming the command that holds it.

The lock is ``flock`` on ``HOME/lock``: the kernel drops it when its holder
ends, however it ends, so a killed command never leaves a stale lock. The
file stays; its content (pid, command, start) only serves the busy message.
Within one thread the lock is re-entrant, so a service may call another. The
threads of one process (the web server's) take turns through a lock of their
own before the ``flock``: re-entry is counted per thread, never shared.

>>> import tempfile
>>> home = Path(tempfile.mkdtemp())
>>> with lock_home(home, command="school import"):
...     with lock_home(home):  # the same thread: re-entrant
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
# the wait between tries at another process's lock grows from 2 ms to 50 ms: a web
# request's short turn is noticed at once, a long import is not polled too often
_FIRST_POLL = 0.002
_POLL = 0.05
_LOCKFILE = "lock"

_depth = threading.local()  # .of: home -> depth, for this thread
_gates: dict[Path, threading.Lock] = {}  # home -> the turn of this process's threads
_guard = threading.Lock()


def _depths() -> dict[Path, int]:
    if not hasattr(_depth, "of"):
        _depth.of = {}
    depths: dict[Path, int] = _depth.of
    return depths


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
    depths = _depths()
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return
    with _guard:
        gate = _gates.setdefault(key, threading.Lock())
    deadline = time.monotonic() + wait
    if not gate.acquire(timeout=max(wait, 0.0)):
        raise _busy(home, wait)
    try:
        with _flocked(home, command=command, deadline=deadline, wait=wait):
            depths[key] = 1
            try:
                yield
            finally:
                del depths[key]
    finally:
        gate.release()


@contextlib.contextmanager
def _flocked(home: Path, *, command: str, deadline: float, wait: float) -> Iterator[None]:
    """The ``flock`` on the home's lock file, which other processes respect."""
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
        pause = _FIRST_POLL
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(home, wait) from None
                time.sleep(pause)
                pause = min(pause * 2, _POLL)
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        note = json.dumps({"pid": os.getpid(), "command": command, "since": since}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, note, 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
