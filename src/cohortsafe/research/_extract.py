"""A project's extract: its approved vault columns, under its own pseudonyms.

Every pupil and school pseudonym is re-keyed with the project's key (HMAC-SHA256 of
the vault pseudonym, with the purpose in front so a pupil's and a school's never
coincide), so no two projects' extracts, nor an extract and the vault, share a
pseudonym to link on. Each row gets a record id, keyed the same way, from everything
the vault holds of the row: it stays the same when the extract is built again (after
a retraction or a new delivery), which the release ledger needs to recognise records
it has seen; it leaves out the delivery, so a delivery sent again keeps its records'
ids. Rows are written in the order of their record ids, which says nothing of the order
they were delivered in.

Not yet handled: a rotation of the vault's pupil or school key re-keys the vault's
pseudonyms, and with them the project's pseudonyms and record ids; a project's ledger
then sees new pupils (the office must carry a project's ledger over a rotation).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cohortsafe.errors import ConfigurationError
from cohortsafe.files import atomic_writer, private_dir, write_atomic
from cohortsafe.pseudonym import PROJECT, PseudonymKey, hmac_hex
from cohortsafe.research._project import DERIVED, NEVER, ProjectSpec
from cohortsafe.vault import Vault

__all__ = ["EXTRACT", "MANIFEST", "ExtractSummary", "build_extract"]

EXTRACT = "extract"  # the folder of a project's Parquet files
MANIFEST = "extract.json"
_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class ExtractSummary:
    """What was built: per table, its columns and number of rows."""

    code: str
    columns: dict[str, tuple[str, ...]]
    rows: dict[str, int]


def build_extract(
    vault: Vault, spec: ProjectSpec, key: PseudonymKey, folder: Path
) -> ExtractSummary:
    """Write ``spec``'s extract into ``folder`` (0700; files 0600, each written at once).

    Tables no longer approved are removed; what the vault no longer holds (a
    retracted pupil) is in no file afterwards."""
    if key.purpose != PROJECT:
        raise ConfigurationError("an extract is keyed with a project key")
    private_dir(folder)
    extract = private_dir(folder / EXTRACT)
    columns: dict[str, tuple[str, ...]] = {}
    rows: dict[str, int] = {}
    for table, approved in spec.tables.items():
        out = _project_rows(_chosen_rows(vault.table(table), table, spec), table, approved, key)
        with atomic_writer(extract / f"{table}.parquet") as handle:
            pq.write_table(out, handle, compression="zstd")
        columns[table] = tuple(out.column_names)
        rows[table] = out.num_rows
    for stale in extract.glob("*.parquet"):
        if stale.stem not in spec.tables:
            stale.unlink()
    manifest = {
        "project": spec.code,
        "policy": spec.policy,
        "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": {t: {"columns": list(columns[t]), "rows": rows[t]} for t in columns},
    }
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=1).encode())
    return ExtractSummary(spec.code, columns, rows)


def _chosen_rows(rows: pa.Table, table: str, spec: ProjectSpec) -> pa.Table:
    if spec.school_years:
        rows = rows.filter(pc.is_in(rows.column("schooljaar"), pa.array(spec.school_years)))
    if table == "bijzonder":
        rows = rows.filter(pc.equal(rows.column("study"), spec.study))
    return rows


def _project_rows(
    rows: pa.Table, table: str, approved: tuple[str, ...], key: PseudonymKey
) -> pa.Table:
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    # a record is what the school said of the pupil, not which delivery said it: a
    # delivery sent again keeps its records' ids
    everything = pl.concat_str(
        [pl.col(c).cast(pl.Utf8).fill_null("\x00") for c in rows.column_names if c not in NEVER],
        separator=_SEPARATOR,
    )
    material = frame.select(
        pl.concat_str([pl.lit(f"pupil{_SEPARATOR}"), pl.col("pupil")]).alias("pupil"),
        pl.concat_str([pl.lit(f"school{_SEPARATOR}"), pl.col("school")]).alias("school"),
        # identical rows (a result entered twice) are told apart by their order of
        # occurrence among themselves
        pl.concat_str(
            [
                pl.lit(f"record{_SEPARATOR}{table}"),
                everything,
                pl.int_range(pl.len()).over(everything).cast(pl.Utf8),
            ],
            separator=_SEPARATOR,
        ).alias("record"),
    )
    out: dict[str, pa.Array] = {
        name: hmac_hex(key, material.get_column(name).to_arrow())
        for name in ("pupil", "school", "record")
    }
    for column in approved:
        if (table, column) in DERIVED:
            source, length = DERIVED[(table, column)]
            out[column] = pc.utf8_slice_codeunits(rows.column(source), 0, length).combine_chunks()
        else:
            out[column] = rows.column(column).combine_chunks()
    projected = pa.table(out)
    return projected.take(pc.sort_indices(projected.column("record")))
