"""What a project may see: approved vault tables, their columns and school years.

The office approves, per project, which vault tables and which of their columns a
workspace holds. Some columns never reach a workspace whatever is approved: the
delivery a row came from and the ids of the keys its pseudonyms were made with, since
they map rows back to one school's delivery. The pupil and the school are always there,
as the project's own pseudonyms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cohortsafe.errors import ConfigurationError
from cohortsafe.vault import VAULT_SCHEMAS

__all__ = ["DERIVED", "NEVER", "ProjectSpec", "checked_code"]

#: columns that map a row back to a delivery or a key: never in a workspace
NEVER = ("delivery_id", "pupil_key", "school_key")
#: the columns every workspace table has: the office's, re-keyed for the project
FIXED = ("pupil", "school", "record")
#: coarser columns the office can approve instead of a vault column: (table, name) →
#: (vault column, how many of its first characters)
DERIVED: dict[tuple[str, str], tuple[str, int]] = {
    ("leerlingen", "geboortejaar"): ("geboortemaand", 4),
}
_SPECIAL = "bijzonder"  # special-category data: only for a study with consent
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,31}")
_YEAR = re.compile(r"\d{4}-\d{4}")


def checked_code(code: str) -> str:
    """A project code as given, or a :class:`ConfigurationError` saying how one is written."""
    if not _CODE.fullmatch(code):
        raise ConfigurationError(
            "a project code is 2 to 32 letters, digits or hyphens, starting with a letter or digit"
        )
    return code


@dataclass(frozen=True)
class ProjectSpec:
    """A project's approved variables; checked when made."""

    code: str
    tables: Mapping[str, tuple[str, ...]]
    school_years: tuple[str, ...] = ()  # none: every school year
    study: str | None = None  # the consented study whose special-category rows it sees
    policy: str = "research"  # the office's disclosure policy for the project's outputs
    _frozen: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        checked_code(self.code)
        if not self.tables:
            raise ConfigurationError(f"project {self.code} has no approved table")
        frozen = []
        for table, columns in self.tables.items():
            frozen.append((table, self._checked(table, tuple(columns))))
        object.__setattr__(self, "_frozen", tuple(frozen))
        object.__setattr__(self, "tables", dict(frozen))
        for year in self.school_years:
            if not _YEAR.fullmatch(year):
                raise ConfigurationError("a school year is written YYYY-YYYY, e.g. 2025-2026")
        if _SPECIAL in self.tables and not self.study:
            raise ConfigurationError(
                "special-category data (bijzonder) are approved only for a project tied to "
                "a study with consent: name the study"
            )

    def _checked(self, table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
        schema = VAULT_SCHEMAS.get(table)
        if schema is None:
            raise ConfigurationError(
                f"no vault table {table!r}; the tables are {', '.join(VAULT_SCHEMAS)}"
            )
        for column in columns:
            if column in NEVER:
                raise ConfigurationError(
                    f"{table}.{column} maps rows back to a delivery or a key and never "
                    "reaches a workspace"
                )
            if column in FIXED:
                raise ConfigurationError(
                    f"{table}.{column} is in every workspace table already (as the "
                    "project's own pseudonym or record id)"
                )
            if column not in schema.names and (table, column) not in DERIVED:
                raise ConfigurationError(f"the vault table {table} has no column {column!r}")
        if len(set(columns)) != len(columns):
            raise ConfigurationError(f"a column is approved twice for {table}")
        return columns

    def __hash__(self) -> int:
        return hash((self.code, self._frozen, self.school_years, self.study, self.policy))
