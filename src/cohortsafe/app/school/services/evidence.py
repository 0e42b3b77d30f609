"""Evidence of an objection (a scanned letter, a photo, an e-mail), kept only at the school.

Each file is written 0600 under the home's ``evidence`` folder with a random name before
its objection is committed; the registry records that name and the file's SHA-256, and a
file no objection names (a crash before the commit) is removed by :func:`sweep_evidence`,
which runs under the home's lock like every service. Nothing here is ever delivered.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.models import Objection
from cohortsafe.config import load
from cohortsafe.errors import StorageError, UsageError
from cohortsafe.evidence import EvidenceKind, evidence_kind, stored_kind
from cohortsafe.files import private_dir, write_private

__all__ = ["Evidence", "kept_evidence", "objection_evidence", "sweep_evidence"]


@dataclass(frozen=True)
class Evidence:
    """A file brought as evidence: the name it came with (for its kind only) and its bytes."""

    name: str
    data: bytes

    def __repr__(self) -> str:  # never the content, nor a name that may be personal
        return f"Evidence({len(self.data)} bytes)"


def _folder() -> Path:
    return load().home / "evidence"


@contextlib.contextmanager
def kept_evidence(school_code: str, evidence: Evidence) -> Iterator[tuple[str, str]]:
    """Write ``evidence`` and yield its stored name and SHA-256; removed if the block fails."""
    kind = evidence_kind(evidence.name, evidence.data)
    stored = f"{school_code}/{secrets.token_hex(16)}.{kind.suffix}"
    path = _folder() / stored
    private_dir(path.parent)
    write_private(path, evidence.data)
    try:
        yield stored, hashlib.sha256(evidence.data).hexdigest()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@holds_home
def objection_evidence(objection: Objection, *, actor: str) -> tuple[EvidenceKind, bytes]:
    """The evidence of ``objection`` and its kind, checked against its recorded SHA-256."""
    pupil = objection.pupil
    if not objection.evidence_file:
        raise UsageError("this objection has no evidence file")
    try:
        data = (_folder() / objection.evidence_file).read_bytes()
    except FileNotFoundError:
        raise StorageError(f"the evidence file of objection {objection.pk} is missing") from None
    if hashlib.sha256(data).hexdigest() != objection.evidence_sha256:
        raise StorageError(f"the evidence file of objection {objection.pk} was changed or damaged")
    record(
        "school.objection_evidence_read",
        actor=actor,
        subject=f"{pupil.school.code}/{pupil.leerlingnummer}",
    )
    return stored_kind(objection.evidence_file), data


def sweep_evidence() -> None:
    """Remove evidence files no objection names: left by a crash before the commit."""
    folder = _folder()
    if not folder.is_dir():
        return
    named = set(Objection.objects.exclude(evidence_file="").values_list("evidence_file", flat=True))
    for path in folder.glob("*/*"):
        if f"{path.parent.name}/{path.name}" not in named:
            path.unlink(missing_ok=True)
