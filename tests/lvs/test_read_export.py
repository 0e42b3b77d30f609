"""Reading LVS exports: every rejection reason with its line, dialects, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohortsafe.domain import SchoolYear
from cohortsafe.lvs import Problem, read_export
from tests.exportkit import BSNS, ONDERWIJSNUMMERS, ExportKit

TODAY = dt.date(2026, 11, 30)


def _read(folder: Path, **kwargs: object) -> list[Problem]:
    outcome = read_export(folder, today=TODAY, **kwargs)  # type: ignore[arg-type]
    assert (outcome.export is None) == bool(outcome.problems)
    return outcome.problems


def _where(problems: list[Problem]) -> set[tuple[str, int | None, str | None]]:
    return {(p.file, p.line, p.column) for p in problems}


def test_a_valid_export_is_read_with_typed_tables(tmp_path: Path) -> None:
    outcome = read_export(ExportKit.valid().write(tmp_path / "x"), today=TODAY)
    export = outcome.export
    assert export is not None, outcome.problems
    assert export.school.code == "12AB00"
    assert export.school_year == SchoolYear(2025)
    assert export.row_counts() == {
        "leerlingen": 3,
        "toetsresultaten": 18,
        "voorschool": 3,
        "bijzonder": 1,
    }
    results = export.toetsresultaten.to_pylist()
    assert {r["leergebied"] for r in results} == {
        "rekenen_wiskunde",
        "begrijpend_lezen",
        "spelling",
    }
    assert results[0]["vaardigheidsscore"] == 145.5
    assert results[0]["afnamedatum"] == dt.date(2026, 1, 20)
    pupil = export.leerlingen.to_pylist()[0]
    assert pupil["postcode"] == "1234AB"
    assert pupil["geboortedatum"] == dt.date(2016, 3, 5)
    assert export.voorschool.to_pylist()[0]["dagdelen_per_week"] == 2.5


@pytest.mark.parametrize(
    ("delimiter", "encoding", "eol", "quote"),
    [
        (";", "utf-8", "\n", False),
        (",", "utf-8", "\n", True),
        (";", "utf-8-sig", "\r\n", False),
        (";", "cp1252", "\r\n", False),
        (",", "cp1252", "\n", True),
        ("\t", "utf-8", "\n", False),
    ],
)
def test_dialects_of_real_exports_are_accepted(
    tmp_path: Path, delimiter: str, encoding: str, eol: str, quote: bool
) -> None:
    folder = ExportKit.valid().write(
        tmp_path / "x", delimiter=delimiter, encoding=encoding, eol=eol, quote=quote
    )
    outcome = read_export(folder, today=TODAY)
    assert outcome.export is not None, outcome.problems
    assert outcome.export.leerlingen.column("voornamen")[0].as_py() == "Zoë"
    assert outcome.export.toetsresultaten.column("vaardigheidsscore")[0].as_py() == 145.5


def test_iso_dates_and_decimal_points_are_accepted(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 2, "geboortedatum", "2016-03-05")
    kit.set("toetsresultaten.csv", 2, "afnamedatum", "2026-01-20")
    kit.set("toetsresultaten.csv", 2, "vaardigheidsscore", "145.5")
    outcome = read_export(kit.write(tmp_path / "x", delimiter=";"), today=TODAY)
    assert outcome.export is not None, outcome.problems
    assert outcome.export.leerlingen.column("geboortedatum")[0].as_py() == dt.date(2016, 3, 5)


def test_leergebied_as_lvs_products_write_it(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    for line, label in ((2, "REKENEN"), (3, "rekenen wiskunde"), (4, "Begrijpend Lezen")):
        kit.set("toetsresultaten.csv", line, "leergebied", label)
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None, outcome.problems
    codes = outcome.export.toetsresultaten.column("leergebied").to_pylist()[:3]
    assert codes == ["rekenen_wiskunde", "rekenen_wiskunde", "begrijpend_lezen"]


def test_geslacht_o_is_read_as_x(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 2, "geslacht", "O")
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None
    assert outcome.export.leerlingen.column("geslacht")[0].as_py() == "X"


def test_onderwijsnummer_stands_in_for_a_missing_bsn(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "bsn", "")
    kit.set("leerlingen.csv", 3, "onderwijsnummer", ONDERWIJSNUMMERS[0])
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None, outcome.problems
    row = outcome.export.leerlingen.to_pylist()[1]
    assert row["bsn"] is None
    assert row["onderwijsnummer"] == ONDERWIJSNUMMERS[0]


# Each rejection reason, with the file, line (header = 1) and column it is reported at.
REJECTIONS = [
    ("leerlingen.csv", 3, "bsn", "123456789", "eleven test"),
    ("leerlingen.csv", 2, "geboortedatum", "31-02-2016", "does not exist"),
    ("leerlingen.csv", 4, "geboortedatum", "2016/13/01", "not a date"),
    ("leerlingen.csv", 2, "geboortedatum", "01-01-2027", "future"),
    ("leerlingen.csv", 3, "jaargroep", "9", "between 1 and 8"),
    ("leerlingen.csv", 3, "jaargroep", "vijf", "whole number"),
    ("leerlingen.csv", 2, "postcode", "1234 SS", "postcode"),
    ("leerlingen.csv", 2, "geslacht", "Q", "geslacht"),
    ("leerlingen.csv", 4, "huisnummer", "0", "between"),
    ("leerlingen.csv", 4, "achternaam", "", "missing"),
    ("leerlingen.csv", 3, "brin", "1AB", "BRIN"),
    ("leerlingen.csv", 3, "vestiging", "A1", "vestiging"),
    ("toetsresultaten.csv", 5, "vaardigheidsscore", "veel", "not a number"),
    ("toetsresultaten.csv", 6, "leergebied", "Geschiedenis", "unknown leergebied"),
    ("toetsresultaten.csv", 7, "toetsmoment", "B", "toetsmoment"),
    ("toetsresultaten.csv", 8, "schooljaar", "2025-2027", "schooljaar"),
    ("toetsresultaten.csv", 9, "afnamedatum", "30-02-2026", "does not exist"),
    ("toetsresultaten.csv", 10, "afnamedatum", "01-09-2024", "outside the schooljaar"),
    ("toetsresultaten.csv", 11, "jaargroep", "0", "between 1 and 8"),
    ("toetsresultaten.csv", 12, "leerlingnummer", "4711", "no pupil"),
    ("toetsresultaten.csv", 13, "niveau", "VI", "niveau"),
    ("voorschool.csv", 3, "soort", "oppas", "soort"),
    ("voorschool.csv", 2, "maanden", "99", "between 0 and 72"),
    ("voorschool.csv", 4, "dagdelen_per_week", "twee", "not a number"),
    ("voorschool.csv", 4, "leerlingnummer", "4711", "no pupil"),
    ("bijzonder.csv", 2, "categorie", "hoogbegaafd", "categorie"),
    ("bijzonder.csv", 2, "datum", "00-01-2020", "does not exist"),
]


@pytest.mark.parametrize(("file", "line", "column", "value", "reason"), REJECTIONS)
def test_each_rejection_reason_names_file_line_and_column(
    tmp_path: Path, file: str, line: int, column: str, value: str, reason: str
) -> None:
    kit = ExportKit.valid().set(file, line, column, value)
    problems = _read(kit.write(tmp_path / "x"))
    assert [(p.file, p.line, p.column) for p in problems] == [(file, line, column)]
    assert reason in problems[0].reason


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    for file, line, column, value, _ in REJECTIONS[:6]:
        kit.set(file, line, column, value)
    problems = _read(kit.write(tmp_path / "x"))
    assert _where(problems) == {(f, ln, c) for f, ln, c, _, _ in REJECTIONS[:6]}


def test_duplicate_leerlingnummer_points_at_the_first(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 4, "leerlingnummer", "1001")
    problems = _read(kit.write(tmp_path / "x"))
    duplicate = [p for p in problems if p.file == "leerlingen.csv"]
    assert [(p.line, p.column) for p in duplicate] == [(4, "leerlingnummer")]
    assert "line 2" in duplicate[0].reason


def test_the_same_bsn_twice_is_rejected(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 4, "bsn", BSNS[0])
    problems = _read(kit.write(tmp_path / "x"))
    assert _where(problems) == {("leerlingen.csv", 4, "bsn")}


def test_a_pupil_without_any_number_is_rejected(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "bsn", "")
    problems = _read(kit.write(tmp_path / "x"))
    assert _where(problems) == {("leerlingen.csv", 3, "bsn")}
    assert "neither" in problems[0].reason


def test_an_invalid_onderwijsnummer_is_rejected(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "bsn", "")
    kit.set("leerlingen.csv", 3, "onderwijsnummer", "101222332")
    problems = _read(kit.write(tmp_path / "x"))
    assert _where(problems) == {("leerlingen.csv", 3, "onderwijsnummer")}


def test_duplicate_results_are_rejected(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    kit.files["toetsresultaten.csv"].append(list(kit.files["toetsresultaten.csv"][3]))
    problems = _read(kit.write(tmp_path / "x"))
    last = len(kit.files["toetsresultaten.csv"])
    assert _where(problems) == {("toetsresultaten.csv", last, None)}
    assert "line 4" in problems[0].reason


def test_a_pupil_of_another_school_is_rejected(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "brin", "34CD")
    problems = _read(kit.write(tmp_path / "x"))
    assert _where(problems) == {("leerlingen.csv", 3, "brin")}


def test_missing_required_columns_are_reported_on_the_header_line(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    rows = kit.files["leerlingen.csv"]
    index = rows[0].index("geboortedatum")
    kit.files["leerlingen.csv"] = [row[:index] + row[index + 1 :] for row in rows]
    problems = _read(kit.write(tmp_path / "x"))
    assert _where(problems) == {("leerlingen.csv", 1, "geboortedatum")}
    assert "missing" in problems[0].reason


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    rows = kit.files["leerlingen.csv"]
    index = rows[0].index("huisnummertoevoeging")
    kit.files["leerlingen.csv"] = [row[:index] + row[index + 1 :] for row in rows]
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None, outcome.problems


def test_missing_files_are_reported_and_bijzonder_is_optional(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    del kit.files["bijzonder.csv"]
    assert read_export(kit.write(tmp_path / "a"), today=TODAY).export is not None
    del kit.files["voorschool.csv"]
    problems = _read(kit.write(tmp_path / "b"))
    assert _where(problems) == {("voorschool.csv", None, None)}


def test_extra_columns_are_ignored_and_reported(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    for i, row in enumerate(kit.files["leerlingen.csv"]):
        row.append("roepnaam" if i == 0 else "Zo")
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None
    assert outcome.ignored_columns == {"leerlingen.csv": ["roepnaam"]}
    assert "roepnaam" not in outcome.export.leerlingen.column_names


def test_lines_are_counted_as_an_editor_shows_them(tmp_path: Path) -> None:
    """Empty lines count, and a quoted value over two lines makes the next row start later."""
    kit = ExportKit.valid().set("leerlingen.csv", 2, "voornamen", "Anna\nMaria")
    kit.set("leerlingen.csv", 4, "jaargroep", "12")
    folder = kit.write(tmp_path / "x")
    path = folder / "leerlingen.csv"
    lines = path.read_text().split("\n")
    lines.insert(1, "")  # an empty line right after the header
    path.write_text("\n".join(lines))
    problems = _read(folder)
    # row 4 of the kit is now on line 4 + 1 (empty line) + 1 (the two-line name)
    assert _where(problems) == {("leerlingen.csv", 6, "jaargroep")}


def test_a_row_with_too_many_fields_is_reported_at_its_line(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    path = folder / "voorschool.csv"
    lines = path.read_text().split("\n")
    lines[2] += ";extra"
    path.write_text("\n".join(lines))
    problems = _read(folder)
    assert _where(problems) == {("voorschool.csv", 3, None)}


def test_undecodable_file_is_rejected(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    (folder / "voorschool.csv").write_bytes(b"leerlingnummer;soort\n1001;\x81\x8d\n")
    problems = _read(folder)
    assert ("voorschool.csv", None, None) in _where(problems)


def test_school_year_is_taken_from_the_results_or_given(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    assert read_export(folder, today=TODAY).export.school_year == SchoolYear(2025)  # type: ignore[union-attr]
    problems = _read(folder, school_year=SchoolYear(2024))
    assert _where(problems) == {("toetsresultaten.csv", None, "schooljaar")}


def test_no_problem_quotes_an_identifier_or_a_name(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("leerlingen.csv", 3, "bsn", "123456789")
    kit.set("leerlingen.csv", 4, "bsn", BSNS[0])
    kit.set("leerlingen.csv", 2, "postcode", "9999 SS")
    kit.set("leerlingen.csv", 2, "voornamen", "x" * 300)
    problems = _read(kit.write(tmp_path / "x"))
    text = " ".join(str(p) for p in problems)
    for secret in ("123456789", BSNS[0], "9999", "xxxx", "Meer"):
        assert secret not in text


def test_a_very_long_quoted_value_is_refused_with_its_line(tmp_path: Path) -> None:
    """Valid CSV with a field over the csv module's 131,072-character limit: a problem, no crash."""
    kit = ExportKit.valid().set("leerlingen.csv", 3, "achternaam", "lang\n" + "x" * 200_000)
    outcome = read_export(kit.write(tmp_path / "x", quote=True), today=TODAY)
    assert outcome.export is None
    assert [(p.file, p.line, p.column) for p in outcome.problems] == [
        ("leerlingen.csv", 3, "achternaam")
    ]
    assert "longer than" in outcome.problems[0].reason
    assert "x" * 20 not in str(outcome.problems[0])
