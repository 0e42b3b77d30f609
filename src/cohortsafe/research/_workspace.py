"""A locked workspace: a researcher's view of one project's extract, and nothing else.

The workspace is an in-memory DuckDB database with one read-only view per extract
table. Before the researcher's first statement, access to the file system is switched
off (only the extract's own folder stays readable), extensions can be neither
installed nor loaded, and the configuration is locked, so no statement can switch any
of it on again: ``COPY … TO``, ``ATTACH``, ``INSTALL``/``LOAD`` and ``read_csv`` of any
other path fail inside DuckDB. On top of that :meth:`Workspace.sql` accepts exactly
one read-only query (a ``SELECT``) and refuses anything else before DuckDB sees it.
Outputs leave only through :meth:`Workspace.session`: an :class:`sdc.Session` whose
pupil, school and record columns, policy and ledger are the project's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cohortsafe.errors import WorkspaceError
from cohortsafe.research._extract import EXTRACT, MANIFEST
from cohortsafe.sdc import Ledger, Session

__all__ = ["LEDGER", "OUTPUTS", "POLICY_FILE", "QueryResult", "Workspace"]

OUTPUTS = "outputs"  # where a session writes what it checked
LEDGER = "ledger"  # the project's release ledger
POLICY_FILE = "policy.toml"  # the office's own policy for the project, when not a shipped one
_SETTINGS = (
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)


@dataclass(frozen=True)
class QueryResult:
    """A query's columns and rows (for the console's ``--json``)."""

    columns: list[str]
    rows: list[list[Any]]

    def as_json(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows}


class Workspace:
    """One project's extract, opened for a researcher; use as a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            raise WorkspaceError(
                "this project has no workspace yet: the office builds it "
                "(cohortsafe research workspace-build)"
            ) from None
        try:
            self.project = str(manifest["project"])
            self.policy = str(manifest["policy"])
            self._tables = {str(t): list(v["columns"]) for t, v in manifest["tables"].items()}
        except (KeyError, TypeError, AttributeError):
            raise WorkspaceError(
                "the workspace's manifest is damaged: the office builds the workspace again"
            ) from None
        # the office's own policy travels with the workspace; a shipped one by its name
        own = folder / POLICY_FILE
        self._policy: str | Path = own if own.is_file() else self.policy
        self._con = self._locked(folder / EXTRACT)

    def _locked(self, extract: Path) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        root = str(extract.resolve()) + "/"
        con.execute(f"SET allowed_directories = [{_literal(root)}]")
        for table in self._tables:
            path = extract.resolve() / f"{table}.parquet"
            if not path.is_file():
                con.close()
                raise WorkspaceError(
                    f"the extract of table {table} is missing: the office rebuilds the workspace"
                )
            con.execute(
                f'CREATE VIEW "{table}" AS SELECT * FROM read_parquet({_literal(str(path))})'
            )
        for setting in _SETTINGS:
            con.execute(setting)
        return con

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    @property
    def tables(self) -> dict[str, list[str]]:
        """Each table of the extract and its columns."""
        return {t: list(c) for t, c in self._tables.items()}

    def sql(self, statement: str) -> QueryResult:
        """Run one read-only query; anything else is refused (:class:`WorkspaceError`)."""
        table = self._query(statement)
        return QueryResult(table.column_names, [list(row.values()) for row in table.to_pylist()])

    def arrow(self, statement: str) -> pa.Table:
        """One read-only query's result as an Arrow table (for analyses in Python)."""
        return self._query(statement)

    def _query(self, statement: str) -> pa.Table:
        try:
            statements = self._con.extract_statements(statement)
        except duckdb.Error as error:
            raise WorkspaceError(f"the statement cannot be read: {_first_line(error)}") from None
        if len(statements) != 1:
            raise WorkspaceError("one statement at a time, please")
        if statements[0].type != duckdb.StatementType.SELECT:
            raise WorkspaceError(
                "the workspace runs read-only queries (SELECT) only; outputs leave through "
                "the session's checked outputs"
            )
        try:
            return self._con.sql(statement).to_arrow_table()
        except duckdb.Error as error:
            raise WorkspaceError(f"the query failed: {_first_line(error)}") from None

    def session(self, ledger: Ledger | None = None) -> Session:
        """A disclosure-control session on this project: pupil, school and record are
        the extract's columns, the policy is the office's for the project (its floor
        too, so it cannot be loosened), and the ledger the project's."""
        return Session(
            self._policy,
            pupil="pupil",
            school="school",
            record="record",
            ledger=ledger if ledger is not None else self.folder / LEDGER,
            project=self.project,
            floor=self._policy,
            fixed_columns=True,
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
