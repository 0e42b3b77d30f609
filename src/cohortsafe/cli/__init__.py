"""The console: ``cohortsafe [--home DIR] GROUP COMMAND …``.

Conventions every command follows:

- the home (``--home``, else ``$COHORTSAFE_HOME``, else ``./.cohortsafe``) holds one
  role's database, keys and files, and is created, migrations applied, on first use;
- ``--json`` prints exactly one JSON document on stdout, errors included;
- exit status 0 = done, 1 = input rejected or check failed (with reasons), 2 = usage error;
- messages never carry a BSN, onderwijsnummer, name or address.

Commands live in one module per group; each returns a :class:`Report` and never
prints. Core errors become exit codes here, in one place.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cohortsafe import __version__
from cohortsafe.cli import _commands
from cohortsafe.cli._report import EXIT_REJECTED, EXIT_USAGE, Report, emit
from cohortsafe.errors import CohortsafeError, ConfigurationError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error honours ``--json`` like every other outcome."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if "--json" in _current_argv:
            emit(Report.failure(EXIT_USAGE, "usage", message), as_json=True)
            raise SystemExit(EXIT_USAGE)
        super().error(message)


_current_argv: list[str] = []


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cohortsafe",
        description="Pupils' test results from LVS to cohort research, never exposing a "
        "pupil or a school.",
    )
    parser.add_argument("--version", action="version", version=f"cohortsafe {__version__}")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="folder of this role's database, keys and files "
        "(default: $COHORTSAFE_HOME, else ./.cohortsafe)",
    )
    groups = parser.add_subparsers(dest="group", metavar="GROUP", parser_class=_Parser)
    groups.required = True
    _commands.register_all(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    # Files written by SQLite, DuckDB and pyarrow follow the umask; none may be shared.
    os.umask(0o077)
    args_list = list(sys.argv[1:] if argv is None else argv)
    _current_argv[:] = args_list
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:
        return int(stop.code or 0)
    as_json = bool(getattr(args, "json", False))
    if args.home is not None:
        os.environ["COHORTSAFE_HOME"] = str(args.home)
    try:
        report: Report = args.handler(args)
    except ConfigurationError as error:
        report = Report.failure(EXIT_USAGE, "configuration", str(error))
    except CohortsafeError as error:
        report = Report.failure(EXIT_REJECTED, type(error).__name__, str(error))
    emit(report, as_json=as_json)
    return report.status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
