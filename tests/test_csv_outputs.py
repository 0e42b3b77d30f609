"""No CSV the project writes holds a cell a spreadsheet would run as a formula (issue 10, item 13).

Each writer is made to write hostile text, and every cell of what it wrote is
read back: a cell beginning with = + - @ is either escaped with a quote or a
plain number.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.cli._demo_steps import write_registry
from cohortsafe.csvsafe import safe_cell
from cohortsafe.sdc import Session
from cohortsafe.synth import SynthSpec, write_exports
from tests.sdc._data import frame, pupils_in, spread

FORMULA = ("=", "+", "-", "@")
HOSTILE = ['=HYPERLINK("http://x")', "+31 6 1234", "-2+3", "@SUM(A1)", "=1"]


def _number(cell: str) -> bool:
    try:
        float(cell.replace(",", "."))
    except ValueError:
        return False
    return True


def _formulas(path: Path, delimiter: str = ",") -> list[tuple[int, str]]:
    """(line, cell) of every cell a spreadsheet would run."""
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if not raw.startswith(b"\xff") else raw.decode("utf-16")
    found = []
    for line, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        found += [(line, c) for c in row if c.startswith(FORMULA) and not _number(c)]
    return found


def test_research_outputs_escape_hostile_labels_and_keep_numbers(tmp_path: Path) -> None:
    rows = []
    for region, size in ((HOSTILE[0], 40), (HOSTILE[3], 40), ("-", 40)):
        for domain in ("lezen", HOSTILE[1]):
            rows += pupils_in({"region": region, "domain": domain}, spread(size, 7))
    data = frame(rows)
    data["score"] = np.random.default_rng(3).normal(-20, 5, len(data)).round(1)
    data = data.rename(columns={"region": "=region"})
    session = Session(policy="research")
    session.crosstab(
        data["=region"],
        data.domain,
        values=data.score,
        aggfunc="mean",
        pupil=data.pupil,
        school=data.school,
    )
    session.pivot_table(data, index="=region", columns="domain")
    session.describe(data, "score", by="=region", statistics=["count", "mean"])
    folder = session.finalise(tmp_path / "out")

    written = sorted(folder.glob("*.csv"))
    assert len(written) == 3
    for path in written:
        assert _formulas(path) == [], path.name
    table = pd.read_csv(folder / "output_0.csv", index_col=0)
    assert "'" + HOSTILE[0] in table.index
    assert "'" + HOSTILE[1] in table.columns
    # the means are negative numbers, written as numbers
    assert (table.to_numpy(dtype=float) < 0).all()


def test_the_demo_school_list_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    write_registry(path, ["12AB00", *HOSTILE], Path("-keys/school.pub"))
    assert _formulas(path) == []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1] == ["12AB00", "'-keys/school.pub"]


def test_synthetic_exports_hold_no_formula(tmp_path: Path) -> None:
    """synth writes exports as an LVS does, unescaped: it holds no such cell to escape."""
    write_exports(SynthSpec(schools=12, seed=3), tmp_path)
    files = sorted(tmp_path.rglob("*.csv"))
    assert files
    for path in files:
        raw = path.read_bytes()
        header = raw.split(b"\n", 1)[0]
        delimiter = next((d for d in ";\t," if d.encode() in header), ",")
        text = path.with_suffix(".utf8")
        try:
            text.write_text(raw.decode("utf-8-sig"), encoding="utf-8")
        except UnicodeDecodeError:
            text.write_text(raw.decode("cp1252"), encoding="utf-8")
        assert _formulas(text, delimiter) == [], path


@given(st.text(max_size=12))
def test_a_safe_cell_never_starts_a_formula(value: str) -> None:
    out = safe_cell(value)
    assert out in (value, "'" + value)
    assert not out.startswith((*FORMULA, "\t", "\r")) or _number(out)
