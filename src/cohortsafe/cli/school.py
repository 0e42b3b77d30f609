"""``cohortsafe school …``: the school's registers, imports and deliveries."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command, add_group
from cohortsafe.cli._home import open_home
from cohortsafe.cli._report import Report
from cohortsafe.domain import SchoolYear


def register(groups: Subparsers) -> None:
    school = add_group(groups, "school", "the school side: imports, registers, deliveries")
    parser = add_command(school, "import", _import, "import LVS exports, all or nothing per export")
    parser.add_argument(
        "folders",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="an export folder, or a folder holding export folders",
    )
    parser.add_argument(
        "--schooljaar",
        type=SchoolYear.parse,
        default=None,
        help="school year the exports describe (default: latest in the results)",
    )


def _import(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.school import services

    reports = services.import_exports(
        args.folders, school_year=args.schooljaar, actor=services.console_actor()
    )
    data = {"exports": [r.as_dict() for r in reports]}
    lines = [r.describe() for r in reports]
    if not reports:
        return Report.rejected(
            {**data, "error": {"kind": "usage", "message": "no exports found"}},
            "no LVS export (leerlingen.csv) found in the folders given",
        )
    text = "\n".join(lines)
    if all(r.accepted for r in reports):
        return Report.ok(data, text)
    return Report.rejected(data, text)
