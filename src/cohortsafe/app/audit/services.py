"""Recording and verifying the audit log.

Each event's hash is SHA-256 over the previous event's hash and the event's
canonical JSON, so changing, removing or reordering any event breaks every
hash after it. Details must never hold a BSN, onderwijsnummer, name or
address: callers pass counts, codes and pseudonyms.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cohortsafe.app.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def console_actor() -> str:
    """Who runs a console command, as the audit log names them."""
    try:
        return f"console:{getpass.getuser()}"
    except (KeyError, OSError):
        return "console:unknown"


def _event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": event.details,
    }


def _head() -> AuditHead:
    head, _ = AuditHead.objects.select_for_update().get_or_create(
        id=1, defaults={"seq": 0, "hash": GENESIS}
    )
    return head


def hold_chain() -> None:
    """Take the chain's end for the rest of the caller's transaction.

    Writers that first count what is stored (a limit of so many an hour) take it before
    they count, so that two of them never both see room for one more. SQLite's immediate
    transactions order writers already; PostgreSQL's row lock does it there."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("hold_chain() needs the caller's transaction")
    _head()


def record(action: str, *, actor: str, subject: str = "", **details: Any) -> AuditEvent:
    """Append one event to the chain (inside the caller's transaction, if any)."""
    (event,) = record_many([(action, subject, details)], actor=actor)
    return event


def record_many(events: list[tuple[str, str, dict[str, Any]]], *, actor: str) -> list[AuditEvent]:
    """Append ``(action, subject, details)`` events in order, holding the chain's end once."""
    with transaction.atomic():
        head = _head()
        made = []
        seq, previous = head.seq, head.hash
        now = timezone.now()
        for action, subject, details in events:
            seq += 1
            event = AuditEvent(
                seq=seq,
                at=now,
                actor=actor,
                action=action,
                subject=subject,
                details=json.loads(json.dumps(details, default=str)),
                prev_hash=previous,
            )
            event.hash = _event_hash(previous, _fields(event))
            previous = event.hash
            made.append(event)
        AuditEvent.objects.bulk_create(made)
        head.seq, head.hash = seq, previous
        head.save(update_fields=["seq", "hash"])
    return made


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_broken: int | None = None


def verify() -> ChainCheck:
    """Recompute every hash in order; report the first event that does not match."""
    previous = GENESIS
    count = 0
    expected_seq = 1
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        count += 1
        if (
            event.seq != expected_seq
            or event.prev_hash != previous
            or event.hash != _event_hash(previous, _fields(event))
        ):
            return ChainCheck(False, count, event.seq)
        previous = event.hash
        expected_seq += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != previous):
        return ChainCheck(False, count, expected_seq)
    return ChainCheck(True, count)
