"""One way out for every output: judged with the project's ledger, then entered in it.

:func:`release` is what the session and the console share: build the output's ledger
entry from the tables it rests on, run the combined check (unless the output failed
already), and record it when it did not fail. The note it returns says what the output
was compared with, for the report: a new project's first output is checked alone, and
its report says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from cohortsafe.sdc._combined import CombinedResult, combined_check
from cohortsafe.sdc._entries import merged_entry, table_entry
from cohortsafe.sdc._ledger import Entry, Ledger, Space
from cohortsafe.sdc._outputs import Base, CheckedOutput
from cohortsafe.sdc._policy import Policy
from cohortsafe.sdc._table import CheckedTable

__all__ = ["Released", "release"]


@dataclass(frozen=True)
class Released:
    """The output as judged with the ledger, what it was compared with, its number."""

    result: CheckedTable | CheckedOutput
    note: str
    number: int | None  # its number in the ledger; None when it was not entered


def release(
    ledger: Ledger,
    result: CheckedTable | CheckedOutput,
    bases: Sequence[Base],
    *,
    policy: Policy,
    record: str,
    name: str,
    kind: str,
    command: str,
    entry: Entry | None = None,
) -> Released:
    """Judge ``result`` with everything in ``ledger``; enter it when it does not fail.

    The entry is built from the tables in ``bases``, or given (``entry``: a model's).
    """
    earlier, project = ledger.outputs, ledger.project
    if not bases and entry is None:
        note = f"not entered in the ledger of project {project!r} ({kind}s are checked alone)"
        return Released(result, note, None)
    if earlier:
        note = f"checked with the {earlier} earlier output(s) of project {project!r}"
    else:
        note = f"checked alone: project {project!r} has no earlier outputs"
    if entry is not None:
        entry = dataclasses.replace(entry, name=name, kind=kind, command=command)
    else:
        entry = merged_entry(
            [
                table_entry(
                    base.table,
                    base.source,
                    ledger,
                    record=record,
                    name=name,
                    kind=kind,
                    command=command,
                    spaces=cast(tuple[Space, ...], base.spaces),
                )
                for base in bases
            ]
        )
    if result.outcome != "fail":
        verdict: CombinedResult = combined_check(ledger, entry, policy)
        if not verdict.passed:
            result = dataclasses.replace(
                result, outcome="fail", reasons=(*result.reasons, *verdict.reasons)
            )
    if result.outcome == "fail":
        return Released(result, note, None)
    return Released(result, note, ledger.record(entry))
