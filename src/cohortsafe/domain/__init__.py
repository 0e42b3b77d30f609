"""The domain: identifiers, code lists and table schemas shared by every part."""

from cohortsafe.domain.codes import (
    CHILDCARE_KINDS,
    DELIVERABLE_DOMAINS,
    DOMAINS,
    JAARGROEPEN,
    LEVELS,
    MOMENTS,
    SEXES,
    SPECIAL_CATEGORIES,
    SchoolYear,
    childcare_code,
    domain_code,
    moment_code,
    sex_code,
)
from cohortsafe.domain.identifiers import (
    Pgn,
    SchoolCode,
    canonical_pgn,
    canonical_postcode,
    is_bsn,
    is_onderwijsnummer,
    is_pgn,
)

__all__ = [
    "CHILDCARE_KINDS",
    "DELIVERABLE_DOMAINS",
    "DOMAINS",
    "JAARGROEPEN",
    "LEVELS",
    "MOMENTS",
    "SEXES",
    "SPECIAL_CATEGORIES",
    "Pgn",
    "SchoolCode",
    "SchoolYear",
    "canonical_pgn",
    "canonical_postcode",
    "childcare_code",
    "domain_code",
    "is_bsn",
    "is_onderwijsnummer",
    "is_pgn",
    "moment_code",
    "sex_code",
]
