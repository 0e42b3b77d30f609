"""Uploaded files: checked for name and size, then kept 0600 in a folder of the home (never
under the web root), each in a fresh folder of its own so no upload replaces another and
its own name is what the registers record."""

from __future__ import annotations

import re
import secrets
import shutil
import zipfile
from pathlib import Path, PurePosixPath

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


def unpack_export_zip(
    upload: UploadedFile, folder: Path, *, limit: int, unpacked_limit: int, files_limit: int = 400
) -> Path:
    """Unpack a zipped LVS export into a fresh private folder (0700, files 0600).

    Refused, with nothing left behind: more than ``limit`` bytes uploaded or
    ``unpacked_limit`` unpacked (a zip bomb), more than ``files_limit`` entries, a name
    that is absolute, climbs out with ``..`` or is a link, and anything but CSV files.
    """
    if upload.size is None or upload.size > limit:
        raise UsageError(_("The file is too large (at most %(mb)s MB).") % {"mb": limit // 2**20})
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        raise UsageError(_("This is not a zip file.")) from None
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if not entries or len(entries) > files_limit:
            raise UsageError(_("The zip holds no export, or too many files."))
        if sum(e.file_size for e in entries) > unpacked_limit:
            raise UsageError(
                _("The zip unpacks to more than %(mb)s MB.") % {"mb": unpacked_limit // 2**20}
            )
        for entry in entries:
            parts = PurePosixPath(entry.filename).parts
            is_link = (entry.external_attr >> 16) & 0o170000 == 0o120000
            if (
                entry.filename.startswith(("/", "\\"))
                or ".." in parts
                or is_link
                or not entry.filename.lower().endswith(".csv")
            ):
                raise UsageError(
                    _("The zip may hold only the export's CSV files, in plain folders.")
                )
        target = private_dir(folder / secrets.token_hex(8))
        try:
            for entry in entries:
                path = target.joinpath(*PurePosixPath(entry.filename).parts)
                private_dir(path.parent)
                with archive.open(entry) as source:
                    data = source.read(entry.file_size + 1)
                if len(data) > entry.file_size:  # the header lied about the size
                    raise UsageError(_("The zip is damaged."))
                try:
                    write_private(path, data)
                except FileExistsError:
                    raise UsageError(_("The zip holds one file twice.")) from None
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    return target
