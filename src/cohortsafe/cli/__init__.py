"""The console: ``cohortsafe [--home DIR] GROUP COMMAND …``.

Conventions every command follows:

- the home (``--home`` before or after the group, else ``$COHORTSAFE_HOME``, else
  ``./.cohortsafe``) holds one role's database, keys and files; only ``school import``
  and ``office init`` create one, every other command needs a home of its own role;
- ``--json`` prints exactly one JSON document on stdout, errors included, and every
  error has one shape: ``{"ok": false, "error": {"kind": …, "message": …}, …}``;
- exit status 0 = done, 1 = input rejected, a check failed or something exists
  already (with reasons), 2 = usage or set-up error (arguments, home, settings, key files);
- messages never carry a BSN, onderwijsnummer, name or address.

Commands live in one module per group; each returns a :class:`Report` and never
prints. Errors become messages and exit codes here, in one place (:func:`_failure`).
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
from cohortsafe.errors import CohortsafeError, ConfigurationError, ExistsError, UsageError

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
    except (CohortsafeError, OSError, KeyboardInterrupt) as error:
        report = _failure(error)
    except Exception as error:
        if os.environ.get("COHORTSAFE_DEBUG") == "1":
            raise
        # an exception's text may quote a value it choked on, so only its type is shown
        report = Report.failure(
            EXIT_REJECTED,
            "internal",
            f"internal error ({type(error).__name__}); this is a bug: please report it with "
            "the command you ran (COHORTSAFE_DEBUG=1 shows the traceback)",
        )
    emit(report, as_json=as_json)
    return report.status


def _kind(error: CohortsafeError) -> str:
    """``RegisterError`` → ``register``: the JSON error kind, stable per exception class."""
    name = type(error).__name__.removesuffix("Error")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_") or "error"


def _failure(error: BaseException) -> Report:
    """The one place an error becomes a message and an exit status."""
    if isinstance(error, KeyboardInterrupt):
        return Report.failure(130, "interrupted", "interrupted")
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return Report.failure(EXIT_REJECTED, "os", f"cannot use{where}: {error.strerror or error}")
    assert isinstance(error, CohortsafeError)
    if isinstance(error, UsageError):
        return Report.failure(EXIT_USAGE, "usage", str(error))
    if isinstance(error, ConfigurationError):
        return Report.failure(EXIT_USAGE, "configuration", str(error))
    if isinstance(error, ExistsError):
        return Report.failure(EXIT_REJECTED, "exists", str(error))
    return Report.failure(EXIT_REJECTED, _kind(error), str(error))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
