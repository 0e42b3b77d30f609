"""The research environment's use cases: projects, their workspaces and researchers' queries.

Office staff make a project, approve its tables and columns, grant researchers
access and build its workspace; the researchers then query it. A project is open
until its end date (inclusive) or until the office ends it, whichever comes first;
after that no researcher reaches its workspace, and ending it removes the extract.

Each project has a folder of its own in the office's home (``research/CODE``: the
extract, its manifest, the office's policy, the release ledger) and a key of its
own (``keys/project-….key``, mode 0600), so its pseudonyms link to no other
project's and not to the vault's. Every step, every query and every refused query
is audited; a query's rows never are.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.accounts.services import account, require_role
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.research.models import ApprovedTable, Membership, Project
from cohortsafe.config import load
from cohortsafe.domain import SchoolYear
from cohortsafe.errors import (
    AccessError,
    CohortsafeError,
    ConfigurationError,
    ExistsError,
    IdentifierError,
    ProjectError,
    WorkspaceError,
)
from cohortsafe.files import private_dir, write_atomic
from cohortsafe.pseudonym import PROJECT, PseudonymKey, load_key, new_key, write_key
from cohortsafe.research import (
    DEFAULT_K,
    POLICY_FILE,
    ProjectSpec,
    QueryResult,
    RiskReport,
    Workspace,
    build_extract,
    checked_code,
    risk_report,
)
from cohortsafe.research._extract import EXTRACT, MANIFEST
from cohortsafe.sdc import POLICY_NAMES, load_policy
from cohortsafe.vault import VAULT_SCHEMAS, Vault

__all__ = [
    "MAX_YEARS",
    "MIN_REVIEWS",
    "ProjectInfo",
    "approve_table",
    "build_workspace",
    "end_project",
    "grant",
    "new_project",
    "open_workspace",
    "project",
    "project_for_researcher",
    "projects",
    "rebuild_after_retraction",
    "risk",
    "run_sql",
]

MAX_YEARS = 3  # an institution is authorised for at most three years (CBS practice)
MIN_REVIEWS = 2  # every output is reviewed by two independent checkers at least


def _home() -> Path:
    return load().home


def project_folder(code: str) -> Path:
    return _home() / "research" / code


def _keys_folder() -> Path:
    return _home() / "keys"


@dataclass(frozen=True)
class ProjectInfo:
    """A project as the listings show it."""

    code: str
    title: str
    institution: str
    approval: str
    until: dt.date
    state: str  # open | expired | ended
    policy: str
    policy_fingerprint: str
    reviews: int
    study: str
    school_years: list[str]
    tables: dict[str, list[str]]
    researchers: list[str]
    workspace: str  # none | built | stale
    built_at: str | None

    @classmethod
    def of(cls, held: Project) -> ProjectInfo:
        workspace = "none" if held.built_at is None else "stale" if held.stale else "built"
        return cls(
            held.code,
            held.title,
            held.institution,
            held.approval,
            held.until,
            _state(held),
            held.policy,
            held.policy_fingerprint,
            held.reviews,
            held.study,
            list(held.school_years),
            {t.table: list(t.columns) for t in held.tables.all()},
            [m.account.name for m in held.members.select_related("account__user")],
            workspace,
            held.built_at.isoformat(timespec="seconds") if held.built_at else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "institution": self.institution,
            "approval": self.approval,
            "until": self.until.isoformat(),
            "state": self.state,
            "policy": self.policy,
            "policy_fingerprint": self.policy_fingerprint,
            "reviews": self.reviews,
            "study": self.study or None,
            "school_years": self.school_years,
            "tables": self.tables,
            "researchers": self.researchers,
            "workspace": self.workspace,
            "built_at": self.built_at,
        }


def project_state(held: Project) -> str:
    """open, expired (past its end date) or ended (by the office)."""
    return _state(held)


def _state(held: Project) -> str:
    if held.ended_at is not None:
        return "ended"
    if timezone.localdate() > held.until:
        return "expired"
    return "open"


def project(code: str) -> Project:
    held = Project.objects.filter(code=code).first()
    if held is None:
        raise ProjectError(f"there is no project {code}")
    return held


def projects() -> list[ProjectInfo]:
    """Every project, by code."""
    return [ProjectInfo.of(p) for p in Project.objects.prefetch_related("tables")]


def _changeable(code: str) -> Project:
    held = project(code)
    if _state(held) == "ended":
        raise ProjectError(f"project {code} has ended; an ended project does not change")
    return held


# --- the office: projects ---------------------------------------------------------------


def _latest_end(today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year + MAX_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS, day=28)


def _checked_until(until: dt.date) -> dt.date:
    today = timezone.localdate()
    if until < today:
        raise ProjectError("the end date is in the past: a project ends on or after today")
    if until > _latest_end(today):
        raise ProjectError(
            f"a project is approved for at most {MAX_YEARS} years: its end date is "
            f"{_latest_end(today).isoformat()} at the latest"
        )
    return until


def _policy(policy: str) -> tuple[str, str, str]:
    """(name, TOML text for the office's own policy or "", fingerprint)."""
    loaded = load_policy(policy)
    if policy in POLICY_NAMES:
        return loaded.name, "", loaded.fingerprint
    return loaded.name, Path(policy).read_text(encoding="utf-8"), loaded.fingerprint


def _school_years(years: Sequence[str]) -> list[str]:
    try:
        return sorted({str(SchoolYear.parse(y)) for y in years})
    except IdentifierError as error:
        raise ProjectError(f"school year: {error}") from None


@holds_home
def new_project(
    code: str,
    *,
    title: str,
    institution: str,
    until: dt.date,
    actor: str,
    approval: str = "",
    policy: str = "research",
    reviews: int = MIN_REVIEWS,
    study: str = "",
    school_years: Sequence[str] = (),
) -> ProjectInfo:
    """Register a project and make its key; its tables are approved one by one after."""
    try:
        checked_code(code)
    except ConfigurationError as error:
        raise ProjectError(str(error)) from None
    if not title.strip() or not institution.strip():
        raise ProjectError("a project has a title and an institution")
    if reviews < MIN_REVIEWS:
        raise ProjectError(f"every output is reviewed by at least {MIN_REVIEWS} checkers")
    _checked_until(until)
    name, text, fingerprint = _policy(policy)
    years = _school_years(school_years)
    if Project.objects.filter(code=code).exists():
        raise ExistsError(f"there is a project {code} already")
    private_dir(_keys_folder())
    key = new_key(PROJECT)
    path = write_key(key, _keys_folder())
    try:
        with transaction.atomic():
            held = Project.objects.create(
                code=code,
                title=title.strip(),
                institution=institution.strip(),
                approval=approval.strip(),
                until=until,
                policy=name,
                policy_text=text,
                policy_fingerprint=fingerprint,
                reviews=reviews,
                study=study.strip(),
                school_years=years,
                key_file=path.name,
                key_fingerprint=key.fingerprint,
                created_by=actor,
            )
            record(
                "research.project_new",
                actor=actor,
                subject=code,
                institution=held.institution,
                until=until.isoformat(),
                policy=name,
                policy_fingerprint=fingerprint,
                reviews=reviews,
                study=held.study or None,
                school_years=years,
                key_id=key.key_id,
            )
    except BaseException:
        path.unlink(missing_ok=True)  # a project that was not registered keeps no key
        raise
    private_dir(project_folder(code))
    return ProjectInfo.of(held)


@holds_home
def grant(code: str, user: str, *, actor: str) -> ProjectInfo:
    """Give a researcher access to a project's workspace."""
    held = _changeable(code)
    member = require_role(user, Account.Role.RESEARCHER)
    with transaction.atomic():
        _, made = Membership.objects.get_or_create(
            project=held, account=member, defaults={"granted_by": actor}
        )
        if not made:
            raise ExistsError(f"{user} is in project {code} already")
        record("research.project_grant", actor=actor, subject=code, user=user)
    return ProjectInfo.of(held)


def _spec(held: Project, tables: dict[str, list[str]] | None = None) -> ProjectSpec:
    approved = tables if tables is not None else {t.table: t.columns for t in held.tables.all()}
    return ProjectSpec(
        held.code,
        {t: tuple(c) for t, c in approved.items()},
        school_years=tuple(held.school_years),
        study=held.study or None,
        policy=held.policy,
    )


@holds_home
def approve_table(
    code: str, table: str, columns: Sequence[str], *, actor: str, drop: bool = False
) -> ProjectInfo:
    """Approve ``columns`` of a vault table for a project (replacing what was approved of
    it), or with ``drop`` take the table away. A built workspace is stale until rebuilt."""
    held = _changeable(code)
    tables = {t.table: list(t.columns) for t in held.tables.all()}
    if table not in VAULT_SCHEMAS:
        raise ProjectError(f"no vault table {table!r}; the tables are {', '.join(VAULT_SCHEMAS)}")
    if drop:
        if table not in tables:
            raise ProjectError(f"project {code} has no approved table {table}")
        del tables[table]
    else:
        tables[table] = list(columns)
        try:
            _spec(held, tables)  # every rule of what a workspace may hold
        except ConfigurationError as error:
            raise ProjectError(str(error)) from None
    with transaction.atomic():
        if drop:
            ApprovedTable.objects.filter(project=held, table=table).delete()
        else:
            ApprovedTable.objects.update_or_create(
                project=held, table=table, defaults={"columns": list(columns), "approved_by": actor}
            )
        if held.built_at is not None:
            held.stale, held.stale_reason = True, "the approved variables changed"
            held.save(update_fields=["stale", "stale_reason"])
        record(
            "research.project_vars",
            actor=actor,
            subject=code,
            table=table,
            columns=None if drop else list(columns),
            dropped=drop,
        )
    return ProjectInfo.of(held)


@holds_home
def end_project(code: str, *, actor: str) -> ProjectInfo:
    """Close a project now: no researcher reaches it again, and its extract is removed.

    Its ledger and manifest stay, so what it released can still be accounted for."""
    held = _changeable(code)
    with transaction.atomic():
        held.ended_at, held.ended_by = timezone.now(), actor
        held.save(update_fields=["ended_at", "ended_by"])
        record("research.project_end", actor=actor, subject=code)
    shutil.rmtree(project_folder(code) / EXTRACT, ignore_errors=True)
    return ProjectInfo.of(held)


# --- the office: workspaces -------------------------------------------------------------


def _project_key(held: Project) -> PseudonymKey:
    path = _keys_folder() / held.key_file
    if not path.exists():
        raise ConfigurationError(
            f"the key of project {held.code} ({path}) is missing: restore it from your backup "
            "(a new key would give the project new pseudonyms)"
        )
    key = load_key(path)
    if key.purpose != PROJECT or key.fingerprint != held.key_fingerprint:
        raise ConfigurationError(
            f"{path} is not the key project {held.code} was made with; restore the right file"
        )
    return key


def _build(vault: Vault, held: Project, *, actor: str) -> dict[str, int]:
    if not held.tables.exists():
        raise ProjectError(
            f"project {held.code} has no approved table yet: cohortsafe research project-vars"
        )
    folder = private_dir(project_folder(held.code))
    if held.policy_text:
        write_atomic(folder / POLICY_FILE, held.policy_text.encode())
    else:
        (folder / POLICY_FILE).unlink(missing_ok=True)
    summary = build_extract(vault, _spec(held), _project_key(held), folder)
    with transaction.atomic():
        held.built_at, held.stale, held.stale_reason = timezone.now(), False, ""
        held.save(update_fields=["built_at", "stale", "stale_reason"])
        record(
            "research.workspace_build",
            actor=actor,
            subject=held.code,
            rows=summary.rows,
            columns={t: list(c) for t, c in summary.columns.items()},
        )
    return summary.rows


@holds_home
def build_workspace(code: str, *, actor: str) -> dict[str, int]:
    """(Re)build a project's extract from the vault; returns the rows per table."""
    held = project(code)
    if _state(held) != "open":
        raise ProjectError(f"project {code} is {_state(held)}: its workspace is not built again")
    from cohortsafe.app.office.services import open_vault

    with open_vault() as vault:
        return _build(vault, held, actor=actor)


@holds_home
def rebuild_after_retraction(vault: Vault, *, actor: str) -> tuple[list[str], list[str]]:
    """Rebuild every built workspace of an open project, so no retracted pupil stays in one.

    Called by the office's intake within its hold of the home (the lock is reentrant).
    Each workspace is marked stale first, so one whose rebuild fails refuses every
    query until it is built again; an expired project loses its extract instead.
    Returns the projects rebuilt and those left stale."""
    rebuilt, failed = [], []
    held_projects = list(Project.objects.filter(built_at__isnull=False, ended_at__isnull=True))
    for held in held_projects:
        held.stale, held.stale_reason = True, "a retraction arrived"
        held.save(update_fields=["stale", "stale_reason"])
    for held in held_projects:
        if _state(held) != "open":
            shutil.rmtree(project_folder(held.code) / EXTRACT, ignore_errors=True)
            continue
        try:
            _build(vault, held, actor=actor)
        except (CohortsafeError, OSError) as error:
            reason = type(error).__name__ if isinstance(error, OSError) else str(error)
            record("research.workspace_stale", actor=actor, subject=held.code, reason=reason)
            failed.append(held.code)
        else:
            rebuilt.append(held.code)
    return rebuilt, failed


@holds_home
def risk(code: str, *, actor: str, k: int = DEFAULT_K) -> RiskReport:
    """The microdata risk report of a project's built workspace (for the office)."""
    held = project(code)
    if held.built_at is None or held.stale:
        raise WorkspaceError(
            f"project {code}'s workspace is not built as approved: run research workspace-build"
        )
    with Workspace(project_folder(code)) as workspace:
        report = risk_report(workspace, k)
    record(
        "research.risk", actor=actor, subject=code, k=k, at_risk=report.at_risk,
        uniques=report.uniques,
    )  # fmt: skip
    return report


# --- researchers ------------------------------------------------------------------------


def project_for_researcher(code: str, user: str) -> Project:
    """``code``'s project, if ``user`` is its researcher and it is open and ready."""
    member = account(user)
    held = Project.objects.filter(code=code).first()
    # a researcher of another project learns nothing of this one, not even that it exists
    if (
        held is None
        or member.role != Account.Role.RESEARCHER
        or not Membership.objects.filter(project=held, account=member).exists()
    ):
        raise AccessError(f"{user} has no access to a project {code}")
    state = _state(held)
    if state != "open":
        raise AccessError(f"project {code} is {state}: its workspace is closed")
    if held.built_at is None:
        raise WorkspaceError(f"project {code} has no workspace yet: the office builds it")
    if held.stale:
        raise WorkspaceError(
            f"project {code}'s workspace is being rebuilt ({held.stale_reason}); try again "
            "when the office has built it"
        )
    return held


@contextmanager
def open_workspace(code: str, *, user: str) -> Iterator[Workspace]:
    """The project's workspace for one of its researchers (audited)."""
    held = project_for_researcher(code, user)
    record("research.workspace_open", actor=f"user:{user}", subject=held.code)
    with Workspace(project_folder(held.code)) as workspace:
        yield workspace


@holds_home
def run_sql(code: str, statement: str, *, user: str, actor: str) -> QueryResult:
    """Run one read-only query for a researcher of the project.

    Audited with who, the statement and how many rows came back, never the rows; a
    refused statement is audited with the reason."""
    held = project_for_researcher(code, user)
    try:
        with Workspace(project_folder(held.code)) as workspace:
            result = workspace.sql(statement)
    except CohortsafeError as error:
        record(
            "research.query_refused",
            actor=f"user:{user}",
            subject=held.code,
            statement=statement,
            reason=str(error),
            console=actor,
        )
        raise
    record(
        "research.query",
        actor=f"user:{user}",
        subject=held.code,
        statement=statement,
        rows=len(result.rows),
        console=actor,
    )
    return result


def workspace_manifest(code: str) -> Path:
    return project_folder(code) / MANIFEST
