"""Objections parents send through the school's web form, and the school's decision on each.

The form creates a *pending* objection and never looks a child up, so its answer is the
same whether or not the child is at the school. The school matches it to a pupil and
confirms it (it becomes an :class:`~cohortsafe.app.school.models.Objection`, channel
"formulier", from that moment on), or marks it as needing contact, with a reason. A parent
can look up only the state of their reference.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cohortsafe.app.audit.services import hold_chain, record
from cohortsafe.app.homelock import holds_home, registry_only
from cohortsafe.app.school.models import Objection, ParentForm, Pupil, School, StatusLookup
from cohortsafe.app.school.services.registers import RegisterError, register_objection

__all__ = [
    "PARENT_FORM_ACTOR",
    "REFERENCE_ALPHABET",
    "FormLimits",
    "ParentFormSent",
    "StatusAnswer",
    "candidates",
    "confirm_parent_form",
    "decide_needs_contact",
    "look_up_parent_form",
    "pending_parent_forms",
    "send_parent_form",
]

#: the audit log's actor for what arrives through the public form
PARENT_FORM_ACTOR = "parent form"
#: references are read aloud and typed over: no 0/O, 1/I/L
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class FormLimits:
    """How many forms one address, and one school, may send in an hour."""

    per_sender: int = 5
    per_school: int = 300
    lookups_per_sender: int = 20


@dataclass(frozen=True)
class ParentFormSent:
    """What the parent is told: a reference, or that they must try again later."""

    reference: str | None
    too_many: bool = False


def new_reference() -> str:
    """Eight characters in two groups, e.g. ``K7M4-Q2XP`` (31^8, about 8.5e11 of them)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def sender_digest(address: str, secret: str) -> str:
    """A keyed digest of the sender's network address: limits need it, nobody needs the
    address itself."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def _clean(text: str, limit: int, what: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise RegisterError(f"{what} is empty")
    if len(text) > limit:
        raise RegisterError(f"{what} is longer than {limit} characters")
    return text


@registry_only
def send_parent_form(
    school: School,
    *,
    child_name: str,
    child_birth_date: dt.date,
    child_group: int,
    parent_name: str,
    parent_contact: str,
    sender: str,
    discard: bool = False,
    limits: FormLimits = FormLimits(),
    actor: str = PARENT_FORM_ACTOR,
) -> ParentFormSent:
    """Store a parent's objection as pending; ``sender`` is :func:`sender_digest`'s.

    ``discard`` (a robot filled the trap field) stores it as discarded, through the same
    limits and with the same answer, so the robot cannot tell."""
    if not 1 <= child_group <= 8:
        raise RegisterError("the group is 1 to 8")
    today = dt.date.today()
    if not today.replace(year=today.year - 16) <= child_birth_date <= today:
        raise RegisterError("the birth date is not that of a primary school pupil")
    fields = {
        "child_name": _clean(child_name, 200, "the child's name"),
        "parent_name": _clean(parent_name, 200, "the parent's name"),
        "parent_contact": _clean(parent_contact, 300, "the contact"),
    }
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    with transaction.atomic():
        # The school's row before the chain, in the order of an import or a delivery (which
        # hold the row, then write to the chain): the other order deadlocks on PostgreSQL,
        # where storing the form takes a share of the row its foreign key points at.
        list(School.objects.select_for_update(no_key=True).filter(pk=school.pk).values("pk"))
        hold_chain()  # no two forms count the same room under the limits
        recent = ParentForm.objects.filter(submitted_at__gte=hour_ago)
        if (
            recent.filter(sender=sender).count() >= limits.per_sender
            or recent.filter(school=school).count() >= limits.per_school
        ):
            record("school.parent_form_limited", actor=actor, subject=school.code)
            return ParentFormSent(None, too_many=True)
        while True:
            reference = new_reference()
            if not ParentForm.objects.filter(reference=reference).exists():
                break
        ParentForm.objects.create(
            reference=reference,
            school=school,
            child_birth_date=child_birth_date,
            child_group=child_group,
            sender=sender,
            state=ParentForm.State.DISCARDED if discard else ParentForm.State.PENDING,
            **fields,
        )
        record(
            "school.parent_form",
            actor=actor,
            subject=school.code,
            reference=reference,
            discarded=discard,
        )
    return ParentFormSent(reference)


@dataclass(frozen=True)
class StatusAnswer:
    """pending, confirmed or needs_contact; None for a reference nobody was given."""

    state: str | None
    too_many: bool = False


@registry_only
def look_up_parent_form(
    reference: str,
    *,
    sender: str,
    limits: FormLimits = FormLimits(),
) -> StatusAnswer:
    """The state of one reference, for whoever holds it; a sender may look 20 times an hour
    (references are random, this keeps anyone from trying them out)."""
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    with transaction.atomic():
        hold_chain()  # many lookups at once from one sender still count one by one
        StatusLookup.objects.filter(looked_at__lt=hour_ago).delete()
        if StatusLookup.objects.filter(sender=sender).count() >= limits.lookups_per_sender:
            return StatusAnswer(None, too_many=True)
        StatusLookup.objects.create(sender=sender)
    found = ParentForm.objects.filter(reference=reference.strip().upper()).first()
    if found is None:
        return StatusAnswer(None)
    if found.state == ParentForm.State.DISCARDED:
        return StatusAnswer(str(ParentForm.State.PENDING))
    return StatusAnswer(str(found.state))


@holds_home
def pending_parent_forms(school: School, *, actor: str) -> list[ParentForm]:
    """The school's forms still to decide, oldest first (reading them is audited)."""
    found = list(school.parent_forms.filter(state=ParentForm.State.PENDING))
    record("school.view_parent_forms", actor=actor, subject=school.code, shown=len(found))
    return found


def candidates(form: ParentForm) -> list[Pupil]:
    """The school's pupils the form may be about: the same birth date, or the same group and a
    name that shares a word with the form's; the administrator decides."""
    words = {w.lower() for w in form.child_name.split() if len(w) > 1}
    found = []
    for pupil in form.school.pupils.filter(current=True).order_by("achternaam", "voornamen"):
        named = words & {w.lower() for w in pupil.display_name.split()}
        if pupil.geboortedatum == form.child_birth_date or (
            pupil.jaargroep == form.child_group and named
        ):
            found.append(pupil)
    return found


def _pending(school: School, reference: str) -> ParentForm:
    form = (
        ParentForm.objects.select_for_update()
        .filter(school=school, reference=reference, state=ParentForm.State.PENDING)
        .first()
    )
    if form is None:
        raise RegisterError("there is no pending form with that reference at this school")
    return form


def _decide(form: ParentForm, state: str, *, actor: str, **outcome: object) -> None:
    """Record the school's decision on a pending form, with what it decided it with."""
    form.state = state
    form.decided_at = timezone.now()
    form.decided_by = actor
    for name, value in outcome.items():
        setattr(form, name, value)
    form.save(update_fields=["state", "decided_at", "decided_by", *outcome])


@holds_home
def confirm_parent_form(school: School, reference: str, pupil: Pupil, *, actor: str) -> Objection:
    """Register the form's objection for ``pupil``; it applies from now on."""
    if pupil.school_id != school.pk:
        raise RegisterError("that pupil is not at this school")
    with transaction.atomic():
        form = _pending(school, reference)
        objection = register_objection(
            pupil,
            received_on=timezone.localdate(form.submitted_at),
            received_from=form.parent_name,
            channel=Objection.Channel.FORMULIER,
            note=f"webformulier {form.reference}",
            actor=actor,
        )
        _decide(form, ParentForm.State.CONFIRMED, actor=actor, objection=objection)
        record(
            "school.parent_form_confirmed",
            actor=actor,
            subject=f"{school.code}/{pupil.leerlingnummer}",
            reference=form.reference,
        )
    return objection


@holds_home
def decide_needs_contact(school: School, reference: str, *, reason: str, actor: str) -> ParentForm:
    """The school cannot match or accept the form as it is and will contact the parent."""
    reason = " ".join(reason.split())
    if not reason:
        raise RegisterError("say why the form needs contact")
    with transaction.atomic():
        form = _pending(school, reference)
        _decide(form, ParentForm.State.NEEDS_CONTACT, actor=actor, reason=reason)
        record(
            "school.parent_form_needs_contact",
            actor=actor,
            subject=school.code,
            reference=form.reference,
        )
    return form
