"""One Arrow schema per table.

``LVS_*`` are the tables a school holds after importing an LVS export (names
and addresses included: they never leave the school). ``DELIVERY_*`` are the
only tables that leave it: the allow-list of what a delivery may carry. The
school builds them and the office validates them against the same schemas.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "DELIVERY_BIJZONDER",
    "DELIVERY_LEERLINGEN",
    "DELIVERY_SCHEMAS",
    "DELIVERY_TOETSRESULTATEN",
    "DELIVERY_VOORSCHOOL",
    "LVS_BIJZONDER",
    "LVS_LEERLINGEN",
    "LVS_SCHEMAS",
    "LVS_TOETSRESULTATEN",
    "LVS_VOORSCHOOL",
]

LVS_LEERLINGEN = pa.schema(
    [
        pa.field("leerlingnummer", pa.string(), nullable=False),
        pa.field("bsn", pa.string()),
        pa.field("onderwijsnummer", pa.string()),
        pa.field("voornamen", pa.string(), nullable=False),
        pa.field("tussenvoegsel", pa.string()),
        pa.field("achternaam", pa.string(), nullable=False),
        pa.field("geboortedatum", pa.date32(), nullable=False),
        pa.field("geslacht", pa.string(), nullable=False),
        pa.field("postcode", pa.string(), nullable=False),
        pa.field("huisnummer", pa.int32(), nullable=False),
        pa.field("huisnummertoevoeging", pa.string()),
        pa.field("jaargroep", pa.int8(), nullable=False),
        pa.field("brin", pa.string(), nullable=False),
        pa.field("vestiging", pa.string(), nullable=False),
    ]
)

LVS_TOETSRESULTATEN = pa.schema(
    [
        pa.field("leerlingnummer", pa.string(), nullable=False),
        pa.field("toets", pa.string(), nullable=False),
        pa.field("leergebied", pa.string(), nullable=False),
        pa.field("toetsmoment", pa.string(), nullable=False),
        pa.field("schooljaar", pa.string(), nullable=False),
        pa.field("jaargroep", pa.int8(), nullable=False),
        pa.field("afnamedatum", pa.date32(), nullable=False),
        pa.field("vaardigheidsscore", pa.float64(), nullable=False),
        pa.field("schaal", pa.string(), nullable=False),
        pa.field("niveau", pa.string()),
    ]
)

LVS_VOORSCHOOL = pa.schema(
    [
        pa.field("leerlingnummer", pa.string(), nullable=False),
        pa.field("soort", pa.string(), nullable=False),
        pa.field("maanden", pa.int16(), nullable=False),
        pa.field("dagdelen_per_week", pa.float64(), nullable=False),
    ]
)

LVS_BIJZONDER = pa.schema(
    [
        pa.field("leerlingnummer", pa.string(), nullable=False),
        pa.field("categorie", pa.string(), nullable=False),
        pa.field("omschrijving", pa.string()),
        pa.field("datum", pa.date32(), nullable=False),
    ]
)

#: The export's file name (without .csv) for each table, in the order they are read.
LVS_SCHEMAS: dict[str, pa.Schema] = {
    "leerlingen": LVS_LEERLINGEN,
    "toetsresultaten": LVS_TOETSRESULTATEN,
    "voorschool": LVS_VOORSCHOOL,
    "bijzonder": LVS_BIJZONDER,
}

# -- what leaves the school ----------------------------------------------------------------
# The allow-list names every column explicitly; the types are those of the LVS tables.

_PGN = pa.field("pgn", pa.string(), nullable=False)


def _allowed(source: pa.Schema, *names: str) -> pa.Schema:
    """The pupil's PGN, then the named columns of ``source``, nothing else."""
    return pa.schema([_PGN, *(source.field(name) for name in names)])


#: Pupils: only the fields the office needs to link them, never a name or free text.
DELIVERY_LEERLINGEN = _allowed(
    LVS_LEERLINGEN,
    "geboortedatum",
    "geslacht",
    "postcode",
    "huisnummer",
    "huisnummertoevoeging",
    "jaargroep",
    "brin",
    "vestiging",
)

DELIVERY_TOETSRESULTATEN = _allowed(
    LVS_TOETSRESULTATEN,
    "toets",
    "leergebied",
    "toetsmoment",
    "schooljaar",
    "jaargroep",
    "afnamedatum",
    "vaardigheidsscore",
    "schaal",
    "niveau",
)

DELIVERY_VOORSCHOOL = _allowed(LVS_VOORSCHOOL, "soort", "maanden", "dagdelen_per_week")

#: Special-category data: only with consent for the study; the description never leaves.
DELIVERY_BIJZONDER = _allowed(LVS_BIJZONDER, "categorie", "datum")

DELIVERY_SCHEMAS: dict[str, pa.Schema] = {
    "leerlingen": DELIVERY_LEERLINGEN,
    "toetsresultaten": DELIVERY_TOETSRESULTATEN,
    "voorschool": DELIVERY_VOORSCHOOL,
    "bijzonder": DELIVERY_BIJZONDER,
}
