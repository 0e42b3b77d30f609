"""Looking through every vault file for anything that looks like a direct identifier.

A pseudonymised vault holds no BSN or onderwijsnummer (nine digits passing
their checks, alone or inside text such as a test name), no postcode, no full
date (a birth date in disguise) and no name (a common one, alone or as a word
of a longer text). The scan reads every column of every Parquet file under the
vault and every table of its catalog, and reports the column and what it
resembles, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cohortsafe.domain.freetext import NameMatcher, holds_pgn
from cohortsafe.domain.names import FIRST_NAMES_BOYS, FIRST_NAMES_GIRLS, SURNAMES, is_common_name
from cohortsafe.errors import VaultError
from cohortsafe.vault._validate import pgn_kinds

__all__ = ["ScanFinding", "scan"]

_POSTCODE = r"^[1-9][0-9]{3} ?[A-Za-z]{2}$"
_FULL_DATE = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}-[0-9]{1,2}-[0-9]{4})$"
# The office has no pupils' names; the common ones, as whole words, stand in for them.
_NAMES = NameMatcher(
    [*FIRST_NAMES_BOYS, *FIRST_NAMES_GIRLS, *(f"{t} {a}".strip() for t, a in SURNAMES)]
)


@dataclass(frozen=True)
class ScanFinding:
    where: str  # file, or catalog table
    column: str
    looks_like: str
    values: int

    def __str__(self) -> str:
        return f"{self.where} [{self.column}]: {self.values} value(s) look like {self.looks_like}"


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)


def _check_column(where: str, name: str, column: pa.Array) -> list[ScanFinding]:
    findings: list[ScanFinding] = []
    kind = column.type
    if pa.types.is_date(kind):
        if len(column.drop_null()):
            findings.append(ScanFinding(where, name, "a full date", len(column.drop_null())))
        return findings
    if pa.types.is_integer(kind):
        as_text = pc.cast(column.drop_null(), pa.string())
        nine = as_text.filter(pc.equal(pc.utf8_length(as_text), 9))
        hits = int((pgn_kinds(nine) > 0).sum()) if len(nine) else 0
        if hits:
            findings.append(ScanFinding(where, name, "a BSN or onderwijsnummer", hits))
        return findings
    if not (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    ):
        return findings
    values = pc.utf8_trim_whitespace(pc.unique(column.cast(pa.string())).drop_null())
    # Inside a cell too ("Cito M6 123456782"): a regex picks the candidates, Python checks
    # them. Only numbers apart from letters: every pseudonym is hex, full of digit runs.
    pgns = int(holds_pgn(values, apart=True).sum())
    if pgns:
        findings.append(ScanFinding(where, name, "a BSN or onderwijsnummer", pgns))
    for pattern, what in ((_POSTCODE, "a postcode"), (_FULL_DATE, "a full date")):
        hits = _count(pc.match_substring_regex(values, pattern))
        if hits:
            findings.append(ScanFinding(where, name, what, hits))
    exact = np.fromiter((is_common_name(v) for v in values.to_pylist()), bool, len(values))
    names = int((exact | _NAMES.found_in(values)).sum())
    if names:
        findings.append(ScanFinding(where, name, "a name", names))
    return findings


def scan(root: Path) -> list[ScanFinding]:
    """Every column under ``root`` (Parquet files and the DuckDB catalog) that holds identifiers.

    Files the catalog does not list are scanned too (that is where a stray export would
    be); a listed file that is missing or unreadable, or a catalog that cannot be read, is
    a :class:`VaultError` naming it, never a clean "nothing found".
    """
    findings: list[ScanFinding] = []
    catalog = root / "catalog.duckdb"
    parts = sorted(root.rglob("*.parquet"))
    if not catalog.exists():
        if any(p.parent.name != "_empty" for p in parts):
            raise VaultError(
                "the vault catalog catalog.duckdb is missing, but the vault holds data files: "
                "restore it from your backup"
            )
        return _scan_files(root, parts)
    con = _read_only(catalog)
    try:
        listed = [str(r[0]) for r in con.execute("SELECT path FROM files").fetchall()]
        missing = sorted(p for p in listed if not (root / p).exists())
        if missing:
            raise VaultError(
                f"{len(missing)} vault file(s) the catalog lists are missing "
                f"({', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}): "
                "restore the vault from your backup"
            )
        findings += _scan_files(root, parts)
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        for table_name in tables:
            data = con.sql(f'SELECT * FROM "{table_name}"').to_arrow_table()
            for name in data.column_names:
                findings += _check_column(
                    f"catalog.duckdb:{table_name}", name, data.column(name).combine_chunks()
                )
    except duckdb.Error:
        raise VaultError("the vault catalog catalog.duckdb cannot be read: it is damaged") from None
    finally:
        con.close()
    return findings


def _read_only(catalog: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(catalog), read_only=True)
    except duckdb.Error as error:
        raise VaultError(
            "the vault is in use by another command; try again when it has finished"
            if "lock" in str(error).lower()
            else "the vault catalog catalog.duckdb cannot be opened: it is damaged"
        ) from None


def _scan_files(root: Path, parts: list[Path]) -> list[ScanFinding]:
    findings: list[ScanFinding] = []
    for path in parts:
        where = str(path.relative_to(root))
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException):
            raise VaultError(f"the vault file {where} cannot be read: it is damaged") from None
        for name in table.column_names:
            findings += _check_column(where, name, table.column(name).combine_chunks())
    return findings
