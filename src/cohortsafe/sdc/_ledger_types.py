"""The ledger's vocabulary: spaces, released cells and what one output adds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

__all__ = ["SPACES", "Entry", "LedgerCell", "Space"]

Space = Literal["count", "sum", "square"]
SPACES: tuple[Space, ...] = ("count", "sum", "square")


@dataclass(frozen=True)
class LedgerCell:
    """One released value: its space, the output's parts it covers, the space's total.

    ``released`` False: not published, but a group an attacker may name (a margin of a
    table shown without margins); judged as a group, never used as an equation.
    """

    space: Space
    parts: tuple[int, ...]
    value: float
    released: bool = True


@dataclass(frozen=True)
class Entry:
    """What one output adds to the ledger.

    ``members``: one row per (space, part, member) with columns ``space`` (string),
    ``part`` (int32), ``k``, ``p``, ``s`` (uint64 fingerprints of the member, its pupil
    and its school) and ``x`` (the member's true value in that space).
    """

    name: str
    kind: str
    command: str
    policy: str
    cells: tuple[LedgerCell, ...]
    members: pa.Table

    @property
    def spaces(self) -> tuple[Space, ...]:
        return tuple(s for s in SPACES if any(c.space == s for c in self.cells))
