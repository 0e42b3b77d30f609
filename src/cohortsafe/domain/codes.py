"""Code lists: learning domains, test moments, school years, childcare, special categories.

LVS products write the same thing in different ways ("Rekenen-Wiskunde",
"rekenen", "RW"); :func:`domain_code` maps what they write to one code.

>>> domain_code("Rekenen-Wiskunde")
'rekenen_wiskunde'
>>> domain_code("Begrijpend  lezen")
'begrijpend_lezen'
>>> SchoolYear.parse("2025-2026").next()
SchoolYear(start=2026)
>>> [str(y) for y in SchoolYear.span("2023-2024..2025-2026")]
['2023-2024', '2024-2025', '2025-2026']
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from cohortsafe.errors import IdentifierError

__all__ = [
    "ALIASES",
    "CHILDCARE_KINDS",
    "DELIVERABLE_DOMAINS",
    "DOMAINS",
    "EARLIEST_BIRTH_DATE",
    "JAARGROEPEN",
    "LEVELS",
    "MOMENTS",
    "NCO_DOMAINS",
    "SCALES",
    "SEXES",
    "SPECIAL_CATEGORIES",
    "SchoolYear",
    "childcare_code",
    "domain_code",
    "moment_code",
    "scale_code",
    "sex_code",
    "special_category_code",
]

#: Every learning domain an LVS may hold. Only the NCO ones are ever delivered (NCO_DOMAINS).
DOMAINS: tuple[str, ...] = (
    "rekenen_wiskunde",
    "begrijpend_lezen",
    "spelling",
    "technisch_lezen",
    "woordenschat",
    "studievaardigheden",
)

#: The domains NCO collects: the single source of truth for what may leave a school and what
#: the office accepts. A setting may only narrow it, never add to it (the parents' letter
#: promises these and no others).
NCO_DOMAINS: tuple[str, ...] = ("rekenen_wiskunde", "begrijpend_lezen", "spelling")

#: The older name of :data:`NCO_DOMAINS`, kept for code that imports it.
DELIVERABLE_DOMAINS: tuple[str, ...] = NCO_DOMAINS

_DOMAIN_ALIASES: dict[str, str] = {
    "rekenen wiskunde": "rekenen_wiskunde",
    "rekenen en wiskunde": "rekenen_wiskunde",
    "rekenen": "rekenen_wiskunde",
    "rw": "rekenen_wiskunde",
    "begrijpend lezen": "begrijpend_lezen",
    "lezen begrijpend": "begrijpend_lezen",
    "bl": "begrijpend_lezen",
    "spelling": "spelling",
    "taalverzorging spelling": "spelling",
    "sp": "spelling",
    "technisch lezen": "technisch_lezen",
    "dmt": "technisch_lezen",
    "avi": "technisch_lezen",
    "tl": "technisch_lezen",
    "woordenschat": "woordenschat",
    "ws": "woordenschat",
    "studievaardigheden": "studievaardigheden",
}

#: Test moments within a school year: midden (January/February) and eind (June).
MOMENTS: tuple[str, ...] = ("M", "E")
_MOMENT_ALIASES = {"m": "M", "midden": "M", "e": "E", "eind": "E"}

#: Jaargroepen of Dutch primary school.
JAARGROEPEN: range = range(1, 9)

#: Sex as LVS exports write it; "O" (onbekend) is read as "X".
SEXES: tuple[str, ...] = ("M", "V", "X")
_SEX_ALIASES = {"m": "M", "v": "V", "x": "X", "o": "X"}

#: Kinds of childcare or preschool before primary school.
CHILDCARE_KINDS: tuple[str, ...] = ("kinderdagverblijf", "peuterspeelzaal", "vve")
_CHILDCARE_ALIASES = {
    "kinderdagverblijf": "kinderdagverblijf",
    "kdv": "kinderdagverblijf",
    "dagopvang": "kinderdagverblijf",
    "peuterspeelzaal": "peuterspeelzaal",
    "psz": "peuterspeelzaal",
    "peuteropvang": "peuterspeelzaal",
    "peuterwerk": "peuterspeelzaal",
    "vve": "vve",
    "vve indicatie": "vve",
    "vve programma": "vve",
    "voorschool": "vve",
    "voorschoolse educatie": "vve",
    "voor en vroegschoolse educatie": "vve",
}

#: Special-category data (health, diagnoses): delivered only with consent per study.
SPECIAL_CATEGORIES: tuple[str, ...] = (
    "dyslexie",
    "dyscalculie",
    "adhd",
    "autisme",
    "medisch",
)
# LVS products write the diagnosis, the certificate that states it, or an abbreviation.
_SPECIAL_ALIASES = {
    "dyslexie": "dyslexie",
    "dyslexieverklaring": "dyslexie",
    "dyslexie verklaring": "dyslexie",
    "verklaring dyslexie": "dyslexie",
    "dys": "dyslexie",
    "dyscalculie": "dyscalculie",
    "dyscalculieverklaring": "dyscalculie",
    "dyscalculie verklaring": "dyscalculie",
    "verklaring dyscalculie": "dyscalculie",
    "adhd": "adhd",
    "ad(h)d": "adhd",
    "add": "adhd",
    "adhd verklaring": "adhd",
    "autisme": "autisme",
    "ass": "autisme",
    "autismespectrumstoornis": "autisme",
    "autisme spectrum stoornis": "autisme",
    "pdd nos": "autisme",
    "medisch": "medisch",
    "medische verklaring": "medisch",
    "medische indicatie": "medisch",
    "medische aandoening": "medisch",
}

#: The earliest birth date the school accepts at import and the office at intake: one rule on
#: both sides, so nothing the school delivers is refused for it at the office.
EARLIEST_BIRTH_DATE = dt.date(1990, 1, 1)

#: Scale codes of the vaardigheidsscore: a closed list, because a score means nothing without
#: its scale and each LVS product has one or two (Cito's older scale and the 3.0 one). A value
#: outside it is refused, so no free text (a typed BSN, a name) can travel in ``schaal``; a
#: new scale is added here, which the office then accepts too.
SCALES: tuple[str, ...] = ("cito-vs", "cito-vs-3.0", "boom-vs", "iep-vs")
# No bare "cito": it does not say which of Cito's two scales the score is on.
_SCALE_ALIASES = {
    "cito vs": "cito-vs",
    "cito vaardigheidsscore": "cito-vs",
    "cito vs 3 0": "cito-vs-3.0",
    "cito 3 0": "cito-vs-3.0",
    "cito vaardigheidsscore 3 0": "cito-vs-3.0",
    "boom vs": "boom-vs",
    "boom": "boom-vs",
    "boom vaardigheidsscore": "boom-vs",
    "iep vs": "iep-vs",
    "iep": "iep-vs",
    "iep vaardigheidsscore": "iep-vs",
}

#: Level codes on test results: Cito's I–V and the older A–E.
LEVELS: tuple[str, ...] = ("I", "II", "III", "IV", "V", "A", "B", "C", "D", "E")


def _normalise(text: str) -> str:
    # case, and any run of spaces, underscores, hyphens, slashes or dots, do not matter
    return re.sub(r"[\s_\-/.]+", " ", text.lower()).strip()


def _lookup(aliases: dict[str, str], text: str) -> str | None:
    return aliases.get(_normalise(text))


def domain_code(text: str) -> str | None:
    """The domain code for a leergebied as an LVS writes it, or None if unknown."""
    return _lookup(_DOMAIN_ALIASES, text)


def moment_code(text: str) -> str | None:
    """``M`` or ``E`` for a test moment as written, or None if unknown."""
    return _lookup(_MOMENT_ALIASES, text)


def sex_code(text: str) -> str | None:
    """``M``, ``V`` or ``X`` for geslacht as written, or None if unknown."""
    return _lookup(_SEX_ALIASES, text)


def scale_code(text: str) -> str | None:
    """The scale code for ``schaal`` as written, or None if unknown.

    >>> scale_code("Cito-VS-3.0"), scale_code("Boom vaardigheidsscore"), scale_code("cito")
    ('cito-vs-3.0', 'boom-vs', None)
    """
    return _lookup(_SCALE_ALIASES, text)


def childcare_code(text: str) -> str | None:
    """The childcare kind for ``soort`` as written, or None if unknown.

    >>> childcare_code("KDV"), childcare_code("Peuteropvang"), childcare_code("VVE-indicatie")
    ('kinderdagverblijf', 'peuterspeelzaal', 'vve')
    """
    return _lookup(_CHILDCARE_ALIASES, text)


def special_category_code(text: str) -> str | None:
    """The special category for ``categorie`` as written, or None if unknown.

    >>> special_category_code("Dyslexieverklaring"), special_category_code("AD(H)D")
    ('dyslexie', 'adhd')
    >>> special_category_code("ASS"), special_category_code("medische verklaring")
    ('autisme', 'medisch')
    >>> special_category_code("hoogbegaafd") is None
    True
    """
    return _lookup(_SPECIAL_ALIASES, text)


#: Every alias table by the column it reads, for the format documentation and its test.
ALIASES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "leergebied": (DOMAINS, _DOMAIN_ALIASES),
    "toetsmoment": (MOMENTS, _MOMENT_ALIASES),
    "geslacht": (SEXES, _SEX_ALIASES),
    "soort": (CHILDCARE_KINDS, _CHILDCARE_ALIASES),
    "categorie": (SPECIAL_CATEGORIES, _SPECIAL_ALIASES),
    "schaal": (SCALES, _SCALE_ALIASES),
}


_YEAR_RE = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{4})\s*$")


@dataclass(frozen=True, slots=True, order=True)
class SchoolYear:
    """A Dutch school year, 1 August to 31 July, written ``2025-2026``."""

    start: int

    @classmethod
    def parse(cls, text: str) -> SchoolYear:
        match = _YEAR_RE.match(text)
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise IdentifierError("a school year is written as two consecutive years: 2025-2026")
        return cls(int(match.group(1)))

    @classmethod
    def containing(cls, day: dt.date) -> SchoolYear:
        """The school year a date falls in."""
        return cls(day.year if day.month >= 8 else day.year - 1)

    @classmethod
    def span(cls, text: str) -> list[SchoolYear]:
        """Every year of ``2023-2024..2025-2026`` (or one year alone), in order."""
        first, sep, last = text.partition("..")
        start, end = cls.parse(first), cls.parse(last if sep else first)
        if end < start:
            raise IdentifierError("a span of school years must run forward")
        return [cls(y) for y in range(start.start, end.start + 1)]

    def next(self) -> SchoolYear:
        return SchoolYear(self.start + 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.start, 8, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.start + 1, 7, 31)

    def __str__(self) -> str:
        return f"{self.start}-{self.start + 1}"

    def __repr__(self) -> str:
        return f"SchoolYear(start={self.start})"
