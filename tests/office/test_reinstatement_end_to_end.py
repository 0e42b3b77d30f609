"""A withdrawn objection after a retraction, honoured end to end: school services to vault."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.office import services as office
from cohortsafe.app.school import services as school
from cohortsafe.domain import SchoolYear
from cohortsafe.package import KeyPair, write_key_pair
from cohortsafe.pseudonym import load_key
from cohortsafe.vault import TABLES
from tests.exportkit import BSNS, ExportKit

pytestmark = pytest.mark.django_db
PERIOD = SchoolYear(2025)
PUPIL = "1003"  # holds BSNS[2]


class Sides:
    """A school home and an office home sharing one database, switched by $COHORTSAFE_HOME."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp, self.monkeypatch = tmp_path, monkeypatch
        self.school_home, self.office_home = tmp_path / "school", tmp_path / "office"
        self.out = tmp_path / "out"
        self.at_school()
        (report,) = school.import_exports(
            [ExportKit.valid(pupils=6).write(tmp_path / "export")],
            actor="test",
            today=dt.date(2026, 11, 30),
        )
        assert report.accepted
        write_key_pair(KeyPair.generate("school"), self.school_home)
        self.at_office()
        office.init_office(actor="test")
        office.add_school("12AB00", self.school_home / "school.pub", actor="test")

    def at_school(self) -> None:
        self.monkeypatch.setenv("COHORTSAFE_HOME", str(self.school_home))

    def at_office(self) -> None:
        self.monkeypatch.setenv("COHORTSAFE_HOME", str(self.office_home))

    def school_kwargs(self) -> dict[str, object]:
        return {"office_key": self.office_home / "office.pub", "out": self.out, "actor": "test"}

    def deliver(self) -> Path:
        self.at_school()
        (report,) = school.deliver(period=PERIOD, **self.school_kwargs())  # type: ignore[arg-type]
        assert report.file is not None
        return self.out / report.file

    def receive(self, path: Path) -> office.ReceiveReport:
        self.at_office()
        (report,) = office.receive([path], actor="test")
        return report

    def pseudonym(self) -> str:
        (path,) = (self.office_home / "keys").glob("pupil-*.key")
        secret = load_key(path).secret_hex
        return hmac.new(secret.encode(), BSNS[2].encode(), hashlib.sha256).hexdigest()

    def rows_of_pupil(self) -> int:
        self.at_office()
        with office.open_vault() as vault:
            return sum(
                vault.table(name).column("pupil").to_pylist().count(self.pseudonym())
                for name in TABLES
            )


@pytest.fixture
def sides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sides:
    return Sides(tmp_path, monkeypatch)


def _object() -> None:
    school.register_objection(
        school.find_pupil(PUPIL),
        received_on=dt.date(2026, 2, 1),
        received_from="ouder",
        channel="brief",
        actor="test",
    )


def _retract(sides: Sides) -> None:
    assert sides.receive(sides.deliver()).status == "received"
    assert sides.rows_of_pupil() > 0
    sides.at_school()
    _object()
    retraction = school.retract(leerlingnummer=PUPIL, **sides.school_kwargs())  # type: ignore[arg-type]
    assert sides.receive(sides.out / retraction.file).status == "retracted"
    assert sides.rows_of_pupil() == 0


def test_a_withdrawal_after_a_retraction_brings_the_pupil_back(sides: Sides) -> None:
    _retract(sides)
    sides.at_school()
    withdrawn = school.withdraw_objection(school.find_pupil(PUPIL), actor="test")
    assert withdrawn.needs_reinstatement
    made = school.reinstate(leerlingnummer=PUPIL, **sides.school_kwargs())  # type: ignore[arg-type]
    lifted = sides.receive(sides.out / made.file)
    assert lifted.status == "reinstated"
    assert lifted.counts["pupils_lifted"] == 1
    assert sides.rows_of_pupil() == 0  # the rows return only with the next delivery

    again = sides.receive(sides.deliver())
    assert again.status == "received"
    assert again.counts["filtered_retracted_pupils"] == 0
    assert sides.rows_of_pupil() > 0

    for action in ("school.reinstate", "office.reinstated"):
        (event,) = AuditEvent.objects.filter(action=action)
        text = json.dumps(event.details) + event.subject
        assert BSNS[2] not in text
        assert sides.pseudonym() not in text


def test_without_a_reinstatement_the_redelivery_still_leaves_the_pupil_out(sides: Sides) -> None:
    _retract(sides)
    sides.at_school()
    school.withdraw_objection(school.find_pupil(PUPIL), actor="test")
    again = sides.receive(sides.deliver())  # the school delivers the pupil again
    assert again.status == "received"
    assert again.counts["filtered_retracted_pupils"] == 1
    assert sides.rows_of_pupil() == 0
