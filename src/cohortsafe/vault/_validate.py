"""Checking deliveries' content at the office, which does not trust the school's software.

The package already proved who sent it and that it holds the allow-listed
columns with the right types; this checks the values against the code lists,
the identifiers against their check digits, and the tables against each other.
Problems name a table, a column and a rule, never a value.

Many small deliveries are checked together: each table is concatenated over
the batch with the index of its delivery, every rule runs once over all rows,
and its offending rows are counted per delivery. This is the same check as one
delivery at a time, at a fraction of the per-call cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.domain import (
    CHILDCARE_KINDS,
    EARLIEST_BIRTH_DATE,
    JAARGROEPEN,
    LEVELS,
    MOMENTS,
    NCO_DOMAINS,
    SCALES,
    SEXES,
    SPECIAL_CATEGORIES,
    SchoolCode,
    SchoolYear,
)
from cohortsafe.domain.freetext import FREE_TEXT, refusals
from cohortsafe.errors import IdentifierError

__all__ = ["REQUIRED_TABLES", "pgn_kinds", "validate_deliveries", "validate_delivery"]

_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_POSTCODE = r"^[1-9][0-9]{3}[A-Z]{2}$"
_BANNED_POSTCODE_LETTERS = ("SA", "SD", "SS")
REQUIRED_TABLES = ("leerlingen", "toetsresultaten", "voorschool")

Delivery = tuple[dict[str, Any], dict[str, pa.Table]]  # manifest, tables


def pgn_kinds(pgns: pa.Array) -> np.ndarray:
    """Per value: 1 for a BSN, 2 for an onderwijsnummer, 0 for neither.

    The same checks as python-stdnum's ``nl.bsn`` and ``nl.onderwijsnummer``
    (nine digits; weighted sum ≡ 0 mod 11, or starting 10 and ≡ 5 mod 11), done
    on all values at once because the office checks millions; a property test
    holds the two to the same answers.

    >>> pgn_kinds(pa.array(["111222333", "101222331", "123456789"])).tolist()
    [1, 2, 0]
    """
    shaped = pc.fill_null(pc.match_substring_regex(pgns, r"^[0-9]{9}$"), False)
    well_formed = np.asarray(shaped.to_numpy(zero_copy_only=False), dtype=bool)
    safe = pc.if_else(shaped, pgns, pa.scalar("000000000"))
    raw = safe.to_numpy(zero_copy_only=False).astype("S9")
    digits = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 9).astype(np.int64) - 48
    weighted = (digits[:, :8] @ _WEIGHTS - digits[:, 8]) % 11
    nonzero = digits.any(axis=1)
    bsn = well_formed & nonzero & (weighted == 0)
    onr = well_formed & (digits[:, 0] == 1) & (digits[:, 1] == 0) & (weighted == 5)
    return np.where(bsn, 1, np.where(onr, 2, 0)).astype(np.int8)


@dataclass(frozen=True)
class _Context:
    """What each delivery of the batch promises: its school, period and domains."""

    brin: str
    vestiging: str
    period: SchoolYear
    domains: tuple[str, ...]


@dataclass
class _Stack:
    """One table kind over the batch: the rows, and the delivery each row came from."""

    table: pa.Table
    owner: np.ndarray  # index into the batch

    def column(self, name: str) -> pa.Array:
        return self.table.column(name).combine_chunks()

    def keyed(self, name: str) -> pa.Array:
        """``owner|value``: a value made specific to its delivery."""
        return pc.binary_join_element_wise(
            pc.cast(pa.array(self.owner), pa.string()), pc.cast(self.column(name), pa.string()), "|"
        )


def _stack(name: str, items: Sequence[Delivery], members: list[int]) -> _Stack | None:
    tables, owners = [], []
    for index in members:
        table = items[index][1].get(name)
        if table is not None:
            tables.append(table)
            owners.append(np.full(table.num_rows, index, dtype=np.int64))
    if not tables:
        return None
    return _Stack(pa.concat_tables(tables), np.concatenate(owners))


def _mask(values: pa.Array) -> np.ndarray:
    """A boolean array as NumPy, a missing answer counting as a violation."""
    return np.asarray(pc.fill_null(values, True).to_numpy(zero_copy_only=False), dtype=bool)


def validate_deliveries(items: Sequence[Delivery]) -> list[list[str]]:
    """Every reason to refuse each delivery (an empty list for a sound one)."""
    problems: list[list[str]] = [[] for _ in items]
    contexts: dict[int, _Context] = {}
    for index, (manifest, tables) in enumerate(items):
        try:
            period = SchoolYear.parse(str(manifest.get("period")))
            info = manifest.get("school") or {}
            school = SchoolCode(str(info.get("brin")), str(info.get("vestiging")))
        except (IdentifierError, AttributeError):
            problems[index].append("manifest: school or period is malformed")
            continue
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            problems[index].append(f"tables missing: {', '.join(missing)}")
            continue
        if "bijzonder" in tables and not manifest.get("study"):
            problems[index].append("bijzonder: special-category data without a study")
        # The office accepts only the NCO domains, whatever the manifest claims.
        claimed = manifest.get("domains", NCO_DOMAINS)
        claimed = list(claimed) if isinstance(claimed, (list, tuple)) else []
        if any(d not in NCO_DOMAINS for d in claimed):
            problems[index].append(
                f"manifest.domains: domains outside the accepted set ({', '.join(NCO_DOMAINS)})"
            )
        domains = tuple(d for d in claimed if d in NCO_DOMAINS)
        contexts[index] = _Context(school.brin, school.vestiging, period, domains)
    members = sorted(contexts)
    if not members:
        return problems

    def count(where: str, what: str, stack: _Stack, bad: np.ndarray) -> None:
        for index, n in enumerate(np.bincount(stack.owner[bad], minlength=len(items))):
            if n:
                problems[index].append(f"{where}: {n} row(s) with {what}")

    def expected(stack: _Stack, value: Any) -> pa.Array:
        """The per-delivery expectation ``value(context)`` on every row of ``stack``."""
        per_delivery = [value(contexts[i]) if i in contexts else None for i in range(len(items))]
        return pa.array(per_delivery).take(pa.array(stack.owner))

    def outside(values: pa.Array, allowed: Sequence[Any]) -> np.ndarray:
        return ~_mask(pc.is_in(values, value_set=pa.array(list(allowed))))

    pupils = _stack("leerlingen", items, members)
    assert pupils is not None  # every member has the required tables
    pgn = pupils.column("pgn")
    own_pupils = pupils.keyed("pgn")
    count(
        "leerlingen.pgn",
        "values failing the BSN and onderwijsnummer checks",
        pupils,
        pgn_kinds(pgn) == 0,
    )
    _, first, counts = np.unique(
        own_pupils.to_numpy(zero_copy_only=False), return_index=True, return_counts=True
    )
    repeated = np.zeros(len(pgn), dtype=bool)
    repeated[first[counts > 1]] = True
    count("leerlingen.pgn", "a pupil appearing twice", pupils, repeated)
    births = pupils.column("geboortedatum")
    implausible = _mask(
        pc.or_(
            pc.less(births, pa.scalar(EARLIEST_BIRTH_DATE, pa.date32())),
            pc.greater(births, pa.scalar(dt.date.today(), pa.date32())),
        )
    )
    count("leerlingen.geboortedatum", "implausible dates", pupils, implausible)
    postcode = pupils.column("postcode")
    bad_postcode = ~_mask(pc.match_substring_regex(postcode, _POSTCODE)) | _mask(
        pc.is_in(
            pc.utf8_slice_codeunits(postcode, 4, 6), value_set=pa.array(_BANNED_POSTCODE_LETTERS)
        )
    )
    count("leerlingen.postcode", "values that are not Dutch postcodes", pupils, bad_postcode)
    numbers = pupils.column("huisnummer")
    count(
        "leerlingen.huisnummer",
        "values out of range",
        pupils,
        _mask(pc.or_(pc.less(numbers, 1), pc.greater(numbers, 99999))),
    )
    count(
        "leerlingen.geslacht",
        "values outside the code list",
        pupils,
        outside(pupils.column("geslacht"), SEXES),
    )
    count(
        "leerlingen.jaargroep",
        "values outside the code list",
        pupils,
        outside(pupils.column("jaargroep"), list(JAARGROEPEN)),
    )
    for column in ("brin", "vestiging"):
        wrong = _mask(
            pc.not_equal(
                pupils.column(column), expected(pupils, lambda c, col=column: getattr(c, col))
            )
        )
        count(f"leerlingen.{column}", "another school than the package's", pupils, wrong)

    def of_unknown_pupils(where: str, stack: _Stack) -> None:
        count(
            where,
            "unknown pupils",
            stack,
            ~_mask(pc.is_in(stack.keyed("pgn"), value_set=own_pupils)),
        )

    results = _stack("toetsresultaten", items, members)
    assert results is not None
    of_unknown_pupils("toetsresultaten.pgn", results)
    domain_keys = pa.array(
        [f"{i}|{d}" for i, c in contexts.items() for d in c.domains], pa.string()
    )
    count(
        "toetsresultaten.leergebied",
        f"values outside the delivered domains (accepted: {', '.join(NCO_DOMAINS)})",
        results,
        ~_mask(pc.is_in(results.keyed("leergebied"), value_set=domain_keys)),
    )
    count(
        "toetsresultaten.toetsmoment",
        "values outside the code list",
        results,
        outside(results.column("toetsmoment"), MOMENTS),
    )
    count(
        "toetsresultaten.schooljaar",
        "another school year than the package's",
        results,
        _mask(
            pc.not_equal(results.column("schooljaar"), expected(results, lambda c: str(c.period)))
        ),
    )
    count(
        "toetsresultaten.jaargroep",
        "values outside the code list",
        results,
        outside(results.column("jaargroep"), list(JAARGROEPEN)),
    )
    levels = results.column("niveau")
    count(
        "toetsresultaten.niveau",
        "values outside the code list",
        results,
        _mask(pc.is_valid(levels)) & outside(levels, LEVELS),
    )
    count(
        "toetsresultaten.schaal",
        "values outside the code list",
        results,
        outside(results.column("schaal"), SCALES),
    )
    # Free text the school let through: the office has no names, but checks the rest again.
    stacks = {"leerlingen": pupils, "toetsresultaten": results}
    free = {(t, c): stacks[t].column(c) for t, c in FREE_TEXT}
    for (table, column), reason, rows in refusals(free):
        count(f"{table}.{column}", f"a value that {reason}", stacks[table], rows)
    days = results.column("afnamedatum")
    first_day = expected(results, lambda c: c.period.first_day).cast(pa.date32())
    last_day = expected(results, lambda c: c.period.last_day).cast(pa.date32())
    count(
        "toetsresultaten.afnamedatum",
        "dates outside the school year",
        results,
        _mask(pc.or_(pc.less(days, first_day), pc.greater(days, last_day))),
    )
    count(
        "toetsresultaten.vaardigheidsscore",
        "values that are not finite numbers",
        results,
        ~_mask(pc.is_finite(results.column("vaardigheidsscore"))),
    )

    childcare = _stack("voorschool", items, members)
    assert childcare is not None
    of_unknown_pupils("voorschool.pgn", childcare)
    count(
        "voorschool.soort",
        "values outside the code list",
        childcare,
        outside(childcare.column("soort"), CHILDCARE_KINDS),
    )
    months = childcare.column("maanden")
    count(
        "voorschool.maanden",
        "values out of range",
        childcare,
        _mask(pc.or_(pc.less(months, 0), pc.greater(months, 72))),
    )
    parts = childcare.column("dagdelen_per_week")
    count(
        "voorschool.dagdelen_per_week",
        "values out of range",
        childcare,
        _mask(pc.or_(pc.less(parts, 0), pc.greater(parts, 10))),
    )

    special = _stack("bijzonder", items, members)
    if special is not None:
        of_unknown_pupils("bijzonder.pgn", special)
        count(
            "bijzonder.categorie",
            "values outside the code list",
            special,
            outside(special.column("categorie"), SPECIAL_CATEGORIES),
        )
    return problems


def validate_delivery(manifest: dict[str, Any], tables: dict[str, pa.Table]) -> list[str]:
    """Every reason to refuse this delivery (empty when it is sound)."""
    return validate_deliveries([(manifest, tables)])[0]
