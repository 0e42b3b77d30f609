"""Every reason the LVS checks give is shown in Dutch on the school's import screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import translation

from cohortsafe.app.web.reasons import known, reason_in_language
from cohortsafe.lvs import read_export
from tests.exportkit import ExportKit

BAD_VALUES = ["", "x", "-5", "99999999999", "31-02-2026", "01-01-2099", "1" * 300, "ZZ", "1,5",
              "zie 111222333", "Zoë van der Meer1", "<script>"]  # fmt: skip


def _reasons(kit: ExportKit, folder: Path, **write: object) -> set[str]:
    outcome = read_export(kit.write(folder, **write), today=dt.date(2026, 11, 1))  # type: ignore[arg-type]
    return {p.reason for p in outcome.problems}


def _every_reason(tmp_path: Path) -> set[str]:
    found: set[str] = set()
    base = ExportKit.valid()
    n = 0
    for name, rows in base.files.items():
        for column in rows[0]:
            for value in BAD_VALUES:
                n += 1
                kit = ExportKit.valid().set(name, 2, column, value)
                found |= _reasons(kit, tmp_path / str(n))
    twice = ExportKit.valid()
    for rows in twice.files.values():
        rows.append(list(rows[1]))
    found |= _reasons(twice, tmp_path / "twice")
    ragged = ExportKit.valid()
    ragged.files["voorschool.csv"][1].append("extra")
    found |= _reasons(ragged, tmp_path / "ragged")
    headless = ExportKit.valid()
    headless.files["bijzonder.csv"] = []
    found |= _reasons(headless, tmp_path / "headless")
    doubled = ExportKit.valid()
    doubled.files["voorschool.csv"][0][1] = doubled.files["voorschool.csv"][0][0]
    found |= _reasons(doubled, tmp_path / "doubled")
    missing = ExportKit.valid()
    del missing.files["leerlingen.csv"]
    found |= _reasons(missing, tmp_path / "missing")
    return found


def test_every_reason_of_a_broken_export_is_put_into_dutch(tmp_path: Path) -> None:
    reasons = _every_reason(tmp_path)
    assert len(reasons) > 20  # the breakage reached many checks
    assert {r for r in reasons if not known(r)} == set()
    with translation.override("nl"):
        untranslated = {r for r in reasons if reason_in_language(r) == r}
    assert untranslated == set()
    with translation.override("en"):
        assert all(reason_in_language(r) == r for r in reasons)


@pytest.mark.parametrize(
    ("reason", "dutch"),
    [
        ("value is missing", "waarde ontbreekt"),
        ("leerlingnummer also on line 7", "leerlingnummer staat ook op regel 7"),
        ("must be between -1000 and 10000", "moet tussen -1000 en 10000 liggen"),
        ("unknown vestiging (two digits)", "onbekende waarde voor vestiging (twee cijfers)"),
        (
            "unknown soort (known: kinderdagverblijf, vve)",
            "onbekende waarde voor soort (bekend: kinderdagverblijf, vve)",
        ),
        ("something new from the checks", "something new from the checks"),
    ],
)
def test_a_reason_is_put_into_words(reason: str, dutch: str) -> None:
    with translation.override("nl"):
        assert reason_in_language(reason) == dutch
