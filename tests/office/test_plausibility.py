"""The office accepts exactly the birth dates the school imports (one rule, both sides)."""

from __future__ import annotations

import datetime as dt

import pytest

from cohortsafe.domain import EARLIEST_BIRTH_DATE
from tests.office.kit import Office, pupils

EDGE = [EARLIEST_BIRTH_DATE - dt.timedelta(days=1), EARLIEST_BIRTH_DATE, dt.date(1950, 6, 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("born", EDGE)
def test_the_office_accepts_what_the_school_imports(office: Office, born: dt.date) -> None:
    members = pupils(3)
    members[0].born = born
    (report,) = office.receive(office.delivery(members))
    accepted = born >= EARLIEST_BIRTH_DATE
    assert (report.status == "received") == accepted, report.reason
    if not accepted:
        assert "geboortedatum" in report.reason
