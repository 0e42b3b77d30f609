"""The office accepts only the NCO domains, whatever a package's manifest claims."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pytest

from cohortsafe.domain import NCO_DOMAINS, SchoolYear
from cohortsafe.package import DeliveryContents, load_public, write_delivery
from tests.office.kit import SCHOOL, Office, pupils, tables

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def _package(office: Office, raw: dict[str, pa.Table], domains: tuple[str, ...]) -> Path:
    """A package as a school whose software was changed to send ``domains`` would write it."""
    path = office.root / "packages" / f"extra-{next(_n)}.nco"
    contents = DeliveryContents(SCHOOL, SchoolYear(2024), raw, {"objection": 0}, domains, None)
    write_delivery(
        contents,
        signing_key=office.school_key,
        recipient=load_public(office.office_pub),
        path=path,
    )
    return path


def _with_leergebied(domain: str) -> dict[str, pa.Table]:
    raw = tables(pupils(2), SchoolYear(2024))
    results = raw["toetsresultaten"]
    column = pa.array([domain, *results.column("leergebied").to_pylist()[1:]])
    raw["toetsresultaten"] = results.set_column(2, "leergebied", column)
    return raw


@pytest.mark.parametrize("extra", ["technisch_lezen", "woordenschat"])
def test_a_result_outside_the_nco_domains_is_refused_whatever_the_manifest_says(
    office: Office, extra: str
) -> None:
    path = _package(office, _with_leergebied(extra), (*NCO_DOMAINS, extra))
    (report,) = office.receive(path)
    assert report.status == "refused"
    assert "toetsresultaten.leergebied" in report.reason
    assert "outside the delivered domains" in report.reason
    assert "manifest.domains" in report.reason
    assert extra not in report.reason.replace(", ".join(NCO_DOMAINS), "")


def test_a_manifest_claiming_an_extra_domain_is_refused_even_without_such_results(
    office: Office,
) -> None:
    raw = tables(pupils(2), SchoolYear(2024))
    (report,) = office.receive(_package(office, raw, (*NCO_DOMAINS, "technisch_lezen")))
    assert report.status == "refused"
    assert "manifest.domains" in report.reason
    assert "technisch_lezen" not in report.reason


def test_a_narrowed_manifest_refuses_results_of_a_domain_it_does_not_claim(
    office: Office,
) -> None:
    raw = tables(pupils(2), SchoolYear(2024))  # rekenen_wiskunde and spelling
    (report,) = office.receive(_package(office, raw, ("spelling",)))
    assert report.status == "refused"
    assert "toetsresultaten.leergebied" in report.reason


def test_a_package_within_the_nco_domains_is_accepted(office: Office) -> None:
    raw = tables(pupils(2), SchoolYear(2024))
    (report,) = office.receive(_package(office, raw, NCO_DOMAINS))
    assert report.status != "refused", report.reason
