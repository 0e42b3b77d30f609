"""The school's columnar store: per school location, the bulk tables of every import, in Parquet.

A vendor installation may hold thousands of schools, so results and childcare
never go row by row through a database: each school has a folder with one
Parquet file per table and a ``manifest.json`` naming the current files. An
import writes a new generation beside the old one and then replaces the
manifest in one atomic rename, so a reader or a crash sees either the old
generation or the new one.

Merging a newer export: results are replaced for the school years the export
holds; enrolments (who was in which jaargroep that year) for the export's
year; childcare and special-category rows for the pupils in the export. An
older export imported later only fills in the years and pupils the store
does not have yet, unless it is imported to *replace*: then it merges as a
newer one would. Removing a school year's import (:meth:`LvsStore.prepare_removal`)
writes a generation without that year, switched to the same way.

A change is recorded before its first file is written: ``pending.json`` names
the new generation's files, the manifest it replaces and a token. The caller
stores the token in its registry in the same transaction as the registry's
side of the change, then commits the store. After a crash anywhere,
:meth:`LvsStore.finish` completes the change when the registry holds its token
and undoes it otherwise, so the store and the registry never disagree, and only
files a record names are ever deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cohortsafe import faults
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.domain.schemas import LVS_BIJZONDER, LVS_TOETSRESULTATEN, LVS_VOORSCHOOL
from cohortsafe.errors import ConfigurationError, StorageError
from cohortsafe.files import fsync_dir, make_private, private_dir, write_atomic
from cohortsafe.lvs._export import Export

__all__ = ["INSCHRIJVINGEN", "LvsStore", "PreparedImport"]

#: Who was in which jaargroep of this school in which school year.
INSCHRIJVINGEN = pa.schema(
    [
        pa.field("leerlingnummer", pa.string(), nullable=False),
        pa.field("schooljaar", pa.string(), nullable=False),
        pa.field("jaargroep", pa.int8(), nullable=False),
    ]
)

STORE_SCHEMAS: dict[str, pa.Schema] = {
    "toetsresultaten": LVS_TOETSRESULTATEN,
    "inschrijvingen": INSCHRIJVINGEN,
    "voorschool": LVS_VOORSCHOOL,
    "bijzonder": LVS_BIJZONDER,
}
_MANIFEST = "manifest.json"
_PENDING = "pending.json"


@dataclass(frozen=True)
class PreparedImport:
    """A generation written beside the current one, not yet visible."""

    school: SchoolCode
    folder: Path
    manifest: dict[str, object]
    newer: bool  # the export is not older than what the store held
    removed: dict[str, int] = dataclasses.field(default_factory=dict)  # rows a removal drops
    token: str = ""  # the registry records it with its side of the change

    def files(self) -> list[Path]:
        names = self.manifest["files"]
        assert isinstance(names, dict)
        return [self.folder / str(name) for name in names.values()]


class LvsStore:
    """Per-school Parquet tables under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, school: SchoolCode) -> Path:
        return self.root / school.code

    def _manifest(self, school: SchoolCode) -> dict[str, object] | None:
        path = self._folder(school) / _MANIFEST
        if not path.exists():
            return None
        try:
            manifest: dict[str, object] = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"the LVS store of {school} is unreadable: {error}") from None
        return manifest

    def schools(self) -> list[SchoolCode]:
        if not self.root.exists():
            return []
        return [SchoolCode.parse(p.parent.name) for p in sorted(self.root.glob(f"*/{_MANIFEST}"))]

    def latest_year(self, school: SchoolCode) -> SchoolYear | None:
        manifest = self._manifest(school)
        return SchoolYear.parse(str(manifest["latest_year"])) if manifest else None

    def read(self, school: SchoolCode, table: str) -> pa.Table:
        """The current ``table`` of ``school`` (empty when nothing was imported)."""
        schema = STORE_SCHEMAS[table]
        manifest = self._manifest(school)
        if manifest is None:
            return schema.empty_table()
        files = manifest["files"]
        assert isinstance(files, dict)
        path = self._folder(school) / str(files[table])
        try:
            # ParquetFile skips the dataset layer, which costs more than a school's table's read
            return pq.ParquetFile(path).read().cast(schema)
        except (OSError, pa.ArrowException) as error:
            what = "is missing" if isinstance(error, FileNotFoundError) else "cannot be read"
            raise StorageError(
                f"the LVS store of {school} is damaged: {path} {what}; restore the home from "
                "a backup (the store changes only through its own records)"
            ) from None

    def prepare(self, export: Export, *, replace: bool = False) -> PreparedImport:
        """Write the merged tables as a new generation; nothing changes for readers yet.

        With ``replace`` an export older than the newest held replaces what the
        store holds for its school year and pupils instead of only filling gaps.
        """
        school = export.school
        manifest = self._manifest(school)
        latest = SchoolYear.parse(str(manifest["latest_year"])) if manifest else None
        newer = latest is None or export.school_year >= latest
        merged = self._merge(export, newer or replace)
        newest = export.school_year if newer or latest is None else latest
        return self._write_generation(school, manifest, merged, newest, newer)

    def prepare_removal(self, school: SchoolCode, year: SchoolYear) -> PreparedImport:
        """A generation without ``year``: its results and enrolments, and the childcare and
        special-category rows of pupils enrolled in no other year.

        When no year remains, the prepared manifest is empty and :meth:`commit` removes
        the school's store altogether.
        """
        manifest = self._manifest(school)
        text = str(year)
        results = self.read(school, "toetsresultaten")
        enrolments = self.read(school, "inschrijvingen")
        kept_results = results.filter(pc.not_equal(results.column("schooljaar"), text))
        kept_enrolments = enrolments.filter(pc.not_equal(enrolments.column("schooljaar"), text))
        still_here = pc.unique(kept_enrolments.column("leerlingnummer"))
        merged = {"toetsresultaten": kept_results, "inschrijvingen": kept_enrolments}
        for name in ("voorschool", "bijzonder"):
            table = self.read(school, name)
            merged[name] = table.filter(pc.is_in(table.column("leerlingnummer"), still_here))
        removed = {
            name: self.read(school, name).num_rows - table.num_rows
            for name, table in merged.items()
        }
        years = pc.unique(
            pa.concat_arrays(
                [
                    kept_results.column("schooljaar").combine_chunks(),
                    kept_enrolments.column("schooljaar").combine_chunks(),
                ]
            )
        ).to_pylist()
        if not years:
            empty = PreparedImport(school, self._folder(school), {"files": {}}, False, removed)
            return self._record_pending(empty, manifest)
        newest = max(SchoolYear.parse(y) for y in years)
        prepared = self._write_generation(school, manifest, merged, newest, False)
        return dataclasses.replace(prepared, removed=removed)

    def years(self, school: SchoolCode) -> list[SchoolYear]:
        """The school years the store holds results or enrolments of, in order."""
        found: set[str] = set()
        for table in ("toetsresultaten", "inschrijvingen"):
            found.update(pc.unique(self.read(school, table).column("schooljaar")).to_pylist())
        return sorted(SchoolYear.parse(y) for y in found)

    def _write_generation(
        self,
        school: SchoolCode,
        manifest: dict[str, object] | None,
        tables: dict[str, pa.Table],
        newest: SchoolYear,
        newer: bool,
    ) -> PreparedImport:
        folder = self._folder(school)
        generation = int(str(manifest["generation"])) + 1 if manifest else 1
        files = {name: f"{name}.g{generation}.parquet" for name in tables}
        new_manifest: dict[str, object] = {
            "generation": generation,
            "latest_year": str(newest),
            "files": files,
        }
        prepared = self._record_pending(
            PreparedImport(school, folder, new_manifest, newer), manifest
        )
        try:
            for name, table in tables.items():
                path = folder / files[name]
                pq.write_table(table, path, compression="zstd")
                # pyarrow creates the file with the umask's mode; it holds pupils' data
                make_private(path)
                _fsync(path)
                faults.fault_point("store.file_written")
            fsync_dir(folder)
        except BaseException:
            self.discard(prepared)
            raise
        return prepared

    def _record_pending(
        self, prepared: PreparedImport, old: dict[str, object] | None
    ) -> PreparedImport:
        """Name the change before its first file exists, so a crash can be undone exactly."""
        folder = prepared.folder
        if (folder / _PENDING).exists():
            raise StorageError(
                f"an earlier change of the LVS store of {prepared.school} was interrupted "
                "and not finished; it is finished before any new one"
            )
        token = uuid.uuid4().hex
        private_dir(folder)
        record = {"token": token, "old": old, "new": prepared.manifest}
        write_atomic(folder / _PENDING, json.dumps(record, indent=1).encode())
        faults.fault_point("store.pending_recorded")
        return dataclasses.replace(prepared, token=token)

    def interrupted(self) -> dict[SchoolCode, str]:
        """Per school with an unfinished change, the token the registry holds if it committed."""
        if not self.root.exists():
            return {}
        found = {}
        for path in sorted(self.root.glob(f"*/{_PENDING}")):
            found[SchoolCode.parse(path.parent.name)] = str(self._pending(path)["token"])
        return found

    @staticmethod
    def _pending(path: Path) -> dict[str, object]:
        try:
            record: dict[str, object] = json.loads(path.read_text())
        except (OSError, ValueError):
            # written atomically, so it is whole or absent: anything else is damage
            raise StorageError(f"{path} is damaged; restore the home from a backup") from None
        return record

    def finish(self, school: SchoolCode, *, committed: bool) -> None:
        """Complete (``committed``) or undo an interrupted change of ``school``."""
        folder = self._folder(school)
        record = self._pending(folder / _PENDING)
        old = record["old"]
        new = record["new"]
        assert isinstance(new, dict)
        prepared = PreparedImport(school, folder, new, True, token=str(record["token"]))
        if committed:
            self.commit(prepared, old=old if isinstance(old, dict) else None)
        else:
            self.discard(prepared, old=old if isinstance(old, dict) else None)

    def _merge(self, export: Export, newer: bool) -> dict[str, pa.Table]:
        school = export.school
        year = str(export.school_year)
        results = self.read(school, "toetsresultaten")
        new_results = export.toetsresultaten
        enrolments = self.read(school, "inschrijvingen")
        pupils = export.leerlingen
        enrolled = pa.table(
            {
                "leerlingnummer": pupils.column("leerlingnummer"),
                "schooljaar": pa.array([year] * pupils.num_rows, pa.string()),
                "jaargroep": pupils.column("jaargroep"),
            },
            schema=INSCHRIJVINGEN,
        )
        if not newer:
            # an older export only adds the school years the store does not hold yet
            held = pc.unique(results.column("schooljaar"))
            new_results = new_results.filter(
                pc.invert(pc.is_in(new_results.column("schooljaar"), value_set=held))
            )
            if pc.any(pc.equal(enrolments.column("schooljaar"), year)).as_py():
                enrolled = enrolled.slice(0, 0)
        export_years = pc.unique(new_results.column("schooljaar"))
        keep = pc.invert(pc.is_in(results.column("schooljaar"), value_set=export_years))
        results = pa.concat_tables([results.filter(keep), new_results])
        if enrolled.num_rows:
            enrolments = enrolments.filter(pc.not_equal(enrolments.column("schooljaar"), year))
        enrolments = pa.concat_tables([enrolments, enrolled])

        in_export = pupils.column("leerlingnummer")
        merged = {"toetsresultaten": results, "inschrijvingen": enrolments}
        for name, new in (("voorschool", export.voorschool), ("bijzonder", export.bijzonder)):
            old = self.read(school, name)
            if newer:
                kept = old.filter(
                    pc.invert(pc.is_in(old.column("leerlingnummer"), value_set=in_export))
                )
                merged[name] = pa.concat_tables([kept, new])
            else:
                known = old.column("leerlingnummer")
                added = new.filter(
                    pc.invert(pc.is_in(new.column("leerlingnummer"), value_set=known))
                )
                merged[name] = pa.concat_tables([old, added])
        return {name: table.combine_chunks() for name, table in merged.items()}

    def commit(self, prepared: PreparedImport, *, old: dict[str, object] | None = None) -> None:
        """Make the prepared generation current in one atomic step; drop the old files.

        Call it after the registry committed the change's token: from here on the
        change is only ever completed, never undone.
        """
        folder = prepared.folder
        if old is None:
            old = self._pending(folder / _PENDING).get("old")  # type: ignore[assignment]
        if prepared.manifest["files"]:
            payload = json.dumps(prepared.manifest, indent=1).encode()
            write_atomic(folder / _MANIFEST, payload)
        else:
            # nothing left: removing the manifest is the one atomic step, the files follow
            with contextlib.suppress(FileNotFoundError):
                (folder / _MANIFEST).unlink()
        faults.fault_point("store.switched")
        if isinstance(old, dict):
            current = set(prepared.files())
            for path in LvsStore._files_of(folder, old):
                if path not in current:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
        self._clear_pending(folder)
        if not prepared.manifest["files"]:
            with contextlib.suppress(OSError):
                folder.rmdir()

    def discard(self, prepared: PreparedImport, *, old: dict[str, object] | None = None) -> None:
        """Undo a prepared generation that will not be committed: the old one stays current."""
        folder = prepared.folder
        if old is None and (folder / _PENDING).exists():
            old = self._pending(folder / _PENDING).get("old")  # type: ignore[assignment]
        if isinstance(old, dict):
            # a failure after the switch (the registry did not commit): switch back
            if self._manifest(prepared.school) != old:
                write_atomic(folder / _MANIFEST, json.dumps(old, indent=1).encode())
        else:
            with contextlib.suppress(FileNotFoundError):
                (folder / _MANIFEST).unlink()
        kept = set(LvsStore._files_of(folder, old)) if isinstance(old, dict) else set()
        for path in prepared.files():
            if path not in kept:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        self._clear_pending(folder)
        if old is None:
            with contextlib.suppress(OSError):
                folder.rmdir()

    @staticmethod
    def _clear_pending(folder: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            (folder / _PENDING).unlink()
            fsync_dir(folder)

    @staticmethod
    def _files_of(folder: Path, manifest: dict[str, object]) -> list[Path]:
        files = manifest["files"]
        assert isinstance(files, dict)
        return [folder / str(name) for name in files.values()]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
