"""What the office holds, listed; checks that change nothing; schools registered in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cohortsafe.app._csvlist import read_list
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.office.intake import open_many, start_worker
from cohortsafe.app.office.models import KeyRecord, ReceivedPackage, RegisteredSchool
from cohortsafe.app.office.services import (
    OfficeError,
    ReceiveReport,
    _intake_keys,
    add_school,
    open_vault,
)
from cohortsafe.domain import SchoolCode
from cohortsafe.errors import CohortsafeError
from cohortsafe.lvs import Problem
from cohortsafe.package import load_public
from cohortsafe.vault import TABLES

__all__ = [
    "SchoolsAdded",
    "add_schools_from_list",
    "check_files",
    "received",
    "registered_schools",
    "rotation_preview",
]


@holds_home
def registered_schools() -> list[dict[str, Any]]:
    return [
        {
            "school": s.code,
            "fingerprint": s.fingerprint,
            "added_at": s.added_at,
            "added_by": s.added_by,
        }
        for s in RegisteredSchool.objects.order_by("brin", "vestiging")
    ]


@holds_home
def received(
    kind: str, school: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    """Packages (``delivery``) or retractions (``retraction``) received, oldest first."""
    query = ReceivedPackage.objects.filter(kind=kind).order_by("received_at", "pk")
    if school:
        query = query.filter(school=SchoolCode.parse(school).code)
    if period:
        query = query.filter(period=period)
    return [
        {
            "file": p.file_name,
            "school": p.school or None,
            "period": p.period or None,
            "package_id": p.package_id or None,
            "status": p.status,
            "reason": p.reason or None,
            "received_at": p.received_at,
            "rows": {k: v for k, v in p.counts.items() if k in TABLES},
            "counts": {k: v for k, v in p.counts.items() if k not in TABLES},
            "replaced": p.replaced or None,
        }
        for p in query
    ]


@holds_home
def check_files(paths: Iterable[Path], *, actor: str) -> list[ReceiveReport]:
    """What ``receive`` would do with each file, without touching the vault or the registry."""
    files = list(paths)
    start_worker(_intake_keys())
    opened = open_many(files)
    with open_vault() as vault:
        rows = vault.con.execute(
            "SELECT delivery_id, school, period, created_at, status FROM deliveries"
        ).fetchall()
        done = {r[0] for r in vault.con.execute("SELECT retraction_id FROM retractions").fetchall()}
    known = {r[0] for r in rows}
    current = {(r[1], r[2]): (r[0], r[3]) for r in rows if r[4] == "current"}
    reports = []
    for o in opened:
        report = ReceiveReport(o.file, o.kind, "refused", o.package_id, o.school, o.period)
        if o.refused:
            report.reason = o.refused
        elif o.kind == "retraction":
            report.status = "duplicate" if o.package_id in done else "retracted"
            report.counts = {"pupils": len(o.pupils)}
        elif o.delivery is not None:
            d = o.delivery
            holder = current.get((d.school, d.period))
            if d.delivery_id in known:
                report.status = "duplicate"
            elif holder and holder[1] > d.created_at:
                report.status = "superseded"
                report.reason = "a newer delivery of this school and period is held"
            else:
                report.status = "received"
                report.replaced = holder[0] if holder else ""
                report.counts = dict(d.rows)
                current[(d.school, d.period)] = (d.delivery_id, d.created_at)
            known.add(d.delivery_id)
        reports.append(report)
    record(
        "office.check",
        actor=actor,
        files=len(reports),
        outcomes={s: sum(r.status == s for r in reports) for s in {r.status for r in reports}},
    )
    return reports


@holds_home
def rotation_preview(purpose: str) -> dict[str, Any]:
    """What ``rotate_key(purpose)`` would do: the current key and the vault files it rewrites."""
    current = KeyRecord.objects.filter(purpose=purpose).order_by("-position").first()
    if current is None:
        raise OfficeError("this home holds no office yet: run `cohortsafe office init`")
    with open_vault() as vault:
        files = len(vault.files()) if purpose in ("pupil", "school") else 0
    return {"purpose": purpose, "current": current.key_id, "files_to_rewrite": files}


@dataclass
class SchoolsAdded:
    accepted: bool
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@holds_home
def add_schools_from_list(path: Path, *, actor: str) -> SchoolsAdded:
    """Register every school in a CSV (school, key) in one transaction, all or nothing.

    A key path is relative to the CSV's folder. A school registered with another key is
    refused: replacing a key is a deliberate step for one school at a time.
    """
    listed = read_list(path, ("school", "key"))
    problems = list(listed.problems)
    registered = {s.code: s.fingerprint for s in RegisteredSchool.objects.all()}
    todo: list[tuple[str, Path]] = []
    unchanged: list[str] = []
    for line, code, row in listed.by_school(problems):
        key_path = path.parent / row["key"]
        try:
            public = load_public(key_path)
        except CohortsafeError as error:
            problems.append(Problem(path.name, line, "key", str(error)))
            continue
        if code in registered:
            if registered[code] != public.fingerprint:
                problems.append(
                    Problem(
                        path.name,
                        line,
                        "key",
                        f"{code} is registered with key {registered[code][:16]}…, this is "
                        f"{public.fingerprint[:16]}…: replace it with `office school-add` alone",
                    )
                )
            else:
                unchanged.append(code)
            continue
        todo.append((code, key_path))
    if problems:
        return SchoolsAdded(False, problems=sorted(problems, key=lambda p: p.line or 0))
    with transaction.atomic():
        for code, key_path in todo:
            add_school(code, key_path, actor=actor)
    return SchoolsAdded(True, added=[c for c, _ in todo], unchanged=unchanged)
