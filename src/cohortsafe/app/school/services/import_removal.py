"""Undoing an import: removing one school year from the school's store and registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from cohortsafe import faults
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.models import Delivery, ExportImport
from cohortsafe.app.school.services.imports import commit_store, lvs_store
from cohortsafe.app.school.services.registers import find_school
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import CohortsafeError

__all__ = ["ImportRemovalError", "RemovedImport", "remove_import"]


class ImportRemovalError(CohortsafeError):
    """A school year's import that cannot be removed (nothing imported, already delivered)."""


@dataclass
class RemovedImport:
    """What removing a school year's import took away."""

    school: str
    school_year: str
    rows: dict[str, int] = field(default_factory=dict)  # store rows removed, per table
    imports: int = 0  # ExportImport records removed
    latest_year: str | None = None  # the school's newest year held afterwards

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "school_year": self.school_year,
            "rows": self.rows,
            "imports": self.imports,
            "latest_year": self.latest_year,
        }

    def describe(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.rows.items())
        latest = self.latest_year or "none"
        return (
            f"removed the import of {self.school_year} from {self.school}: {counts}; "
            f"{self.imports} import record(s); newest school year now held: {latest}"
        )


@holds_home
def remove_import(school_year: SchoolYear, school: str | None, *, actor: str) -> RemovedImport:
    """Remove one school year's import of one school, all or nothing, audited.

    The year's results and enrolments go, and the childcare and special-category
    rows of pupils enrolled in no other year; pupils stay in the registry (their
    objections and consents must). Refused when a delivery of that school year was
    made: what the office received must stay explainable from what the school
    holds, so a correction is imported with ``replace`` and delivered again.
    """
    the_school = find_school(school)
    code = SchoolCode(the_school.brin, the_school.vestiging)
    year = str(school_year)
    delivered = Delivery.objects.filter(school=the_school, period=year).count()
    if delivered:
        raise ImportRemovalError(
            f"{code} delivered {school_year} already ({delivered} delivery(ies)): the import "
            "it was made from stays; import a corrected export with --replace and deliver again"
        )
    store = lvs_store()
    if (
        school_year not in store.years(code)
        and not the_school.imports.filter(school_year=year).exists()
    ):
        raise ImportRemovalError(f"{code} holds no import of {school_year}: nothing to remove")
    prepared = store.prepare_removal(code, school_year)
    try:
        with transaction.atomic():
            locked = type(the_school).objects.select_for_update().get(pk=the_school.pk)
            imports, _ = ExportImport.objects.filter(school=locked, school_year=year).delete()
            remaining = [str(y) for y in store.years(code) if y != school_year]
            remaining += ExportImport.objects.filter(school=locked).values_list(
                "school_year", flat=True
            )
            locked.latest_year = max(remaining, default="")
            locked.store_change = prepared.token
            locked.save(update_fields=["latest_year", "store_change"])
            record(
                "school.import_removed",
                actor=actor,
                subject=code.code,
                school_year=year,
                rows=prepared.removed,
                imports=imports,
            )
            faults.fault_point("import_removal.registry_written")
    except BaseException:
        store.discard(prepared)
        raise
    commit_store(store, prepared)
    return RemovedImport(code.code, year, prepared.removed, imports, locked.latest_year or None)
