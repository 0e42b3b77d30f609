"""The office's use cases: keys, the school registry, intake, retractions, status and scan.

Intake of each file: verify the signature against the key registered for the
school the package names, decrypt, check every digest (the package layer),
check every value against the code lists (the vault layer), pseudonymise,
link, drop linking identifiers, and commit to the vault. Deliveries are
committed in batches, one atomic vault transaction each; a retraction ends
the batch before it, so order is kept. Every outcome is recorded and audited,
never with a PGN.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cohortsafe.app._parallel import ordered_map
from cohortsafe.app.audit.services import record, record_many
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.office.intake import IntakeKeys, open_many, start_worker
from cohortsafe.app.office.models import KeyRecord, ReceivedPackage, RegisteredSchool
from cohortsafe.app.progress import Progress
from cohortsafe.app.progress import report as report_progress
from cohortsafe.config import load
from cohortsafe.domain import SchoolCode
from cohortsafe.errors import CohortsafeError, ConfigurationError, ExistsError
from cohortsafe.package import (
    KeyPair,
    load_private,
    load_public,
    require_role,
    write_key_pair,
)
from cohortsafe.pseudonym import (
    PURPOSES,
    KeyChain,
    OfficePseudonyms,
    PseudonymKey,
    load_key,
    new_key,
    write_key,
)
from cohortsafe.vault import (
    TABLES,
    DeliveryOutcome,
    PreparedDelivery,
    ScanFinding,
    Vault,
    VaultCounts,
    fault_point,
    scan,
)

__all__ = [
    "BATCH_SIZE",
    "OfficeError",
    "ReceiveReport",
    "SchoolAdded",
    "add_school",
    "init_office",
    "open_vault",
    "receive",
    "rotate_key",
    "scan_vault",
    "status",
]

BATCH_SIZE = 256  # deliveries per vault transaction
CHUNK = 16  # files a worker opens, checks and pseudonymises together


class OfficeError(CohortsafeError):
    """An office action that cannot be done as asked."""


def _home() -> Path:
    return load().home


def _keys_folder() -> Path:
    return _home() / "keys"


@contextmanager
def open_vault(*, create: bool = False) -> Iterator[Vault]:
    """The office's vault; only ``office init`` passes ``create`` (see :class:`Vault`)."""
    with Vault(_home() / "vault", create=create) as vault:
        yield vault


@holds_home
def init_office(*, actor: str) -> dict[str, Any]:
    """Create the office key pair and one pseudonym key per purpose; refuses to run twice."""
    home = _home()
    if (home / "office.key").exists() or KeyRecord.objects.exists():
        raise ExistsError(f"{home} holds an office already; keys are never replaced by init")
    with open_vault(create=True):
        pass  # creates the vault, so a failure here leaves no keys behind
    pair = KeyPair.generate("office", role="office")
    write_key_pair(pair, home)
    made = []
    with transaction.atomic():
        for purpose in PURPOSES:
            key = new_key(purpose)
            path = write_key(key, _keys_folder())
            KeyRecord.objects.create(
                purpose=purpose,
                key_id=key.key_id,
                position=1,
                file_name=path.name,
                fingerprint=key.fingerprint,
            )
            made.append({"purpose": purpose, "key_id": key.key_id})
        record("office.init", actor=actor, fingerprint=pair.public.fingerprint, keys=made)
    return {
        "office_pub": str(home / "office.pub"),
        "fingerprint": pair.public.fingerprint,
        "pseudonym_keys": made,
    }


def _office_key() -> KeyPair:
    path = _home() / "office.key"
    if not path.exists():
        if KeyRecord.objects.exists() or (_home() / "office.pub").exists():
            # `office init` refuses a home that holds an office, and must: it would make new keys
            raise ConfigurationError(
                f"{path} is missing, but this home holds an office: restore office.key from "
                "your backup (a new key could not open packages encrypted to the old one)"
            )
        raise ConfigurationError("this home holds no office yet: run `cohortsafe office init`")
    return load_private(path)


def _checked_key(held: KeyRecord) -> PseudonymKey:
    """The key file of ``held``, refused unless it is the very key recorded at its creation.

    A swapped file (another valid key under the same id) would give every pupil of the
    next delivery a new pseudonym and split the cohort silently.
    """
    key = load_key(_keys_folder() / held.file_name)
    if (key.key_id, key.purpose) != (held.key_id, held.purpose):
        raise ConfigurationError(
            f"pseudonym key file {held.file_name} holds another key than the registry names"
        )
    if not held.fingerprint:  # recorded before fingerprints were: record it on first use
        held.fingerprint = key.fingerprint
        held.save(update_fields=["fingerprint"])
    elif key.fingerprint != held.fingerprint:
        raise ConfigurationError(
            f"pseudonym key file {held.file_name} is not the key made at {held.created_at:%Y-%m-%d}"
            f" (fingerprint {key.fingerprint[:12]}…, recorded {held.fingerprint[:12]}…): nothing "
            "is pseudonymised with it; put the original key file back"
        )
    return key


def pseudonyms() -> OfficePseudonyms:
    chains = {}
    for purpose in PURPOSES:
        records = KeyRecord.objects.filter(purpose=purpose).order_by("position")
        keys = [_checked_key(r) for r in records]
        if not keys:
            raise ConfigurationError("this home holds no office yet: run `cohortsafe office init`")
        chains[purpose] = KeyChain(tuple(keys))
    return OfficePseudonyms(chains["pupil"], chains["school"], chains["link"])


@dataclass(frozen=True)
class SchoolAdded:
    """What ``add_school`` did: ``added``, ``replaced`` (old key named) or ``unchanged``."""

    school: RegisteredSchool
    outcome: str
    old_fingerprint: str | None = None

    @property
    def code(self) -> str:
        return self.school.code

    @property
    def fingerprint(self) -> str:
        return self.school.fingerprint

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.code,
            "outcome": self.outcome,
            "fingerprint": self.fingerprint,
            "old_fingerprint": self.old_fingerprint,
        }

    def describe(self) -> str:
        new = f"{self.fingerprint[:16]}…"
        if self.outcome == "unchanged":
            return f"{self.code} is registered with this key already ({new}); nothing changed"
        if self.outcome == "replaced":
            old = f"{(self.old_fingerprint or '')[:16]}…"
            return f"{self.code}: key {old} replaced by {new}"
        return f"{self.code} registered with key {new}"


def _own_fingerprint() -> tuple[str, ...]:
    path = _home() / "office.pub"
    return (load_public(path).fingerprint,) if path.exists() else ()


@holds_home
def add_school(code: str, key_path: Path, *, actor: str, replace: bool = False) -> SchoolAdded:
    """Register ``code``'s public key; replacing another key needs ``replace``.

    An office key (by role, or the office's own by fingerprint) is refused; the
    same key again changes nothing and says so.
    """
    school = SchoolCode.parse(code)
    public = load_public(key_path)
    require_role(
        public,
        "school",
        given_as=f"--key {key_path.name}",
        not_fingerprints=_own_fingerprint(),
    )
    with transaction.atomic():
        existing = (
            RegisteredSchool.objects.select_for_update()
            .filter(brin=school.brin, vestiging=school.vestiging)
            .first()
        )
        if existing is not None and existing.fingerprint == public.fingerprint:
            return SchoolAdded(existing, "unchanged")
        if existing is not None and not replace:
            raise OfficeError(
                f"{school.code} is registered with another key ({existing.fingerprint[:16]}…); "
                f"to replace it by {public.fingerprint[:16]}…, add --replace"
            )
        old = existing.fingerprint if existing is not None else None
        registered, _ = RegisteredSchool.objects.update_or_create(
            brin=school.brin,
            vestiging=school.vestiging,
            defaults={
                "public_key": public.to_json(),
                "fingerprint": public.fingerprint,
                "added_by": actor,
            },
        )
        record(
            "office.school_key",
            actor=actor,
            subject=school.code,
            fingerprint=public.fingerprint,
            replaced=old is not None,
            old_fingerprint=old,
        )
    return SchoolAdded(registered, "replaced" if old else "added", old)


@dataclass
class ReceiveReport:
    file: str
    kind: str
    status: str
    package_id: str = ""
    school: str = ""
    period: str = ""
    reason: str = ""
    replaced: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``null`` for what the file did not tell, table rows under ``rows``."""
        return {
            "file": self.file,
            "kind": self.kind or None,
            "status": self.status,
            "package_id": self.package_id or None,
            "school": self.school or None,
            "period": self.period or None,
            "reason": self.reason or None,
            "replaced": self.replaced or None,
            "rows": {k: v for k, v in self.counts.items() if k in TABLES},
            "counts": {k: v for k, v in self.counts.items() if k not in TABLES},
        }

    def describe(self) -> str:
        line = f"{self.file}: {self.status}"
        if self.reason:
            line += f" ({self.reason})"
        if self.replaced:
            line += f", replacing delivery {self.replaced[:8]}…"
        if self.counts:
            line += "; " + ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return line


def _intake_keys() -> IntakeKeys:
    office_key = _office_key()  # checks the file's mode before a worker sees the key
    schools = {s.code: s.public_key for s in RegisteredSchool.objects.all()}
    return IntakeKeys(office_key.to_json(), schools, pseudonyms())


@holds_home
def receive(
    paths: Iterable[Path], *, actor: str, progress: Progress | None = None
) -> list[ReceiveReport]:
    """Take in packages and retractions, in order; every one is recorded and audited.

    ``progress(done, total)`` is called as each file has been opened and checked.

    Opening, checking and pseudonymising run in worker processes; the main
    process commits deliveries to the vault in batches (one transaction each)
    and applies a retraction only after the deliveries before it.
    """
    files = list(paths)
    reports: list[ReceiveReport] = []
    pending: list[tuple[PreparedDelivery, ReceiveReport]] = []
    with open_vault() as vault:
        _reconcile_keys(vault, actor=actor)
        keys = _intake_keys()

        def flush() -> None:
            if not pending:
                return
            outcomes = _reconciled_deliveries(vault, vault.add_deliveries([d for d, _ in pending]))
            fault_point("vault_committed")
            for (_, report), outcome in zip(pending, outcomes, strict=True):
                report.status = outcome.status
                # a delivery superseded within the batch replaced nothing, whatever it named
                report.replaced = (outcome.replaced or "") if outcome.status == "received" else ""
                if outcome.status == "received":
                    report.counts = {
                        **outcome.rows,
                        "filtered_retracted_pupils": outcome.filtered,
                        "linked": outcome.linked,
                        "ambiguous": outcome.ambiguous,
                    }
                elif outcome.status == "superseded":
                    report.reason = "a newer delivery of this school and period is held"
            _record([r for _, r in pending], actor)
            pending.clear()

        chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
        opened_files = (
            opened
            for chunk in ordered_map(
                open_many, chunks, initializer=start_worker, initargs=(keys,), window=16
            )
            for opened in chunk
        )
        for opened in opened_files:
            report = ReceiveReport(
                opened.file,
                opened.kind,
                "refused",
                opened.package_id,
                opened.school,
                opened.period,
                sha256=opened.sha256,
            )
            reports.append(report)
            report_progress(progress, len(reports), len(files))
            if opened.refused:
                report.reason = opened.refused
                _record([report], actor)
            elif opened.kind == "retraction":
                flush()
                outcome = vault.retract(opened.package_id, opened.school_pseudonym, opened.pupils)
                if outcome.status == "duplicate" and not _registered(outcome.retraction_id):
                    outcome = vault.held_retraction(outcome.retraction_id) or outcome
                fault_point("vault_committed")
                report.status = outcome.status
                report.counts = {
                    "pupils": outcome.pupils,
                    "rows_removed": outcome.rows_removed,
                    "not_delivered_by_this_school": outcome.not_delivered,
                }
                if outcome.not_delivered:
                    report.reason = (
                        f"{outcome.not_delivered} pupil(s) it names were never delivered by this "
                        "school: nothing of theirs was removed; the tombstone keeps them out of "
                        "this school's later deliveries"
                    )
                _record([report], actor)
            elif opened.kind == "reinstatement":
                flush()
                lifted = vault.reinstate(
                    opened.package_id, opened.school_pseudonym, opened.pupils, opened.retractions
                )
                if lifted.status == "duplicate" and not _registered(lifted.reinstatement_id):
                    lifted = vault.held_reinstatement(lifted.reinstatement_id) or lifted
                fault_point("vault_committed")
                report.status = lifted.status
                if lifted.status == "reinstated":
                    report.counts = {
                        "pupils_lifted": lifted.pupils_lifted,
                        "not_tombstoned_by_this_school": lifted.not_tombstoned,
                        "still_tombstoned_by_another_school": lifted.still_tombstoned,
                    }
                    # the vault does not keep removed rows: the school delivers them again
                    report.reason = REINSTATED_NOTE
                _record([report], actor)
            elif opened.delivery is not None:
                pending.append((opened.delivery, report))
                if len(pending) >= BATCH_SIZE:
                    flush()
        flush()
        vault.compact()
        removing = [r for r in reports if r.status == "retracted" and r.counts.get("rows_removed")]
        if removing:
            # a retracted pupil is in no research workspace once intake returns
            from cohortsafe.app.research.services import rebuild_after_retraction

            rebuilt, stale = rebuild_after_retraction(vault, actor=actor)
            for report in removing:
                report.counts["workspaces_rebuilt"] = len(rebuilt)
                if stale:
                    # closed to researchers until `research workspace-build` succeeds
                    report.counts["workspaces_closed"] = len(stale)
    return reports


# What the registry records for a package the vault holds: its first, real outcome.
_HELD = ("received", "retracted", "reinstated")


def _registered(package_id: str) -> bool:
    """Whether the registry recorded ``package_id``'s outcome (not a later duplicate)."""
    return ReceivedPackage.objects.filter(package_id=package_id, status__in=_HELD).exists()


def _reconciled_deliveries(vault: Vault, outcomes: list[DeliveryOutcome]) -> list[DeliveryOutcome]:
    """Outcomes, with a "duplicate" the registry never recorded as received given its outcome.

    The vault is the truth: a crash (or a failed registry write) after the vault's commit
    left the delivery stored but unrecorded, so receiving it again records it as the
    interrupted run would have, instead of as a duplicate missing from every count.
    """
    received = {o.delivery_id for o in outcomes if o.status == "received"}
    doubtful = {
        o.delivery_id
        for o in outcomes
        if o.status == "duplicate" and o.delivery_id not in received  # twice in this batch
    }
    if not doubtful:
        return outcomes
    recorded = set(
        ReceivedPackage.objects.filter(package_id__in=doubtful, status__in=_HELD).values_list(
            "package_id", flat=True
        )
    )
    fixed: list[DeliveryOutcome] = []
    for outcome in outcomes:
        if outcome.delivery_id in doubtful - recorded:
            held = vault.held_delivery(outcome.delivery_id)
            if held is not None:
                recorded.add(outcome.delivery_id)  # once, if the file was given twice
                outcome = held
        fixed.append(outcome)
    return fixed


_ACTIONS = {
    "received": "office.received",
    "refused": "office.refused",
    "duplicate": "office.duplicate",
    "superseded": "office.superseded",
    "retracted": "office.retracted",
    "reinstated": "office.reinstated",
}

REINSTATED_NOTE = (
    "tombstone lifted; the removed rows are not restored: "
    "they come back with the school's next delivery of each period"
)


def _record(reports: list[ReceiveReport], actor: str) -> None:
    """Keep and audit what became of each file: ids, codes, counts and reasons, never a PGN."""
    with transaction.atomic():
        ReceivedPackage.objects.bulk_create(
            [
                ReceivedPackage(
                    file_name=r.file,
                    sha256=r.sha256,
                    kind=r.kind,
                    package_id=r.package_id,
                    school=r.school,
                    period=r.period,
                    status=r.status,
                    reason=r.reason,
                    replaced=r.replaced,
                    counts=r.counts,
                    received_by=actor,
                )
                for r in reports
            ]
        )
        events: list[tuple[str, str, dict[str, Any]]] = []
        for r in reports:
            details: dict[str, Any] = {
                "file": r.file,
                "package_id": r.package_id,
                "period": r.period,
                "counts": r.counts,
            }
            if r.reason:
                details["reason"] = r.reason
            events.append((_ACTIONS[r.status], r.school, details))
            if r.replaced:
                events.append(
                    ("office.replaced", r.school, {"replaced": r.replaced, "by": r.package_id})
                )
        record_many(events, actor=actor)


@holds_home
def rotate_key(purpose: str, *, actor: str) -> dict[str, Any]:
    """Add a new key for ``purpose`` and re-key the vault with it: new = HMAC(new, old)."""
    if purpose not in PURPOSES:
        raise OfficeError(f"purpose must be one of {', '.join(PURPOSES)}")
    with open_vault() as vault:
        _reconcile_keys(vault, actor=actor)
    current = KeyRecord.objects.filter(purpose=purpose).order_by("-position").first()
    if current is None:
        raise ConfigurationError("this home holds no office yet: run `cohortsafe office init`")
    key = new_key(purpose)
    path = write_key(key, _keys_folder())
    chain = KeyChain((key,))
    try:
        with open_vault() as vault:
            rewritten = vault.rekey(purpose, key.key_id, chain.pseudonyms)
        fault_point("vault_committed")
        _record_key(key, path, current, rewritten, actor=actor)
    except BaseException:
        # the key file goes only if the vault surely did not take the key: a vault keyed
        # with a lost key would split every pupil from the next delivery on
        with contextlib.suppress(Exception), open_vault() as vault:
            if key.key_id not in {k for _, k, _ in vault.key_history()}:
                path.unlink(missing_ok=True)
        raise
    return {
        "purpose": purpose,
        "old": current.key_id,
        "new": key.key_id,
        "files_rewritten": rewritten,
    }


def _record_key(
    key: PseudonymKey, path: Path, current: KeyRecord, rewritten: int, *, actor: str
) -> None:
    with transaction.atomic():
        KeyRecord.objects.create(
            purpose=key.purpose,
            key_id=key.key_id,
            position=current.position + 1,
            file_name=path.name,
            fingerprint=key.fingerprint,
        )
        record(
            "office.rotate_key",
            actor=actor,
            subject=key.purpose,
            old=current.key_id,
            new=key.key_id,
            files_rewritten=rewritten,
        )


def _reconcile_keys(vault: Vault, *, actor: str) -> None:
    """Record the keys the vault was re-keyed with that the registry lacks (a crash between).

    The vault is the truth: its pseudonyms are keyed with them, so intake must use them.
    """
    known = set(KeyRecord.objects.values_list("key_id", flat=True))
    for purpose, key_id, rewritten in vault.key_history():
        if key_id in known:
            continue
        path = _keys_folder() / f"{purpose}-{key_id}.key"
        if not path.exists():
            raise ConfigurationError(
                f"the vault was re-keyed with {purpose} key {key_id}, whose file keys/{path.name} "
                "is missing: restore it from your backup; nothing is pseudonymised without it"
            )
        key = load_key(path)
        current = KeyRecord.objects.filter(purpose=purpose).order_by("-position").first()
        if current is None:
            raise ConfigurationError("this home holds no office yet: run `cohortsafe office init`")
        _record_key(key, path, current, rewritten, actor=actor)


@holds_home
def status() -> dict[str, Any]:
    with open_vault() as vault:
        counts: VaultCounts = vault.counts()
        current = vault.current_deliveries()
    packages = ReceivedPackage.objects.all()
    per_school: dict[str, dict[str, int]] = {}
    # what the vault holds as current, so the counts agree with deliveries_current
    recorded = set()
    for package in packages.filter(kind="delivery", status="received"):
        if package.package_id not in current:
            continue
        recorded.add(package.package_id)
        per_school.setdefault(package.school, {}).setdefault(package.period, 0)
        per_school[package.school][package.period] += 1
    return {
        # held by the vault but not in the registry (a crash after the vault's commit):
        # receiving the same files again records them
        "deliveries_unrecorded": len(current - recorded),
        "schools_registered": RegisteredSchool.objects.count(),
        "deliveries_per_school": per_school,
        "deliveries_current": counts.deliveries,
        "deliveries_replaced": counts.replaced,
        "refused": packages.filter(status="refused").count(),
        "pupils": counts.pupils,
        "rows": counts.rows,
        "by_period": counts.by_period,
        "retractions": counts.retractions,
        "tombstones": counts.tombstones,
        "reinstatements": counts.reinstatements,
        "linked": counts.linked,
        "unlinked": counts.unlinked,
        "ambiguous": counts.ambiguous,
    }


@holds_home
def scan_vault(*, actor: str) -> list[ScanFinding]:
    """Look through every vault file for identifiers (an audited read of the whole vault)."""
    root = _home() / "vault"
    if not root.exists():
        raise ConfigurationError("this home holds no vault yet: run `cohortsafe office init`")
    findings = scan(root)
    record(
        "office.scan",
        actor=actor,
        findings=len(findings),
        columns=sorted({f"{f.where}:{f.column}" for f in findings}),
    )
    return findings
