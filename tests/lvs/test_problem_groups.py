"""Repeated problems are grouped per file, column and reason; one mistake is reported once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cohortsafe.domain import SchoolYear
from cohortsafe.lvs import Problem, group_problems, read_export
from tests.exportkit import ExportKit

TODAY = dt.date(2026, 11, 30)


def _kit_with_every(file: str, column: str, value: str, pupils: int = 3) -> ExportKit:
    kit = ExportKit.valid(pupils=pupils)
    for line in range(2, len(kit.files[file]) + 1):
        kit.set(file, line, column, value)
    return kit


def test_a_systematic_error_is_one_group_with_every_line(tmp_path: Path) -> None:
    kit = _kit_with_every("toetsresultaten.csv", "afnamedatum", "2026.01.20x", pupils=6)
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    # one problem per row, not two: an unreadable date is not also outside the school year
    assert len(outcome.problems) == 36
    (group,) = group_problems(outcome.problems)
    assert (group.file, group.column, group.count) == ("toetsresultaten.csv", "afnamedatum", 36)
    assert group.lines == tuple(range(2, 38))
    assert str(group) == (
        "toetsresultaten.csv [afnamedatum]: not a date (dd-mm-jjjj or jjjj-mm-dd) — "
        "36 rows, lines 2, 3, 4, 5, 6 …"
    )


def test_a_date_that_does_not_exist_or_lies_ahead_is_not_also_outside_the_year(
    tmp_path: Path,
) -> None:
    kit = ExportKit.valid()
    kit.set("toetsresultaten.csv", 2, "afnamedatum", "31-02-2026")
    kit.set("toetsresultaten.csv", 3, "afnamedatum", "01-01-2030")
    problems = read_export(kit.write(tmp_path / "x"), today=TODAY).problems
    assert [(p.line, p.reason) for p in problems] == [
        (2, "date does not exist"),
        (3, "date lies in the future"),
    ]


def test_an_unknown_schooljaar_does_not_also_put_the_date_outside_it(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("toetsresultaten.csv", 4, "schooljaar", "2019-2021")
    problems = read_export(kit.write(tmp_path / "x"), today=TODAY).problems
    assert [(p.line, p.column) for p in problems] == [(4, "schooljaar")]


def test_groups_keep_first_occurrence_order_and_single_problems_read_as_before() -> None:
    problems = [
        Problem("a.csv", 3, "x", "bad"),
        Problem("a.csv", None, None, "file is missing from the export"),
        Problem("a.csv", 2, "x", "bad"),
        Problem("a.csv", 4, "y", "bad"),
    ]
    groups = group_problems(problems)
    assert [(g.column, g.count, g.lines) for g in groups] == [
        ("x", 2, (2, 3)),
        (None, 1, ()),
        ("y", 1, (4,)),
    ]
    assert str(groups[0]) == "a.csv [x]: bad — 2 rows, lines 2, 3"
    assert str(groups[1]) == "a.csv: file is missing from the export"
    assert str(groups[2]) == str(problems[3])
    assert groups[0].as_dict() == {
        "file": "a.csv",
        "column": "x",
        "reason": "bad",
        "count": 2,
        "lines": [2, 3],
    }


def test_a_school_year_none_of_the_results_fall_in_is_refused(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    for given in (SchoolYear(2024), SchoolYear(2026)):
        outcome = read_export(folder, school_year=given, today=TODAY)
        assert outcome.export is None
        (problem,) = outcome.problems
        assert (problem.file, problem.line, problem.column) == (
            "toetsresultaten.csv",
            None,
            "schooljaar",
        )
        assert f"none of the results is of the school year {given}" in problem.reason


def test_a_future_school_year_is_refused(tmp_path: Path) -> None:
    folder = ExportKit.valid().write(tmp_path / "x")
    # the results are of 2025-2026; seen from a day in that year, 2026-2027 has not begun
    june = dt.date(2026, 6, 30)
    (problem,) = read_export(folder, school_year=SchoolYear(2026), today=june).problems
    assert problem.column == "schooljaar"
    assert "has not begun yet" in problem.reason
    assert read_export(folder, school_year=SchoolYear(2025), today=june).ok
