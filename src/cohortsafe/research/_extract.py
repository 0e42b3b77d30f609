"""A project's extract: its approved vault columns, under its own pseudonyms.

Every pupil and school pseudonym is re-keyed with the project's key (HMAC-SHA256 of
the vault pseudonym, with the purpose in front so a pupil's and a school's never
coincide), so no two projects' extracts, nor an extract and the vault, share a
pseudonym to link on. Each row gets a record id, keyed the same way, from everything
the vault holds of the row: it stays the same when the extract is built again (after
a retraction or a new delivery), which the release ledger needs to recognise records
it has seen; it leaves out the delivery, so a delivery sent again keeps its records'
ids. Rows are written in the order of a keyed digest of their content, which says
nothing of the order they were delivered in.

Not yet handled: a rotation of the vault's pupil or school key re-keys the vault's
pseudonyms, and with them the project's pseudonyms and record ids; a project's ledger
then sees new pupils (the office must carry a project's ledger over a rotation).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
import pyarrow.parquet as pq

from cohortsafe.errors import ConfigurationError
from cohortsafe.files import atomic_writer, private_dir, write_atomic
from cohortsafe.pseudonym import PROJECT, PseudonymKey, hmac_hex
from cohortsafe.research._project import DERIVED, NEVER, ProjectSpec
from cohortsafe.vault import VAULT_SCHEMAS, Vault

__all__ = ["EXTRACT", "MANIFEST", "ExtractSummary", "build_extract"]

EXTRACT = "extract"  # the folder of a project's Parquet files
MANIFEST = "extract.json"
_SEPARATOR = "\x1f"
FIXED_COLUMNS = ("pupil", "school", "record")


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
        rows[table] = _write_table(vault, spec, table, key, extract / f"{table}.parquet")
        columns[table] = (*FIXED_COLUMNS, *approved)
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


def _write_table(vault: Vault, spec: ProjectSpec, table: str, key: PseudonymKey, path: Path) -> int:
    """Write one table of the extract; returns its number of rows.

    The vault's rows are read in batches and spilled, with their keyed digests, into
    buckets by the digest's first hex digit; each bucket is then sorted and written as
    a row group, in bucket order, so the file is in digest order throughout while no
    more than a bucket is held at once (a national set does not fit in memory)."""
    approved = spec.tables[table]
    schema = _schema(VAULT_SCHEMAS[table], table, approved)
    written = 0
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".spill-") as spill:
        writers: dict[str, pa.ipc.RecordBatchFileWriter] = {}
        spilled: pa.Schema | None = None
        try:
            for batch in vault.batches(table):
                rows = _chosen_rows(pa.Table.from_batches([batch]), table, spec)
                if not rows.num_rows:
                    continue
                digested = _digested(rows, table, approved, key).with_columns(
                    pl.col("__digest__").str.slice(0, 1).alias("__bucket__")
                )
                for (bucket,), part in digested.partition_by("__bucket__", as_dict=True).items():
                    arrow = part.drop("__bucket__").to_arrow()
                    spilled = spilled or arrow.schema
                    if bucket not in writers:
                        writers[str(bucket)] = pa.ipc.new_file(
                            str(Path(spill) / f"{bucket}.arrow"), spilled
                        )
                    writers[str(bucket)].write_table(arrow.cast(spilled))
        finally:
            for writer in writers.values():
                writer.close()
        with (
            atomic_writer(path) as handle,
            # record ids are unique: a dictionary of them is only work thrown away
            pq.ParquetWriter(
                handle,
                schema,
                compression="zstd",
                use_dictionary=[n for n in schema.names if n != "record"],
            ) as out,
        ):

            def finish(bucket: str) -> pa.Table:
                with pa.memory_map(str(Path(spill) / f"{bucket}.arrow")) as source:
                    part = pa.ipc.open_file(source).read_all()
                return _finished(part, table, approved, key).cast(schema)

            # buckets finished on every core, a few at a time (memory), written in order:
            # hex digits sort as the digests they start
            buckets = sorted(writers)
            workers = os.cpu_count() or 1
            with ThreadPoolExecutor(workers) as pool:
                for start in range(0, len(buckets), workers):
                    for finished in pool.map(finish, buckets[start : start + workers]):
                        out.write_table(finished)
                        written += finished.num_rows
            if not writers:
                out.write_table(schema.empty_table())
    return written


def _chosen_rows(rows: pa.Table, table: str, spec: ProjectSpec) -> pa.Table:
    if spec.school_years:
        rows = rows.filter(pc.is_in(rows.column("schooljaar"), pa.array(spec.school_years)))
    if table == "bijzonder":
        rows = rows.filter(pc.equal(rows.column("study"), spec.study))
    return rows


def _project_rows(
    rows: pa.Table, table: str, approved: tuple[str, ...], key: PseudonymKey
) -> pa.Table:
    """``rows`` as the extract holds them, all at once (see :func:`_write_table`)."""
    part = _digested(rows, table, approved, key).to_arrow()
    return _finished(part, table, approved, key).cast(_schema(rows.schema, table, approved))


def _digested(
    rows: pa.Table, table: str, approved: tuple[str, ...], key: PseudonymKey
) -> pl.DataFrame:
    """Each row's keyed content digest, its vault pseudonyms and its approved columns."""
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    # a record is what the school said of the pupil, not which delivery said it: a
    # delivery sent again keeps its records' ids
    content = frame.select(
        pl.concat_str(
            [pl.lit(f"record{_SEPARATOR}{table}")]
            + [
                pl.col(c).cast(pl.Utf8).fill_null("\x00")
                for c in rows.column_names
                if c not in NEVER
            ],
            separator=_SEPARATOR,
        )
    )
    digest = hmac_hex(key, content.to_series().to_arrow(), threads=os.cpu_count() or 1)
    sources = {c: DERIVED[(table, c)][0] if (table, c) in DERIVED else c for c in approved}
    return frame.select(
        pl.Series("__digest__", digest).cast(pl.Utf8),
        pl.col("pupil").alias("__pupil__"),
        pl.col("school").alias("__school__"),
        *(pl.col(source).alias(column) for column, source in sources.items()),
    )


def _finished(part: pa.Table, table: str, approved: tuple[str, ...], key: PseudonymKey) -> pa.Table:
    """Rows in the order of their keyed digest (it says nothing of the order of delivery,
    and puts identical rows next to each other), keyed for the project."""
    ordered = part.sort_by("__digest__")
    out: dict[str, pa.Array] = {
        "pupil": _keyed_values(key, "pupil", ordered.column("__pupil__")),
        "school": _keyed_values(key, "school", ordered.column("__school__")),
        "record": _told_apart(key, ordered.column("__digest__").combine_chunks()),
    }
    for column in approved:
        values = ordered.column(column).combine_chunks()
        if (table, column) in DERIVED:
            values = pc.utf8_slice_codeunits(values, 0, DERIVED[(table, column)][1])
        out[column] = values
    return pa.table(out)


def _schema(vault: pa.Schema, table: str, approved: tuple[str, ...]) -> pa.Schema:
    """The extract's types: the vault's for each approved column, strings for the rest."""
    keyed = pa.dictionary(pa.int32(), pa.string())
    fields = [
        pa.field("pupil", keyed, nullable=False),
        pa.field("school", keyed, nullable=False),
        pa.field("record", pa.large_string(), nullable=False),  # a national set is large
    ]
    for column in approved:
        if (table, column) in DERIVED:
            fields.append(pa.field(column, pa.string()))
        else:
            fields.append(vault.field(column))
    return pa.schema(fields)


def _keyed_values(key: PseudonymKey, purpose: str, values: pa.ChunkedArray) -> pa.DictionaryArray:
    """Each value's keyed pseudonym, computed once per distinct value (pupils recur)."""
    encoded = pc.dictionary_encode(values.combine_chunks())
    dictionary = encoded.dictionary.cast(pa.string())
    material = pc.binary_join_element_wise(pa.scalar(purpose), dictionary, _SEPARATOR)
    # kept as a dictionary: each pseudonym is written once, not once per row
    return pa.DictionaryArray.from_arrays(encoded.indices, hmac_hex(key, material))


def _told_apart(key: PseudonymKey, digest: pa.Array) -> pa.Array:
    """Record ids from sorted content digests: the second and later of identical rows
    (the same digest) get the keyed digest of theirs and their number of occurrence."""
    if len(digest) < 2:
        return digest
    same = pc.equal(digest.slice(1), digest.slice(0, len(digest) - 1))
    if not pc.any(same).as_py():
        return digest
    repeated = np.concatenate([[False], same.to_numpy(zero_copy_only=False)])
    # occurrence number within each run of equal digests
    starts = np.flatnonzero(~repeated)
    positions = np.arange(len(digest))
    occurrence = positions - starts[np.searchsorted(starts, positions, side="right") - 1]
    where = pa.array(np.flatnonzero(repeated))
    material = pc.binary_join_element_wise(
        digest.take(where),
        pa.array(occurrence).take(where).cast(digest.type),
        pa.scalar(_SEPARATOR, digest.type),
    )
    ids = hmac_hex(key, material).cast(digest.type)
    return pc.replace_with_mask(digest, pa.array(repeated), ids)
