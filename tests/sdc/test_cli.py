"""``cohortsafe sdc``, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cohortsafe.cli import main

from ._data import frame, pupils_in, spread


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    rows = []
    for region, size in (("N", 60), ("S", 50), ("W", 6)):
        for domain in ("x", "y"):
            rows += pupils_in(
                {"region": region, "domain": domain},
                spread(size // 2, 6),
                scores=[100.0 + i for i in range(size // 2)],
            )
    path = tmp_path / "results.parquet"
    frame(rows).to_parquet(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().out


def _crosstab(capsys: pytest.CaptureFixture[str], data: Path, *options: str) -> tuple[int, str]:
    """``sdc crosstab DATA`` with the pseudonym columns of the test data, and ``options``."""
    return _run(
        capsys, "sdc", "crosstab", str(data), "--pupil", "pupil", "--school", "school", *options
    )


def test_crosstab_json_shape(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _crosstab(
        capsys,
        data_file,
        "--index",
        "region",
        "--columns",
        "domain",
        "--suppress",
        "--json",
    )
    assert status == 0
    document = json.loads(out)
    cells = document["cells"]
    assert len(cells) == 4 * 3
    west = [c for c in cells if c["index"] == {"region": "W"}]
    assert all(c["value"] is None and c["status"] == "primary" for c in west)
    assert west[0]["reasons"][0] == "min_pupils: fewer than 10 pupils"
    assert {c["status"] for c in cells} == {"ok", "primary", "secondary"}
    total = next(
        c for c in cells if c["index"] == {"region": "All"} and c["columns"] == {"domain": "All"}
    )
    assert total["value"] == 116


def test_crosstab_without_suppress_fails_when_recoverable(
    data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _crosstab(
        capsys,
        data_file,
        "--index",
        "region",
        "--columns",
        "domain",
    )
    assert status == 1
    assert "outcome: fail" in out
    assert "W" in out
    assert "x" in out
    # a failed table shows none of its values, its margins included
    assert "116" not in out


def test_crosstab_text_mean(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _crosstab(
        capsys,
        data_file,
        "--index",
        "region",
        "--columns",
        "domain",
        "--values",
        "score",
        "--aggfunc",
        "mean",
        "--suppress",
    )
    assert status == 0
    assert out.splitlines()[0].split() == ["region", "x", "y", "All"]
    assert "secondary_suppression" in out


def test_policy_file_and_show(
    data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "strict.toml"
    policy.write_text('name = "custom"\nextends = "research"\n[min_pupils]\nthreshold = 40\n')
    status, out = _crosstab(
        capsys,
        data_file,
        "--index",
        "region",
        "--policy",
        str(policy),
        "--suppress",
        "--json",
    )
    assert status == 0
    cells = json.loads(out)["cells"]
    assert next(c for c in cells if c["index"] == {"region": "S"})["status"] != "ok"
    status, out = _run(capsys, "sdc", "policy", "research", "--json")
    assert status == 0
    assert json.loads(out)["policy"]["min_pupils"] == {"threshold": 10}


def test_errors_exit_with_reasons(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _crosstab(
        capsys,
        data_file,
        "--index",
        "nope",
        "--json",
    )
    assert status == 1
    assert json.loads(out)["error"]["message"] == "the data have no column 'nope'"
    status, _ = _run(capsys, "sdc", "crosstab", str(data_file), "--pupil", "pupil")
    assert status == 2
