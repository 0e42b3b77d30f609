"""The automatic gate for free files (a plot, a note) a researcher puts in a request.

Free files are not outputs the engine can compute again; people review them. Before
they reach a checker the gate keeps out what must never leave: files of other types
than csv, json, html, txt, md, png and svg, files over 16 MB, CSV files of more than
5,000 rows or with a pupil, school or record column, and any file holding one of the
project's pseudonyms (a list of pupils is microdata, whatever it is called).
"""

from __future__ import annotations

import csv
import io
import re

from cohortsafe.research._workspace import Workspace

__all__ = ["MAX_BYTES", "MAX_CSV_ROWS", "TYPES", "gate_free_file"]

TYPES = ("csv", "json", "html", "txt", "md", "png", "svg")
MAX_BYTES = 16 * 1024 * 1024
MAX_CSV_ROWS = 5_000
_FIXED = ("pupil", "school", "record")
_HEX64 = re.compile(rb"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
# a record id is a 64-bit number: written out in decimal, or in hex
_DECIMAL = re.compile(rb"(?<![0-9])[0-9]{10,20}(?![0-9])")
_HEX16 = re.compile(rb"(?<![0-9a-fA-FxX])(?:0[xX])?([0-9a-fA-F]{16})(?![0-9a-fA-F])")


def gate_free_file(workspace: Workspace, name: str, data: bytes) -> list[str]:
    """Every reason the gate keeps ``data`` (to be called ``name``) out; none: it passes."""
    problems = []
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind not in TYPES:
        problems.append(f"{name}: only files of type {', '.join(TYPES)} leave the environment")
    if len(data) > MAX_BYTES:
        problems.append(f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    if kind == "csv":
        problems += _csv_problems(name, data)
    if _holds_pseudonyms(workspace, data):
        problems.append(f"{name}: holds pseudonyms of the project's pupils, schools or records")
    return problems


def _csv_problems(name: str, data: bytes) -> list[str]:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        return [f"{name}: not a readable CSV file (UTF-8)"]
    problems = []
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    named = [c for c in _FIXED if c in header]
    if named:
        problems.append(f"{name}: a CSV with a {', '.join(named)} column is microdata")
    if len(rows) - 1 > MAX_CSV_ROWS:
        problems.append(f"{name}: more than {MAX_CSV_ROWS} rows")
    return problems


def _holds_pseudonyms(workspace: Workspace, data: bytes) -> bool:
    keyed = {m.group().decode().lower() for m in _HEX64.finditer(data)}
    numbers = {int(m.group()) for m in _DECIMAL.finditer(data)}
    numbers |= {int(m.group(1), 16) for m in _HEX16.finditer(data)}
    return _any_in(workspace, ("pupil", "school"), sorted(f"'{t}'" for t in keyed)) or (
        _any_in(workspace, ("record",), sorted(str(n) for n in numbers if n < 2**64))
    )


def _any_in(workspace: Workspace, columns: tuple[str, ...], literals: list[str]) -> bool:
    """Whether any of ``literals`` (hex strings or numbers: safe to inline) is a value
    of one of ``columns`` in the workspace's tables."""
    known = [
        f'SELECT "{column}" AS v FROM "{table}"'
        for table, names in workspace.tables.items()
        for column in columns
        if column in names
    ]
    if not literals or not known:
        return False
    union = " UNION ALL ".join(known)
    for start in range(0, len(literals), 1_000):
        listed = ", ".join(literals[start : start + 1_000])
        found = workspace.sql(f"SELECT count(*) FROM ({union}) WHERE v IN ({listed})").rows
        if found[0][0]:
            return True
    return False
