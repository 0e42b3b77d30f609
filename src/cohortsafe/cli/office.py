"""``cohortsafe office …``: the statistics office's keys, intake, vault status and scan."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import (
    Subparsers,
    add_command,
    add_examples,
    add_group,
    add_school_year,
)
from cohortsafe.cli._home import open_home
from cohortsafe.cli._progress import progress_bar
from cohortsafe.cli._report import Report, list_rejected
from cohortsafe.errors import UsageError

EXAMPLES = {
    "init": "cohortsafe --home office office init",
    "school-add": "cohortsafe office school-add --from schools.csv",
    "receive": "cohortsafe office receive packages/",
    "status": "cohortsafe office status --json",
    "scan": "cohortsafe office scan",
    "rotate-key": "cohortsafe office rotate-key --purpose pupil --yes",
    "schools": "cohortsafe office schools",
    "deliveries": "cohortsafe office deliveries --school 12AB00",
    "retractions": "cohortsafe office retractions --json",
    "reference-load": "cohortsafe office reference-load schoolweging.csv",
}


def register(groups: Subparsers) -> None:
    office = add_group(groups, "office", "the statistics office: intake, vault, retractions")
    add_command(
        office,
        "init",
        _init,
        "create the office key pair (office.pub for schools) and the pseudonym keys",
    )
    p = add_command(office, "school-add", _school_add, "register a school's public key")
    p.add_argument("school", metavar="BRINVEST", nargs="?", default=None, help="school location")
    p.add_argument(
        "--key", type=Path, default=None, metavar="school.pub", help="the school's public key"
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace the key registered for this school (the output names old and new)",
    )
    p.add_argument(
        "--from",
        dest="from_",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="CSV with columns school,key (key path relative to the CSV); all or nothing",
    )
    p = add_command(
        office,
        "receive",
        _receive,
        "verify, decrypt, check, pseudonymise and store packages and retractions",
    )
    p.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="package or retraction files, or folders of *.nco files",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="verify, decrypt and check; report what would happen; store nothing",
    )
    add_command(office, "status", _status, "deliveries, pupils, results, retractions, linkage")
    add_command(office, "scan", _scan, "look through every vault file for identifiers")
    p = add_command(office, "rotate-key", _rotate, "re-key every pseudonym with a new key")
    p.add_argument(
        "--purpose",
        choices=["pupil", "school", "link"],
        default="pupil",
        help="which pseudonyms to re-key",
    )
    p.add_argument("--yes", action="store_true", help="do it (without: show what it would do)")
    add_command(office, "schools", _schools, "registered schools with key fingerprints")
    p = add_command(
        office, "deliveries", _deliveries, "deliveries received and what became of them"
    )
    p.add_argument("--school", metavar="BRINVEST", default=None, help="only this school")
    add_school_year(p, required=False, help="only this school year")
    add_command(office, "retractions", _retractions, "retractions received")
    p = add_command(
        office,
        "reference-load",
        _reference_load,
        "keep a school characteristic (schoolweging, 20–40) per school and year, by pseudonym",
    )
    p.add_argument(
        "file",
        type=Path,
        metavar="FILE.csv",
        help="brinvest;schooljaar;schoolweging with a header (`synth --reference` writes one); "
        "all or nothing",
    )
    add_examples(office, EXAMPLES)


def _services(*, create: bool = False):  # type: ignore[no-untyped-def]
    open_home("office", create=create)
    from cohortsafe.app.office import services

    return services


def _actor() -> str:
    from cohortsafe.app.audit.services import console_actor

    return console_actor()


def _init(args: argparse.Namespace) -> Report:
    services = _services(create=True)
    made = services.init_office(actor=_actor())
    keys = ", ".join(f"{k['purpose']} {k['key_id']}" for k in made["pseudonym_keys"])
    return Report.ok(
        made,
        f"office key pair made; give schools {made['office_pub']} "
        f"(fingerprint {made['fingerprint'][:16]}…); pseudonym keys: {keys}",
    )


def _school_add(args: argparse.Namespace) -> Report:
    services = _services()
    if args.from_ is not None:
        if args.school or args.key or args.replace:
            raise UsageError("--from takes no BRINVEST, --key or --replace")
        from cohortsafe.app.office import listings

        added = listings.add_schools_from_list(args.from_, actor=_actor())
        data = {"accepted": added.accepted, "added": added.added, "unchanged": added.unchanged}
        if not added.accepted:
            return list_rejected(data, args.from_, "no school was registered", added.problems)
        return Report.ok(
            {**data, "problems": []},
            f"{len(added.added)} school(s) registered, {len(added.unchanged)} already registered"
            " with the same key",
        )
    if args.school is None or args.key is None:
        raise UsageError("give BRINVEST --key school.pub, or --from FILE.csv")
    added_one = services.add_school(args.school, args.key, actor=_actor(), replace=args.replace)
    return Report.ok(added_one.as_dict(), added_one.describe())


def _receive(args: argparse.Namespace) -> Report:
    services = _services()
    files = [
        f for path in args.files for f in (sorted(path.glob("*.nco")) if path.is_dir() else [path])
    ]
    empty = [str(path) for path in args.files if path.is_dir() and not any(path.glob("*.nco"))]
    notes = [f"{folder} holds no *.nco files" for folder in empty]
    if not files:
        return Report.rejected(
            {"packages": [], "empty_folders": empty}, "\n".join([*notes, "nothing to receive"])
        )
    if args.check:
        from cohortsafe.app.office import listings

        reports = listings.check_files(files, actor=_actor())
    else:
        with progress_bar("receiving") as progress:
            reports = services.receive(files, actor=_actor(), progress=progress)
    data = {
        "check": args.check,
        "packages": [r.as_dict() for r in reports],
        "empty_folders": empty,
    }
    text = "\n".join([*notes, *(r.describe() for r in reports)])
    outcomes = {s: sum(r.status == s for r in reports) for s in sorted({r.status for r in reports})}
    text += f"\n{len(reports)} file(s): " + ", ".join(f"{n} {s}" for s, n in outcomes.items())
    if args.check:
        text += " (check only: nothing was stored)"
    if any(r.status == "refused" for r in reports):
        return Report.rejected(data, text)
    return Report.ok(data, text)


def _status(args: argparse.Namespace) -> Report:
    services = _services()
    data = services.status()
    lines = [
        f"schools registered: {data['schools_registered']}",
        f"deliveries held: {data['deliveries_current']} (replaced: {data['deliveries_replaced']},"
        f" refused: {data['refused']})",
        f"pupils: {data['pupils']}",
        "rows: " + ", ".join(f"{k} {v}" for k, v in data["rows"].items()),
        f"retractions: {data['retractions']} (pupils tombstoned: {data['tombstones']})",
        f"reinstatements: {data['reinstatements']}",
        f"onderwijsnummer pupils linked to a later BSN: {data['linked']}, still unlinked: "
        f"{data['unlinked']}, ambiguous matches left unlinked: {data['ambiguous']}",
    ]
    for period, counts in data["by_period"].items():
        lines.append(f"  {period}: {counts['deliveries']} deliveries, {counts['pupils']} pupils")
    if data["deliveries_unrecorded"]:
        lines.append(
            f"{data['deliveries_unrecorded']} delivery(ies) held but not in the registry (an "
            "intake was interrupted): receive the same files again to record them"
        )
    return Report.ok(data, "\n".join(lines))


def _scan(args: argparse.Namespace) -> Report:
    services = _services()
    findings = services.scan_vault(actor=_actor())
    data = {"findings": [f.__dict__ for f in findings]}
    if findings:
        return Report.rejected(data, "\n".join(str(f) for f in findings))
    return Report.ok(
        data,
        "no column of any vault file holds a BSN, onderwijsnummer, postcode, full date or name",
    )


def _rotate(args: argparse.Namespace) -> Report:
    services = _services()
    if not args.yes:
        from cohortsafe.app.office import listings

        preview = listings.rotation_preview(args.purpose)
        return Report.rejected(
            {"preview": preview},
            f"would add a new {preview['purpose']} key after {preview['current']} and re-key "
            f"{preview['files_to_rewrite']} vault file(s); run again with --yes to do it",
        )
    done = services.rotate_key(args.purpose, actor=_actor())
    return Report.ok(
        done,
        f"{done['purpose']} key {done['old']} → {done['new']}; "
        f"{done['files_rewritten']} vault files re-keyed",
    )


def _reference_load(args: argparse.Namespace) -> Report:
    _services()
    from cohortsafe.app.office.reference import load_reference

    done = load_reference(args.file, actor=_actor())
    if not done.accepted:
        problems = [{"line": line, "reason": reason} for line, reason in done.problems]
        lines = [f"line {line}: {reason}" for line, reason in done.problems]
        return Report.rejected(
            {"problems": problems},
            f"{args.file} is refused, nothing is kept:\n" + "\n".join(lines),
        )
    data = {
        "rows": done.rows,
        "schools": done.schools,
        "years": list(done.years),
        "new": done.new,
        "replaced": done.replaced,
    }
    return Report.ok(
        data,
        f"kept the schoolweging of {done.schools} schools for {', '.join(done.years)}: "
        f"{done.new} new, {done.replaced} replaced",
    )


def _listings():  # type: ignore[no-untyped-def]
    open_home("office")
    from cohortsafe.app.office import listings

    return listings


def _schools(args: argparse.Namespace) -> Report:
    items = _listings().registered_schools()
    lines = [
        f"{i['school']}: key {i['fingerprint']} added {i['added_at']:%Y-%m-%d %H:%M} by "
        f"{i['added_by']}"
        for i in items
    ] or ["no school registered"]
    return Report.ok({"schools": items}, "\n".join(lines))


def _received_lines(items: list[dict[str, object]]) -> list[str]:
    lines = []
    for i in items:
        line = f"{i['file']}: {i['school']} {i['period'] or ''} {i['status']} {i['received_at']}"
        if i["reason"]:
            line += f" ({i['reason']})"
        if i["replaced"]:
            line += f", replacing {str(i['replaced'])[:8]}…"
        counts = {**(i["rows"] or {}), **(i["counts"] or {})}  # type: ignore[dict-item]
        if counts:
            line += "; " + ", ".join(f"{k} {v}" for k, v in counts.items())  # type: ignore[attr-defined]
        lines.append(line)
    return lines


def _deliveries(args: argparse.Namespace) -> Report:
    period = str(args.schooljaar) if args.schooljaar else None
    items = _listings().received("delivery", args.school, period)
    return Report.ok(
        {"deliveries": items}, "\n".join(_received_lines(items) or ["no delivery received"])
    )


def _retractions(args: argparse.Namespace) -> Report:
    items = _listings().received("retraction")
    return Report.ok(
        {"retractions": items}, "\n".join(_received_lines(items) or ["no retraction received"])
    )
