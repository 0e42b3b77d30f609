"""An office with a cohort big enough to release from: five schools of eight pupils each,
one project with two researchers, and three output checkers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from stdnum.nl import bsn

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.office import services as office_services
from cohortsafe.app.research import services as research
from cohortsafe.domain import SchoolCode
from cohortsafe.package import KeyPair, load_public, write_key_pair, write_retraction
from tests.office.kit import Office, Pupil

CODE = "NCO-1"
SCHOOLS = [SchoolCode(f"{20 + n:02d}AB", "00") for n in range(5)]
PER_SCHOOL = 8
RESULTS = ["leergebied", "toetsmoment", "jaargroep", "schooljaar", "vaardigheidsscore"]


def valid_bsns(count: int) -> list[str]:
    found, number = [], 200_000_000
    while len(found) < count:
        number += 1
        if bsn.is_valid(str(number)):
            found.append(str(number))
    return found


@dataclass
class Cohort:
    office: Office
    pupils: dict[str, list[Pupil]]  # per school code
    keys: dict[str, KeyPair]
    root: Path

    def retract(self, school: SchoolCode, pgn: str) -> office_services.ReceiveReport:
        """A late objection, sent by the pupil's school."""
        path = self.root / f"retraction-{school.code}-{pgn[-3:]}.nco"
        write_retraction(
            school=school,
            pgns=[pgn],
            deliveries=[],
            reason="objection",
            signing_key=self.keys[school.code],
            recipient=load_public(self.office.office_pub),
            path=path,
        )
        (report,) = self.office.receive(path)
        return report

    def spec(self, name: str, **given: Any) -> dict[str, Any]:
        return {"name": name, "table": "toetsresultaten", **given}

    def spec_file(self, *specs: dict[str, Any]) -> Path:
        path = self.root / f"spec-{len(list(self.root.glob('spec-*')))}.json"
        path.write_text(json.dumps(list(specs)))
        return path


@pytest.fixture
def cohort(office: Office, tmp_path: Path) -> Cohort:
    numbers = iter(valid_bsns(len(SCHOOLS) * PER_SCHOOL))
    per_school: dict[str, list[Pupil]] = {}
    keys = {}
    for school in SCHOOLS:
        key = keys[school.code] = KeyPair.generate("school")
        write_key_pair(key, tmp_path / school.code)
        office_services.add_school(school.code, tmp_path / school.code / "school.pub", actor="t")
        members = [Pupil(next(numbers), number=i + 1) for i in range(PER_SCHOOL)]
        per_school[school.code] = members
        office.receive(office.delivery(members, school=school, signer=key))
    for name, role in (
        ("anna", "researcher"),
        ("bert", "researcher"),
        ("carla", "checker"),
        ("dirk", "checker"),
        ("erik", "checker"),
    ):
        accounts.add_user(name, role, home_role="office", actor="t")
    until = dt.date.today() + dt.timedelta(days=300)
    research.new_project(CODE, title="Rekenen", institution="UU", until=until, actor="t")
    research.approve_table(CODE, "toetsresultaten", RESULTS, actor="t")
    research.grant(CODE, "anna", actor="t")
    research.grant(CODE, "bert", actor="t")
    research.build_workspace(CODE, actor="t")
    return Cohort(office, per_school, keys, tmp_path)
