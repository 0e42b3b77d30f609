"""Office intake of reinstatements: a withdrawn objection lifts the school's own tombstone."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from pathlib import Path

import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.office import services
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.package import (
    KeyPair,
    load_public,
    write_key_pair,
    write_reinstatement,
    write_retraction,
)
from cohortsafe.pseudonym import load_key
from cohortsafe.vault import _vault as vault_module
from tests.office.kit import SCHOOL, Office, pupils

pytestmark = pytest.mark.django_db
OTHER = SchoolCode("34CD", "00")
_sequence = itertools.count(1)


def _reinstatement(
    office: Office, pgns: list[str], school: SchoolCode = SCHOOL, key: KeyPair | None = None
) -> Path:
    path = office.root / "packages" / f"{school.code}-reinstatement-{next(_sequence)}.nco"
    write_reinstatement(
        school=school,
        pgns=pgns,
        retractions=[],
        signing_key=key or office.school_key,
        recipient=load_public(office.office_pub),
        path=path,
    )
    return path


def _pseudonym(home: Path, pgn: str) -> str:
    (path,) = (home / "keys").glob("pupil-*.key")
    secret = load_key(path).secret_hex
    return hmac.new(secret.encode(), pgn.encode(), hashlib.sha256).hexdigest()


def _pupils_in(period: str) -> set[str]:
    with services.open_vault() as vault:
        rows = vault.table("leerlingen").select(["schooljaar", "pupil"]).to_pylist()
    return {r["pupil"] for r in rows if r["schooljaar"] == period}


def _state() -> dict[str, list[tuple[object, ...]]]:
    with services.open_vault() as vault:
        return {
            meta: sorted(vault.con.execute(f"SELECT * EXCLUDE (done_at) FROM {meta}").fetchall())
            for meta in ("tombstones", "retractions", "reinstatements")
        }


def _retracted(office: Office) -> list[str]:
    members = pupils(3)
    office.receive(office.delivery(members))
    office.receive(office.retraction([members[0].pgn]))
    return [p.pgn for p in members]


def test_a_reinstatement_lifts_the_tombstone_and_the_next_delivery_brings_the_pupil_back(
    office: Office, home: Path
) -> None:
    pgns = _retracted(office)
    back = _pseudonym(home, pgns[0])
    (still_out,) = office.receive(office.delivery(pupils(3)))
    assert still_out.counts["filtered_retracted_pupils"] == 1  # the tombstone holds
    assert back not in _pupils_in("2024-2025")
    assert services.status()["reinstatements"] == 0

    (report,) = office.receive(_reinstatement(office, [pgns[0]]))
    assert report.status == "reinstated"
    assert report.counts == {
        "pupils_lifted": 1,
        "not_tombstoned_by_this_school": 0,
        "still_tombstoned_by_another_school": 0,
    }
    assert "not restored" in report.reason
    assert "next delivery" in report.reason
    assert "next delivery" in report.describe()
    assert back not in _pupils_in("2024-2025")  # the removed rows are not restored by it
    state = services.status()
    assert (state["tombstones"], state["reinstatements"]) == (0, 1)

    (again,) = office.receive(office.delivery(pupils(3)))
    assert again.status == "received"
    assert again.counts["filtered_retracted_pupils"] == 0
    assert back in _pupils_in("2024-2025")


def test_another_school_cannot_lift_a_tombstone_it_did_not_leave(
    office: Office, home: Path, tmp_path: Path
) -> None:
    other_key = KeyPair.generate("school")
    write_key_pair(other_key, tmp_path / "other")
    services.add_school(OTHER.code, tmp_path / "other" / "school.pub", actor="test")
    pgns = _retracted(office)
    (report,) = office.receive(_reinstatement(office, [pgns[0]], OTHER, other_key))
    assert report.status == "reinstated"
    assert report.counts == {
        "pupils_lifted": 0,
        "not_tombstoned_by_this_school": 1,
        "still_tombstoned_by_another_school": 0,
    }
    assert services.status()["tombstones"] == 1
    (later,) = office.receive(office.delivery(pupils(3)))
    assert later.counts["filtered_retracted_pupils"] == 1
    assert _pseudonym(home, pgns[0]) not in _pupils_in("2024-2025")


def test_one_schools_reinstatement_leaves_another_schools_tombstone_standing(
    office: Office, home: Path, tmp_path: Path
) -> None:
    """Tombstones are per school (issue 10): SCHOOL's reinstatement lets SCHOOL's data back,
    while OTHER's retraction still keeps the pupil out of OTHER's deliveries."""
    other_key = KeyPair.generate("school")
    write_key_pair(other_key, tmp_path / "other")
    services.add_school(OTHER.code, tmp_path / "other" / "school.pub", actor="test")
    pgns = _retracted(office)  # the pupil is retracted by SCHOOL, then by OTHER too
    retraction = office.root / "packages" / "other-retraction.nco"
    write_retraction(
        school=OTHER,
        pgns=[pgns[0]],
        deliveries=[],
        reason="objection",
        signing_key=other_key,
        recipient=load_public(office.office_pub),
        path=retraction,
    )
    assert office.receive(retraction)[0].status == "retracted"
    assert services.status()["tombstones"] == 1  # one pupil, two retractions
    (report,) = office.receive(_reinstatement(office, [pgns[0]]))
    assert report.counts["pupils_lifted"] == 1
    assert report.counts["still_tombstoned_by_another_school"] == 1
    (later,) = office.receive(office.delivery(pupils(3)))
    assert later.counts["filtered_retracted_pupils"] == 0
    assert _pseudonym(home, pgns[0]) in _pupils_in("2024-2025")
    (at_other,) = office.receive(office.delivery(pupils(3), school=OTHER, signer=other_key))
    assert at_other.counts["filtered_retracted_pupils"] == 1
    (theirs,) = office.receive(_reinstatement(office, [pgns[0]], OTHER, other_key))
    assert theirs.counts["still_tombstoned_by_another_school"] == 0
    assert services.status()["tombstones"] == 0


def test_a_pupil_never_tombstoned_is_reported_and_nothing_else_changes(office: Office) -> None:
    pgns = _retracted(office)
    (report,) = office.receive(_reinstatement(office, [pgns[1]]))
    assert report.counts == {
        "pupils_lifted": 0,
        "not_tombstoned_by_this_school": 1,
        "still_tombstoned_by_another_school": 0,
    }
    assert services.status()["tombstones"] == 1


def test_a_replayed_reinstatement_is_a_duplicate(office: Office) -> None:
    pgns = _retracted(office)
    path = _reinstatement(office, [pgns[0]])
    assert office.receive(path)[0].status == "reinstated"
    assert office.receive(path)[0].status == "duplicate"
    assert services.status()["reinstatements"] == 1


def test_an_altered_reinstatement_is_refused_and_lifts_nothing(office: Office) -> None:
    pgns = _retracted(office)
    path = _reinstatement(office, [pgns[0]])
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(raw)
    (report,) = office.receive(path)
    assert report.status == "refused"
    assert services.status()["tombstones"] == 1


def test_a_reinstatement_after_deliveries_in_one_run_is_applied_in_order(
    office: Office, home: Path
) -> None:
    pgns = _retracted(office)
    reports = office.receive(
        office.delivery(pupils(3), SchoolYear(2025)),
        _reinstatement(office, [pgns[0]]),
        office.delivery(pupils(3)),
    )
    assert [r.status for r in reports] == ["received", "reinstated", "received"]
    assert reports[0].counts["filtered_retracted_pupils"] == 1
    assert reports[2].counts["filtered_retracted_pupils"] == 0
    assert _pseudonym(home, pgns[0]) in _pupils_in("2024-2025")
    assert _pseudonym(home, pgns[0]) not in _pupils_in("2025-2026")


def test_the_reinstatement_is_audited_without_a_pgn_or_pseudonym(
    office: Office, home: Path
) -> None:
    pgns = _retracted(office)
    office.receive(_reinstatement(office, [pgns[0]]))
    (event,) = AuditEvent.objects.filter(action="office.reinstated")
    text = json.dumps(event.details) + event.subject
    assert pgns[0] not in text
    assert _pseudonym(home, pgns[0]) not in text
    assert event.details["counts"]["pupils_lifted"] == 1


@pytest.mark.parametrize("step", ["reinstatement_lifted", "before_commit", "after_commit"])
def test_a_crash_during_a_reinstatement_leaves_the_vault_as_it_was_and_a_rerun_completes(
    office: Office, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pgns = _retracted(office)
    path = _reinstatement(office, [pgns[0]])
    before = _state()

    def crash(at: str) -> None:
        if at == step:
            raise RuntimeError("crash")

    monkeypatch.setattr(vault_module, "fault_point", crash)
    with pytest.raises(RuntimeError):
        office.receive(path)
    monkeypatch.setattr(vault_module, "fault_point", lambda at: None)
    if step == "after_commit":
        assert _state() != before
    else:
        assert _state() == before
    # committed or not, the registry records it once, as reinstated
    assert office.receive(path)[0].status == "reinstated"
    assert services.status()["tombstones"] == 0


def test_rotating_the_school_key_rekeys_reinstatements_and_keeps_them_working(
    office: Office,
) -> None:
    pgns = _retracted(office)
    office.receive(_reinstatement(office, [pgns[0]]))
    services.rotate_key("school", actor="test")
    state = _state()
    (retraction,) = state["retractions"]
    (reinstatement,) = state["reinstatements"]
    assert reinstatement[1] == retraction[1]  # both hold the new school pseudonym
    office.receive(office.retraction([pgns[1]]))
    (report,) = office.receive(_reinstatement(office, [pgns[1]]))
    assert report.counts["pupils_lifted"] == 1
