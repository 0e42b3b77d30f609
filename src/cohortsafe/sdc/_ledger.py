"""The release ledger: everything a project has released, with the records behind it.

Output checkers judge a project's outputs together, so the engine needs what every
earlier output published and who stood behind it. A :class:`Ledger` keeps, per
released output:

- every released cell: the *space* its value lives in (``count`` of records, ``sum`` of
  values, ``square``: sum of squared values), the value as that space's total (a mean
  is kept as the sum it implies, a percentage as the count) and the output's *parts*
  it is the union of (a margin is the union of the table's inner cells);
- every part's members: the records (counts) or the (record, value) pairs (sums), as
  keyed 64-bit fingerprints, captured at release, so retracting a pupil or adding data
  later can never make an old release look different;
- per member, its true value and its pupil and school fingerprints, which the combined
  check (:mod:`._combined`) needs to judge the groups an attacker can isolate.

The ledger lives in a folder of its own (0700): ``ledger.duckdb`` (0600) and the
fingerprint key ``ledger.key`` (0600, 32 random bytes). Without the key the file
gives no pseudonym away; it is never published. Opening a folder without a ledger
starts a new, empty project under the given name.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "ledger"
>>> ledger = Ledger.open(folder, project="demo")
>>> ledger.project, ledger.outputs
('demo', 0)
>>> ledger.close()
>>> Ledger.open(folder).project
'demo'
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import duckdb
import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from cohortsafe.errors import PolicyError
from cohortsafe.files import make_private, private_dir, write_private
from cohortsafe.keyed import derived_key, encrypt_blocks, number_lanes, string_blocks
from cohortsafe.sdc._atoms import REFINE_SQL, independent_rows, ledger_rows, new_rows, refine
from cohortsafe.sdc._ledger_types import SPACES, Entry, LedgerCell, Space

__all__ = ["SPACES", "Entry", "Ledger", "LedgerCell", "Space"]

# 2: fingerprints through AES (cohortsafe.keyed), no longer SHA-256 and hash() in SQL
_VERSION = "2"
_U64 = np.uint64
#: above this many atoms in a space no basis is chosen (see the combined check's limit)
BASIS_LIMIT = 4_000
_KEY_BYTES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS outputs (
  output INTEGER PRIMARY KEY, name VARCHAR, kind VARCHAR, command VARCHAR,
  policy VARCHAR, released_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS cells (
  output INTEGER, cell INTEGER, space VARCHAR, parts INTEGER[], value DOUBLE, basis BOOLEAN,
  released BOOLEAN);
CREATE TABLE IF NOT EXISTS members (
  space VARCHAR, k UBIGINT, p UBIGINT, s UBIGINT, x DOUBLE, atom INTEGER);
CREATE TABLE IF NOT EXISTS incidence (space VARCHAR, atom INTEGER, output INTEGER, part INTEGER);
"""


@contextmanager
def _private_files(folder: Path) -> Iterator[None]:
    # DuckDB creates its file and WAL with the umask's mode: make them private after
    try:
        yield
    finally:
        for name in ("ledger.duckdb", "ledger.duckdb.wal"):
            make_private(folder / name)


class Ledger:
    """A project's release ledger in ``folder`` (or in memory); see the module docstring."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, key: bytes, folder: Path | None, project: str
    ) -> None:
        self._con = con
        self._keys = {
            use: derived_key(key, f"ledger {use} fingerprint")
            for use in ("record", "pupil", "school", "value")
        }
        self.folder = folder
        self.project = project

    # --- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path, *, project: str | None = None) -> Ledger:
        """The ledger in ``folder``; a new, empty one (named ``project``) if there is none."""
        folder = Path(folder)
        database, key_file = folder / "ledger.duckdb", folder / "ledger.key"
        exists = database.exists()
        if exists != key_file.exists():
            missing = key_file.name if exists else database.name
            raise PolicyError(f"the ledger in {folder.name} is incomplete: {missing} is missing")
        if not exists:
            if not project:
                raise PolicyError("a new ledger needs a project name")
            private_dir(folder)
            write_private(key_file, secrets.token_bytes(_KEY_BYTES))
        key = key_file.read_bytes()
        if len(key) != _KEY_BYTES:
            raise PolicyError(f"{key_file.name} is not a ledger key")
        with _private_files(folder):
            try:
                con = duckdb.connect(str(database))
            except duckdb.Error:
                raise PolicyError(f"{database.name} in {folder.name} is not a ledger") from None
            ledger = cls._start(con, key, folder, project)
        if project is not None and ledger.project != project:
            ledger.close()
            raise PolicyError(
                f"the ledger in {folder.name} belongs to project {ledger.project!r}, "
                f"not {project!r}"
            )
        return ledger

    @classmethod
    def memory(cls, project: str) -> Ledger:
        """A new, empty ledger that lives as long as the process (nothing kept)."""
        if not project:
            raise PolicyError("a ledger needs a project name")
        return cls._start(duckdb.connect(), secrets.token_bytes(_KEY_BYTES), None, project)

    @classmethod
    def _start(
        cls, con: duckdb.DuckDBPyConnection, key: bytes, folder: Path | None, project: str | None
    ) -> Ledger:
        try:
            con.execute(_SCHEMA)
            rows = dict(con.execute("SELECT name, value FROM meta").fetchall())
        except duckdb.Error:
            con.close()
            raise PolicyError("the ledger's database is not a ledger") from None
        if not rows:
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("version", _VERSION), ("project", project or "")],
            )
            rows = {"version": _VERSION, "project": project or ""}
        if rows.get("version") != _VERSION:
            con.close()
            raise PolicyError(
                f"the ledger has version {rows.get('version')}, not {_VERSION}: its "
                "fingerprints do not match this cohortsafe's, and its releases would look "
                "like new records"
            )
        return cls(con, key, folder, rows["project"])

    def close(self) -> None:
        folder = self.folder
        self._con.close()
        if folder is not None:
            with _private_files(folder):
                pass

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- what the combined check reads -------------------------------------------

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def member_keys(
        self, pupils: pa.ChunkedArray, schools: pa.ChunkedArray, records: pa.ChunkedArray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The keyed 64-bit fingerprints (:mod:`cohortsafe.keyed`) of each row's record
        (its pupil and record identity together), pupil and school. An empty pupil or
        school is 0 (all rows without one count as one unknown pupil or school: fewer
        than the truth, so a group looks smaller, never larger)."""
        pupil, no_pupil = string_blocks(pupils)
        school, no_school = string_blocks(schools)
        record, no_record = string_blocks(records)
        if (no_pupil | no_record).any():
            raise PolicyError(
                "some rows have no pupil or no record identity: the ledger needs one "
                "identity per record"
            )
        # two blocks (pupil, record) in CBC-MAC: a keyed function of the pair
        chained = encrypt_blocks(self._keys["record"], pupil) ^ record
        r = encrypt_blocks(self._keys["record"], chained)[:, 0]
        p = np.where(no_pupil, _U64(0), encrypt_blocks(self._keys["pupil"], pupil)[:, 0])
        s = np.where(no_school, _U64(0), encrypt_blocks(self._keys["school"], school)[:, 0])
        return r, p, s

    def value_keys(self, records: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The fingerprint of each (record, value) pair: the member of a sum."""
        block = np.stack([np.asarray(records, _U64), number_lanes(values)], axis=1)
        return encrypt_blocks(self._keys["value"], block)[:, 0]

    @property
    def outputs(self) -> int:
        """How many outputs have been released."""
        return int(self._con.execute("SELECT count(*) FROM outputs").fetchall()[0][0])

    def names(self, outputs: Sequence[int]) -> dict[int, str]:
        """The names of released outputs by number."""
        if not outputs:
            return {}
        rows = self._con.execute(
            "SELECT output, name FROM outputs WHERE list_contains(?, output)", [list(outputs)]
        ).fetchall()
        return {int(o): str(n) for o, n in rows}

    # --- recording -------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    @contextmanager
    def registered(self, entry: Entry) -> Iterator[None]:
        """``entry``'s members visible to the ledger's SQL as ``new_members``."""
        self._con.register("new_members", entry.members)
        try:
            yield
        finally:
            self._con.unregister("new_members")

    def record(self, entry: Entry) -> int:
        """Add a released output; its number.

        Per space the atoms are refined by the output's parts, and of its cells those
        that add to the rank of the ledger's equations are marked as basis cells.
        """
        number = int(
            self._con.execute("SELECT coalesce(max(output), 0) + 1 FROM outputs").fetchall()[0][0]
        )
        basis: dict[int, bool] = {}
        with self.registered(entry):
            for space in entry.spaces:
                atoms = refine(self._con, space)
                mine = [i for i, c in enumerate(entry.cells) if c.space == space and c.released]
                if atoms.size > BASIS_LIMIT:
                    # too many atoms for dense algebra: keep every cell (the basis only
                    # saves work; the check refuses components this large anyway)
                    chosen = np.ones(len(mine), bool)
                else:
                    old, _, _ = ledger_rows(self._con, space, atoms)
                    chosen = independent_rows(old, new_rows([entry.cells[i] for i in mine], atoms))
                basis.update(zip(mine, chosen.tolist(), strict=True))
            cells = pa.table(
                {
                    "cell": pa.array(range(len(entry.cells)), pa.int32()),
                    "space": pa.array([c.space for c in entry.cells], pa.string()),
                    "parts": pa.array([list(c.parts) for c in entry.cells], pa.list_(pa.int32())),
                    "value": pa.array([c.value for c in entry.cells], pa.float64()),
                    "basis": pa.array(
                        [basis.get(i, False) for i in range(len(entry.cells))], pa.bool_()
                    ),
                    "released": pa.array([c.released for c in entry.cells], pa.bool_()),
                }
            )
            self._con.register("new_cells", cells)
            try:
                with self._transaction():
                    self._con.execute(
                        "INSERT INTO outputs VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            number,
                            entry.name,
                            entry.kind,
                            entry.command,
                            entry.policy,
                            datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
                        ],
                    )
                    self._con.execute(
                        f"INSERT INTO cells SELECT {number}, cell, space, parts, value, basis, "
                        "released FROM new_cells"
                    )
                    for space in entry.spaces:
                        self._refine_store(space, number)
            finally:
                self._con.unregister("new_cells")
        return number

    def _refine_store(self, space: Space, number: int) -> None:
        """Replace the space's atoms by their refinement by output ``number``'s parts."""
        con = self._con
        con.execute(f"CREATE OR REPLACE TEMP TABLE refined AS {REFINE_SQL.format(space=space)}")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE refined_incidence AS
            SELECT DISTINCT r.atom, i.output, i.part
            FROM (SELECT DISTINCT atom, old FROM refined) r
            JOIN incidence i ON i.space = '{space}' AND i.atom = r.old
            UNION ALL
            SELECT DISTINCT atom, {number}, part FROM refined WHERE part >= 0
            """
        )
        con.execute("DELETE FROM incidence WHERE space = ?", [space])
        con.execute(
            f"INSERT INTO incidence SELECT '{space}', atom, output, part FROM refined_incidence"
        )
        con.execute("DELETE FROM members WHERE space = ?", [space])
        con.execute(f"INSERT INTO members SELECT '{space}', k, p, s, x, atom FROM refined")
        con.execute("DROP TABLE refined")
        con.execute("DROP TABLE refined_incidence")

    def remove(self, output: int) -> None:
        """Drop an output that was recorded but, in the end, not released.

        The atoms it split stay split: a finer split with the same equations lets the
        combined check refuse more, never less. The basis is chosen again from the
        remaining cells, since later cells may have rested on the removed ones.
        """
        with self._transaction():
            spaces = [
                str(r[0])
                for r in self._con.execute(
                    "SELECT DISTINCT space FROM cells WHERE output = ?", [output]
                ).fetchall()
            ]
            for table in ("incidence", "cells", "outputs"):
                self._con.execute(f"DELETE FROM {table} WHERE output = ?", [output])
            for space in spaces:
                self._rebase(cast(Space, space))

    def _rebase(self, space: Space) -> None:
        """Choose the basis cells of ``space`` again from all its cells."""
        self._con.execute("UPDATE cells SET basis = released WHERE space = ?", [space])
        empty = Entry("", "", "", "", (), _NO_MEMBERS)
        with self.registered(empty):
            atoms = refine(self._con, space)
            if atoms.size > BASIS_LIMIT:
                return  # every cell stays a basis cell
            rows, _, keys = ledger_rows(self._con, space, atoms)
        chosen = independent_rows(sp.csr_array((0, atoms.size)), rows)
        if not keys:
            return
        self._con.executemany(
            "UPDATE cells SET basis = ? WHERE output = ? AND cell = ?",
            [(bool(c), o, k) for (o, k), c in zip(keys, chosen.tolist(), strict=True)],
        )


_NO_MEMBERS = pa.table(
    {
        "space": pa.array([], pa.string()),
        "part": pa.array([], pa.int32()),
        "k": pa.array([], pa.uint64()),
        "p": pa.array([], pa.uint64()),
        "s": pa.array([], pa.uint64()),
        "x": pa.array([], pa.float64()),
    }
)
