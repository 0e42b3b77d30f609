"""Projects, researchers and their workspaces through the office's services and the console.

Tried as the people who use them would, and as a researcher who wants more: another
project's workspace, a column never approved, a project past its end, a retracted
pupil, a statement that is no query.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.audit.services import verify
from cohortsafe.app.research import services as research
from cohortsafe.app.research.models import Project
from cohortsafe.cli import main
from cohortsafe.errors import AccessError, ExistsError, ProjectError, UsageError, WorkspaceError
from tests.office.kit import Office, office, pupils

pytestmark = pytest.mark.django_db
__all__ = ["office"]  # the fixture

RESULTS = ["leergebied", "toetsmoment", "jaargroep", "schooljaar", "vaardigheidsscore"]
UNTIL = dt.date.today() + dt.timedelta(days=365)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return status, json.loads(out)


def _project(code: str, *members: str, tables: dict[str, list[str]] | None = None) -> None:
    research.new_project(code, title="t", institution="i", until=UNTIL, actor="test")
    for table, columns in (tables or {"toetsresultaten": RESULTS}).items():
        research.approve_table(code, table, columns, actor="test")
    for name in members:
        research.grant(code, name, actor="test")
    research.build_workspace(code, actor="test")


@pytest.fixture
def people(office: Office) -> Office:
    office.receive(office.delivery(pupils(6)))
    for name, role in (("anna", "researcher"), ("bert", "researcher"), ("carla", "checker")):
        accounts.add_user(name, role, home_role="office", actor="test")
    return office


def _actions() -> list[str]:
    return list(AuditEvent.objects.values_list("action", flat=True))


def test_a_project_from_the_console_to_a_researchers_query(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    office.receive(office.delivery(pupils(6)))
    assert _run(capsys, "user", "add", "anna", "--role", "researcher")[0] == 0
    status, made = _run(
        capsys,
        "research",
        "project-new",
        "NCO-1",
        "--title",
        "Rekenen",
        "--institution",
        "UU",
        "--until",
        UNTIL.isoformat(),
    )
    assert status == 0, made
    assert made["project"]["state"] == "open"
    assert made["project"]["reviews"] == 2
    columns = ",".join(RESULTS)
    assert _run(capsys, "research", "project-vars", "NCO-1", "--table", "toetsresultaten",
                "--columns", columns)[0] == 0  # fmt: skip
    assert _run(capsys, "research", "project-grant", "NCO-1", "--user", "anna")[0] == 0
    status, built = _run(capsys, "research", "workspace-build", "NCO-1")
    assert status == 0, built
    assert built["rows"] == {"toetsresultaten": 12}
    assert built["risk"]["population"] == 6  # one school year of six pupils
    status, risk = _run(capsys, "research", "risk", "NCO-1", "--k", "7")
    assert status == 0
    assert risk["risk"]["at_risk"] == 6  # all six share one combination, fewer than 7
    status, answer = _run(
        capsys,
        "research",
        "sql",
        "NCO-1",
        "--user",
        "anna",
        "SELECT leergebied, count(*) AS n FROM toetsresultaten GROUP BY 1 ORDER BY 1",
    )
    assert status == 0, answer
    assert answer["columns"] == ["leergebied", "n"]
    assert answer["rows"] == [["rekenen_wiskunde", 6], ["spelling", 6]]
    status, listed = _run(capsys, "research", "projects")
    (only,) = listed["projects"]
    assert only["researchers"] == ["anna"]
    assert only["tables"] == {"toetsresultaten": RESULTS}
    assert only["workspace"] == "built"
    # every step is in the audit log, and the chain holds
    actions = _actions()
    for action in (
        "user.add",
        "research.project_new",
        "research.project_vars",
        "research.project_grant",
        "research.workspace_build",
        "research.query",
        "research.risk",
    ):
        assert action in actions
    query = AuditEvent.objects.get(action="research.query")
    assert query.actor == "user:anna"
    assert query.details["rows"] == 2
    assert "rekenen_wiskunde" not in json.dumps(query.details).replace("GROUP", "")  # no rows
    assert verify().ok


def test_a_researcher_reaches_only_the_projects_granted_to_them(people: Office) -> None:
    _project("PA", "anna")
    _project("PB", "bert")
    assert research.run_sql("PA", "SELECT count(*) FROM toetsresultaten", user="anna", actor="t")
    with pytest.raises(AccessError, match="no access") as refused:
        research.run_sql("PB", "SELECT count(*) FROM toetsresultaten", user="anna", actor="t")
    # the refusal says the same of a project that does not exist: nothing to probe
    with pytest.raises(AccessError) as missing:
        research.run_sql("PC", "SELECT 1", user="anna", actor="t")
    assert str(refused.value).replace(" PB", " X") == str(missing.value).replace(" PC", " X")
    with pytest.raises(AccessError), research.open_workspace("PB", user="anna"):
        pass
    # a checker is no researcher, even when someone tries to add one
    with pytest.raises(AccessError, match="checker"):
        research.grant("PA", "carla", actor="t")
    with pytest.raises(AccessError):
        research.run_sql("PA", "SELECT 1", user="carla", actor="t")
    with pytest.raises(AccessError, match="no active user"):
        research.run_sql("PA", "SELECT 1", user="nobody", actor="t")


def test_what_two_projects_see_of_one_pupil_does_not_link(people: Office) -> None:
    tables = {"toetsresultaten": RESULTS, "leerlingen": ["geslacht"]}
    _project("PA", "anna", tables=tables)
    _project("PB", "anna", tables=tables)
    seen = {}
    for code in ("PA", "PB"):
        rows = research.run_sql(code, "SELECT pupil, school, record FROM leerlingen", user="anna",
                                actor="t").rows  # fmt: skip
        seen[code] = {value for row in rows for value in row}
    assert seen["PA"]
    assert not seen["PA"] & seen["PB"]
    from cohortsafe.app.office.services import open_vault

    with open_vault() as vault:
        held = vault.table("leerlingen")
        vault_values = {*held.column("pupil").to_pylist(), *held.column("school").to_pylist()}
    assert not vault_values & (seen["PA"] | seen["PB"])


def test_an_unapproved_column_is_not_there_and_a_new_approval_waits_for_a_rebuild(
    people: Office,
) -> None:
    _project("PA", "anna", tables={"toetsresultaten": ["leergebied", "vaardigheidsscore"]})
    with pytest.raises(WorkspaceError, match="query failed"):
        research.run_sql("PA", "SELECT jaargroep FROM toetsresultaten", user="anna", actor="t")
    with pytest.raises(WorkspaceError, match="query failed"):
        research.run_sql("PA", "SELECT * FROM leerlingen", user="anna", actor="t")
    research.approve_table("PA", "toetsresultaten", ["leergebied"], actor="t")
    # narrowed: the old extract still holds the score, so nothing is answered until rebuilt
    with pytest.raises(WorkspaceError, match="rebuilt"):
        research.run_sql("PA", "SELECT leergebied FROM toetsresultaten", user="anna", actor="t")
    research.build_workspace("PA", actor="t")
    with pytest.raises(WorkspaceError, match="query failed"):
        research.run_sql("PA", "SELECT vaardigheidsscore FROM toetsresultaten", user="anna",
                         actor="t")  # fmt: skip
    with pytest.raises(ProjectError, match="never reaches a workspace"):
        research.approve_table("PA", "toetsresultaten", ["delivery_id"], actor="t")
    with pytest.raises(ProjectError, match="no column"):
        research.approve_table("PA", "leerlingen", ["pgn"], actor="t")
    with pytest.raises(ProjectError, match="study"):
        research.approve_table("PA", "bijzonder", ["categorie"], actor="t")


def test_a_refused_statement_is_audited_with_its_reason(people: Office, tmp_path: Path) -> None:
    _project("PA", "anna")
    target = tmp_path / "stolen.csv"
    for statement in (
        f"COPY toetsresultaten TO '{target}'",
        f"SELECT * FROM read_csv('{tmp_path}/x.csv')",
        "ATTACH 'other.duckdb'",
        "INSTALL httpfs",
        "SELECT 1; SELECT 2",
    ):
        with pytest.raises(WorkspaceError):
            research.run_sql("PA", statement, user="anna", actor="t")
    assert not target.exists()
    refused = AuditEvent.objects.filter(action="research.query_refused")
    assert refused.count() == 5
    assert all(e.details["reason"] and e.actor == "user:anna" for e in refused)


def test_a_retraction_rebuilds_every_workspace_before_intake_returns(people: Office) -> None:
    _project("PA", "anna", tables={"leerlingen": ["jaargroep"], "toetsresultaten": RESULTS})
    before = research.run_sql("PA", "SELECT count(DISTINCT pupil) FROM leerlingen", user="anna",
                              actor="t").rows  # fmt: skip
    assert before == [[6]]
    (report,) = people.receive(people.retraction([pupils(6)[0].pgn]))
    assert report.status == "retracted"
    assert report.counts["workspaces_rebuilt"] == 1
    for table in ("leerlingen", "toetsresultaten"):
        after = research.run_sql("PA", f"SELECT count(DISTINCT pupil) FROM {table}", user="anna",
                                 actor="t").rows  # fmt: skip
        assert after == [[5]]


def test_a_workspace_that_cannot_be_rebuilt_after_a_retraction_is_closed(
    people: Office, home: Path
) -> None:
    _project("PA", "anna")
    key = home / "keys" / Project.objects.get(code="PA").key_file
    moved = key.with_suffix(".away")
    key.rename(moved)
    (report,) = people.receive(people.retraction([pupils(6)[0].pgn]))
    assert report.status == "retracted"
    assert report.counts["workspaces_closed"] == 1
    with pytest.raises(WorkspaceError, match="being rebuilt"):
        research.run_sql("PA", "SELECT 1", user="anna", actor="t")
    assert "research.workspace_stale" in _actions()
    moved.rename(key)
    research.build_workspace("PA", actor="t")
    rows = research.run_sql("PA", "SELECT count(DISTINCT pupil) FROM toetsresultaten",
                            user="anna", actor="t").rows  # fmt: skip
    assert rows == [[5]]


def test_a_project_past_its_end_date_or_ended_is_closed(people: Office, home: Path) -> None:
    _project("PA", "anna")
    _project("PB", "anna")
    Project.objects.filter(code="PA").update(until=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(AccessError, match="expired"):
        research.run_sql("PA", "SELECT 1", user="anna", actor="t")
    with pytest.raises(ProjectError, match="expired"):
        research.build_workspace("PA", actor="t")
    research.end_project("PB", actor="t")
    with pytest.raises(AccessError, match="ended"):
        research.run_sql("PB", "SELECT 1", user="anna", actor="t")
    assert not (home / "research" / "PB" / "extract").exists()
    with pytest.raises(ProjectError, match="ended"):
        research.grant("PB", "bert", actor="t")
    with pytest.raises(ProjectError, match="ended"):
        research.end_project("PB", actor="t")
    states = {p.code: p.state for p in research.projects()}
    assert states == {"PA": "expired", "PB": "ended"}


def test_what_a_new_project_must_have(people: Office, tmp_path: Path) -> None:
    def new(code: str = "PP", **given: Any) -> research.ProjectInfo:
        fields: dict[str, Any] = {"title": "t", "institution": "i", "until": UNTIL, "actor": "t"}
        return research.new_project(code, **{**fields, **given})

    with pytest.raises(ProjectError, match="past"):
        new(until=dt.date.today() - dt.timedelta(days=1))
    with pytest.raises(ProjectError, match="3 years"):
        new(until=dt.date.today() + dt.timedelta(days=3 * 366 + 1))
    with pytest.raises(ProjectError, match="at least 2"):
        new(reviews=1)
    with pytest.raises(ProjectError, match="project code"):
        new("../x")
    with pytest.raises(ProjectError, match="title"):
        new(title=" ")
    assert new().code == "PP"
    with pytest.raises(ExistsError):
        new()
    with pytest.raises(ProjectError, match="no approved table"):
        research.build_workspace("PP", actor="t")
    # nothing half-made is left by the refusals: one project, one key
    assert Project.objects.count() == 1
    assert len(list((tmp_path / "home" / "keys").glob("project-*.key"))) == 1


def test_the_project_key_and_folder_are_private(people: Office, home: Path) -> None:
    _project("PA", "anna")
    key = home / "keys" / Project.objects.get(code="PA").key_file
    assert key.stat().st_mode & 0o777 == 0o600
    folder = home / "research" / "PA"
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path


def test_the_offices_own_policy_binds_the_workspace_session(people: Office, tmp_path: Path) -> None:
    own = tmp_path / "strict.toml"
    own.write_text('name = "strict"\nextends = "research"\n[min_pupils]\nthreshold = 25\n')
    research.new_project("PS", title="t", institution="i", until=UNTIL, policy=str(own),
                         actor="t")  # fmt: skip
    research.approve_table("PS", "toetsresultaten", RESULTS, actor="t")
    research.grant("PS", "anna", actor="t")
    research.build_workspace("PS", actor="t")
    own.unlink()  # the project keeps its own copy
    with research.open_workspace("PS", user="anna") as workspace:
        session = workspace.session()
        assert session.policy.name == "strict"
        assert session.policy.min_pupils is not None
        assert session.policy.min_pupils.threshold == 25


def test_accounts_belong_in_the_home_of_their_role(people: Office) -> None:
    with pytest.raises(UsageError, match="office home"):
        accounts.add_user("rita", "researcher", home_role="school", actor="t")
    # a school administrator at the office fetches that school's reports (docs/publish.md)
    accounts.add_user("sara", "school", home_role="office", schools=["12AB00"], actor="t")
    with pytest.raises(UsageError, match="names the school"):
        accounts.add_user("dirk", "school", home_role="school", actor="t")
    with pytest.raises(UsageError, match=r"--school"):
        accounts.add_user("dirk", "school", home_role="school", schools=["XXXX"], actor="t")
    with pytest.raises(UsageError, match="only a school"):
        accounts.add_user("erik", "checker", home_role="office", schools=["12AB00"], actor="t")
    with pytest.raises(UsageError, match="user name"):
        accounts.add_user("a b", "checker", home_role="office", actor="t")
    with pytest.raises(ExistsError):
        accounts.add_user("anna", "checker", home_role="office", actor="t")
    made = accounts.add_user("dirk", "school", home_role="school", schools=["12ab00"], actor="t")
    assert made.schools == ("12AB00",)
    assert [a.name for a in accounts.users("researcher")] == ["anna", "bert"]
