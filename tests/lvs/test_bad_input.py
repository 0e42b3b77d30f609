"""Bad bytes in an export: each is refused with its place, never read as something else.

Issue 10, items 10 and 13: mixed encodings, UTF-16/32, NUL bytes, the same
special-category row twice, an export folder without leerlingen.csv.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohortsafe.lvs import Problem, find_exports, read_export
from cohortsafe.lvs._csvfile import read_columns
from tests.exportkit import ExportKit

TODAY = dt.date(2026, 11, 30)


def _problems(folder: Path) -> list[Problem]:
    outcome = read_export(folder, today=TODAY)
    assert (outcome.export is None) == bool(outcome.problems)
    return outcome.problems


def _where(problems: list[Problem]) -> list[tuple[str, int | None, str | None]]:
    return [(p.file, p.line, p.column) for p in problems]


def _replace(path: Path, old: bytes, new: bytes) -> None:
    raw = path.read_bytes()
    assert raw.count(old) == 1
    path.write_bytes(raw.replace(old, new))


# -- encodings -----------------------------------------------------------------------------


def test_one_windows_1252_byte_in_a_utf8_file_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = ExportKit.valid().set("leerlingen.csv", 3, "achternaam", "Meer").write(tmp_path / "x")
    # "Zoë" stays UTF-8 on every line; line 3's "é" is the one byte of Windows-1252
    _replace(folder / "leerlingen.csv", b";Meer;", b";M\xe9er;")
    problems = _problems(folder)
    assert _where(problems) == [("leerlingen.csv", 3, None)]
    assert "mixed" in problems[0].reason
    assert "Meer" not in str(problems[0])
    assert "Méer" not in str(problems[0])


def test_one_utf8_name_in_a_windows_1252_file_is_refused_at_its_line(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 4, "achternaam", "Meer")
    folder = kit.write(tmp_path / "x", encoding="cp1252")
    _replace(folder / "leerlingen.csv", b";Meer;", ";Meër;".encode())
    problems = _problems(folder)
    assert _where(problems) == [("leerlingen.csv", 4, None)]
    assert "UTF-8 in a file otherwise Windows-1252" in problems[0].reason


def test_a_file_in_one_encoding_keeps_its_names(tmp_path: Path) -> None:
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        kit = ExportKit.valid().set("leerlingen.csv", 3, "achternaam", "Çelik-Müller")
        outcome = read_export(kit.write(tmp_path / encoding, encoding=encoding), today=TODAY)
        assert outcome.export is not None, outcome.problems
        assert outcome.export.leerlingen.column("achternaam")[1].as_py() == "Çelik-Müller"


# Letters of Dutch names whose Windows-1252 bytes (0xE0 and up) never form UTF-8 together.
_NAME = st.text(st.sampled_from("abcdeklmnrstvzéëèïöüáçñ"), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NAME, min_size=3, max_size=8), st.data(), st.booleans())
def test_a_line_in_the_other_encoding_is_named(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], data: st.DataObject, utf8: bool
) -> None:
    """Any file in one encoding is read as written; one line of the other is named."""
    # three lines surely not ASCII: the file's own encoding outnumbers the odd line
    lines = ["naam", *names, "zoë", "inéke", "brüx"]
    encoding = "utf-8" if utf8 else "cp1252"
    other = "cp1252" if utf8 else "utf-8"
    odd = data.draw(st.sampled_from([n for n, name in enumerate(lines, 1) if not name.isascii()]))
    folder = tmp_path_factory.mktemp("x")
    path = folder / "voorschool.csv"
    path.write_bytes(b"\n".join(s.encode(encoding) for s in lines) + b"\n")
    read = read_columns(path)
    assert read.problems == []
    assert read.columns["naam"].to_pylist() == lines[1:]
    raw = [s.encode(other if n == odd else encoding) for n, s in enumerate(lines, 1)]
    path.write_bytes(b"\n".join(raw) + b"\n")
    assert _where(read_columns(path).problems) == [("voorschool.csv", odd, None)]


@pytest.mark.parametrize(
    ("encoding", "bom", "name"),
    [
        ("utf-16", b"", "UTF-16"),  # Python writes its BOM
        ("utf-16-le", b"", "UTF-16"),
        ("utf-16-be", b"", "UTF-16"),
        ("utf-16-be", b"\xfe\xff", "UTF-16"),
        ("utf-32", b"", "UTF-32"),
        ("utf-32-le", b"", "UTF-32"),
        ("utf-32-be", b"", "UTF-32"),
    ],
)
def test_utf16_and_utf32_are_named_not_read_as_missing_columns(
    tmp_path: Path, encoding: str, bom: bytes, name: str
) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    path = folder / "toetsresultaten.csv"
    path.write_bytes(bom + path.read_text(encoding="utf-8").encode(encoding))
    problems = _problems(folder)
    assert _where(problems) == [("toetsresultaten.csv", None, None)]
    assert problems[0].reason == f"file is {name}; save it as UTF-8"


# -- NUL bytes -----------------------------------------------------------------------------


def test_a_nul_byte_in_a_value_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "achternaam", "Me\0er")
    kit.set("toetsresultaten.csv", 5, "afnamedatum", "20-01-2026\0")
    problems = _problems(kit.write(tmp_path / "x"))
    # once each: what is left of the value passes its own checks
    assert _where(problems) == [
        ("leerlingen.csv", 3, "achternaam"),
        ("toetsresultaten.csv", 5, "afnamedatum"),
    ]
    assert {p.reason for p in problems} == {"value holds a NUL byte"}


def test_nul_bytes_in_a_quoted_value_and_in_the_header(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("voorschool.csv", 3, "soort", "kdv\0\0")
    folder = kit.write(tmp_path / "x", quote=True)
    assert _where(_problems(folder)) == [("voorschool.csv", 3, "soort")]
    _replace(folder / "bijzonder.csv", b"categorie", b"categ\0orie")
    assert ("bijzonder.csv", 1, None) in _where(_problems(folder))


def test_a_file_padded_with_nul_bytes_is_not_taken_for_utf16(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    path = folder / "voorschool.csv"
    path.write_bytes(path.read_bytes().rstrip(b"\n") + b"\0" * 5000 + b"\n")
    problems = _problems(folder)
    assert _where(problems) == [("voorschool.csv", 4, "dagdelen_per_week")]
    assert problems[0].reason == "value holds a NUL byte"


# -- bijzonder.csv -------------------------------------------------------------------------


def test_the_same_pupil_and_categorie_twice_is_refused(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    rows = kit.files["bijzonder.csv"]
    rows.append(list(rows[1]))  # the same row again: line 3
    rows.append(["1002", "dyslexie", "", "01-09-2024"])
    rows.append(["1002", "Dyslexieverklaring", "", "01-10-2025"])  # another date, same code
    rows.append(["1002", "adhd", "", "01-10-2025"])  # another code: fine
    problems = _problems(kit.write(tmp_path / "x"))
    assert _where(problems) == [("bijzonder.csv", 3, None), ("bijzonder.csv", 5, None)]
    assert [p.reason for p in problems] == [
        "the same pupil and categorie as line 2",
        "the same pupil and categorie as line 4",
    ]


def test_two_unknown_categories_of_one_pupil_are_not_also_duplicates(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    kit.files["bijzonder.csv"][1][1] = "hoogbegaafd"
    kit.files["bijzonder.csv"].append(["1001", "linkshandig", "", "01-09-2024"])
    problems = _problems(kit.write(tmp_path / "x"))
    assert _where(problems) == [
        ("bijzonder.csv", 2, "categorie"),
        ("bijzonder.csv", 3, "categorie"),
    ]


# -- folders -------------------------------------------------------------------------------


def test_a_folder_of_csv_files_without_leerlingen_is_an_export_refused(tmp_path: Path) -> None:
    ExportKit.valid().write(tmp_path / "exports" / "12AB00")
    incomplete = ExportKit.valid().write(tmp_path / "exports" / "34CD00")
    (incomplete / "leerlingen.csv").rename(incomplete / "leerlingen-oud.CSV")
    (tmp_path / "exports" / "notes").mkdir()
    (tmp_path / "exports" / "notes" / "lees mij.txt").write_text("no CSV here")
    assert find_exports(tmp_path / "exports") == [
        tmp_path / "exports" / "12AB00",
        incomplete,
    ]
    problems = _problems(incomplete)
    assert _where(problems) == [("leerlingen.csv", None, None)]
    assert problems[0].reason == "file is missing from the export"
