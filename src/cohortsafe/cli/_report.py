"""What a command returns, and the one place that prints it."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Report:
    """A command's outcome: exit status, the JSON document, and the same for people."""

    status: int
    data: dict[str, Any]
    text: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def ok(cls, data: dict[str, Any], text: str) -> Report:
        return cls(EXIT_OK, {"ok": True, **data}, text)

    @classmethod
    def rejected(cls, data: dict[str, Any], text: str, message: str | None = None) -> Report:
        """Input rejected or a check failed: the reasons are in ``data``, the gist in ``error``."""
        gist = message or (text.strip().splitlines() or ["rejected"])[0]
        return cls(
            EXIT_REJECTED,
            {"ok": False, "error": {"kind": "rejected", "message": gist}, **data},
            text,
        )

    @classmethod
    def failure(cls, status: int, kind: str, message: str) -> Report:
        return cls(
            status,
            {"ok": False, "error": {"kind": kind, "message": message}},
            errors=[f"cohortsafe: {message}"],
        )


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def emit(report: Report, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.data, ensure_ascii=False, default=_default) + "\n")
        return
    if report.text:
        sys.stdout.write(report.text.rstrip("\n") + "\n")
    for line in report.errors:
        sys.stderr.write(line + "\n")


def list_rejected(
    data: dict[str, Any], source: object, outcome: str, problems: list[Any]
) -> Report:
    """A list (objections, schools) refused whole: every problem in JSON, grouped for people.

    ``problems`` are :class:`cohortsafe.lvs.Problem`; ``outcome`` says what was not done.
    """
    from cohortsafe.lvs import group_problems  # pyarrow: only when a list is refused

    groups = group_problems(problems)
    data = {
        **data,
        "problems": [p.as_dict() for p in problems],
        "problem_groups": [g.as_dict() for g in groups],
    }
    text = "\n".join([f"rejected {source}: {outcome}"] + [f"  {g}" for g in groups])
    return Report.rejected(data, text)
