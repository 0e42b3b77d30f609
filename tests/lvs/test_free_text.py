"""Free text that would leave the school: a typed BSN, onderwijsnummer or pupil's name is refused.

Each attack is one changed cell of a valid export; the refusal names file, line and
column, never the value.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cohortsafe.lvs import Problem, read_export
from tests.exportkit import BSNS, ONDERWIJSNUMMERS, ExportKit

TODAY = dt.date(2026, 11, 30)
RESULTS = "toetsresultaten.csv"
PUPILS = "leerlingen.csv"


def _problems(kit: ExportKit, folder: Path) -> list[Problem]:
    outcome = read_export(kit.write(folder), today=TODAY)
    assert (outcome.export is None) == bool(outcome.problems)
    return outcome.problems


# (file, line, column, value, reason); the kit's pupils are Zoë van der Meer0, Meer1, Meer2.
ATTACKS = [
    (RESULTS, 3, "toets", f"Cito M6 {BSNS[1]}", "BSN or onderwijsnummer"),
    (RESULTS, 4, "toets", f"Cito {ONDERWIJSNUMMERS[0]} Spelling", "BSN or onderwijsnummer"),
    (RESULTS, 5, "toets", "Cito 1234.56.782", "BSN or onderwijsnummer"),
    (RESULTS, 6, "toets", "Cito 123 456 782", "BSN or onderwijsnummer"),
    (RESULTS, 7, "toets", "Cito 3.0-123456782", "BSN or onderwijsnummer"),
    (RESULTS, 8, "toets", "Cito Rekenen Van der Meer1", "name of a pupil"),
    (RESULTS, 9, "toets", "Rekenen (ZOË)", "name of a pupil"),
    (RESULTS, 10, "toets", "Cito Rekenen zie piet@school.nl", "characters other than"),
    (RESULTS, 11, "toets", "Cito Rekenen\tM6", "characters other than"),
    (RESULTS, 12, "toets", "Cito ١٢٣٤٥٦٧٨٢", "characters other than"),
    (RESULTS, 13, "schaal", f"cito-vs-3.0 {ONDERWIJSNUMMERS[0]}", "unknown schaal"),
    (RESULTS, 14, "schaal", "Zoë", "unknown schaal"),
    (PUPILS, 3, "huisnummertoevoeging", BSNS[4], "BSN or onderwijsnummer"),
    (PUPILS, 4, "huisnummertoevoeging", "Zoë", "name of a pupil"),
]


@pytest.mark.parametrize(("file", "line", "column", "value", "reason"), ATTACKS)
def test_an_identifier_in_free_text_rejects_the_export(
    tmp_path: Path, file: str, line: int, column: str, value: str, reason: str
) -> None:
    kit = ExportKit.valid().set(file, line, column, value)
    problems = _problems(kit, tmp_path / "x")
    assert [(p.file, p.line, p.column) for p in problems] == [(file, line, column)]
    assert reason in problems[0].reason
    said = problems[0].reason.casefold()
    for secret in (value, *BSNS, *ONDERWIJSNUMMERS, "zoë", "meer", "piet"):
        assert secret.casefold() not in said


def test_every_cell_is_reported_not_only_the_first(tmp_path: Path) -> None:
    kit = ExportKit.valid()
    for line in range(2, 8):
        kit.set(RESULTS, line, "toets", ATTACK)
    problems = _problems(kit, tmp_path / "x")
    assert [p.line for p in problems] == list(range(2, 8))


def test_a_surname_with_a_tussenvoegsel_is_looked_for_whole(tmp_path: Path) -> None:
    """ "Meer" is a word; only "van der Meer" is the pupil's name."""
    kit = ExportKit.valid().set(PUPILS, 2, "achternaam", "Meer")
    kit.set(RESULTS, 2, "toets", "Meer lezen")
    assert _problems(kit, tmp_path / "a") == []
    kit.set(RESULTS, 2, "toets", "Meer lezen van der meer")
    assert [p.column for p in _problems(kit, tmp_path / "b")] == ["toets"]


def test_a_surname_without_tussenvoegsel_is_looked_for_alone(tmp_path: Path) -> None:
    kit = (
        ExportKit.valid().set(PUPILS, 2, "tussenvoegsel", "").set(PUPILS, 2, "achternaam", "Bakker")
    )
    kit.set(RESULTS, 2, "toets", "Cito BAKKER")
    assert [(p.line, p.column) for p in _problems(kit, tmp_path / "x")] == [(2, "toets")]


ATTACK = f"Cito M6 {BSNS[1]}"


def test_short_names_and_test_words_are_not_names(tmp_path: Path) -> None:
    """A pupil named Bo Boom leaves Boom's tests and "Bo" (of BL, RW, …) alone."""
    kit = ExportKit.valid().set(PUPILS, 2, "voornamen", "Bo").set(PUPILS, 2, "tussenvoegsel", "")
    kit.set(PUPILS, 2, "achternaam", "Boom")
    for line in range(2, 8):
        kit.set(RESULTS, line, "toets", "Boom LVS Rekenen bo")
    kit.set(RESULTS, 8, "toets", ATTACK)
    assert [p.line for p in _problems(kit, tmp_path / "x")] == [8]


@pytest.mark.parametrize(
    "toets",
    [
        "Cito Rekenen-Wiskunde 3.0",
        "Cito LVS 3.0 2024-2025",  # 0, 2024 and 2025 pass the eleven test together
        "Boom LVS Begrijpend Lezen (M6)",
        "IEP Taalverzorging: Spelling – versie 2",
        "Leerling in beeld 1/2 + extra & meer",
        "Zoëlla Rekenen-Wiskunde",  # a name inside a longer word is no name
        "Cito 12345678",  # eight digits: a date, not a BSN that lost its zero
        "Cito 1234567820",  # ten digits
    ],
)
def test_honest_test_names_pass_beside_a_refused_one(tmp_path: Path, toets: str) -> None:
    kit = ExportKit.valid().set(RESULTS, 2, "toets", toets).set(RESULTS, 3, "toets", ATTACK)
    assert [p.line for p in _problems(kit, tmp_path / "x")] == [3]


def test_the_scale_is_stored_as_its_code(tmp_path: Path) -> None:
    kit = ExportKit.valid().set(RESULTS, 2, "schaal", "Cito VS 3.0")
    kit.set(RESULTS, 3, "schaal", "Boom vaardigheidsscore")
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None, outcome.problems
    scales = outcome.export.toetsresultaten.column("schaal").to_pylist()
    assert scales[:3] == ["cito-vs-3.0", "boom-vs", "cito-vs-3.0"]
