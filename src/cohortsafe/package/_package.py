"""Writing and opening delivery and retraction packages.

Inside the envelope is a tar stream: ``manifest.json``, ``signature.json`` and,
for a delivery, ``tables/<name>.parquet``. The manifest names every table with
its row count and SHA-256; the signature covers the manifest's exact bytes, so
it covers every table too. Opening checks, in this order: the recipient, the
envelope and every encrypted part, the signature, each table's digest and row
count, and each table's shape against the allow-list; files appear in the
output folder only when all of that holds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from cohortsafe import __version__
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import ConfigurationError, IntegrityError, PackageError
from cohortsafe.files import PRIVATE_DIR, PRIVATE_FILE, atomic_writer, fsync_dir, private_dir
from cohortsafe.package._envelope import (
    ChunkReader,
    EncryptingWriter,
    decrypt_chunks,
    read_envelope,
)
from cohortsafe.package._keys import ENCRYPTION_SUITE, SIGNATURE_ALGORITHMS, KeyPair, PublicKey
from cohortsafe.package._signing import sign, verify
from cohortsafe.package._tables import allowed_table, check_delivered_table

__all__ = [
    "MANIFEST_FORMAT",
    "DeliveryContents",
    "OpenedPackage",
    "SchoolKeyLookup",
    "open_package",
    "write_delivery",
    "write_reinstatement",
    "write_retraction",
]

MANIFEST_FORMAT = 1
_SPOOL = 16 << 20  # tables up to this size stay in memory while the package is written


@dataclass(frozen=True)
class DeliveryContents:
    """What one school delivers for one period, already limited to the allow-list."""

    school: SchoolCode
    period: SchoolYear
    tables: dict[str, pa.Table]
    exclusions: dict[str, int]
    domains: tuple[str, ...]
    study: str | None = None


@dataclass
class OpenedPackage:
    """A verified package: its manifest and, for a delivery, its tables."""

    kind: str
    manifest: dict[str, Any]
    signer: str
    tables: dict[str, pa.Table] = field(default_factory=dict)


def _algorithms() -> dict[str, Any]:
    return {
        "encryption": ENCRYPTION_SUITE,
        "signature": list(SIGNATURE_ALGORITHMS),
        "digest": "SHA-256",
    }


def _now() -> str:
    # microseconds: the office orders deliveries of one school and period by this stamp
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _add(tar: tarfile.TarFile, name: str, source: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    tar.addfile(info, source)


def _write(
    path: Path,
    kind: str,
    manifest: dict[str, Any],
    signing_key: KeyPair,
    recipient: PublicKey,
    tables: dict[str, IO[bytes]],
) -> None:
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    signature_bytes = json.dumps(sign(signing_key, manifest_bytes)).encode()
    private_dir(path.parent)
    partial = path.with_name(f".{path.name}.part")
    try:
        # created 0600 whatever the umask: the package holds pupils' identifiers
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as sink:
            writer = EncryptingWriter(sink, recipient, kind)
            with tarfile.open(fileobj=writer, mode="w|") as tar:
                _add(tar, "manifest.json", io.BytesIO(manifest_bytes), len(manifest_bytes))
                _add(tar, "signature.json", io.BytesIO(signature_bytes), len(signature_bytes))
                for name, spool in tables.items():
                    size = spool.seek(0, io.SEEK_END)
                    spool.seek(0)
                    _add(tar, f"tables/{name}.parquet", spool, size)
            writer.close()
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def write_delivery(
    contents: DeliveryContents,
    *,
    signing_key: KeyPair,
    recipient: PublicKey,
    path: Path,
    delivery_id: str | None = None,
) -> dict[str, Any]:
    """Write a signed, encrypted delivery package to ``path``; returns its manifest."""
    delivery_id = delivery_id or str(uuid.uuid4())
    entries: dict[str, dict[str, Any]] = {}
    spools: dict[str, IO[bytes]] = {}
    with contextlib.ExitStack() as stack:
        for name, table in contents.tables.items():
            checked = allowed_table(name, table)
            spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=_SPOOL))
            pq.write_table(checked, spool, compression="zstd")
            spool.seek(0)
            digest = hashlib.file_digest(spool, "sha256").hexdigest()
            entries[name] = {
                "file": f"tables/{name}.parquet",
                "rows": checked.num_rows,
                "sha256": digest,
            }
            spools[name] = spool
        manifest = {
            "format_version": MANIFEST_FORMAT,
            "kind": "delivery",
            "delivery_id": delivery_id,
            "school": {"brin": contents.school.brin, "vestiging": contents.school.vestiging},
            "period": str(contents.period),
            "created_at": _now(),
            "software": f"cohortsafe {__version__}",
            "study": contents.study,
            "domains": list(contents.domains),
            "tables": entries,
            "exclusions": dict(sorted(contents.exclusions.items())),
            "algorithms": _algorithms(),
            "signer": signing_key.public.fingerprint,
            "recipient": recipient.fingerprint,
        }
        _write(path, "delivery", manifest, signing_key, recipient, spools)
    return manifest


def _write_about_pupils(
    kind: str,
    school: SchoolCode,
    pgns: list[str],
    about: dict[str, Any],
    signing_key: KeyPair,
    recipient: PublicKey,
    path: Path,
) -> dict[str, Any]:
    """A package that names pupils and holds no table (a retraction, a reinstatement)."""
    manifest = {
        "format_version": MANIFEST_FORMAT,
        "kind": kind,
        f"{kind}_id": str(uuid.uuid4()),
        "school": {"brin": school.brin, "vestiging": school.vestiging},
        "created_at": _now(),
        "software": f"cohortsafe {__version__}",
        "pgns": sorted(pgns),
        **about,
        "algorithms": _algorithms(),
        "signer": signing_key.public.fingerprint,
        "recipient": recipient.fingerprint,
    }
    _write(path, kind, manifest, signing_key, recipient, {})
    return manifest


def write_retraction(
    *,
    school: SchoolCode,
    pgns: list[str],
    deliveries: list[str],
    reason: str,
    signing_key: KeyPair,
    recipient: PublicKey,
    path: Path,
) -> dict[str, Any]:
    """Write a signed, encrypted retraction of ``pgns`` (a late objection, say)."""
    about = {"reason": reason, "deliveries": sorted(deliveries)}
    return _write_about_pupils("retraction", school, pgns, about, signing_key, recipient, path)


def write_reinstatement(
    *,
    school: SchoolCode,
    pgns: list[str],
    retractions: list[str],
    signing_key: KeyPair,
    recipient: PublicKey,
    path: Path,
) -> dict[str, Any]:
    """Write a signed, encrypted reinstatement: withdrawn objections lift ``retractions``."""
    about = {"retractions": sorted(retractions)}
    return _write_about_pupils("reinstatement", school, pgns, about, signing_key, recipient, path)


def _members(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
    for member in tar:
        if not member.isfile():
            raise IntegrityError("the package holds something other than plain files")
        handle = tar.extractfile(member)
        if handle is None:
            raise IntegrityError("the package holds something other than plain files")
        yield member.name, handle


SchoolKeyLookup = Callable[[dict[str, Any]], PublicKey]


def open_package(
    path: Path,
    *,
    office_key: KeyPair,
    school_key: PublicKey | SchoolKeyLookup,
    out: Path | None = None,
) -> OpenedPackage:
    """Verify and decrypt a package; with ``out``, also unpack it there.

    ``school_key`` is the key the package must be signed with, or a lookup that
    is given the (not yet verified) manifest and returns the key registered for
    the school it names; the signature then proves the claim.

    Raises a :class:`PackageError` subclass naming what is wrong: altered
    (:class:`IntegrityError`), encrypted to another office
    (:class:`DecryptionError`) or signed by another key (:class:`SignatureError`).
    """
    if out is not None:
        _check_output(out)
    try:
        source = path.open("rb")
    except OSError as error:
        raise PackageError(f"cannot read {path.name}: {error.strerror}") from None
    with source, contextlib.ExitStack() as stack:
        envelope = read_envelope(source)
        reader = io.BufferedReader(ChunkReader(decrypt_chunks(source, envelope, office_key)))
        try:
            tar = stack.enter_context(tarfile.open(fileobj=reader, mode="r|"))
        except tarfile.TarError:
            raise IntegrityError("the package content is not readable") from None
        members = _members(tar)
        manifest_bytes = _expect(members, "manifest.json").read()
        signature = json.loads(_expect(members, "signature.json").read())
        claimed: dict[str, Any] = json.loads(manifest_bytes)
        key = school_key if isinstance(school_key, PublicKey) else school_key(claimed)
        verify(key, manifest_bytes, signature)
        manifest = claimed
        if manifest.get("kind") != envelope.kind:
            raise IntegrityError("the package's kind differs inside and outside")
        expected = dict(manifest.get("tables", {}))
        spools: dict[str, IO[bytes]] = {}
        for name, handle in members:
            table = name.removeprefix("tables/").removesuffix(".parquet")
            entry = expected.pop(table, None)
            if entry is None or entry.get("file") != name:
                raise IntegrityError(f"the package holds {name}, which its manifest lacks")
            spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=_SPOOL))
            digest = hashlib.sha256()
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                spool.write(chunk)
            if digest.hexdigest() != entry.get("sha256"):
                raise IntegrityError(f"table {table} does not match its digest")
            spools[table] = spool
        if expected:
            raise IntegrityError(f"tables missing from the package: {', '.join(expected)}")
        # read to the end of the stream, so its last part and what follows it are checked
        while reader.read(1 << 20):
            pass
        tables = _load_tables(spools, manifest)
        if out is not None:
            _publish(spools, manifest_bytes, out)
        return OpenedPackage(envelope.kind, manifest, str(signature.get("key")), tables)


def _expect(members: Iterator[tuple[str, IO[bytes]]], name: str) -> IO[bytes]:
    try:
        found, handle = next(members)
    except StopIteration:
        raise IntegrityError(f"the package lacks {name}") from None
    if found != name:
        raise IntegrityError(f"the package lacks {name}")
    return handle


def _load_tables(spools: dict[str, IO[bytes]], manifest: dict[str, Any]) -> dict[str, pa.Table]:
    tables: dict[str, pa.Table] = {}
    for name, spool in spools.items():
        spool.seek(0)
        try:
            # ParquetFile skips the dataset layer, which costs more than a small table's read
            table = pq.ParquetFile(spool).read(use_threads=False)
        except (pa.ArrowException, OSError):
            raise IntegrityError(f"table {name} is not readable Parquet") from None
        problems = check_delivered_table(name, table)
        if problems:
            raise IntegrityError("; ".join(problems))
        if table.num_rows != manifest["tables"][name]["rows"]:
            raise IntegrityError(f"table {name} does not hold the rows its manifest counts")
        tables[name] = table
    return tables


def _check_output(out: Path) -> None:
    """Refuse an output that is not a folder or already holds files: nothing is overwritten."""
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"{out} is not a folder; give a new or empty folder as output")
    if out.is_dir() and any(out.iterdir()):
        raise ConfigurationError(
            f"{out} already holds files; nothing is overwritten: give a new or empty folder"
        )


def _publish(spools: dict[str, IO[bytes]], manifest_bytes: bytes, out: Path) -> None:
    """Write the verified files into ``out``: manifest.json and one Parquet file per table.

    They hold the linking identifiers (PGN, birth date, postcode), so ``out`` is
    made 0700 (an empty folder given is made private too) and every file 0600.
    """
    _check_output(out)
    private_dir(out)
    os.chmod(out, PRIVATE_DIR)
    with atomic_writer(out / "manifest.json") as sink:
        sink.write(manifest_bytes)
    for name, spool in spools.items():
        spool.seek(0)
        with atomic_writer(out / f"{name}.parquet") as sink:
            shutil.copyfileobj(spool, sink)
