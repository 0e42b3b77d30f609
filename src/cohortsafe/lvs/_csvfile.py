"""Reading one CSV file of an LVS export as columns of text, with the line of every row.

Dutch LVS exports come with ``;`` or ``,`` (sometimes tab) separators, in
UTF-8 with or without a byte-order mark or in Windows-1252. Everything is read
as text here; typing and checking is the validator's job. Lines are counted as
an editor shows them: the header is line 1, empty lines count, and a quoted
value spanning lines makes its row start on its first line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cohortsafe.lvs._problems import Problem

_BOM = b"\xef\xbb\xbf"


@dataclass
class CsvColumns:
    """A CSV file as trimmed text columns keyed by lower-case header, and each row's line."""

    file: str
    columns: dict[str, pa.Array]
    lines: np.ndarray
    encoding: str
    delimiter: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.lines)


def _decode(raw: bytes) -> tuple[str, str] | None:
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return None


def _delimiter(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


def _record_lines(text: str, delimiter: str) -> np.ndarray:
    """The 1-based line on which each non-empty CSV record starts, the header included."""
    if '"' not in text:
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        breaks = np.flatnonzero(raw == 10)
        starts = np.concatenate(([0], breaks + 1))
        ends = np.concatenate((breaks, [len(raw)]))
        lengths = ends - starts
        # a line holding only "\r" is as empty as one holding nothing
        has_cr = np.zeros(len(starts), dtype=bool)
        nonzero = lengths > 0
        has_cr[nonzero] = raw[ends[nonzero] - 1] == 13
        empty = (lengths == 0) | ((lengths == 1) & has_cr)
        return np.flatnonzero(~empty) + 1
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    with _any_field_size():
        for record in reader:
            if record:
                lines.append(previous_end + 1)
            previous_end = reader.line_num
    return np.asarray(lines, dtype=np.int64)


@contextlib.contextmanager
def _any_field_size() -> Iterator[None]:
    """Lift the csv module's 131,072-character limit on a field while a file is read.

    A long quoted value is valid CSV; the column checks refuse it with its line.
    """
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def read_columns(path: Path) -> CsvColumns:
    """Read ``path``; problems that stop the whole file are returned in ``problems``."""
    name = path.name
    raw = path.read_bytes()
    decoded = _decode(raw)
    if decoded is None:
        return _failed(name, Problem(name, None, None, "file is neither UTF-8 nor Windows-1252"))
    text, encoding = decoded
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        return _failed(name, Problem(name, 1, None, "file has no header line"))
    delimiter = _delimiter(header_line)
    record_lines = _record_lines(text, delimiter)

    skipped: list[int] = []
    problems: list[Problem] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        number = row.number if row.number is not None else 0
        skipped.append(number)
        line = int(record_lines[number - 1]) if 0 < number <= len(record_lines) else None
        problems.append(
            Problem(
                name,
                line,
                None,
                f"row has {row.actual_columns} fields, the header has {row.expected_columns}",
            )
        )
        return "skip"

    try:
        with _any_field_size():
            header = next(csv.reader([header_line.rstrip("\r")], delimiter=delimiter))
    except csv.Error:
        return _failed(name, Problem(name, 1, None, "header line cannot be read"))
    names = [h.strip().lower() for h in header]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        return _failed(name, Problem(name, 1, None, f"column given twice: {', '.join(duplicates)}"))
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=names, skip_rows=1, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return _failed(name, Problem(name, None, None, "file is not readable as CSV"))

    # Rows pyarrow skipped were counted from 1 at the header; drop their lines.
    data_lines = record_lines[1:]
    if skipped:
        keep = np.ones(len(data_lines), dtype=bool)
        for number in skipped:
            if 1 < number <= len(record_lines):
                keep[number - 2] = False
        data_lines = data_lines[keep]
    if len(data_lines) != table.num_rows:
        return _failed(name, Problem(name, None, None, "file is not readable as CSV"))
    columns = {
        n: pc.utf8_trim_whitespace(table.column(n).combine_chunks()) for n in table.column_names
    }
    return CsvColumns(name, columns, data_lines, encoding, delimiter, problems)


def _failed(name: str, problem: Problem) -> CsvColumns:
    return CsvColumns(name, {}, np.zeros(0, dtype=np.int64), "", "", [problem])
