"""How different LVS products write the same export.

Real exports differ in separator, encoding, date and decimal notation, the
names of learning domains and tests, and quoting; each synthetic school uses
one of these profiles so the importer sees all of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str
    delimiter: str
    encoding: str  # "utf-8", "utf-8-sig" (with BOM) or "cp1252"
    dutch_dates: bool  # dd-mm-jjjj instead of ISO
    decimal_comma: bool
    quote_all: bool
    eol: str
    unknown_sex: str  # "X" or "O"
    gives_level: bool
    domain_labels: tuple[tuple[str, str], ...]  # (domain code, label as written)
    test_prefix: str
    scale: str

    def label(self, domain: str) -> str:
        return dict(self.domain_labels)[domain]


_CITO_LABELS = (
    ("rekenen_wiskunde", "Rekenen-Wiskunde"),
    ("begrijpend_lezen", "Begrijpend lezen"),
    ("spelling", "Spelling"),
    ("technisch_lezen", "Technisch lezen"),
    ("woordenschat", "Woordenschat"),
)
_BOOM_LABELS = (
    ("rekenen_wiskunde", "Rekenen"),
    ("begrijpend_lezen", "Begrijpend Lezen"),
    ("spelling", "Spelling"),
    ("technisch_lezen", "DMT"),
    ("woordenschat", "Woordenschat"),
)

VENDORS: tuple[Vendor, ...] = (
    Vendor(
        "parnassys-cito",
        ";",
        "cp1252",
        True,
        True,
        False,
        "\r\n",
        "X",
        True,
        _CITO_LABELS,
        "Cito LVS",
        "cito-vs-3.0",
    ),
    Vendor(
        "esis-boom",
        ",",
        "utf-8-sig",
        False,
        False,
        False,
        "\n",
        "O",
        False,
        _BOOM_LABELS,
        "Boom LVS",
        "boom-vs",
    ),
    Vendor(
        "parnassys-utf8",
        ";",
        "utf-8",
        True,
        True,
        False,
        "\n",
        "X",
        True,
        _CITO_LABELS,
        "Cito LVS",
        "cito-vs-3.0",
    ),
    Vendor(
        "iep-quoted",
        ",",
        "utf-8",
        True,
        True,
        True,
        "\r\n",
        "O",
        False,
        _BOOM_LABELS,
        "IEP LVS",
        "iep-vs",
    ),
)
