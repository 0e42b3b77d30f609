"""Release bundles: a zip of approved outputs with a manifest the office signs.

A bundle holds each released output's content and check report, the review summary,
``manifest.json`` (the project, the request, and the SHA-256 of every other file in
the zip) and ``manifest.sig``, the office's hybrid signature (Ed25519 and ML-DSA-65)
over the manifest's bytes. :func:`verify_bundle` checks it anywhere with the office's
public key: the signature, every checksum, and that the zip holds exactly the files
the manifest lists. A changed byte anywhere fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cohortsafe.errors import IntegrityError
from cohortsafe.files import write_atomic
from cohortsafe.package import KeyPair, PublicKey, sign_message, verify_message

__all__ = ["BUNDLE_FORMAT", "verify_bundle", "write_bundle"]

BUNDLE_FORMAT = "cohortsafe-release/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
_CONTEXT = b"cohortsafe/release-bundle/v1\0"
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # zip entries carry no time of their own
_MAX_BYTES = 512 * 1024 * 1024  # a bundle larger than this is not read (zip bombs)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bundle(
    path: Path,
    files: Mapping[str, bytes],
    *,
    project: str,
    request: str,
    key: KeyPair,
    released_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Write the bundle to ``path`` (atomically, 0600); returns its manifest."""
    for name in files:
        _check_name(name)
        if name in (MANIFEST, SIGNATURE):
            raise IntegrityError(f"{name} is the bundle's own file")
    manifest = {
        "format": BUNDLE_FORMAT,
        "project": project,
        "request": request,
        "released_at": (released_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "signer": key.public.fingerprint,
        "files": {name: _sha256(data) for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    signature = sign_message(key, manifest_bytes, context=_CONTEXT)
    entries = [
        *sorted(files.items()),
        (MANIFEST, manifest_bytes),
        (SIGNATURE, json.dumps(signature, indent=1).encode()),
    ]
    write_atomic(path, _zip(entries))
    return manifest


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    """The one byte layout a bundle of these entries has: stored (not compressed, so no
    zlib version changes a byte), fixed times, modes and system."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.create_system = 3
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def verify_bundle(path: Path, office: PublicKey) -> dict[str, Any]:
    """The bundle's manifest, once its signature and every checksum verify.

    Raises :class:`~cohortsafe.errors.SignatureError` for a signature that does not
    verify with ``office`` and :class:`IntegrityError` for anything else that is not as
    the manifest says."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise IntegrityError(f"{path.name} is larger than any release bundle")
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        raise IntegrityError(f"{path.name} is not a readable zip file") from None
    with archive:
        names = archive.namelist()
        if len(names) != len(set(names)):
            raise IntegrityError(f"{path.name} holds a file name twice")
        for name in names:
            _check_name(name)
        if MANIFEST not in names or SIGNATURE not in names:
            raise IntegrityError(f"{path.name} has no signed manifest: it is no release bundle")
        read = _reader(archive)
        manifest_bytes = read(MANIFEST)
        try:
            signature = json.loads(read(SIGNATURE))
            manifest = json.loads(manifest_bytes)
        except ValueError:
            raise IntegrityError(f"{path.name}: the manifest or signature is damaged") from None
        verify_message(
            office,
            manifest_bytes,
            signature,
            context=_CONTEXT,
            what="the bundle",
            whose="office",
        )
        if manifest.get("format") != BUNDLE_FORMAT:
            raise IntegrityError(f"{path.name} is a bundle of a format this version does not know")
        listed = manifest.get("files", {})
        present = sorted(set(names) - {MANIFEST, SIGNATURE})
        if sorted(listed) != present:
            raise IntegrityError(f"{path.name} does not hold exactly the files its manifest lists")
        contents = {}
        for name in present:
            contents[name] = read(name)
            if _sha256(contents[name]) != listed[name]:
                raise IntegrityError(f"{name} in {path.name} does not match its checksum")
        order = [
            *sorted(contents.items()),
            (MANIFEST, manifest_bytes),
            (SIGNATURE, read(SIGNATURE)),
        ]
    # every byte counts, the zip's own fields too: the file is exactly what it was written as
    if _zip(order) != path.read_bytes():
        raise IntegrityError(f"{path.name} was changed: its zip layout is not as released")
    return dict(manifest)


def _reader(archive: zipfile.ZipFile) -> Any:
    total = 0

    def read(name: str) -> bytes:
        nonlocal total
        try:
            data = archive.read(name)
        except (zipfile.BadZipFile, zlib.error, OSError, KeyError, EOFError):
            raise IntegrityError(f"{name} in the bundle cannot be read (damaged)") from None
        total += len(data)
        if total > _MAX_BYTES:
            raise IntegrityError("the bundle unpacks to more than any release bundle holds")
        return data

    return read


def _check_name(name: str) -> None:
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise IntegrityError("a bundle's file names are plain relative paths")
