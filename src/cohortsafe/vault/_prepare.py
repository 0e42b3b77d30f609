"""Turning a checked delivery into vault rows: pseudonyms in, linking identifiers out.

The PGN becomes the pupil pseudonym; BRIN + vestiging the school pseudonym;
birth and test dates become months; postcode and house number are used once,
as a keyed link hash (for pupils whose onderwijsnummer is later replaced by a
BSN), and then dropped. Pseudonyms come from the caller's
:class:`Pseudonymiser`, so the vault never holds a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.vault._schemas import VAULT_SCHEMAS
from cohortsafe.vault._validate import pgn_kinds

__all__ = ["PreparedDelivery", "Pseudonymiser", "prepare_delivery"]

KIND_BSN = "bsn"
KIND_ONDERWIJSNUMMER = "onderwijsnummer"


class Pseudonymiser(Protocol):
    """Keyed pseudonyms, from keys the vault never sees."""

    @property
    def pupil_key(self) -> str: ...

    @property
    def school_key(self) -> str: ...

    def pupils(self, pgns: pa.Array) -> pa.Array: ...

    def school(self, code: str) -> str: ...

    def links(self, keys: pa.Array) -> pa.Array: ...


@dataclass(frozen=True)
class PreparedDelivery:
    """A delivery ready for the vault: its rows, its pupils' link hashes, its identity."""

    delivery_id: str
    school: str
    period: str
    created_at: str
    study: str | None
    tables: dict[str, pa.Table]
    linkage: pa.Table  # pupil, link_hash, kind (bsn or onderwijsnummer)

    @property
    def rows(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}


def _month(days: pa.ChunkedArray | pa.Array) -> pa.Array:
    # the ISO cast is far faster than strftime, and its first seven characters are YYYY-MM
    return pc.utf8_slice_codeunits(pc.cast(days, pa.string()), 0, 7)


def _constant(value: str, length: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), length)


def prepare_delivery(
    manifest: dict[str, Any], tables: dict[str, pa.Table], pseudonymiser: Pseudonymiser
) -> PreparedDelivery:
    school_info = manifest["school"]
    school = pseudonymiser.school(f"{school_info['brin']}{school_info['vestiging']}")
    period = str(manifest["period"])
    delivery_id = str(manifest["delivery_id"])
    pupils = tables["leerlingen"]
    pgns = pupils.column("pgn").combine_chunks()
    pseudonyms = pseudonymiser.pupils(pgns)

    def keyed(table: pa.Table) -> dict[str, pa.Array]:
        index = pc.index_in(table.column("pgn"), value_set=pgns)
        n = table.num_rows
        return {
            "delivery_id": _constant(delivery_id, n),
            "pupil": pseudonyms.take(index),
            "pupil_key": _constant(pseudonymiser.pupil_key, n),
            "school": _constant(school, n),
            "school_key": _constant(pseudonymiser.school_key, n),
            "schooljaar": _constant(period, n),
        }

    results = tables["toetsresultaten"]
    childcare = tables["voorschool"]
    prepared = {
        "leerlingen": {
            **keyed(pupils),
            "geboortemaand": _month(pupils.column("geboortedatum")),
            "geslacht": pupils.column("geslacht"),
            "jaargroep": pupils.column("jaargroep"),
        },
        "toetsresultaten": {
            **keyed(results),
            "toets": results.column("toets"),
            "leergebied": results.column("leergebied"),
            "toetsmoment": results.column("toetsmoment"),
            "jaargroep": results.column("jaargroep"),
            "afnamemaand": _month(results.column("afnamedatum")),
            "vaardigheidsscore": results.column("vaardigheidsscore"),
            "schaal": results.column("schaal"),
            "niveau": results.column("niveau"),
        },
        "voorschool": {
            **keyed(childcare),
            "soort": childcare.column("soort"),
            "maanden": childcare.column("maanden"),
            "dagdelen_per_week": childcare.column("dagdelen_per_week"),
        },
    }
    if "bijzonder" in tables:
        special = tables["bijzonder"]
        prepared["bijzonder"] = {
            **keyed(special),
            "study": _constant(str(manifest.get("study")), special.num_rows),
            "categorie": special.column("categorie"),
            "maand": _month(special.column("datum")),
        }
    vault_tables = {
        name: pa.table(columns).cast(VAULT_SCHEMAS[name]) for name, columns in prepared.items()
    }

    link_keys = pc.binary_join_element_wise(
        pc.cast(pupils.column("geboortedatum"), pa.string()),
        pupils.column("geslacht"),
        pupils.column("postcode"),
        pc.cast(pupils.column("huisnummer"), pa.string()),
        pc.fill_null(pupils.column("huisnummertoevoeging"), ""),
        "|",
    )
    kinds = pgn_kinds(pgns)
    linkage = pa.table(
        {
            "pupil": pseudonyms,
            "link_hash": pseudonymiser.links(
                link_keys.combine_chunks() if isinstance(link_keys, pa.ChunkedArray) else link_keys
            ),
            "kind": pa.array(
                [KIND_BSN if k == 1 else KIND_ONDERWIJSNUMMER for k in kinds], pa.string()
            ),
        }
    )
    return PreparedDelivery(
        delivery_id=delivery_id,
        school=school,
        period=period,
        created_at=str(manifest.get("created_at", "")),
        study=manifest.get("study"),
        tables=vault_tables,
        linkage=linkage,
    )
