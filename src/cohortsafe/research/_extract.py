"""A project's extract: its approved vault columns, under its own pseudonyms.

Every pupil and school pseudonym is re-keyed with the project's key (HMAC-SHA256 of
the vault pseudonym, with the purpose in front so a pupil's and a school's never
coincide), so no two projects' extracts, nor an extract and the vault, share a
pseudonym to link on. Each row gets a record id (a 64-bit number, :mod:`._records`),
keyed with the project's key too, from everything the vault holds of the row: it stays
the same when the extract is built again (after a retraction or a new delivery), which
the release ledger needs to recognise records it has seen; it leaves out the delivery,
so a delivery sent again keeps its records' ids. Rows are written in the order of
their ids, which says nothing of the order they were delivered in.

Not yet handled: a rotation of the vault's pupil or school key re-keys the vault's
pseudonyms, and with them the project's pseudonyms and record ids; a project's ledger
then sees new pupils (the office must carry a project's ledger over a rotation).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
import pyarrow.parquet as pq

from cohortsafe.errors import ConfigurationError
from cohortsafe.files import atomic_writer, private_dir, write_atomic
from cohortsafe.pseudonym import PROJECT, PseudonymKey, hmac_hex
from cohortsafe.research._project import DERIVED, NEVER, ProjectSpec
from cohortsafe.research._records import BUCKETS, RecordCipher
from cohortsafe.vault import VAULT_SCHEMAS, Vault

__all__ = ["EXTRACT", "MANIFEST", "ExtractSummary", "build_extract"]

EXTRACT = "extract"  # the folder of a project's Parquet files
MANIFEST = "extract.json"
_SEPARATOR = "\x1f"
FIXED_COLUMNS = ("pupil", "school", "record")
_T = TypeVar("_T")
_R = TypeVar("_R")


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
    for left in extract.glob(".spill-*"):
        # a build cut off (killed) leaves its spill, vault pseudonyms, behind
        shutil.rmtree(left, ignore_errors=True)
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

    The vault's rows are read in batches and spilled, with their record ids, into
    buckets by the pupil's keyed bucket (:mod:`._records`); each bucket is then put in
    id order, keyed and written as a row group, in bucket order, so the file is in id
    order throughout, each pupil is keyed once, and no more than a few batches or
    buckets are held at once (a national set does not fit in memory). Batches and
    buckets are worked on on every core while the one before is written."""
    approved = spec.tables[table]
    schema = _schema(VAULT_SCHEMAS[table], table, approved)
    cipher = RecordCipher.of(key)
    content = [c for c in VAULT_SCHEMAS[table].names if c not in NEVER]
    workers = os.cpu_count() or 1

    def spilled(batch: pa.RecordBatch) -> tuple[pa.Table, list[int]]:
        rows = _chosen_rows(pa.Table.from_batches([batch]), table, spec)
        part, buckets = _spilled(rows, table, content, approved, cipher)
        counts = np.bincount(buckets, minlength=BUCKETS).tolist()
        return part.take(pa.array(np.argsort(buckets, kind="stable"))), counts

    written = 0
    with (
        tempfile.TemporaryDirectory(dir=path.parent, prefix=".spill-") as spill,
        ThreadPoolExecutor(workers) as pool,
    ):
        writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        try:
            for part, counts in _in_order(pool, spilled, vault.batches(table), workers):
                offset = 0
                for bucket, count in enumerate(counts):
                    if count:
                        if bucket not in writers:
                            name = str(Path(spill) / f"{bucket}.arrow")
                            writers[bucket] = pa.ipc.new_file(name, part.schema)
                        writers[bucket].write_table(part.slice(offset, count))
                        offset += count
        finally:
            for writer in writers.values():
                writer.close()

        def finished(bucket: int) -> pa.Table:
            with pa.memory_map(str(Path(spill) / f"{bucket}.arrow")) as source:
                part = pa.ipc.open_file(source).read_all()
            return _finished(part, table, approved, key, cipher).cast(schema)

        with (
            atomic_writer(path) as handle,
            pq.ParquetWriter(
                handle,
                schema,
                # record ids are unique and random: a dictionary or compression of
                # them is only work thrown away
                compression={n: "none" if n == "record" else "zstd" for n in schema.names},
                use_dictionary=[n for n in schema.names if n != "record"],
            ) as out,
        ):
            # in bucket order: a bucket is the first bits of its ids
            for bucket_rows in _in_order(pool, finished, iter(sorted(writers)), workers):
                out.write_table(bucket_rows)
                written += bucket_rows.num_rows
            if not writers:
                out.write_table(schema.empty_table())
    return written


def _in_order(
    pool: ThreadPoolExecutor, work: Callable[[_T], _R], items: Iterator[_T], ahead: int
) -> Iterator[_R]:
    """``work`` of each item, done in ``pool`` with at most ``ahead`` items in hand,
    yielded in the items' order."""
    pending: deque[Future[_R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


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
    cipher = RecordCipher.of(key)
    content = [c for c in rows.column_names if c not in NEVER]
    part, buckets = _spilled(rows, table, content, approved, cipher)
    pieces = [
        _finished(part.filter(pa.array(buckets == b)), table, approved, key, cipher)
        for b in range(BUCKETS)
    ]
    return pa.concat_tables(pieces).cast(_schema(rows.schema, table, approved))


def _spilled(
    rows: pa.Table,
    table: str,
    content: list[str],
    approved: tuple[str, ...],
    cipher: RecordCipher,
) -> tuple[pa.Table, np.ndarray]:
    """Each row's record id and MAC, its vault pseudonyms and approved columns; and its
    bucket."""
    # a record is what the school said of the pupil, not which delivery said it: a
    # delivery sent again keeps its records' ids
    macs, buckets = cipher.macs_and_buckets(rows, table, content)
    sources = {c: DERIVED[(table, c)][0] if (table, c) in DERIVED else c for c in approved}
    part = pa.table(
        {
            "__record__": pa.array(cipher.ids(buckets, macs)),
            "__mac0__": pa.array(macs[:, 0]),
            "__mac1__": pa.array(macs[:, 1]),
            "__pupil__": rows.column("pupil"),
            "__school__": rows.column("school"),
            **{column: rows.column(source) for column, source in sources.items()},
        }
    )
    return part, buckets


def _finished(
    part: pa.Table,
    table: str,
    approved: tuple[str, ...],
    key: PseudonymKey,
    cipher: RecordCipher,
) -> pa.Table:
    """One bucket's rows in id order (it says nothing of the order of delivery, and
    puts identical rows next to each other), keyed for the project."""
    # ties (two rows, one id) are rare; told_apart settles them by the full MAC
    ordered = part.take(pc.sort_indices(part.column("__record__")))
    macs = np.stack(
        [_numbers(ordered.column("__mac0__")), _numbers(ordered.column("__mac1__"))], axis=1
    )
    ids = _numbers(ordered.column("__record__"))
    unique = cipher.told_apart(ids, macs)
    if not np.array_equal(unique, ids):
        order = np.argsort(unique, kind="stable")
        ordered, unique = ordered.take(pa.array(order)), unique[order]
    out: dict[str, pa.Array] = {
        "pupil": _keyed_values(key, "pupil", ordered.column("__pupil__")),
        "school": _keyed_values(key, "school", ordered.column("__school__")),
        "record": pa.array(unique, pa.uint64()),
    }
    for column in approved:
        values = ordered.column(column).combine_chunks()
        if (table, column) in DERIVED:
            values = pc.utf8_slice_codeunits(values, 0, DERIVED[(table, column)][1])
        out[column] = values
    return pa.table(out)


def _numbers(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.combine_chunks().to_numpy(zero_copy_only=False), np.uint64)


def _schema(vault: pa.Schema, table: str, approved: tuple[str, ...]) -> pa.Schema:
    """The extract's types: the vault's for each approved column, strings for the rest."""
    keyed = pa.dictionary(pa.int32(), pa.string())
    fields = [
        pa.field("pupil", keyed, nullable=False),
        pa.field("school", keyed, nullable=False),
        pa.field("record", pa.uint64(), nullable=False),
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
