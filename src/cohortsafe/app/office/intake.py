"""Opening, checking and pseudonymising one package: pure work, run in worker processes.

Nothing here touches the database or the vault: a worker is given the keys
once (:func:`start_worker`), opens a file, and returns what the main process
needs to commit it in order: a prepared delivery, the pseudonyms a retraction
(or reinstatement) names, or the reason the file is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from cohortsafe.domain import SchoolCode
from cohortsafe.errors import CohortsafeError, ConfigurationError, PackageError, SignatureError
from cohortsafe.package import KeyPair, PublicKey, open_package
from cohortsafe.pseudonym import OfficePseudonyms
from cohortsafe.vault import PreparedDelivery, prepare_deliveries, validate_deliveries

__all__ = ["IntakeKeys", "Opened", "open_many", "start_worker"]


@dataclass(frozen=True)
class IntakeKeys:
    """What a worker needs: the office's private key, the schools' keys, the pseudonym keys."""

    office_key: str  # the private key file's JSON
    school_keys: dict[str, str]  # BRINVEST -> public key JSON
    pseudonyms: OfficePseudonyms


@dataclass
class Opened:
    """One file, opened and checked: a delivery, a retraction, or refused with a reason."""

    file: str
    kind: str = ""
    package_id: str = ""
    school: str = ""
    period: str = ""
    refused: str = ""
    delivery: PreparedDelivery | None = None
    school_pseudonym: str = ""
    pupils: list[str] = field(default_factory=list)  # pseudonyms a retraction names
    retractions: list[str] = field(default_factory=list)  # what a reinstatement lifts
    sha256: str = ""  # of the file as received


_worker: dict[str, Any] = {}


def start_worker(keys: IntakeKeys) -> None:
    """Parse the keys once per process."""
    _worker["office"] = KeyPair.from_json(keys.office_key)
    _worker["schools"] = keys.school_keys
    _worker["parsed"] = {}
    _worker["pseudonyms"] = keys.pseudonyms


def _school_key(manifest: dict[str, Any]) -> PublicKey:
    info = manifest.get("school") or {}
    code = f"{info.get('brin', '')}{info.get('vestiging', '')}"
    text = _worker["schools"].get(code)
    if text is None:
        # the claim is not verified yet: echo it only once it is a well-formed school code
        # (BRIN + vestiging names a school, not a person)
        try:
            named = SchoolCode.parse(code).code
        except CohortsafeError:
            raise SignatureError("the package names no valid school code") from None
        raise SignatureError(
            f"school {named} is not registered: "
            f"cohortsafe office school-add {named} --key school.pub"
        )
    parsed: dict[str, PublicKey] = _worker["parsed"]
    if text not in parsed:
        parsed[text] = PublicKey.from_json(text)
    return parsed[text]


def _digest(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""


def open_many(paths: list[Path]) -> list[Opened]:
    """Verify, decrypt, check and pseudonymise files; never raises for a bad package.

    The deliveries among them are checked and pseudonymised together, which costs a
    fraction of doing it one by one.
    """
    results = [Opened(path.name, sha256=_digest(path)) for path in paths]
    keys: OfficePseudonyms = _worker["pseudonyms"]
    deliveries: list[tuple[int, dict[str, Any], dict[str, pa.Table]]] = []
    for index, path in enumerate(paths):
        result = results[index]
        try:
            opened = open_package(path, office_key=_worker["office"], school_key=_school_key)
        except (PackageError, ConfigurationError) as error:
            result.refused = str(error)
            continue
        manifest = opened.manifest
        info = manifest.get("school") or {}
        result.kind = opened.kind
        result.school = f"{info.get('brin', '')}{info.get('vestiging', '')}"
        result.period = str(manifest.get("period", ""))
        if opened.kind in ("retraction", "reinstatement"):
            result.package_id = str(manifest.get(f"{opened.kind}_id", ""))
            result.retractions = [str(r) for r in manifest.get("retractions", [])]
            pgns = pa.array([str(p) for p in manifest.get("pgns", [])], pa.string())
            result.pupils = [str(p) for p in keys.pupils(pgns).to_pylist()]
            result.school_pseudonym = keys.school(result.school)
            continue
        result.package_id = str(manifest.get("delivery_id", ""))
        deliveries.append((index, manifest, opened.tables))
    problems = validate_deliveries([(m, t) for _, m, t in deliveries])
    sound = []
    for (index, manifest, tables), found in zip(deliveries, problems, strict=True):
        if found:
            results[index].refused = "; ".join(found)
        else:
            sound.append((index, manifest, tables))
    prepared = prepare_deliveries([(m, t) for _, m, t in sound], keys)
    for (index, _, _), delivery in zip(sound, prepared, strict=True):
        results[index].delivery = delivery
    return results
