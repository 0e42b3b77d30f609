"""``cohortsafe user …``: the accounts of the people who work in this home."""

from __future__ import annotations

import argparse

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._home import home_role, open_home
from cohortsafe.cli._report import Report

ROLES = ("office", "researcher", "checker", "school")
EXAMPLES = {
    "add": "cohortsafe --home office user add j.jansen --role researcher",
    "list": "cohortsafe user list --role checker --json",
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
        "--school", metavar="BRINVEST", default=None, help="a school administrator's school"
    )
    p = add_command(user, "list", _list, "every account, with its role")
    p.add_argument("--role", choices=ROLES, default=None, help="only accounts of this role")
    add_examples(user, EXAMPLES)


def _add(args: argparse.Namespace) -> Report:
    config = open_home()
    from cohortsafe.app.accounts import services
    from cohortsafe.app.audit.services import console_actor

    role = home_role(config.home) or ""
    made = services.add_user(
        args.name, args.role, home_role=role, school=args.school, actor=console_actor()
    )
    where = f" for school {made.school}" if made.school else ""
    return Report.ok(
        {"user": made.as_dict()},
        f"user {made.name} added as {made.role}{where}; the web sign-in sets a password",
    )


def _list(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.accounts import services

    found = services.users(args.role)
    lines = [
        f"{a.name}: {a.role}" + (f" of {a.school}" if a.school else "") + f", added {a.added_at}"
        for a in found
    ] or ["no account yet: cohortsafe user add NAME --role …"]
    return Report.ok({"users": [a.as_dict() for a in found]}, "\n".join(lines))
