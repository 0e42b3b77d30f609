"""Reinstatements: a withdrawn objection honoured at the office after a retraction.

A retraction leaves a tombstone at the office, so later deliveries cannot bring
the pupil back. When the parent withdraws the objection, the school sends a
signed reinstatement naming the retractions it lifts; the office then lifts the
tombstone. The rows the retraction removed are not kept anywhere: they return
with the school's next delivery of each period.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from cohortsafe import faults
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.models import (
    DeliveredPupil,
    Objection,
    Pupil,
    Reinstatement,
    Retraction,
)
from cohortsafe.app.school.services.deliveries import delivery_keys
from cohortsafe.app.school.services.recovery import aside, publish, recover_home, sweep_aside
from cohortsafe.app.school.services.registers import RegisterError, find_pupil
from cohortsafe.domain import SchoolCode
from cohortsafe.package import write_reinstatement

__all__ = ["ReinstatementReport", "reinstate", "unlifted_retractions"]


def unlifted_retractions(pupil: Pupil) -> list[Retraction]:
    """The pupil's retractions that no reinstatement has lifted yet."""
    return list(
        Retraction.objects.filter(pupil=pupil, reinstatements__isnull=True).order_by("created_at")
    )


@dataclass
class ReinstatementReport:
    school: str
    leerlingnummer: str
    file: str
    reinstatement_id: str
    retractions: list[str]
    periods: list[str]  # what to deliver again to send the pupil's data

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "leerlingnummer": self.leerlingnummer,
            "file": self.file,
            "reinstatement_id": self.reinstatement_id,
            "retractions": self.retractions,
            "deliver_again": self.periods,
        }

    def describe(self) -> str:
        lifted = ", ".join(self.retractions)
        again = "; ".join(
            f"`cohortsafe school deliver --schooljaar {p} --office-key office.pub --out DIR`"
            for p in self.periods
        )
        return (
            f"reinstatement {self.file} for pupil {self.leerlingnummer} (lifts {lifted}); "
            "the office does not keep the removed rows: deliver the periods again "
            f"to send the pupil's data: {again}"
        )


@holds_home
def reinstate(
    *,
    leerlingnummer: str,
    office_key: Path,
    out: Path,
    actor: str,
    school: str | None = None,
    signing_key_path: Path | None = None,
) -> ReinstatementReport:
    """A signed, encrypted reinstatement of a pupil whose parent withdrew the objection."""
    recover_home()
    pupil = find_pupil(leerlingnummer, school)
    if Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).exists():
        raise RegisterError(
            f"pupil {leerlingnummer} has an active objection: withdraw it before reinstating"
        )
    if not Retraction.objects.filter(pupil=pupil).exists():
        raise RegisterError(f"pupil {leerlingnummer} was never retracted: nothing to reinstate")
    retractions = unlifted_retractions(pupil)
    if not retractions:
        raise RegisterError(f"pupil {leerlingnummer} was already reinstated")
    objection = Objection.objects.filter(pupil=pupil).order_by("-withdrawn_at").first()
    assert objection is not None  # a retraction needs an objection
    recipient, signer = delivery_keys(office_key, signing_key_path)
    held = DeliveredPupil.objects.filter(pupil=pupil).select_related("delivery")
    pgns = sorted({h.pgn for h in held})
    periods = sorted({h.delivery.period for h in held})
    ids = sorted(str(r.retraction_id) for r in retractions)
    code = SchoolCode(pupil.school.brin, pupil.school.vestiging)
    sweep_aside(out)
    path = out / f"{code.code}-reinstatement-{uuid.uuid4().hex[:12]}.nco"
    hidden = aside(path)
    try:
        with transaction.atomic():
            manifest = write_reinstatement(
                school=code,
                pgns=pgns,
                retractions=ids,
                signing_key=signer,
                recipient=recipient,
                path=hidden,
            )
            reinstatement = Reinstatement.objects.create(
                reinstatement_id=manifest["reinstatement_id"],
                pupil=pupil,
                objection=objection,
                file_name=path.name,
                pending_file=str(hidden.resolve()),
                created_by=actor,
            )
            reinstatement.retractions.set(retractions)
            record(
                "school.reinstate",
                actor=actor,
                subject=f"{code.code}/{leerlingnummer}",
                reinstatement_id=manifest["reinstatement_id"],
                retractions=ids,
            )
            faults.fault_point("reinstate.recorded")
    except BaseException:
        hidden.unlink(missing_ok=True)  # no record, no package
        raise
    publish(reinstatement)
    return ReinstatementReport(
        code.code,
        leerlingnummer,
        path.name,
        manifest["reinstatement_id"],
        sorted(r.file_name for r in retractions),
        periods,
    )
