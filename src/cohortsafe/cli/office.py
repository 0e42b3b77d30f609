"""``cohortsafe office …``: the statistics office's keys, intake, vault status and scan."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command, add_group
from cohortsafe.cli._home import open_home
from cohortsafe.cli._report import Report


def register(groups: Subparsers) -> None:
    office = add_group(groups, "office", "the statistics office: intake, vault, retractions")
    add_command(
        office,
        "init",
        _init,
        "create the office key pair (office.pub for schools) and the pseudonym keys",
    )
    p = add_command(office, "school-add", _school_add, "register a school's public key")
    p.add_argument("school", metavar="BRINVEST")
    p.add_argument("--key", type=Path, required=True, metavar="school.pub")
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
    add_command(office, "status", _status, "deliveries, pupils, results, retractions, linkage")
    add_command(office, "scan", _scan, "look through every vault file for identifiers")
    p = add_command(office, "rotate-key", _rotate, "re-key every pseudonym with a new key")
    p.add_argument("--purpose", choices=["pupil", "school", "link"], default="pupil")


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
    school = services.add_school(args.school, args.key, actor=_actor())
    return Report.ok(
        {"school": school.code, "fingerprint": school.fingerprint},
        f"{school.code} registered with key {school.fingerprint[:16]}…",
    )


def _receive(args: argparse.Namespace) -> Report:
    services = _services()
    files = [
        f for path in args.files for f in (sorted(path.glob("*.nco")) if path.is_dir() else [path])
    ]
    reports = services.receive(files, actor=_actor())
    data = {"packages": [r.as_dict() for r in reports]}
    text = "\n".join(r.describe() for r in reports)
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
    done = services.rotate_key(args.purpose, actor=_actor())
    return Report.ok(
        done,
        f"{done['purpose']} key {done['old']} → {done['new']}; "
        f"{done['files_rewritten']} vault files re-keyed",
    )
