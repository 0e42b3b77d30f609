"""The school's use cases; the console and the web both call these."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from cohortsafe import faults
from cohortsafe.app._parallel import ordered_map
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.progress import Progress
from cohortsafe.app.progress import report as report_progress
from cohortsafe.app.school.models import ExportImport, Pupil, School
from cohortsafe.app.school.services.recovery import recover_home
from cohortsafe.config import load
from cohortsafe.domain import SchoolYear
from cohortsafe.errors import StorageError
from cohortsafe.lvs import (
    Export,
    LvsStore,
    PreparedImport,
    Problem,
    find_exports,
    group_problems,
    read_export,
)

__all__ = ["ImportReport", "import_exports", "lvs_store"]

_PUPIL_FIELDS = (
    "bsn",
    "onderwijsnummer",
    "voornamen",
    "tussenvoegsel",
    "achternaam",
    "geboortedatum",
    "geslacht",
    "postcode",
    "huisnummer",
    "huisnummertoevoeging",
    "jaargroep",
    "current",
)


def lvs_store() -> LvsStore:
    """The columnar store in the current home, with any interrupted change finished first."""
    recover_home()
    return LvsStore(load().home / "lvs")


@dataclass
class ImportReport:
    """The outcome of importing one export folder."""

    folder: Path
    accepted: bool
    school: str | None = None
    school_year: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    newer: bool = True
    replaced: bool = False  # imported with replace: an older export replaced its year

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "accepted": self.accepted,
            "school": self.school,
            "school_year": self.school_year,
            "rows": self.rows,
            "problems": [p.as_dict() for p in self.problems],
            "problem_groups": [g.as_dict() for g in group_problems(self.problems)],
            "ignored_columns": self.ignored_columns,
            "replaced": self.replaced,
        }

    def describe(self) -> str:
        if self.accepted:
            counts = ", ".join(f"{n} {name}" for name, n in self.rows.items())
            if self.replaced and not self.newer:
                note = " (older than what was held: replaced its school year and pupils)"
            elif not self.newer:
                note = " (older than what was held: only new years and pupils)"
            else:
                note = ""
            return f"imported {self.folder} as {self.school} {self.school_year}: {counts}{note}"
        lines = [f"rejected {self.folder}: {len(self.problems)} problem(s), nothing was written"]
        lines += [f"  {g}" for g in group_problems(self.problems)]
        return "\n".join(lines)


@holds_home
def import_exports(
    paths: Iterable[Path],
    *,
    school_year: SchoolYear | None = None,
    actor: str,
    today: dt.date | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    only_school: str | None = None,
) -> list[ImportReport]:
    """Import every export found under ``paths``, each all or nothing, in order.

    ``only_school`` (a BRINVEST: the web's school administrator) rejects, unwritten, an
    export of any other school.

    With ``replace`` an export older than the newest one held replaces what the
    school holds for its school year (results, enrolments, its pupils' childcare
    and special-category rows); without it an older export only fills gaps.
    ``progress(done, total)`` is called as each export is stored or rejected.
    """
    folders = [folder for path in paths for folder in find_exports(Path(path))]
    missing = [Path(p) for p in paths if not Path(p).exists()]
    reports = [
        ImportReport(p, False, problems=[Problem(p.name, None, None, "folder does not exist")])
        for p in missing
    ]
    store = lvs_store()
    # Reading is pure (no database), so it runs in workers beside the storing of earlier ones;
    # the workers import only the core, so what they run must come from it.
    read = functools.partial(read_export, school_year=school_year, today=today or dt.date.today())
    for done, outcome in enumerate(ordered_map(read, folders), start=1):
        folder = outcome.folder
        if outcome.export is None:
            record(
                "school.import_rejected",
                actor=actor,
                subject=folder.name,
                problems=len(outcome.problems),
            )
            reports.append(
                ImportReport(
                    folder,
                    False,
                    problems=outcome.problems,
                    ignored_columns=outcome.ignored_columns,
                )
            )
            report_progress(progress, done, len(folders))
            continue
        if only_school is not None and outcome.export.school.code != only_school:
            record("school.import_rejected", actor=actor, subject=folder.name, other_school=True)
            reason = "this export is of another school than yours: nothing was written"
            reports.append(
                ImportReport(
                    folder, False, problems=[Problem("leerlingen.csv", None, None, reason)]
                )
            )
            report_progress(progress, done, len(folders))
            continue
        reports.append(
            _store_export(store, outcome.export, actor, outcome.ignored_columns, replace=replace)
        )
        report_progress(progress, done, len(folders))
    return reports


def _store_export(
    store: LvsStore,
    export: Export,
    actor: str,
    ignored: dict[str, list[str]],
    *,
    replace: bool = False,
) -> ImportReport:
    prepared = store.prepare(export, replace=replace)
    try:
        with transaction.atomic():
            school, _ = School.objects.select_for_update().get_or_create(
                brin=export.school.brin, vestiging=export.school.vestiging
            )
            _upsert_pupils(school, export, newer=prepared.newer)
            if prepared.newer:
                school.latest_year = str(export.school_year)
            school.store_change = prepared.token  # the store's change is committed with this
            school.save(update_fields=["latest_year", "store_change"])
            rows = export.row_counts()
            ExportImport.objects.create(
                school=school, school_year=str(export.school_year), imported_by=actor, rows=rows
            )
            record(
                "school.import",
                actor=actor,
                subject=school.code,
                school_year=str(export.school_year),
                rows=rows,
                replaced=replace and not prepared.newer,
            )
            faults.fault_point("import.registry_written")
    except BaseException:
        store.discard(prepared)
        raise
    faults.fault_point("import.registry_committed")
    commit_store(store, prepared)
    return ImportReport(
        export.folder,
        True,
        export.school.code,
        str(export.school_year),
        rows,
        ignored_columns=ignored,
        newer=prepared.newer,
        replaced=replace and not prepared.newer,
    )


def commit_store(store: LvsStore, prepared: PreparedImport) -> None:
    """Switch the store to a change the registry has committed.

    From the registry's commit on, the change is only ever completed: if the switch
    fails here (a full disk), the next command finishes it from the store's record.
    """
    try:
        store.commit(prepared)
    except OSError as error:
        raise StorageError(
            f"the change of {prepared.school} is recorded, but its LVS store could not be "
            f"switched yet ({error.strerror}); the next command finishes it once there is room"
        ) from None


def _upsert_pupils(school: School, export: Export, *, newer: bool) -> None:
    """Insert or update the export's pupils with one statement per batch.

    Pupils are edited and looked up through the ORM, but a national set has
    more than a million of them: building a model instance per row would cost
    more than reading and checking the whole export, so rows go in as plain
    parameters of an upsert that SQLite and PostgreSQL both understand.
    """
    ops = connection.ops
    table = ops.quote_name(Pupil._meta.db_table)
    columns = ["school_id", "leerlingnummer", *_PUPIL_FIELDS]
    names = ", ".join(ops.quote_name(c) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    key = f"{ops.quote_name('school_id')}, {ops.quote_name('leerlingnummer')}"
    if newer:
        updates = ", ".join(
            f"{ops.quote_name(c)} = excluded.{ops.quote_name(c)}" for c in _PUPIL_FIELDS
        )
        conflict = f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
        Pupil.objects.filter(school=school, current=True).update(current=False)
    else:
        conflict = f"ON CONFLICT ({key}) DO NOTHING"
    statement = f"INSERT INTO {table} ({names}) VALUES ({placeholders}) {conflict}"
    rows = [
        (
            school.pk,
            row["leerlingnummer"],
            row["bsn"] or "",
            row["onderwijsnummer"] or "",
            row["voornamen"],
            row["tussenvoegsel"] or "",
            row["achternaam"],
            ops.adapt_datefield_value(row["geboortedatum"]),
            row["geslacht"],
            row["postcode"],
            row["huisnummer"],
            row["huisnummertoevoeging"] or "",
            row["jaargroep"],
            newer,
        )
        for row in export.leerlingen.to_pylist()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)
