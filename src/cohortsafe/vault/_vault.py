"""The vault: Parquet files per table and school year, listed in a DuckDB catalog.

A change (a batch of deliveries, a retraction, a key rotation, a compaction)
writes its new files beside the current ones, then switches the catalog in
one DuckDB transaction. Until that commit, readers and a crash see the vault
as it was; after it, the files it replaced are deleted. Before writing a file,
the change names it in a pending-change record (``pending.json``); when the
vault is next opened, the files that record names and the catalog does not
list (left by a crash) are deleted, and nothing else: a file the catalog does
not account for otherwise (an older catalog restored from a backup, say) is
kept and reported, and the vault refuses to open until it is sorted out.

Linking fallback, for a pupil whose temporary onderwijsnummer is replaced by a
BSN: every pupil delivered under an onderwijsnummer leaves a *link hash*, a
keyed HMAC of (birth date, sex, postcode, house number, addition). A pupil who
arrives under a BSN not seen before, whose link hash matches exactly one
not-yet-linked onderwijsnummer pupil, while no other new BSN pupil of the same
batch has that hash, and who was not in the same school year as that pupil, is
linked: the onderwijsnummer pseudonym becomes an alias of the BSN pseudonym.
Every other match (twins at one address, say) stays unlinked and is counted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cohortsafe.errors import VaultError
from cohortsafe.files import fsync_dir, make_private, private_dir, write_atomic
from cohortsafe.vault._prepare import KIND_BSN, KIND_ONDERWIJSNUMMER, PreparedDelivery
from cohortsafe.vault._schemas import TABLES, VAULT_SCHEMAS

__all__ = [
    "DeliveryOutcome",
    "ReinstatementOutcome",
    "RetractionOutcome",
    "Vault",
    "VaultCounts",
    "fault_point",
]

_CATALOG = """
CREATE TABLE IF NOT EXISTS files (path VARCHAR, tbl VARCHAR, schooljaar VARCHAR, rows BIGINT);
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id VARCHAR, school VARCHAR, period VARCHAR, created_at VARCHAR,
    received_at TIMESTAMP, study VARCHAR, pupils BIGINT, results BIGINT, filtered BIGINT,
    linked BIGINT, ambiguous BIGINT, status VARCHAR, replaced_by VARCHAR);
CREATE TABLE IF NOT EXISTS tombstones (pupil VARCHAR, retraction_id VARCHAR, done_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS retractions (
    retraction_id VARCHAR, school VARCHAR, done_at TIMESTAMP, pupils BIGINT, rows_removed BIGINT);
CREATE TABLE IF NOT EXISTS reinstatements (
    reinstatement_id VARCHAR, school VARCHAR, done_at TIMESTAMP, pupils_lifted BIGINT);
CREATE TABLE IF NOT EXISTS aliases (
    alias VARCHAR, canonical VARCHAR, delivery_id VARCHAR, done_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS linkage (
    pupil VARCHAR, link_hash VARCHAR, first_period VARCHAR);
CREATE TABLE IF NOT EXISTS key_history (
    purpose VARCHAR, key_id VARCHAR, position INTEGER, done_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS counters (name VARCHAR, value BIGINT);
CREATE TABLE IF NOT EXISTS school_reference (
    school VARCHAR, schooljaar VARCHAR, schoolweging DOUBLE, loaded_at TIMESTAMP);
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS rows_json VARCHAR;
ALTER TABLE retractions ADD COLUMN IF NOT EXISTS not_delivered BIGINT;
ALTER TABLE reinstatements ADD COLUMN IF NOT EXISTS not_tombstoned BIGINT;
ALTER TABLE reinstatements ADD COLUMN IF NOT EXISTS still_tombstoned BIGINT;
ALTER TABLE key_history ADD COLUMN IF NOT EXISTS files_rewritten BIGINT;
ALTER TABLE school_reference ADD COLUMN IF NOT EXISTS provincie VARCHAR;
"""
# The columns added by ALTER keep what an outcome reported beyond the original columns, so
# a registry that missed the outcome (a crash after the commit) can be given it again.

# Relative paths a change is about to create or make obsolete; see the module docstring.
# A JSON file, not a catalog table: it must survive the rollback of the very transaction
# it protects, and the paths of rewritten files are known only as that transaction runs.
_PENDING = "pending.json"
# What the file system says when it refuses a write, and what a message says instead.
_REFUSALS = (
    ("Read-only file system", "the folder is read-only"),
    ("Permission denied", "the folder is not writable by this user"),
    ("No space left on device", "the disk is full"),
)
# How many paths a message names before it says "and N more".
_SHOWN = 5


# pyarrow's name for a Parquet codec -> DuckDB's
_DUCKDB_CODEC = {"none": "uncompressed", "zstd": "zstd", "snappy": "snappy", "gzip": "gzip"}


def fault_point(step: str) -> None:
    """Where a crash can be injected in tests; does nothing in normal runs."""


@dataclass
class DeliveryOutcome:
    delivery_id: str
    status: str  # received | duplicate | superseded
    replaced: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    filtered: int = 0  # pupils left out because a retraction tombstoned them
    linked: int = 0
    ambiguous: int = 0


@dataclass
class RetractionOutcome:
    retraction_id: str
    status: str  # retracted | duplicate
    pupils: int = 0
    rows_removed: int = 0
    not_delivered: int = 0  # named pupils this school never delivered: nothing of theirs removed


@dataclass
class ReinstatementOutcome:
    reinstatement_id: str
    status: str  # reinstated | duplicate
    pupils_lifted: int = 0
    # named pupils no retraction of this school tombstoned: nothing lifted for them
    not_tombstoned: int = 0
    # lifted pupils another school's retraction still keeps out
    still_tombstoned: int = 0


@dataclass
class VaultCounts:
    deliveries: int
    replaced: int
    pupils: int
    rows: dict[str, int]
    retractions: int
    tombstones: int
    linked: int
    unlinked: int
    ambiguous: int
    by_period: dict[str, dict[str, int]]
    reinstatements: int = 0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def _is_parquet(path: Path) -> bool:
    """Whether ``path`` starts and ends with Parquet's magic bytes (a truncated file does not)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            handle.seek(0, os.SEEK_END)
            if handle.tell() < 12:
                return False
            handle.seek(-4, os.SEEK_END)
            return head == b"PAR1" and handle.read(4) == b"PAR1"
    except FileNotFoundError:
        return False


class Vault:
    """The office's pseudonymised cohort; use as a context manager.

    Only ``create=True`` (``office init``) makes a new catalog; otherwise a missing
    or inconsistent catalog is a :class:`VaultError` and nothing is touched.
    """

    def __init__(
        self,
        root: Path,
        *,
        compression: str = "zstd",
        compact_after: int = 32,
        create: bool = False,
    ) -> None:
        self.root = root
        self.data = root / "data"
        self.compression = compression
        self.compact_after = compact_after
        self.create = create
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pending: dict[str, list[str]] = {"create": [], "obsolete": []}

    # -- opening ---------------------------------------------------------------------------

    def __enter__(self) -> Vault:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        catalog = self.root / "catalog.duckdb"
        if not catalog.exists():
            parts = self._parts_on_disk()
            if parts:
                raise VaultError(
                    f"the vault catalog {self._name(catalog)} is missing, but the vault holds "
                    f"{len(parts)} data file(s) ({_listing(self._names(parts))}): nothing was "
                    "changed; "
                    "restore catalog.duckdb from the backup that goes with these files"
                )
            if not self.create:
                raise VaultError(
                    f"the vault catalog {self._name(catalog)} is missing: restore it from your "
                    "backup (only `office init` makes a new vault)"
                )
            private_dir(self.data)
        self._con = self._connect(catalog)
        try:
            try:
                self._con.execute(_CATALOG)
            except duckdb.Error as error:
                raise self._damage(error) from None
            self._remove_orphans()
            self._check()
            for name, schema in VAULT_SCHEMAS.items():
                empty = self._empty(name)
                if not empty.exists():
                    private_dir(empty.parent)
                    pq.write_table(schema.empty_table(), empty)
                    make_private(empty)
            self._refresh_views()
            self._private_catalog()
        except BaseException:
            self.close()
            raise

    def _name(self, path: Path) -> str:
        """``path`` as messages show it: relative to the vault's parent (``vault/…``)."""
        return str(path.relative_to(self.root.parent))

    def _names(self, relative: set[str] | list[str]) -> list[str]:
        return sorted(self._name(self.root / p) for p in relative)

    def _connect(self, catalog: Path) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(catalog))
        except duckdb.Error as error:
            text = str(error)
            if "lock" in text.lower():
                raise VaultError(
                    "the vault is in use by another command (its catalog "
                    f"{self._name(catalog)} is locked); try again when that has finished"
                ) from None
            refused = [reason for sign, reason in _REFUSALS if sign in text]
            if "not a valid DuckDB database" in text:
                reason = "it is damaged or not a DuckDB catalog"
            elif refused:
                reason = refused[0]
            else:
                reason = "DuckDB says " + text.split(":", 1)[0]
            raise VaultError(
                f"the vault catalog {self._name(catalog)} cannot be opened: {reason}; "
                "nothing was changed"
            ) from None

    def _parts_on_disk(self) -> list[str]:
        """The data files under ``data/`` (not the ``_empty`` placeholders), relative."""
        if not self.data.exists():
            return []
        return sorted(
            str(p.relative_to(self.root))
            for p in self.data.rglob("*.parquet")
            if p.parent.name != "_empty"
        )

    def _private_catalog(self) -> None:
        # DuckDB creates the catalog and its WAL with the umask's mode (the console's umask
        # is 077, a library caller's may not be); the folder is 0700 in any case
        catalog = self.root / "catalog.duckdb"
        for path in (catalog, catalog.with_name(catalog.name + ".wal")):
            make_private(path)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._private_catalog()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise VaultError("the vault is not open")
        return self._con

    def _empty(self, table: str) -> Path:
        return self.data / "_empty" / f"{table}.parquet"

    def _listed(self) -> set[str]:
        return {row[0] for row in self.con.execute("SELECT path FROM files").fetchall()}

    def _remove_orphans(self) -> None:
        """Delete the files the pending-change record names and the catalog does not list.

        Those are the new files of a change that did not commit, or the old files of one
        that did; any other file is left alone (see :meth:`_check`). Then clear the record.
        """
        record = self.root / _PENDING
        try:
            named = json.loads(record.read_text())
        except FileNotFoundError:
            return
        except ValueError:
            # written atomically, so never half: a file that does not parse is not ours
            raise VaultError(
                f"the vault's pending-change record {self._name(record)} is damaged: "
                "nothing was deleted"
            ) from None
        listed = self._listed()
        for relative in [*named.get("create", []), *named.get("obsolete", [])]:
            path = self.root / relative
            # only ever a data file: the record is a plain file in the vault folder
            ours = path.parent.name != "_empty" and path.suffix == ".parquet"
            ours = ours and relative.startswith("data/") and ".." not in Path(relative).parts
            if ours and relative not in listed and path.exists():
                path.unlink()
        fsync_dir(self.root)
        record.unlink()
        fsync_dir(self.root)

    def _check(self) -> None:
        """Refuse a catalog that does not account for the files, or files that are damaged."""
        listed = self._listed()
        on_disk = set(self._parts_on_disk())
        missing = self._names(listed - on_disk)
        unlisted = self._names(on_disk - listed)
        damaged = self._names({p for p in listed & on_disk if not _is_parquet(self.root / p)})
        problems = []
        if missing:
            problems.append(f"{len(missing)} file(s) it lists are missing ({_listing(missing)})")
        if damaged:
            problems.append(
                f"{len(damaged)} file(s) it lists are damaged or truncated ({_listing(damaged)})"
            )
        if unlisted:
            problems.append(
                f"{len(unlisted)} file(s) it does not list are present ({_listing(unlisted)}; "
                "an older catalog restored from a backup?); they were kept"
            )
        if problems:
            raise VaultError(
                f"the vault catalog {self._name(self.root / 'catalog.duckdb')} does not match "
                f"the vault's files: {'; '.join(problems)}. Nothing was changed: restore the "
                "vault folder (catalog and data together) from one backup"
            )

    def _will_write(self, relative: str) -> None:
        """Name a file in the pending-change record before it is written."""
        self._pending["create"].append(relative)
        self._save_pending()

    def _save_pending(self) -> None:
        write_atomic(self.root / _PENDING, json.dumps(self._pending).encode())

    def _refresh_views(self) -> None:
        for table in TABLES:
            paths = [
                str(self.root / row[0])
                for row in self.con.execute(
                    "SELECT path FROM files WHERE tbl = ? ORDER BY path", [table]
                ).fetchall()
            ] or [str(self._empty(table))]
            listing = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
            try:
                self.con.execute(
                    f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet([{listing}])"
                )
            except duckdb.Error as error:  # a view reads each file's footer
                raise self._damage(error) from None

    # -- reading ---------------------------------------------------------------------------

    def table(self, name: str) -> pa.Table:
        if name not in VAULT_SCHEMAS:
            raise VaultError(f"no vault table {name}")
        try:
            return self.con.sql(f"SELECT * FROM {name}").to_arrow_table()
        except duckdb.Error as error:
            raise self._damage(error) from None

    def batches(self, name: str, rows: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        """A table in batches of at most ``rows`` rows, for readers that must not hold it
        all at once (a project's extract of a national set)."""
        if name not in VAULT_SCHEMAS:
            raise VaultError(f"no vault table {name}")
        try:
            yield from self.con.sql(f"SELECT * FROM {name}").to_arrow_reader(rows)
        except duckdb.Error as error:
            raise self._damage(error) from None

    def files(self) -> list[Path]:
        return sorted(self.root / p for p in self._listed())

    def known_delivery(self, delivery_id: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM deliveries WHERE delivery_id = ?", [delivery_id]
        ).fetchall()
        return bool(found[0][0])

    def held_delivery(self, delivery_id: str) -> DeliveryOutcome | None:
        """The outcome the vault committed for ``delivery_id`` when it was received, if it was.

        A crash between the vault's commit and the registry's record leaves the registry
        without it; intake gives it this outcome instead of calling it a duplicate.
        """
        rows = self.con.execute(
            "SELECT pupils, results, filtered, linked, ambiguous, rows_json, "
            "(SELECT min(r.delivery_id) FROM deliveries r WHERE r.replaced_by = d.delivery_id) "
            "FROM deliveries d WHERE delivery_id = ?",
            [delivery_id],
        ).fetchall()
        if not rows:
            return None
        pupils, results, filtered, linked, ambiguous, rows_json, replaced = rows[0]
        counts = (
            json.loads(rows_json)
            if rows_json
            else {"leerlingen": int(pupils), "toetsresultaten": int(results)}
        )
        return DeliveryOutcome(
            delivery_id, "received", replaced, counts, int(filtered), int(linked), int(ambiguous)
        )

    def held_retraction(self, retraction_id: str) -> RetractionOutcome | None:
        """The outcome the vault committed for a retraction (see :meth:`held_delivery`)."""
        rows = self.con.execute(
            "SELECT pupils, rows_removed, not_delivered FROM retractions WHERE retraction_id = ?",
            [retraction_id],
        ).fetchall()
        if not rows:
            return None
        pupils, removed, never = rows[0]
        return RetractionOutcome(retraction_id, "retracted", int(pupils), int(removed), never or 0)

    def held_reinstatement(self, reinstatement_id: str) -> ReinstatementOutcome | None:
        """The outcome the vault committed for a reinstatement (see :meth:`held_delivery`)."""
        rows = self.con.execute(
            "SELECT pupils_lifted, not_tombstoned, still_tombstoned FROM reinstatements "
            "WHERE reinstatement_id = ?",
            [reinstatement_id],
        ).fetchall()
        if not rows:
            return None
        lifted, never, still = rows[0]
        return ReinstatementOutcome(
            reinstatement_id, "reinstated", int(lifted), never or 0, still or 0
        )

    def key_history(self) -> list[tuple[str, str, int]]:
        """Every re-key the vault committed, in order: (purpose, key id, files rewritten)."""
        rows = self.con.execute(
            "SELECT purpose, key_id, files_rewritten FROM key_history ORDER BY done_at, position"
        ).fetchall()
        return [(str(p), str(k), int(n or 0)) for p, k, n in rows]

    def load_school_reference(self, rows: pa.Table) -> tuple[int, int]:
        """Keep ``rows`` (school pseudonym, schooljaar, schoolweging and, optionally,
        provincie) as the reference of their schools and years, in place of what was kept
        for them; returns (new, replaced)."""
        if "provincie" not in rows.column_names:
            rows = rows.append_column("provincie", pa.nulls(rows.num_rows, pa.string()))
        con = self.con
        with self._transaction():
            con.register("incoming_reference", rows)
            try:
                (replaced,) = con.execute(
                    "SELECT count(*) FROM school_reference r JOIN incoming_reference i "
                    "USING (school, schooljaar)"
                ).fetchone() or (0,)
                con.execute(
                    "DELETE FROM school_reference USING incoming_reference i "
                    "WHERE school_reference.school = i.school "
                    "AND school_reference.schooljaar = i.schooljaar"
                )
                con.execute(
                    "INSERT INTO school_reference (school, schooljaar, schoolweging, "
                    "loaded_at, provincie) SELECT school, schooljaar, schoolweging, ?, "
                    "provincie FROM incoming_reference",
                    [_now()],
                )
            finally:
                con.unregister("incoming_reference")
        return rows.num_rows - int(replaced), int(replaced)

    def school_reference(self) -> pa.Table:
        """The reference kept: school pseudonym, schooljaar, schoolweging, provincie."""
        return self.con.sql(
            "SELECT school, schooljaar, schoolweging, provincie FROM school_reference "
            "ORDER BY schooljaar, school"
        ).to_arrow_table()

    def current_deliveries(self) -> set[str]:
        """The ids of the deliveries the vault holds as current (not replaced)."""
        rows = self.con.execute(
            "SELECT delivery_id FROM deliveries WHERE status = 'current'"
        ).fetchall()
        return {str(row[0]) for row in rows}

    def _tombstoned_by_school(self) -> dict[str, pa.Array]:
        """Per school pseudonym, the pupils its retractions tombstoned.

        A retraction is one school's: it keeps the pupil out of that school's later
        deliveries, not out of another school's (whose parents object there).
        """
        found: dict[str, list[str]] = {}
        for pupil, school in self.con.execute(
            "SELECT DISTINCT t.pupil, r.school FROM tombstones t "
            "JOIN retractions r USING (retraction_id)"
        ).fetchall():
            found.setdefault(school, []).append(pupil)
        return {school: pa.array(sorted(p), pa.string()) for school, p in found.items()}

    def counts(self) -> VaultCounts:
        try:
            return self._counts()
        except duckdb.Error as error:
            raise self._damage(error) from None

    def _unwritable(self, error: duckdb.Error) -> VaultError | None:
        """The error for a catalog write the file system refused, if that is what it was."""
        text = str(error)
        for sign, reason in _REFUSALS:
            if sign in text:
                return VaultError(
                    f"the vault catalog {self._name(self.root / 'catalog.duckdb')} cannot be "
                    f"written: {reason}; the vault is as it was"
                )
        return None

    def _damage(self, error: duckdb.Error) -> VaultError:
        """The error for a read that failed: which listed files cannot be read whole."""
        unwritable = self._unwritable(error)
        if unwritable is not None:
            return unwritable
        broken = []
        try:
            listed = self._listed()
        except duckdb.Error:  # the catalog itself cannot be read
            listed = set()
        for relative in sorted(listed):
            try:
                pq.read_table(self.root / relative)
            except (OSError, pa.ArrowException):
                broken.append(relative)
        what = (
            f"damaged file(s): {_listing(self._names(broken))}"
            if broken
            else "the catalog is damaged"
        )
        return VaultError(f"the vault cannot be read: {what}; restore them from your backup")

    def _counts(self) -> VaultCounts:
        con = self.con

        def one(sql: str) -> int:
            rows = con.execute(sql).fetchall()
            return int(rows[0][0] or 0) if rows else 0

        rows = {t: one(f"SELECT count(*) FROM {t}") for t in TABLES}
        by_period: dict[str, dict[str, int]] = {}
        for period, deliveries, pupils in con.execute(
            "SELECT d.period, count(DISTINCT d.delivery_id), "
            "(SELECT count(DISTINCT pupil) FROM leerlingen l WHERE l.schooljaar = d.period) "
            "FROM deliveries d WHERE status = 'current' GROUP BY d.period ORDER BY d.period"
        ).fetchall():
            by_period[period] = {"deliveries": deliveries, "pupils": pupils}
        return VaultCounts(
            deliveries=one("SELECT count(*) FROM deliveries WHERE status = 'current'"),
            replaced=one("SELECT count(*) FROM deliveries WHERE status = 'replaced'"),
            pupils=one(
                "SELECT count(DISTINCT coalesce(a.canonical, l.pupil)) FROM leerlingen l "
                "LEFT JOIN aliases a ON a.alias = l.pupil"
            ),
            rows=rows,
            retractions=one("SELECT count(*) FROM retractions"),
            tombstones=one("SELECT count(DISTINCT pupil) FROM tombstones"),
            linked=one("SELECT count(*) FROM aliases"),
            unlinked=one(
                "SELECT count(*) FROM linkage WHERE pupil NOT IN (SELECT alias FROM aliases)"
            ),
            ambiguous=one("SELECT coalesce(sum(ambiguous), 0) FROM deliveries"),
            by_period=by_period,
            reinstatements=one("SELECT count(*) FROM reinstatements"),
        )

    # -- writing ---------------------------------------------------------------------------

    def _generation(self) -> int:
        rows = self.con.execute("SELECT value FROM counters WHERE name = 'generation'").fetchall()
        generation = (int(rows[0][0]) if rows else 0) + 1
        self.con.execute("DELETE FROM counters WHERE name = 'generation'")
        self.con.execute("INSERT INTO counters VALUES ('generation', ?)", [generation])
        return generation

    def _write_file(self, table: pa.Table, name: str, period: str, tag: str) -> str:
        relative = f"data/{name}/{period}/{tag}.parquet"
        path = self.root / relative
        schema = VAULT_SCHEMAS[name]
        with self._writing(relative):
            folder = private_dir(self.data / name / period)
            pq.write_table(
                table.cast(schema),
                path,
                compression=self.compression,
                # level 1: these files are rewritten at compaction; speed matters more than size
                compression_level=1 if self.compression == "zstd" else None,
                # a dictionary only pays for the few-valued columns, never for the pseudonyms
                use_dictionary=[
                    f.name for f in schema if f.type == pa.string() and f.name != "pupil"
                ],
            )
            make_private(path)
            _fsync(path)
            fsync_dir(folder)
        return relative

    @contextlib.contextmanager
    def _writing(self, relative: str) -> Iterator[None]:
        """Record ``relative`` as pending, then write it; a failed write names the file."""
        self._will_write(relative)
        try:
            yield
        except (OSError, duckdb.IOException) as error:
            # a full disk or a read-only folder: the transaction rolls back and deletes it
            reason = error.strerror if isinstance(error, OSError) else None
            raise VaultError(
                f"cannot write the vault file {self._name(self.root / relative)}: "
                f"{reason or 'disk full or not writable'}; the vault is as it was"
            ) from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[list[Path]]:
        """Yield a list to collect files made obsolete; they go only after the commit."""
        obsolete: list[Path] = []
        self._pending = {"create": [], "obsolete": []}
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield obsolete
            self._refresh_views()
            if obsolete:
                # named before the commit, so a crash after it still finds them to delete
                self._pending["obsolete"] = [str(p.relative_to(self.root)) for p in obsolete]
                self._save_pending()
            fault_point("before_commit")
            try:
                self.con.execute("COMMIT")
            except duckdb.Error as error:
                raise self._unwritable(error) or VaultError(
                    "the vault catalog could not record the change "
                    f"({str(error).split(':', 1)[0]}); the vault is as it was"
                ) from None
            self._private_catalog()
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has rolled back already
                self.con.execute("ROLLBACK")
            # a read-only or full disk may refuse even this: the record stays for the next open,
            # and the error that stopped the change is the one to report
            with contextlib.suppress(OSError, VaultError):
                self._remove_orphans()
                self._refresh_views()
            raise
        fault_point("after_commit")
        for path in obsolete:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        if self._pending["create"] or obsolete:
            (self.root / _PENDING).unlink(missing_ok=True)

    def _rewrite_without(
        self, where: str, params: list[Any], generation: int, obsolete: list[Path]
    ) -> int:
        """Rewrite every file holding rows that match ``where``, without them; rows removed."""
        removed = 0
        for relative, table, period in self.con.execute(
            "SELECT path, tbl, schooljaar FROM files ORDER BY path"
        ).fetchall():
            path = self.root / relative
            quoted = "'" + str(path).replace("'", "''") + "'"
            hits = int(
                self.con.execute(
                    f"SELECT count(*) FROM read_parquet({quoted}) WHERE {where}", params
                ).fetchall()[0][0]
            )
            if not hits:
                continue
            kept = self.con.sql(
                f"SELECT * FROM read_parquet({quoted}) WHERE NOT ({where})", params=params
            ).to_arrow_table()
            removed += hits
            self.con.execute("DELETE FROM files WHERE path = ?", [relative])
            obsolete.append(path)
            if kept.num_rows:
                stem = Path(relative).stem
                new = self._write_file(kept, table, period, f"{stem}-r{generation}")
                self.con.execute(
                    "INSERT INTO files VALUES (?, ?, ?, ?)", [new, table, period, kept.num_rows]
                )
        return removed

    def add_deliveries(self, batch: list[PreparedDelivery]) -> list[DeliveryOutcome]:
        """Commit a batch of deliveries in one step; each is received, a duplicate or superseded."""
        con = self.con
        outcomes: list[DeliveryOutcome] = []
        known = {r[0] for r in con.execute("SELECT delivery_id FROM deliveries").fetchall()}
        current: dict[tuple[str, str], tuple[str, str]] = {
            (school, period): (delivery_id, created)
            for delivery_id, school, period, created in con.execute(
                "SELECT delivery_id, school, period, created_at FROM deliveries "
                "WHERE status = 'current'"
            ).fetchall()
        }
        tombstones = self._tombstoned_by_school()
        accepted: dict[str, tuple[PreparedDelivery, DeliveryOutcome]] = {}
        replaced_in_vault: dict[str, str] = {}
        for delivery in batch:
            if delivery.delivery_id in known or delivery.delivery_id in accepted:
                outcomes.append(DeliveryOutcome(delivery.delivery_id, "duplicate"))
                continue
            key = (delivery.school, delivery.period)
            holder = current.get(key)
            if holder and holder[1] > delivery.created_at:
                outcomes.append(DeliveryOutcome(delivery.delivery_id, "superseded"))
                continue
            outcome = DeliveryOutcome(delivery.delivery_id, "received")
            if holder and holder[0] in accepted:
                # superseded before it was stored: it replaces nothing, and what it would
                # have replaced in the vault is replaced by this newer one instead
                earlier = accepted.pop(holder[0])[1]
                earlier.status = "superseded"
                outcome.replaced, earlier.replaced = earlier.replaced, None
                if outcome.replaced is not None:
                    replaced_in_vault[outcome.replaced] = delivery.delivery_id
            elif holder:
                outcome.replaced = holder[0]
                replaced_in_vault[holder[0]] = delivery.delivery_id
            current[key] = (delivery.delivery_id, delivery.created_at)
            delivery, outcome.filtered = _without_tombstoned(
                delivery, tombstones.get(delivery.school, _NONE)
            )
            outcome.rows = delivery.rows
            accepted[delivery.delivery_id] = (delivery, outcome)
            outcomes.append(outcome)
        if not accepted:
            return outcomes

        with self._transaction() as obsolete:
            generation = self._generation()
            for (name, period), tables in _group(d for d, _ in accepted.values()).items():
                merged = pa.concat_tables(tables)
                relative = self._write_file(merged, name, period, f"g{generation:08d}")
                con.execute(
                    "INSERT INTO files VALUES (?, ?, ?, ?)",
                    [relative, name, period, merged.num_rows],
                )
            fault_point("files_written")
            if replaced_in_vault:
                old = sorted(replaced_in_vault)
                marks = ", ".join("?" * len(old))
                self._rewrite_without(f"delivery_id IN ({marks})", old, generation, obsolete)
                for old_id, new_id in replaced_in_vault.items():
                    con.execute(
                        "UPDATE deliveries SET status = 'replaced', replaced_by = ? "
                        "WHERE delivery_id = ?",
                        [new_id, old_id],
                    )
            fault_point("replaced_rewritten")
            self._link(accepted)
            fault_point("linked")
            received = _now()
            rows = [(d, o) for d, o in accepted.values()]
            con.register(
                "new_deliveries",
                pa.table(
                    {
                        "delivery_id": [d.delivery_id for d, _ in rows],
                        "school": [d.school for d, _ in rows],
                        "period": [d.period for d, _ in rows],
                        "created_at": [d.created_at for d, _ in rows],
                        "received_at": pa.array([received] * len(rows), pa.timestamp("us")),
                        "study": pa.array([d.study for d, _ in rows], pa.string()),
                        "pupils": [d.rows.get("leerlingen", 0) for d, _ in rows],
                        "results": [d.rows.get("toetsresultaten", 0) for d, _ in rows],
                        "filtered": [o.filtered for _, o in rows],
                        "linked": [o.linked for _, o in rows],
                        "ambiguous": [o.ambiguous for _, o in rows],
                        "rows_json": [json.dumps(o.rows) for _, o in rows],
                    }
                ),
            )
            try:
                con.execute(
                    "INSERT INTO deliveries BY NAME "
                    "SELECT *, 'current' AS status FROM new_deliveries"
                )
            finally:
                con.unregister("new_deliveries")
            fault_point("catalog_updated")
        return outcomes

    def _link(self, accepted: dict[str, tuple[PreparedDelivery, DeliveryOutcome]]) -> None:
        con = self.con
        links = []
        for delivery, _ in accepted.values():
            table = delivery.linkage.append_column(
                "delivery_id", pa.array([delivery.delivery_id] * delivery.linkage.num_rows)
            ).append_column("period", pa.array([delivery.period] * delivery.linkage.num_rows))
            links.append(table)
        batch = pa.concat_tables(links)
        con.register("batch_links", batch)
        try:
            con.execute(
                "INSERT INTO linkage SELECT DISTINCT b.pupil, b.link_hash, b.period "
                "FROM batch_links b WHERE b.kind = ? "
                "AND b.pupil NOT IN (SELECT pupil FROM linkage)",
                [KIND_ONDERWIJSNUMMER],
            )
            candidates = con.execute(
                """
                WITH new_bsn AS (
                    SELECT pupil, link_hash, min(delivery_id) AS delivery_id FROM batch_links
                    WHERE kind = ? AND pupil NOT IN (SELECT canonical FROM aliases)
                    GROUP BY pupil, link_hash
                ),
                open_onr AS (
                    SELECT pupil, link_hash FROM linkage
                    WHERE pupil NOT IN (SELECT alias FROM aliases)
                ),
                bsn_n AS (SELECT link_hash, count(DISTINCT pupil) AS n FROM new_bsn GROUP BY 1),
                onr_n AS (SELECT link_hash, count(DISTINCT pupil) AS n FROM open_onr GROUP BY 1)
                SELECT b.pupil, o.pupil, b.delivery_id, bn.n, onn.n
                FROM new_bsn b
                JOIN open_onr o USING (link_hash)
                JOIN bsn_n bn USING (link_hash)
                JOIN onr_n onn USING (link_hash)
                ORDER BY b.pupil, o.pupil
                """,
                [KIND_BSN],
            ).fetchall()
            if not candidates:
                return
            involved = sorted({c[0] for c in candidates} | {c[1] for c in candidates})
            marks = ", ".join("?" * len(involved))
            # One scan of the vault as it was before this batch (the views do not show the
            # batch yet), one of the batch itself.
            before: dict[str, set[str]] = {}
            for pupil, period in con.execute(
                f"SELECT DISTINCT pupil, schooljaar FROM leerlingen WHERE pupil IN ({marks})",
                involved,
            ).fetchall():
                before.setdefault(pupil, set()).add(period)
            periods = {pupil: set(years) for pupil, years in before.items()}
            for pupil, period in con.execute(
                f"SELECT DISTINCT pupil, period FROM batch_links WHERE pupil IN ({marks})",
                involved,
            ).fetchall():
                periods.setdefault(pupil, set()).add(period)
        finally:
            con.unregister("batch_links")
        outcomes = {d.delivery_id: o for d, o in accepted.values()}
        now = _now()
        for bsn_pupil, onr_pupil, delivery_id, bsn_n, onr_n in candidates:
            # One pupil is never in one school year twice: overlapping years mean two pupils.
            overlap = periods.get(bsn_pupil, set()) & periods.get(onr_pupil, set())
            # A BSN already in the vault before this batch is an existing pupil, not a new number.
            new_number = bsn_pupil not in before
            if bsn_n == 1 and onr_n == 1 and new_number and not overlap:
                con.execute(
                    "INSERT INTO aliases VALUES (?, ?, ?, ?)",
                    [onr_pupil, bsn_pupil, delivery_id, now],
                )
                outcomes[delivery_id].linked += 1
            else:
                outcomes[delivery_id].ambiguous += 1

    def retract(self, retraction_id: str, school: str, pupils: list[str]) -> RetractionOutcome:
        """Remove the rows ``school`` delivered of these pupils (and aliases); tombstone them.

        A school retracts only what it delivered: a pupil who moved was delivered by
        both schools, and each retracts its own. A named pupil this school never
        delivered is counted; the tombstone is still left, so a later delivery of
        this school cannot bring the pupil in either.
        """
        con = self.con
        done = con.execute(
            "SELECT count(*) FROM retractions WHERE retraction_id = ?", [retraction_id]
        ).fetchall()
        if done[0][0]:
            return RetractionOutcome(retraction_id, "duplicate")
        targets = sorted(self._with_aliases(pupils))
        delivered: set[str] = set()
        if targets:
            marks = ", ".join("?" * len(targets))
            delivered = {
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT pupil FROM leerlingen "
                    f"WHERE school = ? AND pupil IN ({marks})",
                    [school, *targets],
                ).fetchall()
            }
        never = sum(1 for p in set(pupils) if not self._with_aliases([p]) & delivered)
        with self._transaction() as obsolete:
            generation = self._generation()
            removed = 0
            if targets:
                marks = ", ".join("?" * len(targets))
                removed = self._rewrite_without(
                    f"pupil IN ({marks}) AND school = ?", [*targets, school], generation, obsolete
                )
            fault_point("retraction_rewritten")
            now = _now()
            # one row per pupil and retraction, even if already tombstoned: a reinstatement
            # lifts only its own school's rows, so another school's retraction still holds
            for pupil in targets:
                con.execute("INSERT INTO tombstones VALUES (?, ?, ?)", [pupil, retraction_id, now])
            con.execute(
                "INSERT INTO retractions (retraction_id, school, done_at, pupils, rows_removed, "
                "not_delivered) VALUES (?, ?, ?, ?, ?, ?)",
                [retraction_id, school, now, len(pupils), removed, never],
            )
        return RetractionOutcome(retraction_id, "retracted", len(pupils), removed, never)

    def _with_aliases(self, pupils: list[str]) -> set[str]:
        everyone = set(pupils)
        if pupils:
            marks = ", ".join("?" * len(pupils))
            for alias, canonical in self.con.execute(
                f"SELECT alias, canonical FROM aliases WHERE alias IN ({marks}) "
                f"OR canonical IN ({marks})",
                [*pupils, *pupils],
            ).fetchall():
                everyone |= {alias, canonical}
        return everyone

    def reinstate(
        self, reinstatement_id: str, school: str, pupils: list[str], retractions: list[str]
    ) -> ReinstatementOutcome:
        """Lift the tombstones this school's retractions left on these pupils (and aliases).

        Only a tombstone left by a retraction of the same school (its pseudonym, as
        stored with the retraction) is lifted: one school cannot bring back a pupil
        another school retracted, and a tombstone another school also left stays (the pupil
        is then counted as ``still_tombstoned``). The removed rows are not restored: the
        vault does not keep them; they come back with the school's next delivery of a period.
        ``retractions`` (the ids the school says it lifts) is kept for the audit only:
        the school's own retractions decide.
        """
        del retractions  # the school pseudonym decides; see the docstring
        con = self.con
        done = con.execute(
            "SELECT count(*) FROM reinstatements WHERE reinstatement_id = ?", [reinstatement_id]
        ).fetchall()
        if done[0][0]:
            return ReinstatementOutcome(reinstatement_id, "duplicate")
        own = [
            str(r[0])
            for r in con.execute(
                "SELECT retraction_id FROM retractions WHERE school = ?", [school]
            ).fetchall()
        ]
        stones: dict[str, set[str]] = {}
        for pupil, retraction in con.execute(
            "SELECT pupil, retraction_id FROM tombstones"
        ).fetchall():
            stones.setdefault(str(pupil), set()).add(str(retraction))
        mine = set(own)
        lift: set[str] = set()
        lifted = still = 0
        for pupil in sorted(set(pupils)):
            group = self._with_aliases([pupil])
            if not any(stones.get(p, set()) & mine for p in group):
                continue
            lift |= group
            lifted += 1
            still += any(stones.get(p, set()) - mine for p in group)
        with self._transaction():
            if lift and own:
                pupil_marks = ", ".join("?" * len(lift))
                own_marks = ", ".join("?" * len(own))
                con.execute(
                    f"DELETE FROM tombstones WHERE pupil IN ({pupil_marks}) "
                    f"AND retraction_id IN ({own_marks})",
                    [*sorted(lift), *own],
                )
            fault_point("reinstatement_lifted")
            con.execute(
                "INSERT INTO reinstatements (reinstatement_id, school, done_at, pupils_lifted, "
                "not_tombstoned, still_tombstoned) VALUES (?, ?, ?, ?, ?, ?)",
                [reinstatement_id, school, _now(), lifted, len(set(pupils)) - lifted, still],
            )
        return ReinstatementOutcome(
            reinstatement_id, "reinstated", lifted, len(set(pupils)) - lifted, still
        )

    def rekey(self, purpose: str, new_key_id: str, rekey: Callable[[pa.Array], pa.Array]) -> int:
        """Replace every pseudonym of ``purpose`` by ``rekey(old)``; returns files rewritten."""
        if purpose not in ("pupil", "school", "link"):
            raise VaultError("purpose must be pupil, school or link")
        con = self.con
        rewritten = 0
        with self._transaction() as obsolete:
            generation = self._generation()
            if purpose in ("pupil", "school"):
                column, key_column = purpose, f"{purpose}_key"
                for relative, table, period in con.execute(
                    "SELECT path, tbl, schooljaar FROM files ORDER BY path"
                ).fetchall():
                    path = self.root / relative
                    data = pq.read_table(path)
                    index = data.schema.get_field_index(column)
                    data = data.set_column(
                        index, column, rekey(data.column(column).combine_chunks())
                    )
                    index = data.schema.get_field_index(key_column)
                    data = data.set_column(
                        index, key_column, pa.array([new_key_id] * data.num_rows, pa.string())
                    )
                    new = self._write_file(
                        data, table, period, f"{Path(relative).stem}-k{generation}"
                    )
                    con.execute("DELETE FROM files WHERE path = ?", [relative])
                    con.execute(
                        "INSERT INTO files VALUES (?, ?, ?, ?)", [new, table, period, data.num_rows]
                    )
                    obsolete.append(path)
                    rewritten += 1
            columns = {
                "pupil": [
                    ("tombstones", "pupil"),
                    ("aliases", "alias"),
                    ("aliases", "canonical"),
                    ("linkage", "pupil"),
                ],
                "school": [
                    ("deliveries", "school"),
                    ("retractions", "school"),
                    ("reinstatements", "school"),
                    ("school_reference", "school"),
                ],
                "link": [("linkage", "link_hash")],
            }[purpose]
            for table, column in columns:
                self._rekey_column(table, column, rekey)
            position = con.execute(
                "SELECT count(*) FROM key_history WHERE purpose = ?", [purpose]
            ).fetchall()
            con.execute(
                "INSERT INTO key_history (purpose, key_id, position, done_at, files_rewritten) "
                "VALUES (?, ?, ?, ?, ?)",
                [purpose, new_key_id, int(position[0][0]) + 1, _now(), rewritten],
            )
            fault_point("rekeyed")
        return rewritten

    def _rekey_column(self, table: str, column: str, rekey: Callable[[pa.Array], pa.Array]) -> None:
        con = self.con
        values = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
            ).fetchall()
        ]
        if not values:
            return
        mapping = pa.table(
            {"old": pa.array(values, pa.string()), "new": rekey(pa.array(values, pa.string()))}
        )
        con.register("rekey_map", mapping)
        try:
            con.execute(
                f"UPDATE {table} SET {column} = m.new FROM rekey_map m "
                f"WHERE {table}.{column} = m.old"
            )
        finally:
            con.unregister("rekey_map")

    def compact(self, *, threshold: int | None = None) -> int:
        """Merge the files of each table and school year once there are more than ``threshold``."""
        limit = self.compact_after if threshold is None else threshold
        con = self.con
        groups = con.execute(
            "SELECT tbl, schooljaar, list(path ORDER BY path), sum(rows) FROM files "
            "GROUP BY tbl, schooljaar HAVING count(*) > ?",
            [limit],
        ).fetchall()
        if not groups:
            return 0
        with self._transaction() as obsolete:
            generation = self._generation()
            for table, period, paths, _rows in groups:
                # DuckDB streams the merge, so a national year never sits in memory at once
                folder = self.data / table / period
                relative = f"data/{table}/{period}/c{generation:08d}.parquet"
                listing = ", ".join(
                    "'" + str(self.root / p).replace("'", "''") + "'" for p in paths
                )
                target = str(self.root / relative).replace("'", "''")
                with self._writing(relative):
                    con.execute(
                        f"COPY (SELECT * FROM read_parquet([{listing}])) TO '{target}' "
                        f"(FORMAT parquet, COMPRESSION "
                        f"{_DUCKDB_CODEC.get(self.compression, 'zstd')})"
                    )
                    make_private(self.root / relative)
                    _fsync(self.root / relative)
                    fsync_dir(folder)
                rows = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()
                marks = ", ".join("?" * len(paths))
                con.execute(f"DELETE FROM files WHERE path IN ({marks})", list(paths))
                con.execute(
                    "INSERT INTO files VALUES (?, ?, ?, ?)", [relative, table, period, rows[0][0]]
                )
                obsolete.extend(self.root / p for p in paths)
        return len(groups)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _group(deliveries: Iterator[PreparedDelivery] | Any) -> dict[tuple[str, str], list[pa.Table]]:
    groups: dict[tuple[str, str], list[pa.Table]] = {}
    for delivery in deliveries:
        for name, table in delivery.tables.items():
            if table.num_rows:
                groups.setdefault((name, delivery.period), []).append(table)
    return groups


_NONE = pa.array([], pa.string())


def _without_tombstoned(
    delivery: PreparedDelivery, tombstones: pa.Array
) -> tuple[PreparedDelivery, int]:
    """The delivery without pupils a retraction tombstoned, and how many pupils that was."""
    if len(tombstones) == 0:
        return delivery, 0
    pupils = delivery.tables["leerlingen"].column("pupil")
    hit = pc.is_in(pupils, value_set=tombstones)
    filtered = int(pc.sum(hit).as_py() or 0)
    if not filtered:
        return delivery, 0
    tables = {
        name: table.filter(pc.invert(pc.is_in(table.column("pupil"), value_set=tombstones)))
        for name, table in delivery.tables.items()
    }
    linkage = delivery.linkage.filter(
        pc.invert(pc.is_in(delivery.linkage.column("pupil"), value_set=tombstones))
    )
    return PreparedDelivery(
        delivery.delivery_id,
        delivery.school,
        delivery.period,
        delivery.created_at,
        delivery.study,
        tables,
        linkage,
    ), filtered
