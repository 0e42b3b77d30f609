"""``cohortsafe package open``: verify, decrypt and unpack one package."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._report import Report

EXAMPLES = {
    "open": "cohortsafe package open 12AB00-2025-2026-1.nco --office-key office.key "
    "--school-key school.pub --out opened"
}


def register(groups: Subparsers) -> None:
    package = add_group(groups, "package", "delivery packages")
    p = add_command(
        package,
        "open",
        _open,
        "verify, decrypt and unpack a package into DIR (manifest.json + tables)",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "--office-key",
        type=Path,
        required=True,
        metavar="office.key",
        help="the office's private key",
    )
    p.add_argument(
        "--school-key",
        type=Path,
        required=True,
        metavar="school.pub",
        help="the public key of the school that signed the package",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="a new or empty folder; it will hold identifiers (PGN, birth dates, postcodes)",
    )
    add_examples(package, EXAMPLES)


def _open(args: argparse.Namespace) -> Report:
    from cohortsafe.package import load_private, load_public, open_package

    opened = open_package(
        args.file,
        office_key=load_private(args.office_key),
        school_key=load_public(args.school_key),
        out=args.out,
    )
    manifest = opened.manifest
    lines = [
        f"{args.file.name}: a {opened.kind}, signature and every digest verified",
        f"unpacked into {args.out}",
        "it holds identifiers (PGN, birth dates, postcodes): keep it private "
        "and delete it after use",
    ]
    for name, entry in manifest.get("tables", {}).items():
        lines.append(f"  {name}: {entry['rows']} rows, sha256 {entry['sha256'][:16]}…")
    for reason, count in manifest.get("exclusions", {}).items():
        lines.append(f"  left out ({reason}): {count}")
    return Report.ok(
        {
            "kind": opened.kind,
            "manifest": manifest,
            "out": str(args.out),
            "holds_identifiers": True,
        },
        "\n".join(lines),
    )
