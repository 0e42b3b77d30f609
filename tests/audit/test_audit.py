"""The audit log: append-only at every level, and any change is found by the chain."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from cohortsafe.app.audit import services
from cohortsafe.app.audit.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def _events(n: int) -> list[AuditEvent]:
    return [services.record("test.event", actor="tester", subject=f"s{i}", n=i) for i in range(n)]


def test_events_chain_and_verify() -> None:
    events = _events(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[1].prev_hash == events[0].hash
    assert services.verify().ok
    assert services.verify().events == 5


def test_the_model_refuses_changes_and_deletes() -> None:
    (event,) = _events(1)
    event.subject = "other"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(subject="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_changes_from_any_client() -> None:
    _events(2)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET subject = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert services.verify().ok


def _drop_triggers(cursor: object) -> None:
    statements = {
        "sqlite": ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"],
        "postgresql": ["DROP TRIGGER audit_event_no_change ON audit_auditevent"],
    }[connection.vendor]
    for statement in statements:
        cursor.execute(statement)  # type: ignore[attr-defined]


def test_tampering_past_the_triggers_is_detected() -> None:
    _events(4)
    with connection.cursor() as cursor:
        _drop_triggers(cursor)
        cursor.execute("UPDATE audit_auditevent SET details = '{\"n\": 99}' WHERE seq = 2")
    check = services.verify()
    assert not check.ok
    assert check.first_broken == 2


def test_removing_the_last_event_is_detected() -> None:
    _events(3)
    with connection.cursor() as cursor:
        _drop_triggers(cursor)
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 3")
    assert not services.verify().ok
