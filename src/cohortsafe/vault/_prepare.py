"""Turning a checked delivery into vault rows: pseudonyms in, linking identifiers out.

The PGN becomes the pupil pseudonym; BRIN + vestiging the school pseudonym;
birth and test dates become months; postcode and house number are used once,
as a keyed link hash (for pupils whose onderwijsnummer is later replaced by a
BSN), and then dropped. Pseudonyms come from the caller's
:class:`Pseudonymiser`, so the vault never holds a key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.vault._schemas import VAULT_SCHEMAS
from cohortsafe.vault._validate import pgn_kinds

__all__ = ["PreparedDelivery", "Pseudonymiser", "prepare_deliveries", "prepare_delivery"]

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


Delivery = tuple[dict[str, Any], dict[str, pa.Table]]  # manifest, tables


def _stacked(name: str, items: Sequence[Delivery]) -> tuple[pa.Table, np.ndarray, list[int]]:
    """The table ``name`` over the batch, each row's delivery, and each delivery's row count."""
    tables = [tables.get(name) for _, tables in items]
    present = [t for t in tables if t is not None]
    lengths = [0 if t is None else t.num_rows for t in tables]
    owner = np.repeat(np.arange(len(items)), lengths)
    return pa.concat_tables(present).combine_chunks(), owner, lengths


def _own(table: pa.Table, start: int, length: int) -> pa.Table:
    """Rows ``start:start+length`` in buffers of their own.

    A slice would share the whole batch's buffers, and pickling it (to send it
    from a worker process) would copy the whole batch once per delivery.
    """
    return table.take(pa.array(np.arange(start, start + length, dtype=np.int64)))


def prepare_deliveries(
    items: Sequence[Delivery], pseudonymiser: Pseudonymiser
) -> list[PreparedDelivery]:
    """Vault rows for each (checked) delivery; the work runs once over the whole batch."""
    if not items:
        return []
    manifests = [manifest for manifest, _ in items]
    delivery_ids = pa.array([str(m["delivery_id"]) for m in manifests], pa.string())
    periods = pa.array([str(m["period"]) for m in manifests], pa.string())
    schools = pa.array(
        [
            pseudonymiser.school(f"{m['school']['brin']}{m['school']['vestiging']}")
            for m in manifests
        ],
        pa.string(),
    )
    pupils, pupil_owner, pupil_lengths = _stacked("leerlingen", items)
    pgns = pupils.column("pgn").combine_chunks()
    pseudonyms = pseudonymiser.pupils(pgns)  # a PGN's pseudonym is the same in every delivery

    def keyed(table: pa.Table, owner: np.ndarray) -> dict[str, pa.Array]:
        rows = pa.array(owner)
        n = table.num_rows
        return {
            "delivery_id": delivery_ids.take(rows),
            "pupil": pseudonyms.take(pc.index_in(table.column("pgn"), value_set=pgns)),
            "pupil_key": pa.repeat(pa.scalar(pseudonymiser.pupil_key, pa.string()), n),
            "school": schools.take(rows),
            "school_key": pa.repeat(pa.scalar(pseudonymiser.school_key, pa.string()), n),
            "schooljaar": periods.take(rows),
        }

    results, result_owner, result_lengths = _stacked("toetsresultaten", items)
    childcare, childcare_owner, childcare_lengths = _stacked("voorschool", items)
    stacked: dict[str, tuple[dict[str, Any], list[int]]] = {
        "leerlingen": (
            {
                **keyed(pupils, pupil_owner),
                "geboortemaand": _month(pupils.column("geboortedatum")),
                "geslacht": pupils.column("geslacht"),
                "jaargroep": pupils.column("jaargroep"),
            },
            pupil_lengths,
        ),
        "toetsresultaten": (
            {
                **keyed(results, result_owner),
                "toets": results.column("toets"),
                "leergebied": results.column("leergebied"),
                "toetsmoment": results.column("toetsmoment"),
                "jaargroep": results.column("jaargroep"),
                "afnamemaand": _month(results.column("afnamedatum")),
                "vaardigheidsscore": results.column("vaardigheidsscore"),
                "schaal": results.column("schaal"),
                "niveau": results.column("niveau"),
            },
            result_lengths,
        ),
        "voorschool": (
            {
                **keyed(childcare, childcare_owner),
                "soort": childcare.column("soort"),
                "maanden": childcare.column("maanden"),
                "dagdelen_per_week": childcare.column("dagdelen_per_week"),
            },
            childcare_lengths,
        ),
    }
    with_special = [i for i, (_, tables) in enumerate(items) if "bijzonder" in tables]
    if with_special:
        special, special_owner, special_lengths = _stacked("bijzonder", items)
        studies = pa.array([str(m.get("study")) for m in manifests], pa.string())
        stacked["bijzonder"] = (
            {
                **keyed(special, special_owner),
                "study": studies.take(pa.array(special_owner)),
                "categorie": special.column("categorie"),
                "maand": _month(special.column("datum")),
            },
            special_lengths,
        )
    whole = {
        name: (pa.table(columns).cast(VAULT_SCHEMAS[name]), lengths)
        for name, (columns, lengths) in stacked.items()
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
            "link_hash": pseudonymiser.links(link_keys),
            "kind": pa.array(np.where(kinds == 1, KIND_BSN, KIND_ONDERWIJSNUMMER), pa.string()),
        }
    )

    prepared = []
    offsets = dict.fromkeys(whole, 0)
    for index, manifest in enumerate(manifests):
        tables = {}
        for name, (table, lengths) in whole.items():
            if name == "bijzonder" and index not in with_special:
                continue
            tables[name] = _own(table, offsets[name], lengths[index])
            offsets[name] += lengths[index]
        start = sum(pupil_lengths[:index])
        prepared.append(
            PreparedDelivery(
                delivery_id=str(manifest["delivery_id"]),
                school=schools[index].as_py(),
                period=str(manifest["period"]),
                created_at=str(manifest.get("created_at", "")),
                study=manifest.get("study"),
                tables=tables,
                linkage=_own(linkage, start, pupil_lengths[index]),
            )
        )
    return prepared


def prepare_delivery(
    manifest: dict[str, Any], tables: dict[str, pa.Table], pseudonymiser: Pseudonymiser
) -> PreparedDelivery:
    """Vault rows for one checked delivery."""
    return prepare_deliveries([(manifest, tables)], pseudonymiser)[0]
