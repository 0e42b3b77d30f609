"""``cohortsafe sdc``: check tables against a disclosure-control policy.

``cohortsafe sdc crosstab DATA --index COL… [--columns COL…] [--values COL --aggfunc
mean|sum|count] --pupil COL --school COL [--policy NAME|FILE] [--suppress] [--json]``
prints the table with its margins, each cell's status and reasons; suppressed values
are never shown (``null`` in JSON). Exit 1 when the table as a whole cannot be released
(primary cells recoverable without ``--suppress``, a refused statistic, a withheld
part, or, with ``--ledger FOLDER``, a combination with the project's earlier outputs
that gives a small group away); a failed table shows none of its values. Suppressed
cells alone are a normal outcome. Without ``--ledger`` the report says the table was
checked alone.

``cohortsafe sdc policy [NAME|FILE]`` shows a policy's rules and parameters.
"""

from __future__ import annotations

import argparse
import dataclasses

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._report import Report

EXAMPLES = {
    "crosstab": "cohortsafe sdc crosstab results.parquet --index leergebied --columns jaargroep "
    "--values vaardigheidsscore --pupil pupil --school school --suppress",
    "policy": "cohortsafe sdc policy research",
}


def register(groups: Subparsers) -> None:
    commands = add_group(groups, "sdc", "disclosure control: checked tables and policies")
    table = add_command(
        commands,
        "crosstab",
        _crosstab,
        "a checked cross table of a Parquet or CSV file, with margins",
    )
    table.add_argument("data", help="Parquet or CSV file of microdata (one row per result)")
    table.add_argument("--index", nargs="+", required=True, metavar="COL", help="row variables")
    table.add_argument(
        "--columns",
        nargs="+",
        default=[],
        metavar="COL",
        help="column variables (1 to 4 variables in all)",
    )
    table.add_argument("--values", metavar="COL", help="value column for sum or mean")
    table.add_argument(
        "--aggfunc",
        choices=["count", "sum", "mean"],
        default=None,
        help="statistic per cell (default: mean with --values, else count)",
    )
    table.add_argument("--pupil", required=True, metavar="COL", help="pupil pseudonym column")
    table.add_argument("--school", required=True, metavar="COL", help="school pseudonym column")
    table.add_argument(
        "--policy",
        default="research",
        metavar="NAME|FILE",
        help="research (default), school_report, or a policy TOML file",
    )
    table.add_argument(
        "--suppress", action="store_true", help="choose complementary (secondary) suppressions"
    )
    table.add_argument(
        "--totals",
        choices=["axes", "all", "nested"],
        default="axes",
        help="which margins: axes (as pandas), all subtotals, or nested",
    )
    table.add_argument("--no-margins", action="store_true", help="no totals at all")
    table.add_argument(
        "--ledger",
        metavar="FOLDER",
        help="the project's release ledger: the table is judged with every earlier output "
        "and entered when it does not fail (without it, the table is checked alone)",
    )
    table.add_argument(
        "--project", metavar="NAME", help="the project's name (needed for a new ledger)"
    )
    table.add_argument(
        "--record",
        default="record",
        metavar="COL",
        help="column with one identity per row, for the ledger (default: record)",
    )
    table.add_argument(
        "--normalize",
        choices=["all", "index", "columns"],
        default=None,
        help="show percentages of the total, of each row or of each column",
    )
    policy = add_command(commands, "policy", _policy, "show a policy's rules and parameters")
    policy.add_argument(
        "name",
        nargs="?",
        default="research",
        metavar="NAME|FILE",
        help="research (default), school_report, or a policy TOML file",
    )
    add_examples(commands, EXAMPLES)


def _crosstab(args: argparse.Namespace) -> Report:
    from cohortsafe.sdc import Base, Ledger, crosstab, open_source, release, table_text

    source = open_source(args.data)
    table = crosstab(
        None,
        args.index,
        args.columns,
        pupil=args.pupil,
        school=args.school,
        values=args.values,
        aggfunc=args.aggfunc,
        policy=args.policy,
        margins=not args.no_margins,
        totals=args.totals,
        normalize=args.normalize or False,
        suppress=args.suppress,
        source=source,
    )
    ledger: dict[str, object] = {"folder": None, "project": None, "number": None}
    if args.ledger is None:
        note = "checked alone: no ledger given (--ledger FOLDER judges it with the earlier outputs)"
    else:
        source.require([args.record])
        with Ledger.open(args.ledger, project=args.project) as project:
            spaces = ("count",) if table.request.aggfunc == "count" else ("sum",)
            released = release(
                project,
                table,
                [Base(table, source, spaces)],
                policy=table.policy,
                record=args.record,
                name=f"console: {' '.join([*args.index, *args.columns])}",
                kind="table",
                command=f"sdc crosstab {' '.join([*args.index, *args.columns])}",
            )
            ledger = {"folder": args.ledger, "project": project.project, "number": released.number}
        table, note = released.result, released.note
    if table.outcome == "fail":
        # what a failed table still shows (margins, other cells) may give away what it
        # hides, alone or with earlier outputs: none of its values are printed
        table = dataclasses.replace(table, _withheld=True)
    data = {**table.to_dict(), "ledger": {**ledger, "note": note}}
    text = f"{table_text(table)}\n{note}"
    if table.outcome == "fail":
        return Report.rejected(data, text)
    return Report.ok(data, text)


def _policy(args: argparse.Namespace) -> Report:
    from cohortsafe.sdc import load_policy

    policy = load_policy(args.name)
    data = policy.as_dict()
    lines = [f"{policy.describe()}: {policy.description}"]
    for rule, section in data.items():
        if isinstance(section, dict):
            settings = ", ".join(f"{k}={v}" for k, v in section.items())
            lines.append(f"  [{rule}] {settings}")
    return Report.ok({"policy": {**data, **policy.identity()}}, "\n".join(lines))
