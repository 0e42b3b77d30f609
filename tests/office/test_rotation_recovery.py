"""A kill during `office rotate-key` never leaves the vault keyed with a key the office lost.

Before: a kill after the vault's re-key commit deleted the new key file and left it out of
the registry, so the next delivery's pupils got pseudonyms the vault no longer held — every
pupil split in two, silently. Now the key file stays, and the next command records it from
the vault's key history, with the audit event a clean rotation leaves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.audit.services import verify
from cohortsafe.app.office import services
from cohortsafe.app.office.models import KeyRecord
from cohortsafe.domain import SchoolYear
from cohortsafe.errors import ConfigurationError
from cohortsafe.vault import _vault as vault_module
from tests.office.kit import Office, pupils

pytestmark = pytest.mark.django_db

# (fault point, whether the vault has committed the re-key when it is reached)
STEPS = [("rekeyed", False), ("before_commit", False), ("after_commit", True)]
STEPS += [("vault_committed", True)]


class Kill(BaseException):
    pass


def _kill_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    def point(at: str) -> None:
        if at == step:
            raise Kill(at)

    monkeypatch.setattr(vault_module, "fault_point", point)
    monkeypatch.setattr(services, "fault_point", point)


def _pupils() -> dict[str, set[str]]:
    with services.open_vault() as vault:
        rows = vault.table("leerlingen").select(["schooljaar", "pupil"]).to_pylist()
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["schooljaar"], set()).add(row["pupil"])
    return found


@pytest.mark.parametrize(("step", "committed"), STEPS, ids=[s for s, _ in STEPS])
def test_a_kill_during_rotation_then_the_next_intake_keeps_every_pupil_one_pupil(
    office: Office, home: Path, monkeypatch: pytest.MonkeyPatch, step: str, committed: bool
) -> None:
    members = pupils(4)
    office.receive(office.delivery(members))
    with monkeypatch.context() as patch:
        _kill_at(patch, step)
        with pytest.raises(Kill):
            services.rotate_key("pupil", actor="test")
    keys = sorted(p.name for p in (home / "keys").glob("pupil-*.key"))
    assert len(keys) == (2 if committed else 1)  # an unused key goes, a used one never
    (report,) = office.receive(office.delivery(members, SchoolYear(2025)))
    assert report.status == "received"
    by_year = _pupils()
    assert by_year["2025-2026"] == by_year["2024-2025"]  # no pupil split in two
    assert services.status()["pupils"] == 4
    assert KeyRecord.objects.filter(purpose="pupil").count() == (2 if committed else 1)
    rotations = AuditEvent.objects.filter(action="office.rotate_key")
    assert rotations.count() == (1 if committed else 0)
    if committed:
        (event,) = rotations
        assert set(event.details) == {"old", "new", "files_rewritten"}
        assert event.details["files_rewritten"] == 3  # what the clean rotation reports
    assert verify().ok
    services.rotate_key("pupil", actor="test")  # and the next rotation builds on it
    office.receive(office.delivery(members, SchoolYear(2026)))
    assert _pupils()["2026-2027"] == _pupils()["2024-2025"]


def test_a_vault_keyed_with_a_missing_key_file_stops_intake(
    office: Office, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    office.receive(office.delivery(pupils(2)))
    with monkeypatch.context() as patch:
        _kill_at(patch, "vault_committed")
        with pytest.raises(Kill):
            services.rotate_key("pupil", actor="test")
    (used,) = sorted(
        set((home / "keys").glob("pupil-*.key"))
        - {home / "keys" / r.file_name for r in KeyRecord.objects.all()}
    )
    used.unlink()  # lost
    with pytest.raises(ConfigurationError, match=r"re-keyed with pupil key .* is missing"):
        office.receive(office.delivery(pupils(2), SchoolYear(2025)))
    assert set(_pupils()) == {"2024-2025"}
