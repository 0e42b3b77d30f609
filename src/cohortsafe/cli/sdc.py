"""``cohortsafe sdc``: check tables against a disclosure-control policy.

``cohortsafe sdc crosstab DATA --index COL… [--columns COL…] [--values COL --aggfunc
mean|sum|count] --pupil COL --school COL [--policy NAME|FILE] [--suppress] [--json]``
prints the table with its margins, each cell's status and reasons; suppressed values
are never shown (``null`` in JSON). Exit 1 when the table as a whole cannot be released
(primary cells recoverable without ``--suppress``, a refused statistic, a withheld
part); suppressed cells alone are a normal outcome.

``cohortsafe sdc policy [NAME|FILE]`` shows a policy's rules and parameters.
"""

from __future__ import annotations

import argparse

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
    from cohortsafe.sdc import crosstab, table_text

    table = crosstab(
        args.data,
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
    )
    data = table.to_dict()
    text = table_text(table)
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
