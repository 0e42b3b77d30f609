"""Deliveries and retractions: the only way pupil data leave the school.

A delivery carries, for one school and one school year, the pupils enrolled
that year minus every pupil with an active objection; their results in the
allowed domains; their childcare; and, only for a named study, the
special-category rows each pupil has explicit, unwithdrawn consent for. The
tables are built from the allow-list; the package is signed by the school and
encrypted to the office. What was delivered, and who was left out and why, is
recorded so that a later objection can be retracted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.utils import timezone

from cohortsafe import faults
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.progress import Progress
from cohortsafe.app.progress import report as report_progress
from cohortsafe.app.school.models import (
    Consent,
    DeliveredPupil,
    Delivery,
    ExcludedPupil,
    Objection,
    Pupil,
    Retraction,
    School,
    Study,
)
from cohortsafe.app.school.services.imports import lvs_store
from cohortsafe.app.school.services.recovery import (
    aside,
    cleared,
    publish,
    recover_home,
    sweep_aside,
)
from cohortsafe.app.school.services.registers import RegisterError, find_pupil, find_school
from cohortsafe.config import load
from cohortsafe.domain import NCO_DOMAINS, SCALES, SchoolCode, SchoolYear
from cohortsafe.domain.freetext import FREE_TEXT, NameMatcher, refusals
from cohortsafe.files import private_dir
from cohortsafe.lvs import LvsStore
from cohortsafe.package import (
    DeliveryContents,
    KeyPair,
    PublicKey,
    load_private,
    load_public,
    require_role,
    write_delivery,
    write_retraction,
)

__all__ = [
    "OFFICE_KEY_FILE",
    "DeliveryReport",
    "RetractionReport",
    "deliver",
    "office_key_in_home",
    "outbox",
    "period_deadline",
    "record_download",
    "retract",
    "signing_key",
]


def signing_key(path: Path | None) -> KeyPair:
    """The school's signing key: ``path``, else ``school.key`` in the home."""
    return load_private(path or load().home / "school.key")


def delivery_keys(office_key: Path, signing_key_path: Path | None) -> tuple[PublicKey, KeyPair]:
    """The office's key to encrypt to and the school's to sign with, each checked for its role.

    The school's own key is refused as the office's by fingerprint too, so a copy
    without a role (made before keys had one) is caught as well.
    """
    recipient = load_public(office_key)
    signer = signing_key(signing_key_path)
    require_role(
        recipient,
        "office",
        given_as=f"--office-key {office_key.name}",
        not_fingerprints=(signer.public.fingerprint,),
    )
    require_role(
        signer.public, "school", given_as="the signing key", fix="sign with the school's key"
    )
    return recipient, signer


@dataclass
class DeliveryReport:
    school: str
    period: str
    delivered: bool
    file: str | None = None
    delivery_id: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    exclusions: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    # the earlier delivery of this school and period that this one replaces at the office
    replaces: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "period": self.period,
            "delivered": self.delivered,
            "file": self.file,
            "delivery_id": self.delivery_id,
            "rows": self.rows,
            "exclusions": self.exclusions,
            "reason": self.reason,
            "warnings": self.warnings,
            "replaces": self.replaces,
        }

    def describe(self) -> str:
        if not self.delivered:
            return f"{self.school} {self.period}: not delivered: {self.reason}"
        rows = ", ".join(f"{n} {t}" for t, n in self.rows.items())
        left_out = ", ".join(f"{n} {why}" for why, n in self.exclusions.items() if n) or "nothing"
        text = f"{self.school} {self.period}: {self.file} ({rows}); left out: {left_out}"
        if self.replaces:
            text += f"; {self.replaces}"
        return "\n".join([text, *(f"warning: {w}" for w in self.warnings)])


def period_deadline(period: SchoolYear) -> dt.date:
    """The last day parents can object before ``period``'s delivery (in its second year)."""
    return load().objection_deadline.in_year(period.start + 1)


def _deadline_warnings(period: SchoolYear, today: dt.date, before_deadline: bool) -> list[str]:
    """Nothing once the deadline has passed; before it, a refusal unless explicitly allowed."""
    deadline = period_deadline(period)
    if today > deadline:
        return []
    if not before_deadline:
        raise RegisterError(
            f"parents can still object to the delivery of {period} until {deadline}: deliver "
            "after that day, or pass --before-deadline to deliver now anyway"
        )
    return [
        f"parents can still object until {deadline}; objections registered later will need "
        "a retraction"
    ]


@dataclass
class _Built:
    contents: DeliveryContents
    delivered: dict[str, tuple[int, str]]  # leerlingnummer -> (pupil id, pgn)
    objected: list[int]  # pupil ids left out for an objection


def _column(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist()


def _with_pgn(table: pa.Table, pgns: pa.Table) -> pa.Table:
    """Keep the rows of delivered pupils, in their order, and swap the leerlingnummer for the PGN.

    A look-up, not ``Table.join``: an Acero hash join costs about six times as much on
    a school's few thousand rows, three times per school.
    """
    at = pc.index_in(table.column("leerlingnummer"), value_set=pgns.column("leerlingnummer"))
    delivered = pc.is_valid(at)
    kept = table.filter(delivered).drop_columns(["leerlingnummer"])
    return kept.append_column("pgn", pgns.column("pgn").take(at.filter(delivered)))


# The pupils' names, read with them to refuse any in the free text delivered.
_NAMES = ("voornamen", "tussenvoegsel", "achternaam")
_SCALES = pa.array(SCALES, pa.string())


def _build(
    store: LvsStore,
    school: School,
    period: SchoolYear,
    study: Study | None,
    domains: tuple[str, ...],
) -> _Built:
    code = SchoolCode(school.brin, school.vestiging)
    enrolments = store.read(code, "inschrijvingen")
    enrolments = enrolments.filter(pc.equal(enrolments.column("schooljaar"), str(period)))
    if enrolments.num_rows == 0:
        raise RegisterError(f"no export of {period} was imported for {code}")
    jaargroep = dict(
        zip(_column(enrolments, "leerlingnummer"), _column(enrolments, "jaargroep"), strict=True)
    )
    pupils = list(
        Pupil.objects.filter(school=school, leerlingnummer__in=list(jaargroep)).values(
            "id",
            "leerlingnummer",
            "bsn",
            "onderwijsnummer",
            "geboortedatum",
            "geslacht",
            "postcode",
            "huisnummer",
            "huisnummertoevoeging",
            *_NAMES,
        )
    )
    objected = set(
        Objection.objects.filter(pupil__school=school, withdrawn_at__isnull=True).values_list(
            "pupil_id", flat=True
        )
    )
    kept = [p for p in pupils if p["id"] not in objected]
    delivered = {p["leerlingnummer"]: (p["id"], p["bsn"] or p["onderwijsnummer"]) for p in kept}
    leerlingen = pa.table(
        {
            "pgn": [delivered[p["leerlingnummer"]][1] for p in kept],
            "geboortedatum": pa.array([p["geboortedatum"] for p in kept], pa.date32()),
            "geslacht": [p["geslacht"] for p in kept],
            "postcode": [p["postcode"] for p in kept],
            "huisnummer": pa.array([p["huisnummer"] for p in kept], pa.int32()),
            "huisnummertoevoeging": pa.array(
                [p["huisnummertoevoeging"] or None for p in kept], pa.string()
            ),
            "jaargroep": pa.array([jaargroep[p["leerlingnummer"]] for p in kept], pa.int8()),
            "brin": [school.brin] * len(kept),
            "vestiging": [school.vestiging] * len(kept),
        }
    )
    pgns = pa.table(
        {
            "leerlingnummer": pa.array(list(delivered), pa.string()),
            "pgn": pa.array([pgn for _, pgn in delivered.values()], pa.string()),
        }
    )

    results = store.read(code, "toetsresultaten")
    results = _with_pgn(results.filter(pc.equal(results.column("schooljaar"), str(period))), pgns)
    in_domains = pc.is_in(results.column("leergebied"), value_set=pa.array(domains))
    outside_domains = results.num_rows - pc.sum(in_domains).as_py() if results.num_rows else 0
    results = results.filter(in_domains)
    childcare = _with_pgn(store.read(code, "voorschool"), pgns)

    special = _with_pgn(store.read(code, "bijzonder"), pgns)
    tables = {"leerlingen": leerlingen, "toetsresultaten": results, "voorschool": childcare}
    exclusions = {
        "objection": len(pupils) - len(kept),
        "results_outside_delivered_domains": int(outside_domains),
    }
    if study is None:
        exclusions["special_category_rows_without_study"] = special.num_rows
    else:
        consented = _consented(school, study, delivered)
        keys = pc.binary_join_element_wise(special.column("pgn"), special.column("categorie"), "|")
        allowed = pc.is_in(keys, value_set=pa.array(sorted(consented), pa.string()))
        exclusions["special_category_rows_without_consent"] = special.num_rows - int(
            pc.sum(allowed).as_py() or 0
        )
        tables["bijzonder"] = special.filter(allowed).select(["pgn", "categorie", "datum"])
    _refuse_free_text(pupils, tables)
    contents = DeliveryContents(
        school=code,
        period=period,
        tables=tables,
        exclusions=exclusions,
        domains=domains,
        study=study.code if study else None,
    )
    return _Built(contents, delivered, sorted(objected & {p["id"] for p in pupils}))


def _refuse_free_text(pupils: list[dict[str, Any]], tables: dict[str, pa.Table]) -> None:
    """Refuse what the import refuses now but an import before that check let in."""
    matcher = NameMatcher.of_pupils(
        *(pa.array([p[n] for p in pupils], pa.string()) for n in _NAMES)
    )
    free = {(t, c): tables[t].column(c) for t, c in FREE_TEXT}
    found = [
        f"{table}.{column}: {int(rows.sum())} row(s) with a value that {reason}"
        for (table, column), reason, rows in refusals(free, names=matcher)
    ]
    scales = tables["toetsresultaten"].column("schaal")
    unknown = pc.sum(pc.invert(pc.is_in(scales, value_set=_SCALES))).as_py() or 0
    if unknown:
        found.append(f"toetsresultaten.schaal: {unknown} row(s) outside the code list")
    if found:
        raise RegisterError(
            "; ".join(found) + ": import a corrected export with --replace, then deliver"
        )


def _consented(school: School, study: Study, delivered: dict[str, tuple[int, str]]) -> set[str]:
    """``pgn|category`` for every active consent of a delivered pupil for ``study``."""
    rows = Consent.objects.filter(
        pupil__school=school, study=study, withdrawn_at__isnull=True
    ).values_list("pupil__leerlingnummer", "category")
    return {f"{delivered[n][1]}|{c}" for n, c in rows if n in delivered and c in study.categories}


@holds_home
def deliver(
    *,
    period: SchoolYear,
    office_key: Path,
    out: Path,
    actor: str,
    school: str | None = None,
    study: str | None = None,
    signing_key_path: Path | None = None,
    today: dt.date | None = None,
    before_deadline: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> list[DeliveryReport]:
    """Write one package per school (or for ``school``) into ``out`` and record each.

    Before the period's objection deadline has passed this is refused unless
    ``before_deadline`` is given; then each report carries a warning. With
    ``dry_run`` every delivery is built in memory and reported, but no package is
    written and nothing is recorded as delivered (the run is audited as a read).
    ``progress(done, total)`` is called as each school is done.
    """
    today = today or dt.date.today()
    # a dry run changes nothing, so it may look ahead of the deadline (with the warning)
    warnings = _deadline_warnings(period, today, before_deadline or dry_run)
    if dry_run:
        recipient, signer = load_public(office_key), None
    else:
        recipient, signer = delivery_keys(office_key, signing_key_path)
    the_study = None
    if study is not None:
        the_study = Study.objects.filter(code=study).first()
        if the_study is None:
            raise RegisterError(f"no study {study}")
        if not the_study.starts_on <= today <= the_study.ends_on:
            raise RegisterError(
                f"study {study} runs from {the_study.starts_on} to {the_study.ends_on}"
            )
    schools = [find_school(school)] if school else list(School.objects.all())
    if not schools:
        raise RegisterError("no school yet: import an LVS export first")
    domains = load().delivery_domains
    if not set(domains) <= set(NCO_DOMAINS):  # the setting cannot widen it; neither can code
        raise RegisterError(f"delivery domains must be among {', '.join(NCO_DOMAINS)}")
    # once for the run: it holds the home's lock, so nothing else can leave work half done
    store = lvs_store()
    if not dry_run:
        sweep_aside(out)
    reports = []
    for done, each in enumerate(schools, start=1):
        try:
            built = _build(store, each, period, the_study, domains)
        except RegisterError as error:
            if school:
                raise
            reports.append(DeliveryReport(each.code, str(period), False, reason=str(error)))
            report_progress(progress, done, len(schools))
            continue
        if signer is None:
            report = _dry_run_report(each, built)
        else:
            report = _write_and_record(each, built, the_study, signer, recipient, out, actor)
        report.warnings.extend(warnings)
        reports.append(report)
        report_progress(progress, done, len(schools))
    published = [r.delivery_id for r in reports if r.delivered and r.delivery_id]
    if published and not dry_run:
        pks = list(Delivery.objects.filter(delivery_id__in=published).values_list("pk", flat=True))
        cleared(Delivery, pks, out)
    if dry_run:
        record(
            "school.deliver_dry_run",
            actor=actor,
            subject=school or "",
            period=str(period),
            study=study,
            schools=len(schools),
            buildable=sum(r.delivered for r in reports),
        )
    return reports


def _dry_run_report(school: School, built: _Built) -> DeliveryReport:
    """What a delivery would hold; ``delivered`` says it could be built, no file is named."""
    rows = {name: table.num_rows for name, table in built.contents.tables.items()}
    return DeliveryReport(
        school.code,
        str(built.contents.period),
        True,
        rows=rows,
        exclusions=dict(built.contents.exclusions),
    )


def _write_and_record(
    school: School,
    built: _Built,
    study: Study | None,
    signer: KeyPair,
    recipient: PublicKey,
    out: Path,
    actor: str,
) -> DeliveryReport:
    period = str(built.contents.period)
    delivery_id = str(uuid.uuid4())
    hidden: Path | None = None
    try:
        with transaction.atomic():
            School.objects.select_for_update().get(pk=school.pk)
            earlier = Delivery.objects.filter(school=school, period=period)
            seq = earlier.count() + 1
            replaces = _replaces(earlier.order_by("-seq").first())
            path = out / f"{school.code}-{period}-{seq}.nco"
            hidden = aside(path)
            manifest = write_delivery(
                built.contents,
                signing_key=signer,
                recipient=recipient,
                path=hidden,
                delivery_id=delivery_id,
            )
            faults.fault_point("deliver.package_written")
            delivery = Delivery.objects.create(
                delivery_id=delivery_id,
                school=school,
                period=period,
                seq=seq,
                study=study,
                file_name=path.name,
                pending_file=str(hidden.resolve()),
                created_by=actor,
                office_key=recipient.fingerprint,
                signing_key=signer.public.fingerprint,
                manifest={
                    "tables": manifest["tables"],
                    "exclusions": manifest["exclusions"],
                    "domains": manifest["domains"],
                },
            )
            _insert_delivered(delivery, built.delivered.values())
            ExcludedPupil.objects.bulk_create(
                [
                    ExcludedPupil(delivery=delivery, pupil_id=pid, reason="objection")
                    for pid in built.objected
                ]
            )
            rows = {name: entry["rows"] for name, entry in manifest["tables"].items()}
            record(
                "school.deliver",
                actor=actor,
                subject=school.code,
                period=period,
                delivery_id=delivery_id,
                study=study.code if study else None,
                rows=rows,
                exclusions=manifest["exclusions"],
            )
            faults.fault_point("deliver.recorded")
    except BaseException:
        if hidden is not None:
            hidden.unlink(missing_ok=True)  # no record, no package
        raise
    faults.fault_point("deliver.committed")
    publish(delivery, clear=False)  # deliver() clears every note at once
    return DeliveryReport(
        school.code,
        period,
        True,
        path.name,
        delivery_id,
        rows,
        dict(manifest["exclusions"]),
        replaces=replaces,
    )


def _replaces(previous: Delivery | None) -> str | None:
    """The note that a new delivery replaces ``previous`` (the office keeps only the newest)."""
    if previous is None:
        return None
    made = timezone.localdate(previous.created_at).isoformat()
    return f"replaces delivery {previous.file_name} of {made} (the office keeps only the newest)"


def _insert_delivered(delivery: Delivery, pupils: Iterable[tuple[int, str]]) -> None:
    """Record every delivered pupil in one statement; model instances would cost more."""
    ops = connection.ops
    table = ops.quote_name(DeliveredPupil._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in ("delivery_id", "pupil_id", "pgn"))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s)",
            [(delivery.pk, pupil, pgn) for pupil, pgn in pupils],
        )


@dataclass
class RetractionReport:
    school: str
    leerlingnummer: str
    file: str
    retraction_id: str
    deliveries: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "leerlingnummer": self.leerlingnummer,
            "file": self.file,
            "retraction_id": self.retraction_id,
            "deliveries": self.deliveries,
        }

    def describe(self) -> str:
        held = ", ".join(self.deliveries)
        return f"retraction {self.file} for pupil {self.leerlingnummer} (delivered in {held})"


@holds_home
def retract(
    *,
    leerlingnummer: str,
    office_key: Path,
    out: Path,
    actor: str,
    school: str | None = None,
    signing_key_path: Path | None = None,
) -> RetractionReport:
    """A signed, encrypted retraction of a pupil whose parent objected after a delivery."""
    recover_home()
    pupil = find_pupil(leerlingnummer, school)
    objection = Objection.objects.filter(pupil=pupil, withdrawn_at__isnull=True).first()
    if objection is None:
        raise RegisterError(
            f"pupil {leerlingnummer} has no active objection: register it before retracting"
        )
    held = list(DeliveredPupil.objects.filter(pupil=pupil).select_related("delivery"))
    if not held:
        raise RegisterError(f"pupil {leerlingnummer} was never delivered: nothing to retract")
    recipient, signer = delivery_keys(office_key, signing_key_path)
    deliveries = sorted({str(h.delivery.delivery_id) for h in held})
    pgns = sorted({h.pgn for h in held})
    code = SchoolCode(pupil.school.brin, pupil.school.vestiging)
    sweep_aside(out)
    path = out / f"{code.code}-retraction-{uuid.uuid4().hex[:12]}.nco"
    hidden = aside(path)
    try:
        with transaction.atomic():
            manifest = write_retraction(
                school=code,
                pgns=pgns,
                deliveries=deliveries,
                reason="objection",
                signing_key=signer,
                recipient=recipient,
                path=hidden,
            )
            faults.fault_point("retract.package_written")
            retraction = Retraction.objects.create(
                retraction_id=manifest["retraction_id"],
                pupil=pupil,
                objection=objection,
                file_name=path.name,
                pending_file=str(hidden.resolve()),
                created_by=actor,
            )
            retraction.deliveries.set({h.delivery for h in held})
            record(
                "school.retract",
                actor=actor,
                subject=f"{code.code}/{leerlingnummer}",
                retraction_id=manifest["retraction_id"],
                deliveries=deliveries,
            )
            faults.fault_point("retract.recorded")
    except BaseException:
        hidden.unlink(missing_ok=True)  # no record, no package
        raise
    faults.fault_point("retract.committed")
    publish(retraction)
    return RetractionReport(
        code.code,
        leerlingnummer,
        path.name,
        manifest["retraction_id"],
        sorted(h.delivery.file_name for h in held),
    )


# --- the web's delivery folder ------------------------------------------------------------

#: the office's public key, where the web looks for it in a school's home
OFFICE_KEY_FILE = "office.pub"


def outbox() -> Path:
    """Where the web writes delivery packages (0700): HOME/outbox."""
    folder = load().home / "outbox"
    private_dir(folder)
    return folder


def office_key_in_home() -> Path | None:
    """The office's public key in the home, put there by the school's administrator."""
    path = load().home / OFFICE_KEY_FILE
    return path if path.is_file() else None


@holds_home
def record_download(delivery: Delivery, *, actor: str) -> Delivery:
    """Record that ``actor`` took a package file from the outbox (to send it to the office)."""
    record(
        "school.delivery_download",
        actor=actor,
        subject=delivery.school.code,
        file=delivery.file_name,
    )
    return delivery
