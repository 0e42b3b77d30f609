"""Reinstatement packages: signed and encrypted like a retraction, and any change is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortsafe.domain import SchoolCode
from cohortsafe.errors import IntegrityError, SignatureError
from cohortsafe.package import KeyPair, open_package, write_reinstatement

SCHOOL, OFFICE, OTHER = (KeyPair.generate(n) for n in ("school", "office", "other"))


def _write(path: Path) -> dict[str, object]:
    return write_reinstatement(
        school=SchoolCode("12AB", "00"),
        pgns=["000000002", "000000001"],
        retractions=["r-2", "r-1"],
        signing_key=SCHOOL,
        recipient=OFFICE.public,
        path=path,
    )


def test_the_office_opens_a_reinstatement_with_its_manifest(tmp_path: Path) -> None:
    manifest = _write(tmp_path / "r.nco")
    opened = open_package(tmp_path / "r.nco", office_key=OFFICE, school_key=SCHOOL.public)
    assert opened.kind == "reinstatement"
    assert opened.manifest == manifest
    assert opened.manifest["pgns"] == ["000000001", "000000002"]
    assert opened.manifest["retractions"] == ["r-1", "r-2"]
    assert opened.manifest["signer"] == SCHOOL.public.fingerprint
    assert opened.tables == {}


def test_an_altered_or_foreign_reinstatement_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.nco"
    _write(path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    altered = tmp_path / "altered.nco"
    altered.write_bytes(raw)
    with pytest.raises(IntegrityError):
        open_package(altered, office_key=OFFICE, school_key=SCHOOL.public)
    with pytest.raises(SignatureError):
        open_package(path, office_key=OFFICE, school_key=OTHER.public)
