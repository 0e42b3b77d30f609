"""``cohortsafe audit …``: the append-only, hash-chained audit log."""

from __future__ import annotations

import argparse

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._home import open_home
from cohortsafe.cli._report import Report


def register(groups: Subparsers) -> None:
    audit = add_group(groups, "audit", "the audit log of this home")
    add_command(audit, "verify", _verify, "recompute the hash chain; exit 1 at the first break")
    add_examples(audit, {"verify": "cohortsafe --home office audit verify"})


def _verify(args: argparse.Namespace) -> Report:
    open_home()
    from cohortsafe.app.audit.services import verify

    check = verify()
    data = {"intact": check.ok, "events": check.events, "first_broken": check.first_broken}
    if check.ok:
        return Report.ok(data, f"audit log intact: {check.events} event(s)")
    return Report.rejected(
        data, f"audit log BROKEN at event {check.first_broken} (of {check.events} read)"
    )
