"""Packages: only the office opens them, only the school's key signs them, any change is refused."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import (
    AllowListError,
    ConfigurationError,
    DecryptionError,
    ExistsError,
    IntegrityError,
    PackageError,
    SignatureError,
)
from cohortsafe.package import (
    DeliveryContents,
    KeyPair,
    allowed_table,
    load_private,
    load_public,
    open_package,
    write_delivery,
    write_key_pair,
)

SCHOOL, OFFICE, OTHER = (KeyPair.generate(n) for n in ("school", "office", "other"))


def _contents(rows: int = 3) -> DeliveryContents:
    pgns = [f"{i:09d}" for i in range(rows)]
    tables = {
        "voorschool": pa.table(
            {
                "pgn": pgns,
                "soort": ["vve"] * rows,
                "maanden": pa.array([12] * rows, pa.int16()),
                "dagdelen_per_week": [2.5] * rows,
            }
        ),
        "toetsresultaten": pa.table(
            {
                "pgn": pgns,
                "toets": ["t"] * rows,
                "leergebied": ["spelling"] * rows,
                "toetsmoment": ["M"] * rows,
                "schooljaar": ["2025-2026"] * rows,
                "jaargroep": pa.array([5] * rows, pa.int8()),
                "afnamedatum": pa.array([dt.date(2026, 1, 20)] * rows, pa.date32()),
                "vaardigheidsscore": np.random.default_rng(1).normal(150, 10, rows),
                "schaal": ["s"] * rows,
                "niveau": pa.array([None] * rows, pa.string()),
            }
        ),
    }
    return DeliveryContents(
        SchoolCode("12AB", "00"), SchoolYear(2025), tables, {"objection": 2}, ("spelling",)
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pkg") / "p.nco"
    write_delivery(_contents(), signing_key=SCHOOL, recipient=OFFICE.public, path=path)
    return path


def test_the_office_opens_what_the_school_sent(package: Path, tmp_path: Path) -> None:
    opened = open_package(
        package, office_key=OFFICE, school_key=SCHOOL.public, out=tmp_path / "out"
    )
    assert opened.kind == "delivery"
    assert opened.tables["voorschool"].num_rows == 3
    assert opened.manifest["algorithms"]["signature"] == ["Ed25519", "ML-DSA-65"]
    assert opened.manifest["recipient"] == OFFICE.public.fingerprint
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "manifest.json",
        "toetsresultaten.parquet",
        "voorschool.parquet",
    ]


def test_another_office_cannot_open_it(package: Path) -> None:
    with pytest.raises(DecryptionError, match="another office key"):
        open_package(package, office_key=OTHER, school_key=SCHOOL.public)


def test_a_package_signed_by_another_key_is_refused(package: Path) -> None:
    with pytest.raises(SignatureError, match="not by the given school key"):
        open_package(package, office_key=OFFICE, school_key=OTHER.public)


def test_a_forged_package_with_a_copied_key_id_is_refused(tmp_path: Path) -> None:
    """Another key that claims the school's fingerprint still fails the signature itself."""
    forger = KeyPair(SCHOOL.name, SCHOOL.mlkem, SCHOOL.x25519, OTHER.ed25519, OTHER.mldsa)
    path = tmp_path / "forged.nco"
    write_delivery(_contents(), signing_key=forger, recipient=OFFICE.public, path=path)
    with pytest.raises(SignatureError):
        open_package(path, office_key=OFFICE, school_key=SCHOOL.public)


def test_a_flipped_byte_in_the_content_is_refused(package: Path, tmp_path: Path) -> None:
    raw = bytearray(package.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    altered = tmp_path / "altered.nco"
    altered.write_bytes(raw)
    with pytest.raises(IntegrityError, match="altered"):
        open_package(altered, office_key=OFFICE, school_key=SCHOOL.public, out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_flipped_byte_anywhere_is_refused(
    package: Path, tmp_path: Path, data: st.DataObject
) -> None:
    raw = bytearray(package.read_bytes())
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    altered = tmp_path / "altered.nco"
    altered.write_bytes(raw)
    with pytest.raises(PackageError):
        open_package(altered, office_key=OFFICE, school_key=SCHOOL.public)


def test_a_truncated_package_is_refused(package: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.nco"
    cut.write_bytes(package.read_bytes()[:-100])
    with pytest.raises(IntegrityError, match="truncated"):
        open_package(cut, office_key=OFFICE, school_key=SCHOOL.public)


@pytest.mark.parametrize("extra", [b"\0", b"x" * 4096, b"\0\0\0\x10" + b"y" * 16])
def test_bytes_after_the_last_part_are_refused(package: Path, tmp_path: Path, extra: bytes) -> None:
    longer = tmp_path / "longer.nco"
    longer.write_bytes(package.read_bytes() + extra)
    with pytest.raises(IntegrityError, match="bytes follow its last part"):
        open_package(longer, office_key=OFFICE, school_key=SCHOOL.public)


def test_a_large_package_streams_in_many_parts(tmp_path: Path) -> None:
    path = tmp_path / "big.nco"
    manifest = write_delivery(
        _contents(rows=400_000), signing_key=SCHOOL, recipient=OFFICE.public, path=path
    )
    assert path.stat().st_size > 3 * (1 << 20)
    opened = open_package(path, office_key=OFFICE, school_key=SCHOOL.public)
    assert opened.tables["toetsresultaten"].num_rows == 400_000
    assert manifest["tables"]["toetsresultaten"]["rows"] == 400_000


def test_the_allow_list_raises_instead_of_dropping() -> None:
    table = _contents().tables["voorschool"].append_column("achternaam", pa.array(["x"] * 3))
    with pytest.raises(AllowListError, match="achternaam may not leave"):
        allowed_table("voorschool", table)
    with pytest.raises(AllowListError, match="may not leave"):
        allowed_table("leerlingen_met_namen", table)
    contents = _contents()
    contents.tables["voorschool"] = table
    with pytest.raises(AllowListError):
        write_delivery(
            contents,
            signing_key=SCHOOL,
            recipient=OFFICE.public,
            path=Path("/nonexistent/never-written.nco"),
        )


def test_key_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    private, public = write_key_pair(KeyPair.generate("school"), tmp_path)
    assert private.stat().st_mode & 0o777 == 0o600
    assert load_private(private).public.fingerprint == load_public(public).fingerprint
    with pytest.raises(ExistsError, match="never overwritten"):
        write_key_pair(KeyPair.generate("school"), tmp_path)
    os.chmod(private, 0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load_private(private)
    with pytest.raises(ConfigurationError, match="expected a private key"):
        KeyPair.from_json(public.read_text())
    document = public.read_text().replace('"ML-DSA-65"', '"ML-DSA-44"')
    with pytest.raises(ConfigurationError, match="signature algorithms"):
        load_public(_write(tmp_path / "x.pub", document))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
