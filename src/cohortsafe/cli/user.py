"""``cohortsafe user …``: the accounts of the people who work in this home."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._home import home_role, open_home
from cohortsafe.cli._report import Report

ROLES = ("office", "researcher", "checker", "school")
EXAMPLES = {
    "add": "cohortsafe --home office user add j.jansen --role researcher",
    "list": "cohortsafe user list --role checker --json",
    "schools": "cohortsafe --home school user schools beheerder --add 12AB01",
    "password": "cohortsafe user password j.jansen",
    "second-factor": "cohortsafe user second-factor j.jansen",
}


def register(groups: Subparsers) -> None:
    user = add_group(groups, "user", "accounts: office staff, researchers, checkers, schools")
    p = add_command(user, "add", _add, "add an account with one role")
    p.add_argument("name", metavar="NAME", help="user name (letters, digits, @ . + - _)")
    p.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="office and researcher and checker accounts live in an office's home, "
        "school accounts in a school's",
    )
    p.add_argument(
        "--school",
        metavar="BRINVEST",
        action="append",
        default=[],
        help="a school administrator's school; give it once per school for a board's",
    )
    p = add_command(
        user, "schools", _schools, "the schools a school administrator looks after: add or remove"
    )
    p.add_argument("name", metavar="NAME", help="user name")
    change = p.add_mutually_exclusive_group(required=True)
    change.add_argument("--add", metavar="BRINVEST", help="let them look after this school too")
    change.add_argument("--remove", metavar="BRINVEST", help="take this school away")
    p = add_command(user, "list", _list, "every account, with its role")
    p.add_argument("--role", choices=ROLES, default=None, help="only accounts of this role")
    p = add_command(user, "password", _password, "set the password an account signs in with")
    p.add_argument("name", metavar="NAME", help="user name")
    p.add_argument(
        "--password-file",
        metavar="FILE",
        type=Path,
        default=None,
        help="read the password from this file (first line); without it you are asked twice",
    )
    p = add_command(
        user,
        "second-factor",
        _second_factor,
        "give an office, researcher or checker account a new authenticator-app key",
    )
    p.add_argument("name", metavar="NAME", help="user name")
    add_examples(user, EXAMPLES)


def _add(args: argparse.Namespace) -> Report:
    config = open_home()
    from cohortsafe.app.accounts import services
    from cohortsafe.app.audit.services import console_actor

    role = home_role(config.home) or ""
    made = services.add_user(
        args.name, args.role, home_role=role, schools=args.school, actor=console_actor()
    )
    where = f" for school {', '.join(made.schools)}" if made.schools else ""
    return Report.ok(
        {"user": made.as_dict()},
        f"user {made.name} added as {made.role}{where}; the web sign-in sets a password",
    )


def _schools(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.accounts import services
    from cohortsafe.app.audit.services import console_actor

    if args.add:
        held = services.grant_school(args.name, args.add, actor=console_actor())
    else:
        held = services.revoke_school(args.name, args.remove, actor=console_actor())
    return Report.ok({"user": held.as_dict()}, f"{held.name} looks after {', '.join(held.schools)}")


def _list(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.accounts import services

    found = services.users(args.role)
    lines = [
        f"{a.name}: {a.role}"
        + (f" of {', '.join(a.schools)}" if a.schools else "")
        + f", added {a.added_at}"
        for a in found
    ] or ["no account yet: cohortsafe user add NAME --role …"]
    return Report.ok({"users": [a.as_dict() for a in found]}, "\n".join(lines))


def _read_password(args: argparse.Namespace) -> str:
    from cohortsafe.errors import UsageError

    if args.password_file is not None:
        try:
            return args.password_file.read_text().splitlines()[0]
        except (OSError, IndexError):
            raise UsageError(f"cannot read a password from {args.password_file}") from None
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: use --password-file FILE")
    first = getpass.getpass("new password: ")
    if getpass.getpass("the same again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


def _password(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.accounts import services
    from cohortsafe.app.audit.services import console_actor

    made = services.set_password(args.name, _read_password(args), actor=console_actor())
    return Report.ok(
        {"user": made.as_dict()}, f"user {made.name} can sign in with the new password"
    )


def _second_factor(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.accounts import services
    from cohortsafe.app.audit.services import console_actor

    key = services.set_second_factor(args.name, actor=console_actor())
    return Report.ok(
        {"user": key.name, "secret": key.secret, "uri": key.uri},
        f"user {key.name} has a new authenticator key; any earlier one no longer works.\n"
        f"Enter it in the authenticator app (it is shown only this once):\n"
        f"  key: {key.secret}\n  or as a link (for a QR code): {key.uri}",
    )
