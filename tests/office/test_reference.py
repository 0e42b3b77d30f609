"""The office's reference data: a schoolweging per school and year, kept by school pseudonym."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.office import services
from cohortsafe.app.office.reference import load_reference
from cohortsafe.cli import main
from cohortsafe.domain import SchoolYear
from cohortsafe.reference import read_reference
from cohortsafe.synth import SynthSpec, write_reference
from cohortsafe.synth._population import make_schools
from cohortsafe.synth._vendors import VENDORS
from tests.office.kit import SCHOOL, Office, pupils

HEADER = "brinvest;schooljaar;schoolweging\n"


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "schoolweging.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _kept() -> list[dict[str, object]]:
    with services.open_vault() as vault:
        return list(vault.school_reference().to_pylist())


def test_the_synthetic_reference_follows_the_schools_effect_and_stays_in_range(
    tmp_path: Path,
) -> None:
    spec = SynthSpec(schools=300, seed=4, years=(SchoolYear(2024), SchoolYear(2025)))
    assert write_reference(spec, tmp_path / "a.csv") == 600
    write_reference(spec, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    found = read_reference(tmp_path / "a.csv")
    assert found.accepted
    assert len(found.rows) == 600
    assert all(20 <= row.weging <= 40 for row in found.rows)
    effect = make_schools(np.random.default_rng(4), 300, len(VENDORS)).effect
    first_year = [row.weging for row in found.rows if row.year == SchoolYear(2024)]
    # a higher weging: a population whose results are expected lower
    assert np.corrcoef(effect, first_year)[0, 1] < -0.6


def test_the_reference_is_kept_by_pseudonym_and_never_by_brin(
    office: Office, tmp_path: Path
) -> None:
    office.receive(office.delivery(pupils()))
    done = load_reference(
        _file(tmp_path, "12AB00;2024-2025;31,4", "34CD01;2024-2025;22.0"), actor="test"
    )
    assert (done.rows, done.schools, done.years, done.new, done.replaced) == (
        2,
        2,
        ("2024-2025",),
        2,
        0,
    )
    kept = _kept()
    ours = services.pseudonyms().school(SCHOOL.code)
    assert {
        "school": ours,
        "schooljaar": "2024-2025",
        "schoolweging": 31.4,
        "provincie": None,
    } in kept
    assert not any("12AB" in str(v) or "34CD" in str(v) for row in kept for v in row.values())
    with services.open_vault() as vault:
        delivered = {
            str(s) for (s,) in vault.con.execute("SELECT school FROM deliveries").fetchall()
        }
    assert ours in delivered  # the same pseudonym as the school's deliveries: they can be joined
    event = AuditEvent.objects.get(action="office.reference_loaded")
    assert event.details["rows"] == 2
    assert "12AB" not in json.dumps(event.details)


def test_a_file_with_one_bad_line_is_refused_whole_with_every_reason(
    office: Office, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        "12AB00;2024-2025;31,4",
        "12AB0;2024-2025;30",
        "12AB01;2024-2026;30",
        "12AB02;2024-2025;123456782",
        "12AB03;2024-2025",
        "12AB00;2024-2025;29",
    )
    done = load_reference(path, actor="test")
    assert not done.accepted
    assert [line for line, _ in done.problems] == [3, 4, 5, 6, 7]
    reasons = " ".join(reason for _, reason in done.problems)
    assert "123456782" not in reasons  # a reason never quotes what the line held
    assert "the school and year of line 2 again" in reasons
    assert _kept() == []
    assert AuditEvent.objects.filter(action="office.reference_refused").count() == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("brinvest,schooljaar,schoolweging\n12AB00,2024-2025,30\n", "the header"),
        (HEADER, "no rows"),
        (HEADER + "12AB00;2024-2025;nan\n", "not a number from 20 to 40"),
        (HEADER + "12AB00;2024-2025;19.9\n", "not a number from 20 to 40"),
    ],
)
def test_what_is_no_reference_file(office: Office, tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "schoolweging.csv"
    path.write_text(text, encoding="utf-8")
    done = load_reference(path, actor="test")
    assert not done.accepted
    assert reason in done.problems[0][1]


def test_loading_again_replaces_the_same_school_and_year_only(
    office: Office, tmp_path: Path
) -> None:
    load_reference(_file(tmp_path, "12AB00;2024-2025;31", "12AB00;2025-2026;32"), actor="test")
    done = load_reference(_file(tmp_path, "12AB00;2025-2026;35,5"), actor="test")
    assert (done.new, done.replaced) == (0, 1)
    assert sorted((r["schooljaar"], r["schoolweging"]) for r in _kept()) == [
        ("2024-2025", 31.0),
        ("2025-2026", 35.5),
    ]


def test_a_new_school_key_rekeys_the_reference_with_the_deliveries(
    office: Office, tmp_path: Path
) -> None:
    office.receive(office.delivery(pupils()))
    load_reference(_file(tmp_path, "12AB00;2024-2025;31"), actor="test")
    before = services.pseudonyms().school(SCHOOL.code)
    services.rotate_key("school", actor="test")
    after = services.pseudonyms().school(SCHOOL.code)
    assert after != before
    assert [r["school"] for r in _kept()] == [after]
    with services.open_vault() as vault:
        delivered = {
            str(s) for (s,) in vault.con.execute("SELECT school FROM deliveries").fetchall()
        }
    assert delivered == {after}


def test_the_console_loads_it_and_synth_writes_it_outside_the_exports(
    office: Office, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exports, reference = tmp_path / "exports", tmp_path / "schoolweging.csv"

    def synth(into: Path, *more: str) -> int:
        return main(
            ["synth", "--schools", "3", "--out", str(exports), "--reference", str(into), *more]
        )

    assert synth(exports / "r.csv") == 2  # inside the exports, which `school import` reads whole
    capsys.readouterr()
    assert synth(reference, "--json") == 0
    assert json.loads(capsys.readouterr().out)["reference"]["rows"] == 3
    assert main(["office", "reference-load", str(reference), "--json"]) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert (loaded["rows"], loaded["schools"], loaded["years"]) == (3, 3, ["2025-2026"])
    with reference.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ";".join(rows[0]) + "\n" + rows[1][0] + ";2025-2026;41;Utrecht\n", encoding="utf-8"
    )
    assert main(["office", "reference-load", str(bad), "--json"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["problems"] == [
        {"line": 2, "reason": "the schoolweging is not a number from 20 to 40"}
    ]


def test_a_province_may_follow_and_is_one_of_the_twelve(office: Office, tmp_path: Path) -> None:
    path = tmp_path / "metprovincie.csv"
    path.write_text(
        "brinvest;schooljaar;schoolweging;provincie\n"
        "12AB00;2024-2025;31,4;friesland\n34CD01;2024-2025;22.0;\n",
        encoding="utf-8",
    )
    found = read_reference(path)
    assert [r.province for r in found.rows] == ["Fryslân", None]
    path.write_text(
        "brinvest;schooljaar;schoolweging;provincie\n12AB00;2024-2025;31,4;Rotterdam-Zuid\n",
        encoding="utf-8",
    )
    (problem,) = read_reference(path).problems
    assert problem == (2, "the provincie is not one of the twelve provinces (e.g. Utrecht)")
    office.receive(office.delivery(pupils()))
    path.write_text(
        "brinvest;schooljaar;schoolweging;provincie\n12AB00;2024-2025;31,4;Utrecht\n",
        encoding="utf-8",
    )
    assert load_reference(path, actor="test").accepted
    assert _kept()[0]["provincie"] == "Utrecht"
