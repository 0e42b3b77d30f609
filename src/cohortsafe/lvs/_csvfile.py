"""Reading one CSV file of an LVS export as columns of text, with the line of every row.

Dutch LVS exports come with ``;`` or ``,`` (sometimes tab) separators, in
UTF-8 with or without a byte-order mark or in Windows-1252, one per file: a file
mixing them is refused at its lines rather than read with garbled names, and so
are UTF-16, UTF-32 and NUL bytes. Everything is read as text here; typing and
checking is the validator's job. Lines are counted as an editor shows them: the
header is line 1, empty lines count, and a quoted value spanning lines makes its
row start on its first line.
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
# UTF-32's byte-order marks begin with UTF-16's: they are tried first.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


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


def _decode(name: str, raw: bytes) -> tuple[str, str] | list[Problem]:
    """The file's text and encoding, or why it has none we accept.

    UTF-8 is tried first: Windows-1252 decodes any bytes at all, so it is the
    fallback, and only for a file holding no UTF-8 beyond ASCII.
    """
    wide = _wide_encoding(raw)
    if wide:
        return [Problem(name, None, None, f"file is {wide}; save it as UTF-8")]
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _mixed_lines(name, raw)
    if mixed:
        return mixed
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return [Problem(name, None, None, "file is neither UTF-8 nor Windows-1252")]


def _wide_encoding(raw: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when the file is one, told by its BOM or its NUL bytes."""
    for bom, wide in _WIDE_BOMS:
        if raw.startswith(bom):
            return wide
    sample = raw[:4096]
    if b"\0" not in sample or len(sample) < 4:
        return None
    quads = np.frombuffer(sample[: len(sample) // 4 * 4], dtype=np.uint8).reshape(-1, 4)
    nul = (quads == 0).mean(axis=0) > 0.5  # mostly NUL, per position in each 4 bytes
    # ASCII and Latin letters: UTF-32 leaves three bytes in four NUL, UTF-16 one in two;
    # a text byte must stand beside them, or the file is just padded with NULs.
    if list(nul) in ([False, True, True, True], [True, True, True, False]):
        return "UTF-32"
    if list(nul) in ([False, True, False, True], [True, False, True, False]):
        return "UTF-16"
    return None


def _mixed_lines(name: str, raw: bytes) -> list[Problem]:
    """The lines on which a file that is not UTF-8 holds UTF-8 after all, or the reverse.

    Run only for a file that failed to decode as UTF-8. A file with both valid
    multi-byte UTF-8 sequences and bytes invalid as UTF-8 was written in two
    encodings; whichever holds fewer lines is reported.
    """
    data = np.frombuffer(raw, dtype=np.uint8)
    starts, lengths = _utf8_sequences(raw, data)
    if not len(starts):
        return []
    covered = np.zeros(len(data), dtype=bool)
    for k in range(4):
        covered[starts[lengths > k] + k] = True
    stray = np.flatnonzero((data >= 0x80) & ~covered)
    breaks = np.flatnonzero(data == 10)
    utf8_lines = np.unique(np.searchsorted(breaks, starts)) + 1
    stray_lines = np.unique(np.searchsorted(breaks, stray)) + 1
    if len(stray_lines) <= len(utf8_lines):
        lines, reason = stray_lines, _NOT_UTF8
    else:
        lines, reason = utf8_lines, _UTF8_IN_CP1252
    return [Problem(name, int(line), None, reason) for line in lines]


_NOT_UTF8 = "not UTF-8 in a file otherwise UTF-8 (two encodings mixed): save the file as UTF-8"
_UTF8_IN_CP1252 = (
    "UTF-8 in a file otherwise Windows-1252 (two encodings mixed): save the file as UTF-8"
)


def _utf8_sequences(raw: bytes, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of every valid multi-byte UTF-8 sequence in ``raw``."""
    leads = np.flatnonzero((data >= 0xC2) & (data <= 0xF4))
    first = data[leads]
    lengths = np.where(first >= 0xF0, 4, np.where(first >= 0xE0, 3, 2))
    shaped = leads + lengths <= len(data)
    for k in range(1, 4):
        follow = data[np.minimum(leads + k, len(data) - 1)]
        shaped &= (lengths <= k) | ((follow & 0xC0) == 0x80)
    starts, lengths = leads[shaped], lengths[shaped]
    # The shape still lets overlong forms and surrogates through; decoding rules them out.
    valid = np.array([_decodes(raw[s : s + n]) for s, n in zip(starts, lengths, strict=True)])
    if not len(valid):
        return starts, lengths
    return starts[valid], lengths[valid]


def _decodes(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
    decoded = _decode(name, raw)
    if isinstance(decoded, list):
        return _failed(name, *decoded)
    text, encoding = decoded
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        return _failed(name, Problem(name, 1, None, "file has no header line"))
    if "\0" in header_line:
        return _failed(name, Problem(name, 1, None, "the header holds a NUL byte"))
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
    columns = {n: table.column(n).combine_chunks() for n in table.column_names}
    if "\0" in text:
        columns = _without_nul(name, columns, data_lines, problems)
    columns = {n: pc.utf8_trim_whitespace(values) for n, values in columns.items()}
    return CsvColumns(name, columns, data_lines, encoding, delimiter, problems)


def _without_nul(
    name: str, columns: dict[str, pa.Array], lines: np.ndarray, problems: list[Problem]
) -> dict[str, pa.Array]:
    """Report each value holding a NUL byte, then drop the NULs.

    A NUL is never text, it is a broken export; once reported, the rest of the
    value is checked as usual, so one mistake is reported once.
    """
    out = {}
    for column, values in columns.items():
        found = np.asarray(
            pc.match_substring(values, "\0").to_numpy(zero_copy_only=False), dtype=bool
        )
        problems.extend(
            Problem(name, int(lines[i]), column, "value holds a NUL byte")
            for i in np.flatnonzero(found)
        )
        out[column] = pc.replace_substring(values, "\0", "") if found.any() else values
    return out


def _failed(name: str, *problems: Problem) -> CsvColumns:
    return CsvColumns(name, {}, np.zeros(0, dtype=np.int64), "", "", list(problems))
