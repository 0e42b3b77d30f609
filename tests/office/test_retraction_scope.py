"""A school retracts only what it delivered (issue 10): another school's rows stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortsafe.app.office import services
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.package import KeyPair, load_public, write_key_pair, write_retraction
from tests.office.kit import Office, pupils

pytestmark = pytest.mark.django_db

OTHER = SchoolCode("34CD", "00")


def _other(office: Office, tmp_path: Path) -> KeyPair:
    key = KeyPair.generate("school")
    write_key_pair(key, tmp_path / "other")
    services.add_school(OTHER.code, tmp_path / "other" / "school.pub", actor="test")
    return key


def _retraction(office: Office, pgns: list[str], key: KeyPair) -> Path:
    path = office.root / "packages" / "other-retraction.nco"
    write_retraction(
        school=OTHER,
        pgns=pgns,
        deliveries=[],
        reason="objection",
        signing_key=key,
        recipient=load_public(office.office_pub),
        path=path,
    )
    return path


def _rows() -> dict[str, int]:
    return dict(services.status()["rows"])


def test_another_school_cannot_retract_a_pupil_it_never_delivered(
    office: Office, tmp_path: Path
) -> None:
    key = _other(office, tmp_path)
    members = pupils(3)
    office.receive(office.delivery(members))
    before = _rows()
    (report,) = office.receive(_retraction(office, [members[0].pgn], key))
    assert report.status == "retracted"
    assert report.counts["rows_removed"] == 0
    assert report.counts["not_delivered_by_this_school"] == 1
    assert "never delivered by this school" in report.reason
    assert _rows() == before
    # the first school's later delivery still holds the pupil
    (later,) = office.receive(office.delivery(members))
    assert later.counts["filtered_retracted_pupils"] == 0


def test_a_pupil_who_moved_is_retracted_only_from_the_retracting_school(
    office: Office, tmp_path: Path
) -> None:
    key = _other(office, tmp_path)
    members = pupils(2)
    office.receive(office.delivery(members, SchoolYear(2024)))
    office.receive(office.delivery(members, SchoolYear(2025), OTHER, signer=key))
    with services.open_vault() as vault:
        before = vault.con.execute(
            "SELECT schooljaar, count(*) FROM leerlingen GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert before == [("2024-2025", 2), ("2025-2026", 2)]
    (report,) = office.receive(_retraction(office, [members[0].pgn], key))
    assert report.counts["not_delivered_by_this_school"] == 0
    with services.open_vault() as vault:
        after = vault.con.execute(
            "SELECT schooljaar, count(*) FROM leerlingen GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert after == [("2024-2025", 2), ("2025-2026", 1)]
    # the tombstone is the retracting school's: its next delivery leaves the pupil out
    (theirs,) = office.receive(office.delivery(members, SchoolYear(2025), OTHER, signer=key))
    assert theirs.counts["filtered_retracted_pupils"] == 1
    (ours,) = office.receive(office.delivery(members, SchoolYear(2024)))
    assert ours.counts["filtered_retracted_pupils"] == 0
