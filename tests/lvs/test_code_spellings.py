"""An export may write special categories and childcare kinds as its LVS product does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cohortsafe.domain import SPECIAL_CATEGORIES
from cohortsafe.lvs import read_export
from tests.exportkit import ExportKit

TODAY = dt.date(2026, 11, 30)


def test_certificates_and_abbreviations_are_read_as_codes(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("bijzonder.csv", 2, "categorie", "Dyslexie-verklaring")
    kit.set("voorschool.csv", 2, "soort", "KDV")
    kit.set("voorschool.csv", 3, "soort", "VVE-indicatie")
    kit.set("voorschool.csv", 4, "soort", "Peuteropvang")
    outcome = read_export(kit.write(tmp_path / "x"), today=TODAY)
    assert outcome.export is not None, outcome.problems
    assert outcome.export.bijzonder.column("categorie").to_pylist() == ["dyslexie"]
    assert outcome.export.voorschool.column("soort").to_pylist() == [
        "kinderdagverblijf",
        "vve",
        "peuterspeelzaal",
    ]


def test_an_unknown_category_is_refused_with_the_known_codes(tmp_path: Path) -> None:
    kit = ExportKit.valid().set("bijzonder.csv", 2, "categorie", "Hoogbegaafd")
    (problem,) = read_export(kit.write(tmp_path / "x"), today=TODAY).problems
    assert (problem.file, problem.line, problem.column) == ("bijzonder.csv", 2, "categorie")
    assert all(code in problem.reason for code in SPECIAL_CATEGORIES)
    assert "Hoogbegaafd" not in problem.reason
