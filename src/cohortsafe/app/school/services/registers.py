"""Schools, objections, studies and consents: every change in the audit log.

An objection applies from the moment it is registered, whatever the date: the
yearly deadline only decides what the school is reminded of. Consent is
explicit, per pupil, per study and per special category, and can be withdrawn.
Audit details name leerlingnummers and codes, never a name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError as DbIntegrityError
from django.db import transaction
from django.utils import timezone

from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.models import (
    Consent,
    DeliveredPupil,
    Objection,
    Pupil,
    Reinstatement,
    Retraction,
    School,
    Study,
)
from cohortsafe.app.school.services.evidence import Evidence, kept_evidence
from cohortsafe.config import load
from cohortsafe.domain import SPECIAL_CATEGORIES, SchoolCode, is_pgn
from cohortsafe.errors import CohortsafeError
from cohortsafe.lvs import Problem, read_objection_list

__all__ = [
    "ObjectionStatus",
    "RegisterError",
    "add_study",
    "consents",
    "find_pupil",
    "find_school",
    "give_consent",
    "import_objection_list",
    "objection_deadline",
    "objections",
    "register_objection",
    "set_school",
    "withdraw_consent",
    "withdraw_objection",
]


class RegisterError(CohortsafeError):
    """A register change that cannot be made as asked (unknown pupil, nothing to withdraw…)."""


def find_school(code: str | None) -> School:
    """The school with ``code``, or the only school when ``code`` is None."""
    if code is None:
        schools = list(School.objects.all()[:2])
        if len(schools) == 1:
            return schools[0]
        if not schools:
            raise RegisterError("no school yet: import an LVS export first")
        raise RegisterError("this home holds several schools: say which with --school")
    parsed = SchoolCode.parse(code)
    try:
        return School.objects.get(brin=parsed.brin, vestiging=parsed.vestiging)
    except School.DoesNotExist:
        raise RegisterError(f"no school {parsed.code} in this home") from None


def find_pupil(leerlingnummer: str, school: str | None = None) -> Pupil:
    pupils = Pupil.objects.filter(leerlingnummer=leerlingnummer).select_related("school")
    if school is not None:
        pupils = pupils.filter(school=find_school(school))
    found = list(pupils[:2])
    if not found:
        where = f" at {school}" if school else ""
        if is_pgn(leerlingnummer):
            # never echo what may be a BSN or onderwijsnummer typed by mistake
            raise RegisterError(
                f"no pupil with that leerlingnummer{where}; the value given passes the BSN or "
                "onderwijsnummer check: give the school's leerlingnummer, never a BSN"
            )
        raise RegisterError(f"no pupil with leerlingnummer {leerlingnummer}{where}")
    if len(found) > 1:
        raise RegisterError(
            f"leerlingnummer {leerlingnummer} exists at several schools: say which with --school"
        )
    return found[0]


@holds_home
def set_school(code: str | None, *, name: str | None, contact: str | None, actor: str) -> School:
    """Record the school's name and the contact parents object to (for the letter)."""
    school = find_school(code)
    if name is not None:
        school.name = name.strip()
    if contact is not None:
        school.contact = contact.strip()
    with transaction.atomic():
        school.save(update_fields=["name", "contact"])
        record("school.profile", actor=actor, subject=school.code)
    return school


@holds_home
def view_pupil(pupil: Pupil, *, actor: str) -> Pupil:
    """Record that ``actor`` opened one pupil's registers (the web's pupil page)."""
    record("school.view_pupil", actor=actor, subject=f"{pupil.school.code}/{pupil.leerlingnummer}")
    return pupil


def objection_deadline(today: dt.date | None = None) -> dt.date:
    """The next yearly deadline on or after ``today`` (7 March unless set otherwise)."""
    today = today or dt.date.today()
    deadline = load().objection_deadline
    this_year = deadline.in_year(today.year)
    return this_year if this_year >= today else deadline.in_year(today.year + 1)


@holds_home
def register_objection(
    pupil: Pupil,
    *,
    received_on: dt.date,
    received_from: str,
    channel: str,
    note: str = "",
    evidence: Evidence | None = None,
    actor: str,
) -> Objection:
    """Register an objection, with the letter or e-mail it came in as ``evidence`` if given."""
    if channel not in Objection.Channel.values:
        raise RegisterError(f"channel must be one of {', '.join(Objection.Channel.values)}")
    if not received_from.strip():
        raise RegisterError("say from whom the objection came (--from)")
    if received_on > dt.date.today():
        raise RegisterError("an objection cannot be received in the future")
    kept = (
        kept_evidence(pupil.school.code, evidence)
        if evidence is not None
        else contextlib.nullcontext(("", ""))
    )
    with kept as (stored, digest):
        try:
            with transaction.atomic():
                objection = Objection.objects.create(
                    pupil=pupil,
                    received_on=received_on,
                    received_from=received_from.strip(),
                    channel=channel,
                    note=note,
                    registered_by=actor,
                    evidence_file=stored,
                    evidence_sha256=digest,
                )
                record(
                    "school.objection",
                    actor=actor,
                    subject=f"{pupil.school.code}/{pupil.leerlingnummer}",
                    received_on=received_on.isoformat(),
                    channel=channel,
                    **({"evidence_sha256": digest} if digest else {}),
                )
        except DbIntegrityError:
            raise RegisterError(
                f"pupil {pupil.leerlingnummer} has an active objection already"
            ) from None
    return objection


@holds_home
def withdraw_objection(pupil: Pupil, *, note: str = "", actor: str) -> Objection:
    """Withdraw the active objection; ``.needs_reinstatement`` on the result says whether the
    office still holds a retraction's tombstone (then `school reinstate` must follow)."""
    with transaction.atomic():
        objection = (
            Objection.objects.select_for_update()
            .filter(pupil=pupil, withdrawn_at__isnull=True)
            .first()
        )
        if objection is None:
            raise RegisterError(f"pupil {pupil.leerlingnummer} has no active objection")
        objection.withdrawn_at = timezone.now()
        objection.withdrawn_by = actor
        objection.withdrawal_note = note
        objection.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
        record(
            "school.objection_withdrawn",
            actor=actor,
            subject=f"{pupil.school.code}/{pupil.leerlingnummer}",
        )
    return objection


@dataclass
class ObjectionListImport:
    accepted: bool
    registered: int
    already_active: int
    problems: list[Problem]


@holds_home
def import_objection_list(path: Path, school: str | None, *, actor: str) -> ObjectionListImport:
    """Register every objection in a list exported by the LAS, all or nothing."""
    the_school = find_school(school)
    rows, problems = read_objection_list(path, today=dt.date.today())
    pupils = {
        p.leerlingnummer: p
        for p in Pupil.objects.filter(
            school=the_school, leerlingnummer__in=[r.leerlingnummer for r in rows]
        )
    }
    for row in rows:
        if row.leerlingnummer not in pupils:
            problems.append(
                Problem(path.name, row.line, "leerlingnummer", f"no such pupil at {the_school}")
            )
    if problems:
        return ObjectionListImport(False, 0, 0, sorted(problems, key=lambda p: p.line or 0))
    active = set(
        Objection.objects.filter(pupil__in=pupils.values(), withdrawn_at__isnull=True).values_list(
            "pupil_id", flat=True
        )
    )
    registered = 0
    with transaction.atomic():
        for row in rows:
            pupil = pupils[row.leerlingnummer]
            if pupil.pk in active:
                continue
            assert row.received_on is not None  # rows with a rejected date stopped us above
            register_objection(
                pupil,
                received_on=row.received_on,
                received_from=row.received_from or "(lijst uit het LAS)",
                channel=Objection.Channel.LAS,
                actor=actor,
            )
            active.add(pupil.pk)
            registered += 1
    return ObjectionListImport(True, registered, len(rows) - registered, [])


@dataclass
class ObjectionStatus:
    objection: Objection
    delivered_in: list[str]
    retracted_in: list[str]
    reinstated_in: list[str] = field(default_factory=list)
    needs_reinstatement: bool = False

    @property
    def needs_retraction(self) -> bool:
        return self.objection.active and bool(self.delivered_in) and not self.retracted_in

    def as_dict(self) -> dict[str, Any]:
        o = self.objection
        return {
            "school": o.pupil.school.code,
            "leerlingnummer": o.pupil.leerlingnummer,
            "name": o.pupil.display_name,
            "received_on": o.received_on.isoformat(),
            "received_from": o.received_from,
            "channel": o.channel,
            "active": o.active,
            "registered_at": o.registered_at.isoformat(),
            "withdrawn_at": o.withdrawn_at.isoformat() if o.withdrawn_at else None,
            "evidence": bool(o.evidence_file),
            "delivered_in": self.delivered_in,
            "retracted_in": self.retracted_in,
            "needs_retraction": self.needs_retraction,
            "reinstated_in": self.reinstated_in,
            "needs_reinstatement": self.needs_reinstatement,
        }


@holds_home
def objections(
    school: str | None = None, *, include_withdrawn: bool = True, actor: str
) -> list[ObjectionStatus]:
    """Objections with the deliveries that held the pupil and whether they were retracted.

    Reading the register is an access to pupil data, so it is audited too.
    """
    query = Objection.objects.select_related("pupil__school").order_by("registered_at")
    if school is not None:
        query = query.filter(pupil__school=find_school(school))
    if not include_withdrawn:
        query = query.filter(withdrawn_at__isnull=True)
    result = []
    for objection in query:
        held = DeliveredPupil.objects.filter(pupil=objection.pupil).select_related("delivery")
        delivered = sorted({d.delivery.file_name for d in held})
        retracted = sorted(r.file_name for r in Retraction.objects.filter(objection=objection))
        reinstated = sorted(
            set(
                Reinstatement.objects.filter(retractions__objection=objection).values_list(
                    "file_name", flat=True
                )
            )
        )
        result.append(
            ObjectionStatus(
                objection, delivered, retracted, reinstated, objection.needs_reinstatement
            )
        )
    record("school.view_objections", actor=actor, subject=school or "", shown=len(result))
    return result


@holds_home
def add_study(
    *,
    code: str,
    title: str,
    categories: list[str],
    starts_on: dt.date,
    ends_on: dt.date,
    actor: str,
) -> Study:
    unknown = [c for c in categories if c not in SPECIAL_CATEGORIES]
    if unknown or not categories:
        raise RegisterError(f"categories must be among {', '.join(SPECIAL_CATEGORIES)}")
    if ends_on < starts_on:
        raise RegisterError("a study must end after it starts")
    if Study.objects.filter(code=code).exists():
        raise RegisterError(f"study {code} exists already")
    with transaction.atomic():
        study = Study.objects.create(
            code=code,
            title=title,
            categories=sorted(set(categories)),
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor,
        )
        record("school.study", actor=actor, subject=code, categories=study.categories)
    return study


def _study(code: str) -> Study:
    try:
        return Study.objects.get(code=code)
    except Study.DoesNotExist:
        raise RegisterError(f"no study {code}: add it first") from None


@holds_home
def give_consent(
    pupil: Pupil,
    *,
    study: str,
    categories: list[str],
    given_by: str,
    given_on: dt.date,
    evidence: str = "",
    actor: str,
) -> list[Consent]:
    the_study = _study(study)
    outside = [c for c in categories if c not in the_study.categories]
    if outside or not categories:
        raise RegisterError(f"study {study} asks only for: {', '.join(the_study.categories)}")
    if not given_by.strip():
        raise RegisterError("say who gave consent (--given-by)")
    if given_on > dt.date.today():
        raise RegisterError("consent cannot be given in the future")
    made = []
    try:
        with transaction.atomic():
            for category in sorted(set(categories)):
                made.append(
                    Consent.objects.create(
                        pupil=pupil,
                        study=the_study,
                        category=category,
                        given_by=given_by.strip(),
                        given_on=given_on,
                        evidence=evidence,
                        registered_by=actor,
                    )
                )
            record(
                "school.consent",
                actor=actor,
                subject=f"{pupil.school.code}/{pupil.leerlingnummer}",
                study=study,
                categories=sorted(set(categories)),
            )
    except DbIntegrityError:
        raise RegisterError(
            f"pupil {pupil.leerlingnummer} has active consent for one of these already"
        ) from None
    return made


@holds_home
def withdraw_consent(
    pupil: Pupil, *, study: str, categories: list[str] | None = None, actor: str
) -> int:
    """Withdraw consent (all categories unless some are named); returns how many."""
    the_study = _study(study)
    with transaction.atomic():
        active = Consent.objects.select_for_update().filter(
            pupil=pupil, study=the_study, withdrawn_at__isnull=True
        )
        if categories:
            active = active.filter(category__in=categories)
        ids = list(active.values_list("id", flat=True))
        if not ids:
            raise RegisterError(f"pupil {pupil.leerlingnummer} has no such active consent")
        Consent.objects.filter(id__in=ids).update(withdrawn_at=timezone.now(), withdrawn_by=actor)
        record(
            "school.consent_withdrawn",
            actor=actor,
            subject=f"{pupil.school.code}/{pupil.leerlingnummer}",
            study=study,
            withdrawn=len(ids),
        )
    return len(ids)


@holds_home
def consents(study: str | None = None, school: str | None = None, *, actor: str) -> list[Consent]:
    """The consent register (an audited access to pupil data)."""
    query = Consent.objects.select_related("pupil__school", "study").order_by("registered_at")
    if study is not None:
        query = query.filter(study=_study(study))
    if school is not None:
        query = query.filter(pupil__school=find_school(school))
    found = list(query)
    record("school.view_consents", actor=actor, subject=school or "", study=study, shown=len(found))
    return found
