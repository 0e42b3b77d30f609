"""``cohortsafe publish …``: what the office publishes, protected first (docs/publish.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._home import open_home
from cohortsafe.cli._report import Report

EXAMPLES = {
    "school-report": "cohortsafe publish school-report --school 12AB00 --period 2025-2026 "
    "--out rapport.pdf",
    "tables": "cohortsafe publish tables --period 2023-2024..2025-2026 --out tabellen",
}


def register(groups: Subparsers) -> None:
    publish = add_group(groups, "publish", "the office: school feedback reports and public tables")
    p = add_command(
        publish,
        "school-report",
        _school_report,
        "make school feedback reports from the vault (one school, or --all)",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--school", metavar="BRINVEST", help="the school location")
    which.add_argument("--all", action="store_true", help="every school registered at the office")
    p.add_argument("--period", required=True, metavar="YYYY-YYYY", help="the school year")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE|DIR",
        help="FILE.html or FILE.pdf for one school; a folder for --all. Every report is "
        "also kept for its school's administrators in the web application",
    )
    p.add_argument("--pdf", action="store_true", help="also make each report as PDF")
    p.add_argument("--lang", choices=("nl", "en"), default="nl", help="language (default nl)")
    t = add_command(
        publish,
        "tables",
        _tables,
        "national count tables (no school breakdown), checked with everything published before",
    )
    t.add_argument(
        "--period", required=True, metavar="YYYY-YYYY[..YYYY-YYYY]", help="school year(s)"
    )
    t.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder")
    t.add_argument(
        "--dp",
        type=float,
        default=None,
        metavar="EPSILON",
        help="release the counts with differential privacy (OpenDP) instead; EPSILON is the "
        "whole publication's budget",
    )
    t.add_argument("--lang", choices=("nl", "en"), default="nl", help="language (default nl)")
    add_examples(publish, EXAMPLES)


def _school_report(args: argparse.Namespace) -> Report:
    open_home("office")
    from cohortsafe.app.audit.services import console_actor
    from cohortsafe.app.publish.services import make_school_reports

    run = make_school_reports(
        args.period,
        actor=console_actor(),
        schools=[args.school] if args.school else None,
        out=args.out,
        pdf=args.pdf,
        lang=args.lang,
    )
    lines = [f"school reports for {run.period}: {len(run.reports)} made"]
    withheld = [r.school for r in run.reports if r.withheld]
    if withheld:
        lines.append(f"withheld (too little data survives): {len(withheld)}")
    if run.without_results:
        lines.append(f"schools without M and E results in the vault: {len(run.without_results)}")
    for made in run.reports:
        for path in made.files:
            lines.append(f"  wrote {path}")
    return Report.ok(run.as_dict(), "\n".join(lines))


def _tables(args: argparse.Namespace) -> Report:
    open_home("office")
    from cohortsafe.app.audit.services import console_actor
    from cohortsafe.app.publish.services import make_public_tables

    run = make_public_tables(
        args.period, actor=console_actor(), out=args.out, epsilon=args.dp, lang=args.lang
    )
    lines = [f"public tables for {', '.join(run.years)}:"]
    for table in run.tables:
        if not table["published"]:
            lines.append(f"  {table['name']}: not published ({'; '.join(table['reasons'])})")
        elif table["epsilon"] is not None:
            lines.append(
                f"  {table['name']}: {table['cells']} figures, epsilon {table['epsilon']:.3g}"
            )
        else:
            lines.append(
                f"  {table['name']}: {table['cells']} figures, {table['suppressed']} secret (.)"
            )
    if run.epsilon is not None:
        lines.append(f"privacy budget spent in total: epsilon {run.epsilon:.3g}")
    lines += [f"  wrote {path}" for path in run.files]
    return Report.ok(run.as_dict(), "\n".join(lines))
