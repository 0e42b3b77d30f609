"""Uploaded files: checked for name and size, then kept 0600 in a folder of the home (never
under the web root), each in a fresh folder of its own so no upload replaces another and
its own name is what the registers record."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from cohortsafe.errors import UsageError
from cohortsafe.files import private_dir, write_private

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def save_upload(
    upload: UploadedFile, folder: Path, *, suffixes: tuple[str, ...], limit: int
) -> Path:
    """Keep ``upload`` in ``folder``; its name must end in one of ``suffixes``."""
    name = _SAFE.sub("_", Path(upload.name or "upload").name).lstrip(".") or "upload"
    if not name.lower().endswith(suffixes):
        raise UsageError(
            _("This kind of file is not accepted here: %(kinds)s only.")
            % {"kinds": ", ".join(suffixes)}
        )
    if upload.size is None or upload.size > limit:
        raise UsageError(_("The file is too large (at most %(mb)s MB).") % {"mb": limit // 2**20})
    path = private_dir(folder / secrets.token_hex(8)) / name
    write_private(path, b"".join(upload.chunks()))
    return path
