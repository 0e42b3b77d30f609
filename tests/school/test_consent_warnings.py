"""Consent for a pupil with an objection in force is registered, with a warning."""

from __future__ import annotations

import datetime as dt

from cohortsafe.app.school import services
from tests.school.conftest import SchoolSetup
from tests.school.test_deliveries import _object, _study


def _register() -> services.ConsentOutcome:
    return services.register_consent(
        services.find_pupil("1001"),
        study="A",
        categories=["dyslexie"],
        given_by="ouder",
        given_on=dt.date(2026, 9, 1),
        actor="test",
    )


def test_consent_without_an_objection_carries_no_warning(school: SchoolSetup) -> None:
    _study("A")
    outcome = _register()
    assert outcome.categories == ["dyslexie"]
    assert outcome.warnings == []


def test_consent_with_an_objection_in_force_warns_that_nothing_is_delivered(
    school: SchoolSetup,
) -> None:
    _study("A")
    _object("1001")
    outcome = _register()
    assert outcome.categories == ["dyslexie"]
    (warning,) = outcome.warnings
    assert "objection in force" in warning
    assert "nothing" in warning
    assert outcome.as_dict()["warnings"] == [warning]
