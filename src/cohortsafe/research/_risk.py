"""The microdata risk report of a project's extract: how unique its pupils are.

Researchers see rows, and a row whose combination of quasi-identifiers (birth month,
sex, year group, school, childcare, special category) is shared by few pupils can
be recognised by anyone who knows those facts of a child. The report counts, per
pupil and school year, how many share each combination: the combinations below *k*,
the pupils in them, the sample uniques (a combination of one), and for each possible
coarsening (birth year instead of month, or leaving a variable out) how many pupils
would still be below *k*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cohortsafe.research._workspace import Workspace

__all__ = ["DEFAULT_K", "Coarsening", "RiskReport", "risk_report"]

DEFAULT_K = 5
_SHOWN = 20  # combinations below k the report lists, smallest first
#: quasi-identifiers of a pupil's own row, and those linked from other tables
_OWN = ("geboortemaand", "geboortejaar", "geslacht", "jaargroep")
_LINKED = (("voorschool", "soort", "voorschool"), ("bijzonder", "categorie", "bijzonder"))


@dataclass(frozen=True)
class Coarsening:
    """One way to make the extract coarser, and the pupil-years still below k after it."""

    change: str
    at_risk: int


@dataclass(frozen=True)
class RiskReport:
    k: int
    unit: str  # what one member of the population is
    quasi_identifiers: tuple[str, ...]
    population: int
    combinations: int
    below_k: int  # combinations shared by fewer than k
    at_risk: int  # pupil-years in those combinations
    uniques: int  # pupil-years alone in their combination
    smallest: list[dict[str, Any]] = field(default_factory=list)
    coarsenings: list[Coarsening] = field(default_factory=list)
    combined: list[Coarsening] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "unit": self.unit,
            "quasi_identifiers": list(self.quasi_identifiers),
            "population": self.population,
            "combinations": self.combinations,
            "combinations_below_k": self.below_k,
            "at_risk": self.at_risk,
            "sample_uniques": self.uniques,
            "smallest": self.smallest,
            "coarsenings": [{"change": c.change, "at_risk": c.at_risk} for c in self.coarsenings],
            "combined": [{"change": c.change, "at_risk": c.at_risk} for c in self.combined],
        }


def _population(workspace: Workspace) -> tuple[str, str, list[str]]:
    """(SQL of one row per unit with its quasi-identifiers, the unit, their names)."""
    tables = workspace.tables
    source = next((t for t in ("leerlingen", "toetsresultaten") if t in tables), "")
    columns = tables.get(source, [])
    year = ["schooljaar"] if "schooljaar" in columns else []
    wanted = [c for c in _OWN if c in columns]
    unit = "pupil and school year" if year else "pupil row"
    base = f"SELECT DISTINCT {_list(['pupil', 'school', *year, *wanted])} FROM " + (
        source or str(next(iter(tables)))
    )
    joins, extra = [], []
    for table, column, alias in _LINKED:
        if column in tables.get(table, []):
            joins.append(
                f"LEFT JOIN (SELECT pupil, string_agg(DISTINCT {column}, '+' ORDER BY {column}) "
                f"AS {alias} FROM {table} GROUP BY pupil) USING (pupil)"
            )
            extra.append(alias)
    # the school year is no fact of the child, but rows are read one school year at a time
    names = ["school", *year, *wanted, *extra]
    return f"SELECT {_list(['pupil', *names])} FROM ({base}) " + " ".join(joins), unit, names


def _list(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _at_risk(workspace: Workspace, population: str, group: list[str], k: int) -> list[Any]:
    by = _list(group) if group else "1"
    sql = (
        f"SELECT count(*) AS combinations, count(*) FILTER (WHERE n < {k}) AS below, "
        f"coalesce(sum(n) FILTER (WHERE n < {k}), 0) AS at_risk, "
        f"count(*) FILTER (WHERE n = 1) AS uniques, coalesce(sum(n), 0) AS population "
        f"FROM (SELECT count(*) AS n FROM ({population}) GROUP BY {by})"
    )
    return list(workspace.sql(sql).rows[0])


def risk_report(workspace: Workspace, k: int = DEFAULT_K) -> RiskReport:
    """The risk report of ``workspace``'s extract for groups of at least ``k``."""
    if k < 2:
        raise ValueError("k is at least 2")
    population, unit, names = _population(workspace)
    combinations, below, at_risk, uniques, size = _at_risk(workspace, population, names, k)
    # the smallest combinations, the school shown by a number, never by its pseudonym
    shown = [n for n in names if n != "school"]
    listed = workspace.sql(
        f"SELECT {_list(shown) + ', ' if shown else ''}dense_rank() OVER (ORDER BY school) "
        f"AS school_number, n FROM (SELECT {_list(names)}, count(*) AS n FROM ({population}) "
        f"GROUP BY ALL) WHERE n < {k} ORDER BY n, school_number LIMIT {_SHOWN}"
    )
    smallest = [dict(zip(listed.columns, row, strict=True)) for row in listed.rows]
    options = [n for n in names if n != "schooljaar"]
    coarsenings = sorted(
        (
            Coarsening(_change(name), _risk_after(workspace, population, names, {name}, k))
            for name in options
        ),
        key=lambda c: c.at_risk,
    )
    # the single changes together, best first, for when no one alone is enough
    combined: list[Coarsening] = []
    applied: list[str] = []
    for name in sorted(options, key=lambda n: [c.change for c in coarsenings].index(_change(n))):
        applied.append(name)
        combined.append(
            Coarsening(
                " and ".join(_change(n) for n in applied),
                _risk_after(workspace, population, names, set(applied), k),
            )
        )
        if combined[-1].at_risk == 0 or len(applied) == len(options) - 1:
            break
    return RiskReport(
        k,
        unit,
        tuple(names),
        int(size),
        int(combinations),
        int(below),
        int(at_risk),
        int(uniques),
        smallest,
        coarsenings,
        combined,
    )


def _change(name: str) -> str:
    return "birth year instead of birth month" if name == "geboortemaand" else f"leave out {name}"


def _risk_after(
    workspace: Workspace, population: str, names: list[str], changes: set[str], k: int
) -> int:
    """Pupils below ``k`` once each of ``changes`` is made."""
    if "geboortemaand" in changes:
        population = population.replace(
            '"geboortemaand"', 'left("geboortemaand", 4) AS "geboortemaand"', 1
        )
    kept = [n for n in names if n not in changes or n == "geboortemaand"]
    return int(_at_risk(workspace, population, kept, k)[2])
