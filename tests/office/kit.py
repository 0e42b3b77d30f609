"""Office test kit: an office home, registered school keys, and packages built in code."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pytest

from cohortsafe.app.office import services
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.package import (
    DeliveryContents,
    KeyPair,
    load_public,
    write_delivery,
    write_key_pair,
    write_retraction,
)
from tests.exportkit import BSNS, ONDERWIJSNUMMERS

SCHOOL = SchoolCode("12AB", "00")
_sequence = itertools.count(1)
DEFAULT_PERIOD = SchoolYear(2024)


@dataclass
class Pupil:
    pgn: str
    born: dt.date = dt.date(2016, 3, 5)
    sex: str = "V"
    postcode: str = "1234AB"
    number: int = 10
    addition: str | None = None
    group: int = 5


def pupils(n: int = 4) -> list[Pupil]:
    return [Pupil(BSNS[i], number=10 + i, born=dt.date(2016, 1, 1 + i)) for i in range(n)]


def tables(
    members: list[Pupil], period: SchoolYear, school: SchoolCode = SCHOOL, *, special: bool = False
) -> dict[str, pa.Table]:
    day = dt.date(period.start + 1, 1, 20)
    results = [(p.pgn, d) for p in members for d in ("rekenen_wiskunde", "spelling")]
    out = {
        "leerlingen": pa.table(
            {
                "pgn": [p.pgn for p in members],
                "geboortedatum": pa.array([p.born for p in members], pa.date32()),
                "geslacht": [p.sex for p in members],
                "postcode": [p.postcode for p in members],
                "huisnummer": pa.array([p.number for p in members], pa.int32()),
                "huisnummertoevoeging": pa.array([p.addition for p in members], pa.string()),
                "jaargroep": pa.array([p.group for p in members], pa.int8()),
                "brin": [school.brin] * len(members),
                "vestiging": [school.vestiging] * len(members),
            }
        ),
        "toetsresultaten": pa.table(
            {
                "pgn": [r[0] for r in results],
                "toets": ["Cito"] * len(results),
                "leergebied": [r[1] for r in results],
                "toetsmoment": ["M"] * len(results),
                "schooljaar": [str(period)] * len(results),
                "jaargroep": pa.array([5] * len(results), pa.int8()),
                "afnamedatum": pa.array([day] * len(results), pa.date32()),
                "vaardigheidsscore": [150.0 + i for i in range(len(results))],
                "schaal": ["cito-vs-3.0"] * len(results),
                "niveau": pa.array(["III"] * len(results), pa.string()),
            }
        ),
        "voorschool": pa.table(
            {
                "pgn": [p.pgn for p in members],
                "soort": ["vve"] * len(members),
                "maanden": pa.array([12] * len(members), pa.int16()),
                "dagdelen_per_week": [2.0] * len(members),
            }
        ),
    }
    if special:
        out["bijzonder"] = pa.table(
            {
                "pgn": [members[0].pgn],
                "categorie": ["dyslexie"],
                "datum": pa.array([dt.date(2024, 9, 1)], pa.date32()),
            }
        )
    return out


@dataclass
class Office:
    """An office home with one registered school; writes packages as that school would."""

    root: Path
    school_key: KeyPair
    office_pub: Path
    made: list[Path] = field(default_factory=list)

    def delivery(
        self,
        members: list[Pupil],
        period: SchoolYear = DEFAULT_PERIOD,
        school: SchoolCode = SCHOOL,
        *,
        signer: KeyPair | None = None,
        special: bool = False,
        raw_tables: dict[str, pa.Table] | None = None,
    ) -> Path:
        path = self.root / "packages" / f"{school.code}-{period}-{next(_sequence)}.nco"
        contents = DeliveryContents(
            school,
            period,
            raw_tables or tables(members, period, school, special=special),
            {"objection": 0},
            ("rekenen_wiskunde", "begrijpend_lezen", "spelling"),
            "STUDY" if special else None,
        )
        write_delivery(
            contents,
            signing_key=signer or self.school_key,
            recipient=load_public(self.office_pub),
            path=path,
        )
        self.made.append(path)
        return path

    def retraction(self, pgns: list[str], school: SchoolCode = SCHOOL) -> Path:
        path = self.root / "packages" / f"{school.code}-retraction-{next(_sequence)}.nco"
        write_retraction(
            school=school,
            pgns=pgns,
            deliveries=[],
            reason="objection",
            signing_key=self.school_key,
            recipient=load_public(self.office_pub),
            path=path,
        )
        return path

    def receive(self, *paths: Path) -> list[services.ReceiveReport]:
        return services.receive(list(paths), actor="test")


@pytest.fixture
def office(tmp_path: Path, home: Path, db: None) -> Office:
    services.init_office(actor="test")
    school_key = KeyPair.generate("school")
    write_key_pair(school_key, tmp_path / "school")
    services.add_school(SCHOOL.code, tmp_path / "school" / "school.pub", actor="test")
    return Office(tmp_path, school_key, home / "office.pub")


__all__ = ["BSNS", "ONDERWIJSNUMMERS", "SCHOOL", "Office", "Pupil", "office", "pupils", "tables"]
