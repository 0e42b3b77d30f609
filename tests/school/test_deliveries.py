"""The promises to parents, proven on packages opened the way the office opens them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from cohortsafe.app.audit.services import verify
from cohortsafe.app.school import services
from cohortsafe.app.school.models import DeliveredPupil, Delivery, ExcludedPupil, Pupil
from cohortsafe.domain.schemas import DELIVERY_SCHEMAS
from cohortsafe.package import open_package
from tests.exportkit import BSNS, ExportKit
from tests.school.conftest import SchoolSetup

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 30)


def _pgns(opened: object) -> set[str]:
    found: set[str] = set()
    for table in opened.tables.values():  # type: ignore[attr-defined]
        found |= set(table.column("pgn").to_pylist())
    return found


def _object(leerlingnummer: str) -> None:
    services.register_objection(
        services.find_pupil(leerlingnummer),
        received_on=dt.date(2026, 2, 1),
        received_from="ouder",
        channel="brief",
        actor="test",
    )


def test_an_objected_pupil_appears_in_no_table(school: SchoolSetup) -> None:
    _object("1002")
    (report,) = school.deliver()
    opened = school.open(report)
    assert BSNS[1] not in _pgns(opened)
    assert BSNS[0] in _pgns(opened)
    assert opened.manifest["exclusions"]["objection"] == 1
    assert opened.tables["leerlingen"].num_rows == 5
    excluded = ExcludedPupil.objects.get()
    assert (excluded.pupil.leerlingnummer, excluded.reason) == ("1002", "objection")


def test_a_late_objection_excludes_the_pupil_next_time_and_yields_a_retraction(
    school: SchoolSetup,
) -> None:
    (first,) = school.deliver()
    assert BSNS[2] in _pgns(school.open(first))
    _object("1003")
    (status,) = services.objections(actor="test")
    assert status.needs_retraction
    assert status.delivered_in == [first.file]

    (second,) = school.deliver()
    assert second.file != first.file
    assert BSNS[2] not in _pgns(school.open(second))

    retraction = services.retract(
        leerlingnummer="1003",
        office_key=school.office_pub,
        out=school.root / "out",
        actor="test",
        signing_key_path=school.signing_key,
    )
    opened = open_package(
        school.root / "out" / retraction.file,
        office_key=school.office_key,
        school_key=school.school_key.public,
    )
    assert opened.kind == "retraction"
    assert opened.manifest["pgns"] == [BSNS[2]]
    assert opened.manifest["deliveries"] == [first.delivery_id]
    assert opened.tables == {}
    (status,) = services.objections(actor="test")
    assert not status.needs_retraction
    assert status.retracted_in == [retraction.file]


def test_a_retraction_needs_an_objection_and_an_earlier_delivery(school: SchoolSetup) -> None:
    kwargs = {
        "office_key": school.office_pub,
        "out": school.root / "out",
        "actor": "t",
        "signing_key_path": school.signing_key,
    }
    with pytest.raises(services.RegisterError, match="no active objection"):
        services.retract(leerlingnummer="1001", **kwargs)  # type: ignore[arg-type]
    _object("1001")
    with pytest.raises(services.RegisterError, match="never delivered"):
        services.retract(leerlingnummer="1001", **kwargs)  # type: ignore[arg-type]


def test_a_withdrawn_objection_lets_the_pupil_be_delivered_again(school: SchoolSetup) -> None:
    _object("1004")
    services.withdraw_objection(services.find_pupil("1004"), actor="test")
    (report,) = school.deliver()
    assert BSNS[3] in _pgns(school.open(report))


def _study(code: str) -> None:
    services.add_study(
        code=code,
        title=f"Studie {code}",
        categories=["dyslexie", "adhd"],
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        actor="test",
    )


def _consent(code: str, category: str = "dyslexie") -> None:
    services.give_consent(
        services.find_pupil("1001"),
        study=code,
        categories=[category],
        given_by="ouder",
        given_on=dt.date(2026, 9, 1),
        actor="test",
    )


def test_special_category_data_leave_only_with_consent_for_that_study(
    school: SchoolSetup,
) -> None:
    _study("A")
    _study("B")
    _consent("A")
    (without_study,) = school.deliver()
    assert "bijzonder" not in school.open(without_study).tables
    (for_a,) = school.deliver(study="A")
    special = school.open(for_a).tables["bijzonder"]
    assert special.to_pylist() == [
        {"pgn": BSNS[0], "categorie": "dyslexie", "datum": dt.date(2024, 9, 1)}
    ]
    (for_b,) = school.deliver(study="B")
    opened_b = school.open(for_b)
    assert opened_b.tables["bijzonder"].num_rows == 0
    assert opened_b.manifest["exclusions"]["special_category_rows_without_consent"] == 1


def test_consent_for_another_category_delivers_nothing(school: SchoolSetup) -> None:
    _study("A")
    _consent("A", "adhd")
    (report,) = school.deliver(study="A")
    assert school.open(report).tables["bijzonder"].num_rows == 0


def test_withdrawn_consent_delivers_nothing(school: SchoolSetup) -> None:
    _study("A")
    _consent("A")
    services.withdraw_consent(services.find_pupil("1001"), study="A", actor="test")
    (report,) = school.deliver(study="A")
    assert school.open(report).tables["bijzonder"].num_rows == 0


def test_an_objection_beats_consent(school: SchoolSetup) -> None:
    _study("A")
    _consent("A")
    _object("1001")
    (report,) = school.deliver(study="A")
    opened = school.open(report)
    assert BSNS[0] not in _pgns(opened)
    assert opened.tables["bijzonder"].num_rows == 0


def test_only_allowed_domains_and_columns_leave(school: SchoolSetup) -> None:
    (report,) = school.deliver()
    opened = school.open(report)
    for name, table in opened.tables.items():
        assert table.schema.names == DELIVERY_SCHEMAS[name].names
    domains = set(opened.tables["toetsresultaten"].column("leergebied").to_pylist())
    assert domains <= {"rekenen_wiskunde", "begrijpend_lezen", "spelling"}


def test_a_narrower_domain_setting_narrows_the_delivery(
    school: SchoolSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COHORTSAFE_DELIVERY_DOMAINS", "spelling")
    (report,) = school.deliver()
    opened = school.open(report)
    assert set(opened.tables["toetsresultaten"].column("leergebied").to_pylist()) == {"spelling"}
    assert opened.manifest["exclusions"]["results_outside_delivered_domains"] == 24


def test_no_name_address_or_free_text_is_ever_in_a_package(
    school: SchoolSetup, tmp_path: Path
) -> None:
    _study("A")
    _consent("A")
    (report,) = school.deliver(study="A")
    out = tmp_path / "opened"
    school.open(report)
    assert report.file is not None
    open_package(
        school.root / "out" / report.file,
        office_key=school.office_key,
        school_key=school.school_key.public,
        out=out,
    )
    names = {p.achternaam for p in Pupil.objects.all()} | {"Zoë", "van der"}
    raw = b"".join(path.read_bytes() for path in out.iterdir())
    for name in names | {"verklaring aanwezig"}:
        assert name.encode() not in raw
    for table in school.open(report).tables.values():
        for column in table.columns:
            if pa.types.is_string(column.type):
                assert not names & set(column.to_pylist())


def test_every_delivered_row_carries_its_own_pupils_pgn(school: SchoolSetup) -> None:
    """Each pupil's own score and childcare months, under that pupil's PGN, none swapped."""
    kit = ExportKit.valid(pupils=6)
    for pupil in range(6):
        for result in range(6):  # six results per pupil, in the kit's order
            kit.set(
                "toetsresultaten.csv", 2 + 6 * pupil + result, "vaardigheidsscore", f"{110 + pupil}"
            )
        kit.set("voorschool.csv", 2 + pupil, "maanden", str(10 + pupil))
    (imported,) = services.import_exports(
        [kit.write(school.root / "distinct")], actor="test", replace=True, today=TODAY
    )
    assert imported.accepted
    _object("1003")  # a gap in the middle, so positions shift
    (report,) = school.deliver()
    opened = school.open(report)
    results = opened.tables["toetsresultaten"]
    scores = set(
        zip(*results.select(["pgn", "vaardigheidsscore"]).to_pydict().values(), strict=True)
    )
    assert scores == {(BSNS[i], 110.0 + i) for i in range(6) if i != 2}
    childcare = opened.tables["voorschool"]
    months = set(zip(*childcare.select(["pgn", "maanden"]).to_pydict().values(), strict=True))
    assert months == {(BSNS[i], 10 + i) for i in range(6) if i != 2}


def test_the_delivery_is_recorded(school: SchoolSetup) -> None:
    _object("1006")
    (report,) = school.deliver()
    delivery = Delivery.objects.get()
    assert str(delivery.delivery_id) == report.delivery_id
    assert delivery.file_name == "12AB00-2025-2026-1.nco"
    assert DeliveredPupil.objects.filter(delivery=delivery).count() == 5
    assert delivery.manifest["exclusions"]["objection"] == 1
    assert verify().ok


def test_a_study_outside_its_period_is_refused(school: SchoolSetup) -> None:
    services.add_study(
        code="OLD",
        title="Oud",
        categories=["dyslexie"],
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2021, 1, 1),
        actor="t",
    )
    with pytest.raises(services.RegisterError, match="runs from"):
        school.deliver(study="OLD")


def test_consent_only_for_categories_the_study_asks(school: SchoolSetup) -> None:
    _study("A")
    with pytest.raises(services.RegisterError, match="asks only for"):
        _consent("A", "medisch")


def test_a_second_active_objection_is_refused(school: SchoolSetup) -> None:
    _object("1001")
    with pytest.raises(services.RegisterError, match="active objection already"):
        _object("1001")


def test_objection_list_from_the_las_is_all_or_nothing(school: SchoolSetup) -> None:
    good = school.root / "good.csv"
    good.write_text("leerlingnummer;datum;van\n1001;03-02-2026;ouder\n1002;2026-02-04;\n")
    bad = school.root / "bad.csv"
    bad.write_text("leerlingnummer;datum\n1003;03-02-2026\n9999;31-02-2026\n")
    rejected = services.import_objection_list(bad, None, actor="test")
    assert not rejected.accepted
    assert {(p.line, p.column) for p in rejected.problems} == {(3, "datum"), (3, "leerlingnummer")}
    assert services.objections(actor="test") == []
    accepted = services.import_objection_list(good, None, actor="test")
    assert (accepted.registered, accepted.already_active) == (2, 0)
    again = services.import_objection_list(good, None, actor="test")
    assert (again.registered, again.already_active) == (0, 2)


@pytest.mark.parametrize("today", [dt.date(2025, 9, 1), dt.date(2026, 3, 7)])
def test_a_delivery_before_the_deadline_is_refused_without_the_flag(
    school: SchoolSetup, today: dt.date
) -> None:
    with pytest.raises(services.RegisterError, match=r"until 2026-03-07.*--before-deadline"):
        school.deliver(today=today)


def test_a_delivery_before_the_deadline_with_the_flag_warns(school: SchoolSetup) -> None:
    (report,) = school.deliver(today=dt.date(2026, 3, 7), before_deadline=True)
    assert report.delivered
    assert report.warnings == [
        "parents can still object until 2026-03-07; objections registered later will need "
        "a retraction"
    ]
    assert report.as_dict()["warnings"] == report.warnings
    assert "warning: parents can still object" in report.describe()


def test_a_delivery_after_the_deadline_needs_no_flag_and_carries_no_warning(
    school: SchoolSetup,
) -> None:
    (report,) = school.deliver(today=dt.date(2026, 3, 8))
    assert report.delivered
    assert report.warnings == []
