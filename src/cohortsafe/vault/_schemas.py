"""The vault's tables: pseudonyms instead of identifiers, months instead of dates.

Every row names the delivery it came from and the key ids its pseudonyms were
made with. Nothing here identifies a pupil or a school directly: no PGN, no
BRIN, no name, address, postcode or exact date.
"""

from __future__ import annotations

import pyarrow as pa

_KEYS = [
    pa.field("delivery_id", pa.string(), nullable=False),
    pa.field("pupil", pa.string(), nullable=False),
    pa.field("pupil_key", pa.string(), nullable=False),
    pa.field("school", pa.string(), nullable=False),
    pa.field("school_key", pa.string(), nullable=False),
    pa.field("schooljaar", pa.string(), nullable=False),
]

VAULT_SCHEMAS: dict[str, pa.Schema] = {
    "leerlingen": pa.schema(
        [
            *_KEYS,
            pa.field("geboortemaand", pa.string(), nullable=False),  # YYYY-MM
            pa.field("geslacht", pa.string(), nullable=False),
            pa.field("jaargroep", pa.int8(), nullable=False),
        ]
    ),
    "toetsresultaten": pa.schema(
        [
            *_KEYS,
            pa.field("toets", pa.string(), nullable=False),
            pa.field("leergebied", pa.string(), nullable=False),
            pa.field("toetsmoment", pa.string(), nullable=False),
            pa.field("jaargroep", pa.int8(), nullable=False),
            pa.field("afnamemaand", pa.string(), nullable=False),  # YYYY-MM
            pa.field("vaardigheidsscore", pa.float64(), nullable=False),
            pa.field("schaal", pa.string(), nullable=False),
            pa.field("niveau", pa.string()),
        ]
    ),
    "voorschool": pa.schema(
        [
            *_KEYS,
            pa.field("soort", pa.string(), nullable=False),
            pa.field("maanden", pa.int16(), nullable=False),
            pa.field("dagdelen_per_week", pa.float64(), nullable=False),
        ]
    ),
    "bijzonder": pa.schema(
        [
            *_KEYS,
            pa.field("study", pa.string(), nullable=False),
            pa.field("categorie", pa.string(), nullable=False),
            pa.field("maand", pa.string(), nullable=False),  # YYYY-MM
        ]
    ),
}

TABLES = tuple(VAULT_SCHEMAS)
