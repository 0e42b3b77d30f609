"""``cohortsafe school …``: the school's imports, registers, deliveries and letter."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from cohortsafe.cli._commands import (
    Subparsers,
    add_command,
    add_examples,
    add_group,
    add_school_year,
    output_file,
    output_folder,
)
from cohortsafe.cli._home import open_home
from cohortsafe.cli._progress import progress_bar
from cohortsafe.cli._report import Report, list_rejected
from cohortsafe.domain import SPECIAL_CATEGORIES
from cohortsafe.errors import UsageError
from cohortsafe.files import write_atomic


def _date(text: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError("a date is written dd-mm-jjjj or jjjj-mm-dd")


def _categories(text: str) -> list[str]:
    codes = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in SPECIAL_CATEGORIES]
    if unknown or not codes:
        raise argparse.ArgumentTypeError(f"categories are among {', '.join(SPECIAL_CATEGORIES)}")
    return codes


def _school_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--school",
        metavar="BRINVEST",
        default=None,
        help="school location (needed when the home holds several)",
    )


def _pupil_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pupil",
        required=True,
        metavar="LEERLINGNUMMER",
        help="the pupil's number in the school's administration (never a BSN)",
    )
    _school_option(parser)


EXAMPLES = {
    "import": "cohortsafe school import exports/2025-2026",
    "import-remove": "cohortsafe school import-remove --schooljaar 2025-2026 --school 12AB00",
    "set": "cohortsafe school set --name 'OBS De Linde' --contact bezwaar@delinde.example",
    "object": "cohortsafe school object --pupil 1002 --received 03-02-2026 --from 'ouder van …'",
    "object-evidence": "cohortsafe school object-evidence --pupil 1002 --out brief.pdf",
    "object-withdraw": "cohortsafe school object-withdraw --pupil 1002",
    "objections": "cohortsafe school objections --active",
    "objections-import": "cohortsafe school objections-import bezwaren.csv --school 12AB00",
    "study-add": "cohortsafe school study-add --code DYS-2026 --title 'Dyslexie en lezen' "
    "--categories dyslexie --from 01-01-2026 --until 31-12-2027",
    "consent": "cohortsafe school consent --pupil 1002 --study DYS-2026 --categories dyslexie "
    "--given-by 'ouder van …' --date 01-09-2026",
    "consent-withdraw": "cohortsafe school consent-withdraw --pupil 1002 --study DYS-2026",
    "consents": "cohortsafe school consents --study DYS-2026",
    "deliver": "cohortsafe school deliver --schooljaar 2025-2026 --office-key office.pub "
    "--out packages",
    "retract": "cohortsafe school retract --pupil 1002 --office-key office.pub --out retractions",
    "letter": "cohortsafe school letter --format html --out brief-ouders.html",
    "reinstate": "cohortsafe school reinstate --pupil 1002 --office-key office.pub "
    "--out reinstatements",
    "status": "cohortsafe school status",
    "deliveries": "cohortsafe school deliveries --schooljaar 2025-2026 --json",
}


def _pupil_package_options(parser: argparse.ArgumentParser, what: str) -> None:
    """The options of a signed, encrypted package about one pupil (retraction, reinstatement)."""
    _pupil_options(parser)
    parser.add_argument(
        "--office-key",
        type=Path,
        required=True,
        metavar="office.pub",
        help="the office's public key, as the office gave it",
    )
    parser.add_argument(
        "--signing-key",
        type=Path,
        default=None,
        help="school's private key (default: school.key in the home)",
    )
    parser.add_argument("--out", type=Path, required=True, help=f"folder to write the {what} into")


def register(groups: Subparsers) -> None:
    school = add_group(groups, "school", "the school side: imports, registers, deliveries")

    p = add_command(school, "import", _import, "import LVS exports, all or nothing per export")
    p.add_argument(
        "folders",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="an export folder, or a folder holding export folders",
    )
    add_school_year(
        p,
        required=False,
        help="school year the exports describe (default: the latest in the results)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="an export older than the newest one held replaces its school year "
        "(default: an older export only fills in missing years and pupils)",
    )

    p = add_command(school, "set", _set, "record the school's name and contact for objections")
    _school_option(p)
    p.add_argument(
        "--from",
        dest="from_",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="CSV with columns school,name,contact for many schools, all or nothing",
    )
    p.add_argument("--name", default=None, help="the school's name as parents know it")
    p.add_argument(
        "--contact",
        default=None,
        help="who parents contact to object: a name, office or e-mail address",
    )

    p = add_command(school, "object", _object, "register a parent's objection")
    _pupil_options(p)
    p.add_argument(
        "--received",
        type=_date,
        required=True,
        help="date the objection came in, dd-mm-jjjj or jjjj-mm-dd",
    )
    p.add_argument(
        "--from",
        dest="from_",
        required=True,
        metavar="NAAM",
        help="the parent or guardian who objected",
    )
    p.add_argument(
        "--channel",
        default="brief",
        choices=["brief", "email", "formulier", "mondeling"],
        help="how the objection came in",
    )
    p.add_argument("--note", default="", help="a note for the register (no health data)")
    p.add_argument(
        "--evidence",
        type=Path,
        metavar="FILE",
        help="the letter or e-mail it came in (pdf, png, jpg, txt, eml), kept 0600 in the home",
    )

    p = add_command(
        school,
        "object-evidence",
        _object_evidence,
        "write out the evidence kept with a pupil's latest objection",
    )
    _pupil_options(p)
    p.add_argument("--out", type=Path, required=True, help="file to write (0600)")

    p = add_command(school, "object-withdraw", _object_withdraw, "withdraw an objection")
    _pupil_options(p)
    p.add_argument("--note", default="", help="a note for the register, e.g. who asked")

    p = add_command(school, "objections", _objections, "the objection register")
    _school_option(p)
    p.add_argument("--active", action="store_true", help="only objections still in force")

    p = add_command(
        school,
        "objections-import",
        _objections_import,
        "register the objections in a list exported by the LAS",
    )
    p.add_argument("file", type=Path, help="CSV with leerlingnummer and datum")
    _school_option(p)

    p = add_command(school, "study-add", _study_add, "add a study that asks for special data")
    p.add_argument("--code", required=True, help="the study's code, e.g. DYS-2026")
    p.add_argument("--title", required=True, help="the study's title")
    p.add_argument(
        "--categories",
        type=_categories,
        required=True,
        help=f"comma-separated, among {', '.join(SPECIAL_CATEGORIES)}",
    )
    p.add_argument("--from", dest="from_", type=_date, required=True, help="first day, dd-mm-jjjj")
    p.add_argument("--until", type=_date, required=True, help="last day, dd-mm-jjjj")

    p = add_command(school, "consent", _consent, "register explicit consent for a study")
    _pupil_options(p)
    p.add_argument("--study", required=True, metavar="CODE", help="the study's code")
    p.add_argument(
        "--categories",
        type=_categories,
        required=True,
        help=f"comma-separated, among {', '.join(SPECIAL_CATEGORIES)}",
    )
    p.add_argument("--given-by", required=True, metavar="NAAM", help="the parent who consented")
    p.add_argument("--date", type=_date, required=True, help="date consent was given, dd-mm-jjjj")
    p.add_argument("--evidence", default="", metavar="REF", help="where the signed form is kept")

    p = add_command(school, "consent-withdraw", _consent_withdraw, "withdraw consent")
    _pupil_options(p)
    p.add_argument("--study", required=True, metavar="CODE", help="the study's code")
    p.add_argument(
        "--categories", type=_categories, default=None, help="only these categories (default: all)"
    )

    p = add_command(school, "consents", _consents, "the consent register")
    _school_option(p)
    p.add_argument("--study", default=None, metavar="CODE", help="only this study")

    p = add_command(
        school, "deliver", _deliver, "write signed, encrypted delivery packages for the office"
    )
    add_school_year(p, required=True, help="school year to deliver")
    p.add_argument(
        "--office-key",
        type=Path,
        required=True,
        metavar="office.pub",
        help="the office's public key, as the office gave it",
    )
    _school_option(p)
    p.add_argument(
        "--study",
        default=None,
        metavar="CODE",
        help="also deliver special-category data consented for this study",
    )
    p.add_argument(
        "--signing-key",
        type=Path,
        default=None,
        help="school's private key (default: school.key in the home)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write the packages into (not with --dry-run)",
    )
    p.add_argument(
        "--before-deadline",
        action="store_true",
        help="deliver although parents can still object to this period (until 7 March of its "
        "second year by default); objections registered later then need a retraction",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="build every delivery in memory and report it; write and record nothing",
    )

    p = add_command(
        school, "retract", _retract, "a signed, encrypted retraction after a late objection"
    )
    _pupil_package_options(p, "retraction")

    p = add_command(school, "letter", _letter, "the information letter for parents")
    _school_option(p)
    p.add_argument("--format", choices=["html", "md"], default="html", help="HTML or Markdown")
    p.add_argument(
        "--lang", choices=["nl", "en"], default="nl", help="Dutch, or English for parents"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="file to write (brief.html), or a folder with --all"
    )
    p.add_argument(
        "--all", action="store_true", help="a letter for every school: DIR/<BRINVEST>.html or .md"
    )

    p = add_command(
        school,
        "import-remove",
        _import_remove,
        "undo the import of one school year (refused once that year was delivered)",
    )
    add_school_year(p, required=True, help="the school year whose import to remove")
    _school_option(p)

    p = add_command(
        school,
        "reinstate",
        _reinstate,
        "a signed, encrypted reinstatement after an objection withdrawn following a retraction",
    )
    _pupil_package_options(p, "reinstatement")

    p = add_command(
        school, "status", _status, "per school: pupils, imports, deliveries, objections"
    )
    _school_option(p)

    p = add_command(school, "deliveries", _deliveries, "every delivery made")
    _school_option(p)
    add_school_year(p, required=False, help="only this school year")
    add_examples(school, EXAMPLES)


def _services(*, create: bool = False):  # type: ignore[no-untyped-def]
    open_home("school", create=create)
    from cohortsafe.app.school import services

    return services


def _import(args: argparse.Namespace) -> Report:
    services = _services(create=True)
    with progress_bar("importing") as progress:
        reports = services.import_exports(
            args.folders,
            school_year=args.schooljaar,
            actor=services.console_actor(),
            replace=args.replace,
            progress=progress,
        )
    data = {"exports": [r.as_dict() for r in reports]}
    if not reports:
        return Report.rejected(data, "no LVS export (leerlingen.csv) found in the folders given")
    text = "\n".join(r.describe() for r in reports)
    accepted = sum(r.accepted for r in reports)
    rows = sum(sum(r.rows.values()) for r in reports)
    text += (
        f"\n{len(reports)} export(s): {accepted} imported, {len(reports) - accepted} rejected;"
        f" {rows:,} rows"
    )
    if all(r.accepted for r in reports):
        return Report.ok(data, text)
    return Report.rejected(data, text)


def _set(args: argparse.Namespace) -> Report:
    services = _services()
    if args.from_ is not None:
        if args.school or args.name or args.contact:
            raise UsageError("--from takes no --school, --name or --contact")
        update = services.set_schools_from_list(args.from_, actor=services.console_actor())
        data = {"accepted": update.accepted, "updated": update.updated}
        if not update.accepted:
            return list_rejected(data, args.from_, "nothing was changed", update.problems)
        return Report.ok(
            {**data, "problems": []},
            f"name and contact recorded for {len(update.updated)} school(s)",
        )
    school = services.set_school(
        args.school, name=args.name, contact=args.contact, actor=services.console_actor()
    )
    data = {"school": school.code, "name": school.name, "contact": school.contact}
    return Report.ok(
        data,
        f"{school.code}: {school.name or '(no name)'}; "
        f"objections to: {school.contact or '(no contact)'}",
    )


def _object(args: argparse.Namespace) -> Report:
    services = _services()
    evidence = None
    if args.evidence is not None:
        try:
            evidence = services.Evidence(args.evidence.name, args.evidence.read_bytes())
        except OSError:
            raise UsageError(f"--evidence {args.evidence} cannot be read") from None
    pupil = services.find_pupil(args.pupil, args.school)
    objection = services.register_objection(
        pupil,
        received_on=args.received,
        received_from=args.from_,
        channel=args.channel,
        note=args.note,
        evidence=evidence,
        actor=services.console_actor(),
    )
    held = pupil.deliveries.count()
    text = f"objection registered for pupil {pupil.leerlingnummer} at {pupil.school.code}"
    if held:
        text += (
            f"; the pupil was in {held} earlier delivery(ies): make a retraction with "
            f"`cohortsafe school retract --pupil {pupil.leerlingnummer} …`"
        )
    return Report.ok(
        {
            "objection": objection.pk,
            "school": pupil.school.code,
            "leerlingnummer": pupil.leerlingnummer,
            "earlier_deliveries": held,
        },
        text,
    )


def _object_evidence(args: argparse.Namespace) -> Report:
    services = _services()
    output_file(args.out)
    pupil = services.find_pupil(args.pupil, args.school)
    objection = pupil.objections.exclude(evidence_file="").order_by("-registered_at").first()
    if objection is None:
        raise UsageError(f"no objection of pupil {pupil.leerlingnummer} has an evidence file")
    kind, data = services.objection_evidence(objection, actor=services.console_actor())
    write_atomic(args.out, data)
    return Report.ok(
        {"objection": objection.pk, "file": str(args.out), "kind": kind.suffix},
        f"evidence of objection {objection.pk} ({kind.suffix}) written to {args.out}",
    )


def _object_withdraw(args: argparse.Namespace) -> Report:
    services = _services()
    pupil = services.find_pupil(args.pupil, args.school)
    objection = services.withdraw_objection(pupil, note=args.note, actor=services.console_actor())
    needed = objection.needs_reinstatement
    text = f"objection withdrawn for pupil {pupil.leerlingnummer}"
    if needed:
        text += (
            "; the pupil was retracted, so the office still keeps the pupil out: make a "
            f"reinstatement with `cohortsafe school reinstate --pupil {pupil.leerlingnummer} "
            "--office-key office.pub --out DIR` and send it to the office"
        )
    return Report.ok(
        {
            "school": pupil.school.code,
            "leerlingnummer": pupil.leerlingnummer,
            "needs_reinstatement": needed,
        },
        text,
    )


def _objections(args: argparse.Namespace) -> Report:
    services = _services()
    statuses = services.objections(
        args.school, include_withdrawn=not args.active, actor=services.console_actor()
    )
    deadline = services.objection_deadline()
    days = (deadline - dt.date.today()).days
    lines = [f"next deadline for objections: {deadline:%d-%m-%Y} ({days} days)"]
    for s in statuses:
        o = s.objection
        state = "active" if o.active else f"withdrawn {o.withdrawn_at:%d-%m-%Y}"
        line = (
            f"{o.pupil.school.code} {o.pupil.leerlingnummer} {o.pupil.display_name}: "
            f"received {o.received_on:%d-%m-%Y} from {o.received_from} ({o.channel}), {state}"
        )
        if s.needs_retraction:
            line += f" — RETRACTION NEEDED (delivered in {', '.join(s.delivered_in)})"
        elif s.needs_reinstatement:
            line += f" — REINSTATEMENT NEEDED (retracted in {', '.join(s.retracted_in)})"
        elif s.reinstated_in:
            line += f" — reinstated ({', '.join(s.reinstated_in)})"
        elif s.retracted_in:
            line += f" — retracted ({', '.join(s.retracted_in)})"
        lines.append(line)
    if not statuses:
        lines.append("no objections registered")
    data = {
        "deadline": deadline.isoformat(),
        "objections": [s.as_dict() for s in statuses],
        "needs_retraction": sum(s.needs_retraction for s in statuses),
        "needs_reinstatement": sum(s.needs_reinstatement for s in statuses),
    }
    return Report.ok(data, "\n".join(lines))


def _objections_import(args: argparse.Namespace) -> Report:
    services = _services()
    outcome = services.import_objection_list(args.file, args.school, actor=services.console_actor())
    data = {
        "accepted": outcome.accepted,
        "registered": outcome.registered,
        "already_active": outcome.already_active,
    }
    if not outcome.accepted:
        return list_rejected(data, args.file, "nothing was registered", outcome.problems)
    return Report.ok(
        {**data, "problems": [], "problem_groups": []},
        f"{outcome.registered} objection(s) registered, {outcome.already_active} already active",
    )


def _study_add(args: argparse.Namespace) -> Report:
    services = _services()
    study = services.add_study(
        code=args.code,
        title=args.title,
        categories=args.categories,
        starts_on=args.from_,
        ends_on=args.until,
        actor=services.console_actor(),
    )
    return Report.ok(
        {"study": study.code, "categories": study.categories},
        f"study {study.code} added ({', '.join(study.categories)})",
    )


def _consent(args: argparse.Namespace) -> Report:
    services = _services()
    pupil = services.find_pupil(args.pupil, args.school)
    outcome = services.register_consent(
        pupil,
        study=args.study,
        categories=args.categories,
        given_by=args.given_by,
        given_on=args.date,
        evidence=args.evidence,
        actor=services.console_actor(),
    )
    text = (
        f"consent registered for pupil {pupil.leerlingnummer}, study {args.study}: "
        f"{', '.join(outcome.categories)}"
    )
    return Report.ok(
        outcome.as_dict(), "\n".join([text, *(f"warning: {w}" for w in outcome.warnings)])
    )


def _consent_withdraw(args: argparse.Namespace) -> Report:
    services = _services()
    pupil = services.find_pupil(args.pupil, args.school)
    count = services.withdraw_consent(
        pupil, study=args.study, categories=args.categories, actor=services.console_actor()
    )
    return Report.ok(
        {"leerlingnummer": pupil.leerlingnummer, "withdrawn": count},
        f"{count} consent(s) withdrawn for pupil {pupil.leerlingnummer}",
    )


def _consents(args: argparse.Namespace) -> Report:
    services = _services()
    rows = services.consents(args.study, args.school, actor=services.console_actor())
    items = [
        {
            "school": c.pupil.school.code,
            "leerlingnummer": c.pupil.leerlingnummer,
            "name": c.pupil.display_name,
            "study": c.study.code,
            "category": c.category,
            "given_by": c.given_by,
            "given_on": c.given_on.isoformat(),
            "evidence": c.evidence,
            "active": c.active,
        }
        for c in rows
    ]
    lines = [
        f"{i['school']} {i['leerlingnummer']} {i['name']}: {i['study']}/{i['category']} "
        f"given by {i['given_by']} on {i['given_on']}" + ("" if i["active"] else " (withdrawn)")
        for i in items
    ] or ["no consents registered"]
    return Report.ok({"consents": items}, "\n".join(lines))


def _deliver(args: argparse.Namespace) -> Report:
    if args.out is None and not args.dry_run:
        return Report.failure(2, "usage", "say where the packages go with --out DIR")
    services = _services()
    if not args.dry_run and args.out is None:
        raise UsageError("--out FOLDER is needed (or --dry-run to only look)")
    with progress_bar("delivering") as progress:
        reports = services.deliver(
            period=args.schooljaar,
            office_key=args.office_key,
            out=output_folder(args.out) if args.out else Path("."),
            actor=services.console_actor(),
            school=args.school,
            study=args.study,
            signing_key_path=args.signing_key,
            before_deadline=args.before_deadline,
            dry_run=args.dry_run,
            progress=progress,
        )
    data = {"dry_run": args.dry_run, "deliveries": [r.as_dict() for r in reports]}
    if args.dry_run:
        text = "\n".join(_would(r) for r in reports)
    else:
        text = "\n".join(r.describe() for r in reports)
    built = sum(r.delivered for r in reports)
    rows = sum(r.rows.get("leerlingen", 0) for r in reports)
    verb = "could be delivered" if args.dry_run else "delivered"
    text += (
        f"\n{len(reports)} school(s): {built} {verb}, {len(reports) - built} not; {rows:,} pupils"
    )
    if args.dry_run:
        text += " (dry run: nothing written or recorded)"
    if any(r.delivered for r in reports):
        return Report.ok(data, text)
    return Report.rejected(data, text)


def _pupil_package(args: argparse.Namespace, kind: str) -> Report:
    """Write a retraction or a reinstatement of ``--pupil`` with the service of that name."""
    services = _services()
    report = getattr(services, kind)(
        leerlingnummer=args.pupil,
        school=args.school,
        office_key=args.office_key,
        out=output_folder(args.out),
        actor=services.console_actor(),
        signing_key_path=args.signing_key,
    )
    return Report.ok(report.as_dict(), report.describe())


def _retract(args: argparse.Namespace) -> Report:
    return _pupil_package(args, "retract")


def _letter(args: argparse.Namespace) -> Report:
    services = _services()
    if args.all:
        if args.school:
            raise UsageError("--all takes no --school")
        output_folder(args.out)
        files = services.letters_for_all(
            args.out, lang=args.lang, fmt=args.format, actor=services.console_actor()
        )
        return Report.ok(
            {"files": [str(f) for f in files]},
            f"{len(files)} letter(s) written to {args.out}",
        )
    output_file(args.out)
    text = services.parent_letter(args.school, lang=args.lang, fmt=args.format)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return Report.ok({"file": str(args.out)}, f"letter written to {args.out}")


def _import_remove(args: argparse.Namespace) -> Report:
    services = _services()
    removed = services.remove_import(args.schooljaar, args.school, actor=services.console_actor())
    return Report.ok(removed.as_dict(), removed.describe())


def _would(report: object) -> str:
    r = report  # a DeliveryReport; the dry run names no file
    if not r.delivered:  # type: ignore[attr-defined]
        return r.describe()  # type: ignore[attr-defined]
    rows = ", ".join(f"{n} {t}" for t, n in r.rows.items())  # type: ignore[attr-defined]
    left_out = (
        ", ".join(f"{n} {why}" for why, n in r.exclusions.items() if n)  # type: ignore[attr-defined]
        or "nothing"
    )
    return f"{r.school} {r.period}: would deliver {rows}; left out: {left_out}"  # type: ignore[attr-defined]


def _status(args: argparse.Namespace) -> Report:
    services = _services()
    schools = services.school_status(args.school, actor=services.console_actor())
    lines = []
    for s in schools:
        imports = ", ".join(
            f"{year} x{i['count']} (last {i['last_imported_at']:%Y-%m-%d %H:%M})"
            for year, i in s["imports"].items()
        )
        deliveries = ", ".join(
            f"{period} x{d['count']} (newest {d['newest_file']})"
            for period, d in s["deliveries"].items()
        )
        lines.append(
            f"{s['school']}: pupils {s['pupils']['current']} current / {s['pupils']['total']} "
            f"total; imports: {imports or 'none'}; deliveries: {deliveries or 'none'}; "
            f"objections {s['objections']['active']} active, "
            f"{s['objections']['withdrawn']} withdrawn"
        )
        if s["pending_retractions"]:
            lines.append(f"  RETRACTION NEEDED for pupil(s) {', '.join(s['pending_retractions'])}")
    if not schools:
        lines.append("no school yet: import an LVS export first")
    return Report.ok({"schools": schools}, "\n".join(lines))


def _deliveries(args: argparse.Namespace) -> Report:
    services = _services()
    items = services.deliveries_made(args.school, args.schooljaar, actor=services.console_actor())
    lines = [
        f"{d['school']} {d['period']} {d['file']}: {d['created_at']:%Y-%m-%d %H:%M} by "
        f"{d['created_by']}"
        + (f", study {d['study']}" if d["study"] else "")
        + "; "
        + ", ".join(f"{n} {t}" for t, n in d["rows"].items())
        + "; left out: "
        + (", ".join(f"{n} {w}" for w, n in d["exclusions"].items() if n) or "nothing")
        for d in items
    ] or ["no deliveries made"]
    return Report.ok({"deliveries": items}, "\n".join(lines))


def _reinstate(args: argparse.Namespace) -> Report:
    return _pupil_package(args, "reinstate")
