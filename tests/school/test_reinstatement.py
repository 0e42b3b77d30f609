"""Reinstatements at the school: only after a withdrawn objection and a retraction, once."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.school import services
from cohortsafe.app.school.models import Reinstatement
from cohortsafe.app.school.services import reinstatements as reinstatement_module
from cohortsafe.errors import CohortsafeError
from cohortsafe.package import open_package
from tests.exportkit import BSNS
from tests.school.conftest import SchoolSetup

pytestmark = pytest.mark.django_db


def _object(leerlingnummer: str) -> None:
    services.register_objection(
        services.find_pupil(leerlingnummer),
        received_on=dt.date(2026, 2, 1),
        received_from="ouder",
        channel="brief",
        actor="test",
    )


def _kwargs(school: SchoolSetup) -> dict[str, object]:
    return {
        "office_key": school.office_pub,
        "out": school.root / "out",
        "actor": "test",
        "signing_key_path": school.signing_key,
    }


def _retracted(school: SchoolSetup, leerlingnummer: str = "1003") -> services.RetractionReport:
    school.deliver()
    _object(leerlingnummer)
    return services.retract(leerlingnummer=leerlingnummer, **_kwargs(school))  # type: ignore[arg-type]


def test_withdrawing_after_a_retraction_says_a_reinstatement_is_needed(
    school: SchoolSetup,
) -> None:
    retraction = _retracted(school)
    withdrawn = services.withdraw_objection(services.find_pupil("1003"), actor="test")
    assert withdrawn.needs_reinstatement
    (status,) = services.objections(actor="test")
    assert status.needs_reinstatement
    assert status.as_dict()["needs_reinstatement"] is True

    report = services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    assert report.retractions == [retraction.file]
    assert report.periods == ["2025-2026"]
    assert "--schooljaar 2025-2026" in report.describe()
    opened = open_package(
        school.root / "out" / report.file,
        office_key=school.office_key,
        school_key=school.school_key.public,
    )
    assert opened.kind == "reinstatement"
    assert opened.manifest["pgns"] == [BSNS[2]]
    assert opened.manifest["retractions"] == [retraction.retraction_id]
    (status,) = services.objections(actor="test")
    assert not status.needs_reinstatement
    assert status.reinstated_in == [report.file]
    assert not services.find_pupil("1003").objections.get().needs_reinstatement


def test_withdrawing_without_a_retraction_needs_no_reinstatement(school: SchoolSetup) -> None:
    school.deliver()
    _object("1003")
    assert not services.withdraw_objection(
        services.find_pupil("1003"), actor="test"
    ).needs_reinstatement
    with pytest.raises(services.RegisterError, match="never retracted"):
        services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]


def test_a_reinstatement_is_refused_while_an_objection_is_active_and_made_only_once(
    school: SchoolSetup,
) -> None:
    _retracted(school)
    with pytest.raises(services.RegisterError, match="active objection"):
        services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    services.withdraw_objection(services.find_pupil("1003"), actor="test")
    services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    with pytest.raises(services.RegisterError, match="already reinstated"):
        services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    assert Reinstatement.objects.count() == 1
    assert len(list((school.root / "out").glob("*-reinstatement-*.nco"))) == 1


def test_a_new_objection_after_a_reinstatement_needs_a_new_retraction(
    school: SchoolSetup,
) -> None:
    _retracted(school)
    services.withdraw_objection(services.find_pupil("1003"), actor="test")
    services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    _object("1003")
    statuses = services.objections(actor="test")
    assert [s.needs_retraction for s in statuses] == [False, True]


def test_the_reinstatement_is_audited_without_a_pgn(school: SchoolSetup) -> None:
    _retracted(school)
    services.withdraw_objection(services.find_pupil("1003"), actor="test")
    report = services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    (event,) = AuditEvent.objects.filter(action="school.reinstate")
    assert event.details["reinstatement_id"] == report.reinstatement_id
    assert BSNS[2] not in json.dumps(event.details) + event.subject


def test_no_file_is_left_when_the_record_fails(
    school: SchoolSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _retracted(school)
    services.withdraw_objection(services.find_pupil("1003"), actor="test")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(reinstatement_module, "record", fail)
    with pytest.raises(RuntimeError):
        services.reinstate(leerlingnummer="1003", **_kwargs(school))  # type: ignore[arg-type]
    assert not list((school.root / "out").glob("*-reinstatement-*.nco"))
    assert not Reinstatement.objects.exists()


def test_a_reinstatement_refuses_the_schools_own_key_as_the_office_key(
    school: SchoolSetup,
) -> None:
    _retracted(school)
    services.withdraw_objection(services.find_pupil("1003"), actor="test")
    kwargs = {**_kwargs(school), "office_key": school.root / "keys" / "school.pub"}
    with pytest.raises(CohortsafeError, match="office"):
        services.reinstate(leerlingnummer="1003", **kwargs)  # type: ignore[arg-type]
    assert not Reinstatement.objects.exists()
