"""Every command group, registered in one list."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from cohortsafe.cli._report import Report

Handler = Callable[[argparse.Namespace], Report]
Subparsers = Any  # argparse's _SubParsersAction is private


def add_command(
    subparsers: Subparsers, name: str, handler: Handler, help: str, *, json: bool = True
) -> argparse.ArgumentParser:
    """Add one command; every reporting command takes ``--json``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help, description=help)
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=handler)
    return parser


def add_group(subparsers: Subparsers, name: str, help: str) -> Subparsers:
    parser = subparsers.add_parser(name, help=help, description=help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    return commands


def register_all(groups: Subparsers) -> None:
    from cohortsafe.cli import audit, demo, keys, office, package, school, sdc, synth

    for module in (synth, school, keys, package, office, sdc, audit, demo):
        module.register(groups)
