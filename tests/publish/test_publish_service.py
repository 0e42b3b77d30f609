"""The office makes school reports from the vault; each school fetches only its own."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pyarrow as pa
import pytest
from django.test import Client

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.office import services as office_services
from cohortsafe.app.publish.models import SchoolReportFile
from cohortsafe.app.publish.services import make_school_reports, report_policy, reports_folder
from cohortsafe.cli import main
from cohortsafe.domain import SchoolCode
from cohortsafe.errors import ExistsError, UsageError
from cohortsafe.package import KeyPair, write_key_pair
from tests.office.kit import DEFAULT_PERIOD, Office, Pupil, office, tables
from tests.research.airlock_kit import valid_bsns
from tests.web.conftest import add_account

pytestmark = pytest.mark.django_db
__all__ = ["office"]

PERIOD = str(DEFAULT_PERIOD)
SCHOOLS = [SchoolCode(f"{30 + n:02d}CD", "00") for n in range(4)]


def _with_growth(members: list[Pupil], school: SchoolCode, shift: float) -> dict[str, pa.Table]:
    made = tables(members, DEFAULT_PERIOD, school)
    results = made["toetsresultaten"].to_pylist()
    grown = [
        {**row, "toetsmoment": "E", "vaardigheidsscore": row["vaardigheidsscore"] + 8 + shift}
        for row in results
    ]
    made["toetsresultaten"] = pa.Table.from_pylist(
        results + grown, schema=made["toetsresultaten"].schema
    )
    return made


@pytest.fixture
def vault_with_growth(office: Office, tmp_path: Path) -> list[str]:
    """Five schools of eight pupils (group 5, M and E in two domains) in the vault."""
    numbers = iter(valid_bsns(8 * (len(SCHOOLS) + 1)))
    codes = []
    for i, school in enumerate([SchoolCode("12AB", "00"), *SCHOOLS]):
        members = [Pupil(next(numbers), number=n + 1) for n in range(8)]
        key = office.school_key
        if i:
            key = KeyPair.generate("school")
            write_key_pair(key, tmp_path / school.code)
            office_services.add_school(
                school.code, tmp_path / school.code / "school.pub", actor="t"
            )
        office.receive(
            office.delivery(
                members, school=school, signer=key, raw_tables=_with_growth(members, school, i)
            )
        )
        codes.append(school.code)
    return codes


def test_every_school_gets_its_report_kept_private_and_listed(
    vault_with_growth: list[str], tmp_path: Path
) -> None:
    run = make_school_reports(PERIOD, actor="test", out=tmp_path / "out", pdf=True)
    assert sorted(r.school for r in run.reports) == sorted(vault_with_growth)
    assert not any(r.withheld for r in run.reports)
    for made in SchoolReportFile.objects.all():
        for name in (made.html_file, made.pdf_file):
            path = reports_folder() / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(reports_folder().stat().st_mode) == 0o700
    page = (tmp_path / "out" / f"12AB00-{PERIOD}.html").read_text()
    assert "12AB00" in page
    assert "30CD00" not in page
    assert (tmp_path / "out" / f"12AB00-{PERIOD}.pdf").read_bytes().startswith(b"%PDF")
    # four other schools of equal size: the country is shown; without a schoolweging loaded
    # there is no predicted value, and the report says why
    assert "Groei landelijk" in page
    assert "te weinig andere scholen" not in page
    assert "omdat de schoolweging ontbreekt" in page
    (event,) = AuditEvent.objects.filter(action="publish.school_reports")
    assert event.details["reports"] == 5
    assert not any(code in json.dumps(event.details) for code in vault_with_growth)


def test_one_school_to_one_file_and_a_school_without_results_is_refused(
    vault_with_growth: list[str], tmp_path: Path
) -> None:
    run = make_school_reports(PERIOD, actor="test", schools=["30cd00"], out=tmp_path / "r.pdf")
    assert [r.school for r in run.reports] == ["30CD00"]
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(UsageError, match="nothing to report"):
        make_school_reports("2019-2020", actor="test", schools=["30CD00"])
    with pytest.raises(UsageError, match="exactly one --school"):
        make_school_reports(PERIOD, actor="test", out=tmp_path / "all.html")
    with pytest.raises(UsageError, match=r"FILE\.html or FILE\.pdf"):
        make_school_reports(PERIOD, actor="test", schools=["30CD00"], out=tmp_path / "x.txt")
    with pytest.raises(UsageError, match="not registered"):
        make_school_reports(PERIOD, actor="test", schools=["99ZZ00"])
    with pytest.raises(UsageError, match="--period"):
        make_school_reports("2025", actor="test", schools=["30CD00"])


def test_the_pupil_threshold_is_a_setting(
    vault_with_growth: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert report_policy().pupil_threshold == 5
    monkeypatch.setenv("COHORTSAFE_REPORT_MIN_PUPILS", "9")
    policy = report_policy()
    assert policy.pupil_threshold == 9
    assert policy.name == "school_report_min9"
    run = make_school_reports(PERIOD, actor="test", schools=["12AB00"])
    assert run.reports[0].withheld  # eight pupils in the only group: nothing to show
    monkeypatch.setenv("COHORTSAFE_REPORT_MIN_PUPILS", "4")
    with pytest.raises(Exception, match="between 5 and 50"):
        report_policy()


def test_only_the_schools_own_administrator_can_fetch_its_report(
    vault_with_growth: list[str],
) -> None:
    make_school_reports(PERIOD, actor="test", pdf=True)
    ours = SchoolReportFile.objects.get(brin="12AB")
    theirs = SchoolReportFile.objects.get(brin="30CD")
    add_account("beheer", "school", school="12AB00")
    add_account("ander", "school", school="30CD00")
    from cohortsafe.app.accounts import services as accounts

    admin = Client()
    admin.force_login(accounts.account("beheer").user)
    assert admin.get("/").url.endswith("/school/rapporten/")  # an office home: reports only
    listing = admin.get("/school/rapporten/").content.decode()
    assert f"/school/rapporten/{ours.pk}/html/" in listing
    assert f"/school/rapporten/{theirs.pk}/" not in listing
    got = admin.get(f"/school/rapporten/{ours.pk}/pdf/")
    assert got.status_code == 200
    assert b"".join(got.streaming_content).startswith(b"%PDF")
    assert "attachment" in got["Content-Disposition"]
    for kind in ("html", "pdf", "csv"):
        assert admin.get(f"/school/rapporten/{theirs.pk}/{kind}/").status_code == 404
    assert admin.get("/school/rapporten/999999/html/").status_code == 404
    assert Client().get(f"/school/rapporten/{ours.pk}/html/").status_code == 302  # sign in
    (event,) = AuditEvent.objects.filter(action="publish.report_downloaded")
    assert event.subject == str(ours.pk)


def test_the_console_makes_every_report(
    vault_with_growth: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "publish",
            "school-report",
            "--all",
            "--period",
            PERIOD,
            "--out",
            str(tmp_path / "o"),
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data
    assert len(data["reports"]) == 5
    assert data["withheld"] == 0
    assert main(["publish", "school-report", "--period", PERIOD]) == 2  # --school or --all


def _national_shown(run_reports: object, code: str) -> bool:
    made = next(r for r in run_reports if r.school == code)  # type: ignore[attr-defined]
    rows = [row for part in made.report["parts"] for row in part["rows"]]
    return all(row["national"] is not None for row in rows)


def test_reports_made_again_after_a_retraction_withhold_the_countrys_changed_figures(
    vault_with_growth: list[str], office: Office, tmp_path: Path
) -> None:
    first = make_school_reports(PERIOD, actor="test")
    assert _national_shown(first.reports, "12AB00")
    with office_services.open_vault() as vault:
        pupil = str(
            vault.con.execute(
                "SELECT pupil FROM leerlingen WHERE school = ? LIMIT 1",
                [office_services.pseudonyms().school("30CD00")],
            ).fetchone()[0]  # type: ignore[index]
        )
    with office_services.open_vault() as vault:
        vault.retract("r-test", office_services.pseudonyms().school("30CD00"), [pupil])
    again = make_school_reports(PERIOD, actor="test")
    assert not _national_shown(again.reports, "12AB00")  # one pupil apart: withheld
    history = json.loads((reports_folder() / f"released-{PERIOD}.json").read_text())
    assert len(history) == 2
    assert "30CD00" in json.dumps(history)  # kept by code: a key rotation changes nothing
    assert stat.S_IMODE((reports_folder() / f"released-{PERIOD}.json").stat().st_mode) == 0o600


def test_a_boards_administrator_gets_no_comparison_made_of_its_own_schools(
    vault_with_growth: list[str],
) -> None:
    from cohortsafe.app.accounts import services as accounts

    accounts.add_user(
        "bestuur",
        "school",
        home_role="office",
        schools=["12AB00", "30CD00", "31CD00", "32CD00"],
        actor="t",
    )
    run = make_school_reports(PERIOD, actor="test")
    assert not _national_shown(run.reports, "12AB00")  # only 33CD00 is left to compare
    assert _national_shown(run.reports, "33CD00")  # four schools outside its own


def test_public_tables_leave_one_way_per_school_year_and_dp_budgets_add_up(
    vault_with_growth: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cohortsafe.app.publish.services import make_public_tables

    run = make_public_tables(PERIOD, actor="test", out=tmp_path / "t1")
    assert [t["name"] for t in run.tables] == [
        "leerlingen_per_leergebied",
        "leerlingen_per_voorschool",
        "leerlingen_per_geslacht",
        "leerlingen_per_provincie",
    ]
    assert (tmp_path / "t1" / "index.html").is_file()
    for path in run.files:
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
        text = Path(path).read_text()
        assert not any(code in text for code in vault_with_growth)  # no school breakdown
    with pytest.raises(UsageError, match="one way only"):
        make_public_tables(PERIOD, actor="test", out=tmp_path / "t2", epsilon=1.0)
    with pytest.raises(ExistsError, match="not empty"):
        make_public_tables(PERIOD, actor="test", out=tmp_path / "t1")
    other = "2023-2024"
    first = make_public_tables(other, actor="test", out=tmp_path / "d1", epsilon=4.0)
    assert first.epsilon == pytest.approx(4.0)
    assert sum(t["epsilon"] for t in first.tables) == pytest.approx(4.0)
    make_public_tables(other, actor="test", out=tmp_path / "d2", epsilon=6.0)
    with pytest.raises(UsageError, match="limit of 10"):
        make_public_tables(other, actor="test", out=tmp_path / "d3", epsilon=0.5)
    with pytest.raises(UsageError, match="one way only"):
        make_public_tables(other, actor="test", out=tmp_path / "d4")
    code = main(["publish", "tables", "--period", PERIOD, "--out", str(tmp_path / "t5"), "--json"])
    assert code == 0, capsys.readouterr().out
    data = json.loads(capsys.readouterr().out)
    assert data["epsilon_total"] is None
    assert len(data["files"]) >= 2
    assert main(["publish", "tables", "--period", "2025", "--out", str(tmp_path / "t6")]) == 2
    events = AuditEvent.objects.filter(action="publish.tables")
    assert events.count() == 4
