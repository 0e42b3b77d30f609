"""Public statistics: national count tables, checked as one publication, or with DP.

Four tables of distinct pupils by school year: by learning domain and jaargroep (pupils
with an E result), by childcare participation and jaargroep, by sex and jaargroep, and by
province and learning domain (the province of the school, from the office's reference
data). No table is broken down by school, and no table carries a school column at all.
Mean scores are not published: the vault's scores come from tests on different scales,
and a mean over them would mix scales.

Two ways out:

- :func:`checked_tables` passes every table through an :class:`sdc.Session` with the
  ``research`` policy: primary and complementary suppression, margins included, and the
  combined check of every table against the ledger of everything published before
  (the other tables of this publication included: the childcare and the sex tables
  share their margins). A suppressed figure is written as ``.``, as CBS does; a table
  the check fails is not published at all;
- :func:`dp_tables` releases the inner cells with OpenDP's discrete Laplace noise
  instead, each table with its share of the budget; the budget per table is OpenDP's
  own privacy map of its measurement at the table's public bound on one pupil's cells,
  and the total is their sum (sequential composition). Categories are the public code
  lists, never the data's, so an empty category is noise like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from cohortsafe.domain.codes import CHILDCARE_KINDS, NCO_DOMAINS, SEXES
from cohortsafe.reference import PROVINCES
from cohortsafe.sdc import Ledger, Policy, Session

__all__ = [
    "JAARGROEPEN",
    "TABLES",
    "PublicTable",
    "TableSpec",
    "checked_tables",
    "dp_tables",
    "public_frames",
]

JAARGROEPEN: tuple[int, ...] = tuple(range(1, 9))
#: the groups in which the LVS tests of the NCO domains are taken
TESTED_GROUPS: tuple[int, ...] = tuple(range(3, 9))
NO_CHILDCARE = "geen"
UNKNOWN_PROVINCE = "onbekend"


@dataclass(frozen=True)
class TableSpec:
    """One public table: its name, the two variables it is broken down by (besides the
    school year), and their public categories."""

    name: str
    by: str
    categories: tuple[str, ...]
    #: the most cells one pupil can add to in one school year (the DP bound, per year)
    cells_per_pupil_year: int
    #: the second variable's categories (jaargroepen: tests start in groep 3)
    groups: tuple[int | str, ...] = JAARGROEPEN
    second: str = "jaargroep"


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "leerlingen_per_leergebied", "leergebied", NCO_DOMAINS, len(NCO_DOMAINS), TESTED_GROUPS
    ),
    TableSpec("leerlingen_per_voorschool", "voorschool", (*CHILDCARE_KINDS, NO_CHILDCARE), 1),
    TableSpec("leerlingen_per_geslacht", "geslacht", SEXES, 1),
    TableSpec(
        "leerlingen_per_provincie",
        "provincie",
        (*PROVINCES, UNKNOWN_PROVINCE),
        len(NCO_DOMAINS),
        NCO_DOMAINS,
        "leergebied",
    ),
)

_FRAMES = {
    # a pupil with an E result in a domain, once per school year
    "leerlingen_per_leergebied": """
        SELECT pupil, any_value(school) AS school, schooljaar, leergebied,
               CAST(min(jaargroep) AS INTEGER) AS jaargroep,
               pupil || '|' || schooljaar || '|' || leergebied AS record
        FROM toetsresultaten
        WHERE toetsmoment = 'E' AND schooljaar IN $years AND leergebied IN $domains
        GROUP BY pupil, schooljaar, leergebied""",
    # the most intensive form a pupil took part in (VVE, then playgroup, then day care)
    "leerlingen_per_voorschool": """
        WITH pupils AS (
            SELECT pupil, any_value(school) AS school, schooljaar,
                   CAST(min(jaargroep) AS INTEGER) AS jaargroep
            FROM leerlingen WHERE schooljaar IN $years GROUP BY pupil, schooljaar
        ), care AS (
            SELECT pupil, schooljaar,
                   CASE WHEN bool_or(soort = 'vve') THEN 'vve'
                        WHEN bool_or(soort = 'peuterspeelzaal') THEN 'peuterspeelzaal'
                        WHEN bool_or(soort = 'kinderdagverblijf') THEN 'kinderdagverblijf'
                   END AS voorschool
            FROM voorschool WHERE schooljaar IN $years AND maanden > 0
            GROUP BY pupil, schooljaar
        )
        SELECT p.pupil, p.school, p.schooljaar, p.jaargroep,
               coalesce(c.voorschool, 'geen') AS voorschool,
               p.pupil || '|' || p.schooljaar AS record
        FROM pupils p LEFT JOIN care c USING (pupil, schooljaar)""",
    # the province of the school, as the office's reference data give it for that year
    "leerlingen_per_provincie": """
        SELECT t.pupil, any_value(t.school) AS school, t.schooljaar, t.leergebied,
               coalesce(any_value(r.provincie), 'onbekend') AS provincie,
               t.pupil || '|' || t.schooljaar || '|' || t.leergebied AS record
        FROM toetsresultaten t
        LEFT JOIN school_reference r ON r.school = t.school AND r.schooljaar = t.schooljaar
        WHERE t.toetsmoment = 'E' AND t.schooljaar IN $years AND t.leergebied IN $domains
        GROUP BY t.pupil, t.schooljaar, t.leergebied""",
    "leerlingen_per_geslacht": """
        SELECT pupil, any_value(school) AS school, schooljaar, any_value(geslacht) AS geslacht,
               CAST(min(jaargroep) AS INTEGER) AS jaargroep,
               pupil || '|' || schooljaar AS record
        FROM leerlingen WHERE schooljaar IN $years GROUP BY pupil, schooljaar""",
}


def public_frames(con: duckdb.DuckDBPyConnection, years: Sequence[str]) -> dict[str, pd.DataFrame]:
    """One row per pupil and cell of every table (pupil, school and record for the rules)."""
    frames = {}
    for spec in TABLES:
        params: dict[str, Any] = {"years": list(years)}
        if "$domains" in _FRAMES[spec.name]:
            params["domains"] = list(NCO_DOMAINS)
        frames[spec.name] = con.sql(_FRAMES[spec.name], params=params).df()
    return frames


@dataclass(frozen=True)
class PublicTable:
    """A table as published: rows of (category, jaargroep, year, count or None)."""

    spec: TableSpec
    years: tuple[str, ...]
    #: (category, jaargroep, schooljaar) -> count, None where suppressed; margins are
    #: the category, jaargroep or year "Totaal"
    cells: dict[tuple[str, str, str], int | None]
    published: bool
    reasons: tuple[str, ...] = ()
    epsilon: float | None = None  # the budget this table spent (DP only)
    suppressed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    #: the engine's checked table behind it (checked tables only), for its audit
    checked: Any = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "published": self.published,
            "reasons": list(self.reasons),
            "cells": len(self.cells),
            "suppressed": self.suppressed,
            "epsilon": self.epsilon,
        }


TOTAL = "Totaal"


def checked_tables(
    frames: dict[str, pd.DataFrame], years: Sequence[str], *, policy: Policy, ledger: Ledger
) -> list[PublicTable]:
    """Every table through the research policy and the publication's ledger, in order."""
    session = Session(
        policy=policy, pupil="pupil", school="school", ledger=ledger, fixed_columns=True
    )
    out = []
    for spec in TABLES:
        frame = frames[spec.name]
        if frame.empty:
            out.append(PublicTable(spec, tuple(years), {}, False, ("no pupils",)))
            continue
        session.pivot_table(
            frame,
            index=[spec.by, spec.second],
            columns="schooljaar",
            margins=True,
            margins_name=TOTAL,
        )
        output = list(session.outputs.values())[-1]
        table = output.result
        cells: dict[tuple[str, str, str], int | None] = {}
        suppressed = 0
        for cell in table.cells:  # type: ignore[union-attr]
            key = (
                str(cell.index[spec.by]),
                str(cell.index[spec.second]),
                str(cell.columns["schooljaar"]),
            )
            shown = cell.status == "ok" and cell.value is not None
            suppressed += 0 if shown else 1
            cells[key] = int(cell.value) if shown else None  # type: ignore[arg-type]
        published = output.outcome != "fail"
        out.append(
            PublicTable(
                spec,
                tuple(years),
                cells if published else {},
                published,
                output.reasons if not published else (),
                suppressed=suppressed,
                checked=table,
            )
        )
    return out


def dp_tables(
    frames: dict[str, pd.DataFrame], years: Sequence[str], *, epsilon: float
) -> list[PublicTable]:
    """Every table's inner counts with discrete Laplace noise; ``epsilon`` is the total."""
    import opendp.prelude as dp  # only the --dp path needs it

    dp.enable_features("contrib")
    if not epsilon > 0:
        raise ValueError("epsilon must be positive")
    share = epsilon / len(TABLES)
    out = []
    for spec in TABLES:
        frame = frames[spec.name]
        keys = [
            (category, str(group), year)
            for category in spec.categories
            for group in spec.groups
            for year in years
        ]
        counts = (
            frame.groupby([spec.by, spec.second, "schooljaar"])["pupil"].nunique()
            if not frame.empty
            else pd.Series(dtype=np.int64)
        )
        exact = [int(counts.get((c, _typed(g, spec), y), 0)) for c, g, y in keys]
        # one pupil changes at most this many cells, by one each: the L1 sensitivity
        bound = spec.cells_per_pupil_year * len(years)
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
        measurement = space >> dp.m.then_laplace(scale=bound / share)
        noisy = measurement(exact)
        spent = float(measurement.map(bound))
        # clipping at 0 and adding up margins are post-processing: no budget of their own
        cells: dict[tuple[str, str, str], int | None] = {
            key: max(int(v), 0) for key, v in zip(keys, noisy, strict=True)
        }
        out.append(
            PublicTable(
                spec,
                tuple(years),
                _with_margins(cells),
                True,
                epsilon=spent,
                meta={"sensitivity": bound, "scale": bound / share},
            )
        )
    return out


def _typed(group: str, spec: TableSpec) -> int | str:
    return int(group) if spec.second == "jaargroep" else group


def _with_margins(
    cells: dict[tuple[str, str, str], int | None],
) -> dict[tuple[str, str, str], int | None]:
    """Totals over every category, group and year, as sums of the (noisy) inner cells."""
    out = dict(cells)
    sums: dict[tuple[str, str, str], int] = {}
    for (category, group, year), value in cells.items():
        for key in (
            (TOTAL, group, year),
            (category, TOTAL, year),
            (category, group, TOTAL),
            (TOTAL, TOTAL, year),
            (TOTAL, group, TOTAL),
            (category, TOTAL, TOTAL),
            (TOTAL, TOTAL, TOTAL),
        ):
            sums[key] = sums.get(key, 0) + int(value or 0)
    out.update(sums)
    return out
