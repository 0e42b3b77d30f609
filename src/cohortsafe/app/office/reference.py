"""Loading the office's reference data: a school characteristic, keyed by school pseudonym.

The file names schools by BRIN and vestiging (CBS's registers do); what the vault keeps
names them only by the office's school pseudonym, the one their deliveries carry, so the
school reports of issue 14 can put each school next to schools like it without a BRIN
ever reaching the vault's tables. A key rotation re-keys it with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.office.services import open_vault, pseudonyms
from cohortsafe.reference import read_reference

__all__ = ["ReferenceLoaded", "load_reference"]


@dataclass(frozen=True)
class ReferenceLoaded:
    """What a load did; ``problems`` (line, reason) when the file was refused whole."""

    rows: int
    schools: int
    years: tuple[str, ...]
    new: int = 0
    replaced: int = 0
    problems: tuple[tuple[int, str], ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.problems


@holds_home
def load_reference(path: Path, *, actor: str) -> ReferenceLoaded:
    """Check ``path`` whole and keep its rows, replacing those of the same school and year."""
    found = read_reference(path)
    years = tuple(sorted({str(row.year) for row in found.rows}))
    schools = len({row.school.code for row in found.rows})
    if not found.accepted:
        record(
            "office.reference_refused",
            actor=actor,
            problems=len(found.problems),
            first_line=found.problems[0][0] if found.problems else None,
        )
        return ReferenceLoaded(0, 0, (), problems=found.problems)
    keys = pseudonyms()
    table = pa.table(
        {
            "school": pa.array([keys.school(row.school.code) for row in found.rows], pa.string()),
            "schooljaar": pa.array([str(row.year) for row in found.rows], pa.string()),
            "schoolweging": pa.array([row.weging for row in found.rows], pa.float64()),
            "provincie": pa.array([row.province for row in found.rows], pa.string()),
        }
    )
    with open_vault() as vault:
        new, replaced = vault.load_school_reference(table)
    record(
        "office.reference_loaded",
        actor=actor,
        rows=table.num_rows,
        schools=schools,
        years=list(years),
        new=new,
        replaced=replaced,
    )
    return ReferenceLoaded(table.num_rows, schools, years, new, replaced)
