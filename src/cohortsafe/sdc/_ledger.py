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

import contextlib
import datetime
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from cohortsafe.errors import PolicyError
from cohortsafe.files import make_private, private_dir, write_private

__all__ = ["SPACES", "Entry", "Ledger", "LedgerCell", "Space"]

Space = Literal["count", "sum", "square"]
SPACES: tuple[Space, ...] = ("count", "sum", "square")
_VERSION = "1"
_KEY_BYTES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS outputs (
  output INTEGER PRIMARY KEY, name VARCHAR, kind VARCHAR, command VARCHAR,
  policy VARCHAR, released_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS cells (
  output INTEGER, cell INTEGER, space VARCHAR, parts INTEGER[], value DOUBLE);
CREATE TABLE IF NOT EXISTS members (
  output INTEGER, part INTEGER, space VARCHAR, k UBIGINT, p UBIGINT, s UBIGINT, x DOUBLE);
"""


@dataclass(frozen=True)
class LedgerCell:
    """One released value: its space, the output's parts it covers, the space's total."""

    space: Space
    parts: tuple[int, ...]
    value: float


@dataclass(frozen=True)
class Entry:
    """What one output adds to the ledger.

    ``members``: one row per (space, part, member) with columns ``space`` (string),
    ``part`` (int32), ``k``, ``p``, ``s`` (uint64 fingerprints of the member, its pupil
    and its school) and ``x`` (the member's true value in that space).
    """

    name: str
    kind: str
    command: str
    policy: str
    cells: tuple[LedgerCell, ...]
    members: pa.Table

    @property
    def spaces(self) -> tuple[Space, ...]:
        return tuple(s for s in SPACES if any(c.space == s for c in self.cells))


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
        self._key = key
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
            raise PolicyError(f"the ledger has version {rows.get('version')}, not {_VERSION}")
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

    def fingerprint_sql(self, expression: str) -> str:
        """SQL for the keyed 64-bit fingerprint of ``expression`` (any type)."""
        return (
            f"('0x' || substr(sha256('{self._key.hex()}' || CAST({expression} AS VARCHAR)), "
            "1, 16))::UBIGINT"
        )

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

    def cells(self, space: Space) -> list[tuple[int, LedgerCell]]:
        """Every released cell of ``space`` with the number of its output."""
        rows = self._con.execute(
            "SELECT output, parts, value FROM cells WHERE space = ? ORDER BY output, cell",
            [space],
        ).fetchall()
        return [(int(o), LedgerCell(space, tuple(parts), float(v))) for o, parts, v in rows]

    # --- recording -------------------------------------------------------------

    def record(self, entry: Entry) -> int:
        """Add a released output; its number."""
        number = int(
            self._con.execute("SELECT coalesce(max(output), 0) + 1 FROM outputs").fetchall()[0][0]
        )
        cells = pa.table(
            {
                "cell": pa.array(range(len(entry.cells)), pa.int32()),
                "space": pa.array([c.space for c in entry.cells], pa.string()),
                "parts": pa.array([list(c.parts) for c in entry.cells], pa.list_(pa.int32())),
                "value": pa.array([c.value for c in entry.cells], pa.float64()),
            }
        )
        members = entry.members
        self._con.execute("BEGIN TRANSACTION")
        try:
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
            self._con.register("new_cells", cells)
            self._con.register("new_members", members)
            self._con.execute(
                f"INSERT INTO cells SELECT {number}, cell, space, parts, value FROM new_cells"
            )
            self._con.execute(
                f"INSERT INTO members SELECT {number}, part, space, k, p, s, x FROM new_members"
            )
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        finally:
            for name in ("new_cells", "new_members"):
                with contextlib.suppress(duckdb.Error):
                    self._con.unregister(name)
        return number

    def remove(self, output: int) -> None:
        """Drop an output that was recorded but, in the end, not released."""
        self._con.execute("BEGIN TRANSACTION")
        try:
            for table in ("members", "cells", "outputs"):
                self._con.execute(f"DELETE FROM {table} WHERE output = ?", [output])
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
