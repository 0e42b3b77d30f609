"""Registering consent, with what the school must know: an objection in force outweighs it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.models import Consent, Objection, Pupil
from cohortsafe.app.school.services.registers import give_consent

__all__ = ["ConsentOutcome", "register_consent"]


@dataclass
class ConsentOutcome:
    leerlingnummer: str
    study: str
    categories: list[str]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "leerlingnummer": self.leerlingnummer,
            "study": self.study,
            "categories": self.categories,
            "warnings": self.warnings,
        }


@holds_home
def register_consent(
    pupil: Pupil,
    *,
    study: str,
    categories: list[str],
    given_by: str,
    given_on: dt.date,
    evidence: str = "",
    actor: str,
) -> ConsentOutcome:
    """Give consent (see ``give_consent``); warn when an objection keeps the pupil out anyway."""
    made: list[Consent] = give_consent(
        pupil,
        study=study,
        categories=categories,
        given_by=given_by,
        given_on=given_on,
        evidence=evidence,
        actor=actor,
    )
    warnings = []
    if Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).exists():
        warnings.append(
            f"pupil {pupil.leerlingnummer} has an objection in force: nothing about the pupil "
            "is delivered while it stands, this consent included"
        )
    return ConsentOutcome(pupil.leerlingnummer, study, [c.category for c in made], warnings)
