"""Every command group, registered in one list, and the options all commands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cohortsafe.cli._report import Report
from cohortsafe.domain import SchoolYear
from cohortsafe.errors import IdentifierError, UsageError

Handler = Callable[[argparse.Namespace], Report]
Subparsers = Any  # argparse's _SubParsersAction is private

SCHOOL_YEAR_FORMAT = "a school year is written as two consecutive years, e.g. 2025-2026"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows each option's default when it has a real one, and keeps examples as typed."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and action.option_strings
            and default is not None
            and default is not argparse.SUPPRESS
            and not isinstance(default, bool)
            and default != []
            and default != ""
        ):
            text += " (default: %(default)s)"
        return text


def school_year(text: str) -> SchoolYear:
    """argparse type for ``--schooljaar``: one message for a wrong school year everywhere."""
    try:
        return SchoolYear.parse(text)
    except IdentifierError:
        raise argparse.ArgumentTypeError(SCHOOL_YEAR_FORMAT) from None


def school_years(text: str) -> list[SchoolYear]:
    """argparse type for one school year or a span ``2023-2024..2025-2026``."""
    try:
        return SchoolYear.span(text)
    except IdentifierError as error:
        raise argparse.ArgumentTypeError(f"{error} (a span: 2023-2024..2025-2026)") from None


def positive(text: str) -> int:
    """argparse type for a count of at least one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number is needed, e.g. 5") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def output_folder(path: Path, option: str = "--out") -> Path:
    """A folder to write into: refused when it is a file."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file; give a folder")
    return path


def output_file(path: Path, option: str = "--out") -> Path:
    """A file to write: refused when it is a folder."""
    if path.is_dir():
        example = path / "brief.html"
        raise UsageError(f"{option} {path} is a folder; give a file name, e.g. {example}")
    if path.parent.exists() and not path.parent.is_dir():
        raise UsageError(f"{option} {path}: {path.parent} is a file, not a folder")
    return path


def add_school_year(parser: argparse.ArgumentParser, *, required: bool, help: str) -> None:
    """``--schooljaar JJJJ-JJJJ``: the one way a command is given a school year."""
    parser.add_argument(
        "--schooljaar",
        type=school_year,
        required=required,
        default=None,
        metavar="JJJJ-JJJJ",
        help=f"{help}, e.g. 2025-2026",
    )


def _home_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: given after the group or command it sets the home, absent it keeps the global one
    parser.add_argument(
        "--home",
        type=Path,
        default=argparse.SUPPRESS,
        help="folder of this role's database, keys and files "
        "(default: $COHORTSAFE_HOME, else ./.cohortsafe)",
    )


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    help: str,
    *,
    json: bool = True,
    example: str | None = None,
) -> argparse.ArgumentParser:
    """Add one command; every reporting command takes ``--json``, every one ``--home``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example:\n  {example}" if example else None,
        formatter_class=HelpFormatter,
    )
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON document")
    _home_option(parser)
    parser.set_defaults(handler=handler)
    return parser


def add_examples(subparsers: Subparsers, examples: dict[str, str]) -> None:
    """Show each command's example under its help (kept in one table per group)."""
    for name, example in examples.items():
        subparsers.choices[name].epilog = f"example:\n  {example}"


def add_group(subparsers: Subparsers, name: str, help: str) -> Subparsers:
    parser = subparsers.add_parser(name, help=help, description=help)
    _home_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=type(parser))
    commands.required = True
    return commands


def register_all(groups: Subparsers) -> None:
    from cohortsafe.cli import (
        audit,
        demo,
        keys,
        office,
        package,
        publish,
        research,
        school,
        sdc,
        serve,
        synth,
        user,
    )

    for module in (
        synth,
        school,
        keys,
        package,
        office,
        research,
        publish,
        user,
        sdc,
        audit,
        serve,
        demo,
    ):
        module.register(groups)
