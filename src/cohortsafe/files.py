"""Writing files so that a crash leaves either the old file or the new one, never half.

Secrets go through :func:`write_private`, which creates the file with mode
0600 before a byte is written. Every file written here is 0600 unless the caller
asks otherwise (a public key, a letter), and :func:`private_dir` makes folders
0700 whatever the umask: what they hold is pupil data or keys.
:func:`loose_paths` finds what is open to others (``cohortsafe.config`` refuses
such a home).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "HOME_PRIVATE",
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "atomic_writer",
    "fsync_dir",
    "loose_paths",
    "make_private",
    "private_dir",
    "write_atomic",
    "write_private",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Bits that give the group or others any access.
_SHARED = 0o077


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700, whatever the umask.

    Folders that already exist keep their mode: :func:`check_private_tree` is the
    place that refuses a loose one, with the fix.
    """
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR)
            # mkdir's mode is masked by the umask; chmod is not
            os.chmod(folder, PRIVATE_DIR)
    return path


def make_private(path: Path) -> None:
    """Give a file another library wrote (SQLite, DuckDB, pyarrow) mode 0600."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, PRIVATE_FILE)


#: What a role's home keeps that must be private, as glob patterns under the home:
#: the database (BSNs, names, addresses), keys, the LVS store and the vault.
HOME_PRIVATE = (
    "*.sqlite3*",
    "*.key",
    "secret_key",
    "keys",
    "keys/*",
    "lvs",
    "evidence",
    "evidence/*",
    "evidence/*/*",
    "vault",
    "vault/catalog.duckdb*",
    "vault/data",
    "reports",
    "reports/*",
)


def loose_paths(root: Path, patterns: tuple[str, ...] = HOME_PRIVATE) -> list[Path]:
    """``root`` and what ``patterns`` match under it that grants the group or others access.

    A symbolic link is judged by what it points to.
    """
    found: list[Path] = []
    for path in (root, *(match for pattern in patterns for match in sorted(root.glob(pattern)))):
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        if mode & _SHARED:
            found.append(path)
    return found


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = PRIVATE_FILE) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only when the block ends without error.

    The file is ``mode`` (0600 unless asked otherwise) from its creation; a missing
    parent folder is created 0700.
    """
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.fchmod(fd, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Replace ``path`` with ``data`` in one step."""
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def write_private(path: Path, data: bytes) -> None:
    """Write a secret: mode 0600 from creation, refusing to overwrite an existing key."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(path.parent)
