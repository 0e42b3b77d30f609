"""What the school holds, listed for its staff, and the same change made for many schools.

Listings show codes, counts, files and leerlingnummers, never a name: they are read by
people at a vendor who deliver for many schools as often as by the school itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from cohortsafe.app._csvlist import read_list
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.models import Delivery, ExportImport, Objection, School
from cohortsafe.app.school.services.letters import parent_letter
from cohortsafe.app.school.services.recovery import recover_home
from cohortsafe.app.school.services.registers import RegisterError, find_school, objections
from cohortsafe.domain import SchoolYear
from cohortsafe.files import write_atomic
from cohortsafe.lvs import Problem

__all__ = [
    "SchoolsUpdate",
    "deliveries_made",
    "letters_for_all",
    "school_status",
    "set_schools_from_list",
]


def _schools(code: str | None) -> list[School]:
    return [find_school(code)] if code else list(School.objects.order_by("brin", "vestiging"))


@holds_home
def school_status(code: str | None = None, *, actor: str) -> list[dict[str, Any]]:
    """Per school: pupils, imports per year, deliveries per period, objections, retractions due."""
    recover_home()
    schools = _schools(code)
    pending: dict[int, list[str]] = {}
    for status in objections(code, include_withdrawn=False, actor=actor):
        if status.needs_retraction:
            pupil = status.objection.pupil
            pending.setdefault(pupil.school_id, []).append(pupil.leerlingnummer)
    result = []
    for school in schools:
        pupils = school.pupils.aggregate(
            total=Count("id"), current=Count("id", filter=Q(current=True))
        )
        # per school year: how many imports, and the newest one's time and rows per table
        imports: dict[str, dict[str, Any]] = {}
        for made in ExportImport.objects.filter(school=school).order_by(
            "school_year", "imported_at", "pk"
        ):
            entry = imports.setdefault(made.school_year, {"count": 0})
            entry.update(
                count=entry["count"] + 1, last_imported_at=made.imported_at, rows=made.rows
            )
        deliveries: dict[str, dict[str, Any]] = {}
        for delivery in Delivery.objects.filter(school=school).order_by("period", "seq"):
            entry = deliveries.setdefault(delivery.period, {"count": 0, "newest_file": None})
            entry["count"] += 1
            entry["newest_file"] = delivery.file_name
        counts = Objection.objects.filter(pupil__school=school).aggregate(
            active=Count("id", filter=Q(withdrawn_at__isnull=True)),
            withdrawn=Count("id", filter=Q(withdrawn_at__isnull=False)),
        )
        result.append(
            {
                "school": school.code,
                "pupils": {"current": pupils["current"], "total": pupils["total"]},
                "imports": imports,
                "deliveries": deliveries,
                "objections": {"active": counts["active"], "withdrawn": counts["withdrawn"]},
                "pending_retractions": sorted(pending.get(school.pk, [])),
            }
        )
    record("school.view_status", actor=actor, subject=code or "", schools=len(result))
    return result


@holds_home
def deliveries_made(
    code: str | None = None, period: SchoolYear | None = None, *, actor: str
) -> list[dict[str, Any]]:
    """Every delivery made, oldest first: file, period, who and when, rows and exclusions."""
    recover_home()
    query = Delivery.objects.select_related("school", "study").order_by("created_at", "pk")
    if code:
        query = query.filter(school=find_school(code))
    if period is not None:
        query = query.filter(period=str(period))
    items = [
        {
            "school": d.school.code,
            "period": d.period,
            "file": d.file_name,
            "delivery_id": str(d.delivery_id),
            "created_at": d.created_at,
            "created_by": d.created_by,
            "study": d.study.code if d.study else None,
            "rows": {t: e["rows"] for t, e in (d.manifest.get("tables") or {}).items()},
            "exclusions": dict(d.manifest.get("exclusions") or {}),
        }
        for d in query
    ]
    record(
        "school.view_deliveries",
        actor=actor,
        subject=code or "",
        period=str(period) if period else None,
        shown=len(items),
    )
    return items


@dataclass
class SchoolsUpdate:
    accepted: bool
    updated: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@holds_home
def set_schools_from_list(path: Path, *, actor: str) -> SchoolsUpdate:
    """Names and contacts for many schools from a CSV (school, name, contact), all or nothing."""
    listed = read_list(path, ("school", "name", "contact"))
    problems = list(listed.problems)
    known = {s.code: s for s in School.objects.all()}
    changes: list[tuple[School, str, str]] = []
    for line, code, row in listed.by_school(problems):
        if code not in known:
            problems.append(Problem(path.name, line, "school", f"no school {code} in this home"))
            continue
        for column in ("name", "contact"):
            if not row[column]:
                problems.append(Problem(path.name, line, column, "empty"))
        changes.append((known[code], row["name"], row["contact"]))
    if problems:
        return SchoolsUpdate(False, problems=sorted(problems, key=lambda p: p.line or 0))
    with transaction.atomic():
        for school, name, contact in changes:
            school.name, school.contact = name, contact
            school.save(update_fields=["name", "contact"])
            record("school.profile", actor=actor, subject=school.code)
    return SchoolsUpdate(True, updated=[s.code for s, _, _ in changes])


@holds_home
def letters_for_all(out: Path, *, lang: str, fmt: str, actor: str) -> list[Path]:
    """One letter per school in the home, ``<BRINVEST>.<fmt>`` in ``out``.

    Nothing is written unless every school has a name and a contact for objections.
    """
    schools = _schools(None)
    if not schools:
        raise RegisterError("no school yet: import an LVS export first")
    lacking = [s.code for s in schools if not s.name or not s.contact]
    if lacking:
        raise RegisterError(
            f"{len(lacking)} school(s) lack a name or contact for objections: "
            f"{', '.join(lacking)}; record them with `cohortsafe school set --from FILE.csv`"
        )
    if out.exists() and not out.is_dir():
        raise RegisterError(f"{out} is a file: --out takes a folder for the letters")
    texts = [(s.code, parent_letter(s.code, lang=lang, fmt=fmt)) for s in schools]
    written = []
    for code, text in texts:
        path = out / f"{code}.{fmt}"
        write_atomic(path, text.encode("utf-8"))  # a letter for parents holds no pupil data
        written.append(path)
    record("school.letters", actor=actor, letters=len(written), lang=lang, format=fmt)
    return written
