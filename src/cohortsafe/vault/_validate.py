"""Checking a delivery's content at the office, which does not trust the school's software.

The package already proved who sent it and that it holds the allow-listed
columns with the right types; this checks the values against the code lists,
the identifiers against their check digits, and the tables against each other.
Problems name a table, a column and a rule, never a value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.domain import (
    CHILDCARE_KINDS,
    DOMAINS,
    JAARGROEPEN,
    LEVELS,
    MOMENTS,
    SEXES,
    SPECIAL_CATEGORIES,
    SchoolCode,
    SchoolYear,
)
from cohortsafe.errors import IdentifierError

__all__ = ["pgn_kinds", "validate_delivery"]

_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
_POSTCODE = r"^[1-9][0-9]{3}[A-Z]{2}$"
_BANNED_POSTCODE_LETTERS = ("SA", "SD", "SS")
REQUIRED_TABLES = ("leerlingen", "toetsresultaten", "voorschool")


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


def _count(mask: pa.Array | np.ndarray) -> int:
    if isinstance(mask, np.ndarray):
        return int(mask.sum())
    return int(pc.sum(pc.fill_null(mask, True)).as_py() or 0)


def _not_in(values: pa.Array, allowed: tuple[Any, ...] | pa.Array) -> int:
    value_set = allowed if isinstance(allowed, pa.Array) else pa.array(list(allowed))
    return _count(pc.invert(pc.is_in(values, value_set=value_set)))


def validate_delivery(manifest: dict[str, Any], tables: dict[str, pa.Table]) -> list[str]:
    """Every reason to refuse this delivery (empty when it is sound)."""
    problems: list[str] = []
    try:
        period = SchoolYear.parse(str(manifest.get("period")))
        school_info = manifest.get("school") or {}
        school = SchoolCode(str(school_info.get("brin")), str(school_info.get("vestiging")))
    except (IdentifierError, AttributeError):
        return ["manifest: school or period is malformed"]
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        return [f"tables missing: {', '.join(missing)}"]
    study = manifest.get("study")
    if "bijzonder" in tables and not study:
        problems.append("bijzonder: special-category data without a study")

    pupils = tables["leerlingen"]
    pgn = pupils.column("pgn").combine_chunks()
    kinds = pgn_kinds(pgn)
    if (kinds == 0).any():
        problems.append(
            f"leerlingen.pgn: {_count(kinds == 0)} value(s) fail the BSN and onderwijsnummer checks"
        )
    if pc.count_distinct(pgn).as_py() != len(pgn):
        problems.append("leerlingen.pgn: a pupil appears twice")
    today = dt.date.today()
    births = pupils.column("geboortedatum")
    too_old = pc.less(births, pa.scalar(dt.date(1990, 1, 1), pa.date32()))
    future = pc.greater(births, pa.scalar(today, pa.date32()))
    if _count(too_old) or _count(future):
        problems.append("leerlingen.geboortedatum: implausible dates")
    checks: list[tuple[str, pa.Array, tuple[Any, ...]]] = [
        ("leerlingen.geslacht", pupils.column("geslacht"), SEXES),
        ("leerlingen.jaargroep", pupils.column("jaargroep"), tuple(JAARGROEPEN)),
        ("leerlingen.brin", pupils.column("brin"), (school.brin,)),
        ("leerlingen.vestiging", pupils.column("vestiging"), (school.vestiging,)),
    ]
    postcode = pupils.column("postcode")
    bad_postcode = pc.invert(pc.match_substring_regex(postcode, _POSTCODE))
    banned = pc.is_in(
        pc.utf8_slice_codeunits(postcode, 4, 6), value_set=pa.array(_BANNED_POSTCODE_LETTERS)
    )
    if _count(pc.or_(bad_postcode, banned)):
        problems.append("leerlingen.postcode: values that are not Dutch postcodes")
    numbers = pupils.column("huisnummer")
    if _count(pc.or_(pc.less(numbers, 1), pc.greater(numbers, 99999))):
        problems.append("leerlingen.huisnummer: out of range")

    results = tables["toetsresultaten"]
    domains = tuple(d for d in manifest.get("domains", DOMAINS) if d in DOMAINS)
    checks += [
        ("toetsresultaten.pgn", results.column("pgn"), pgn),
        ("toetsresultaten.leergebied", results.column("leergebied"), domains),
        ("toetsresultaten.toetsmoment", results.column("toetsmoment"), MOMENTS),
        ("toetsresultaten.schooljaar", results.column("schooljaar"), (str(period),)),
        ("toetsresultaten.jaargroep", results.column("jaargroep"), tuple(JAARGROEPEN)),
        ("toetsresultaten.niveau", results.column("niveau").drop_null(), LEVELS),
    ]
    days = results.column("afnamedatum")
    outside = pc.or_(
        pc.less(days, pa.scalar(period.first_day, pa.date32())),
        pc.greater(days, pa.scalar(period.last_day, pa.date32())),
    )
    if _count(outside):
        problems.append("toetsresultaten.afnamedatum: outside the school year")
    scores = results.column("vaardigheidsscore")
    if _count(pc.invert(pc.is_finite(scores))):
        problems.append("toetsresultaten.vaardigheidsscore: not a finite number")

    childcare = tables["voorschool"]
    checks += [
        ("voorschool.pgn", childcare.column("pgn"), pgn),
        ("voorschool.soort", childcare.column("soort"), CHILDCARE_KINDS),
    ]
    months = childcare.column("maanden")
    if _count(pc.or_(pc.less(months, 0), pc.greater(months, 72))):
        problems.append("voorschool.maanden: out of range")
    parts = childcare.column("dagdelen_per_week")
    if _count(pc.or_(pc.less(parts, 0), pc.greater(parts, 10))):
        problems.append("voorschool.dagdelen_per_week: out of range")

    if "bijzonder" in tables:
        special = tables["bijzonder"]
        checks += [
            ("bijzonder.pgn", special.column("pgn"), pgn),
            ("bijzonder.categorie", special.column("categorie"), SPECIAL_CATEGORIES),
        ]
    for where, values, allowed in checks:
        wrong = _not_in(
            values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values, allowed
        )
        if wrong:
            what = "unknown pupils" if where.endswith(".pgn") else "values outside the code list"
            problems.append(f"{where}: {wrong} row(s) with {what}")
    return problems
