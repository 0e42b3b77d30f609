"""A school home with one imported export and the keys of a school and an office."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from cohortsafe.app.school import services
from cohortsafe.domain import SchoolYear
from cohortsafe.package import KeyPair, OpenedPackage, open_package, write_key_pair
from tests.exportkit import ExportKit

PERIOD = SchoolYear(2025)


@dataclass
class SchoolSetup:
    root: Path
    school_key: KeyPair
    office_key: KeyPair
    office_pub: Path
    signing_key: Path

    def deliver(self, **kwargs: object) -> list[services.DeliveryReport]:
        return services.deliver(
            period=PERIOD,
            office_key=self.office_pub,
            out=self.root / "out",
            actor="test",
            signing_key_path=self.signing_key,
            **kwargs,  # type: ignore[arg-type]
        )

    def open(self, report: services.DeliveryReport) -> OpenedPackage:
        assert report.file is not None
        return open_package(
            self.root / "out" / report.file,
            office_key=self.office_key,
            school_key=self.school_key.public,
        )


@pytest.fixture
def school(tmp_path: Path, db: None) -> SchoolSetup:
    kit = ExportKit.valid(pupils=6)
    (report,) = services.import_exports(
        [kit.write(tmp_path / "export")], actor="test", today=dt.date(2026, 11, 30)
    )
    assert report.accepted
    school_key, office_key = KeyPair.generate("school"), KeyPair.generate("office")
    write_key_pair(school_key, tmp_path / "keys")
    write_key_pair(office_key, tmp_path / "keys")
    return SchoolSetup(
        tmp_path,
        school_key,
        office_key,
        tmp_path / "keys" / "office.pub",
        tmp_path / "keys" / "school.key",
    )
