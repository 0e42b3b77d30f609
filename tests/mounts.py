"""Small and read-only file systems for tests: a tmpfs where this user may mount one.

Tests that need them are skipped, with the reason, where mounting is not allowed
(an unprivileged user, a container without the capability).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["fill", "read_only", "small_disk"]


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "32m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` for the ``with`` block."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(folder: Path, leave: int) -> Path:
    """A file that leaves about ``leave`` bytes free on ``folder``'s file system."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    filler = folder / "filler"
    with filler.open("wb") as out:
        out.write(b"\0" * max(free - leave, 0))
    return filler


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """Remount the tmpfs on ``folder`` read-only for the ``with`` block."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True, capture_output=True)
