"""Nothing of a failed output's values reaches any file ``finalise`` writes (issue 11 item 7)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cohortsafe.sdc import CheckedTable, Session

from ._data import frame, pupils_in, spread


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for region, size in (("N", 60), ("S", 50), ("W", 4)):
        for domain in ("lezen", "rekenen"):
            rows += pupils_in(
                {"region": region, "domain": domain}, spread(size, 6), school_prefix=region
            )
    data = frame(rows)
    # scores with four decimals, so every mean is a number no label or count can match
    data["score"] = rng.normal(200, 20, len(data)).round(4) + 0.0137
    return data


def _written_forms(value: float) -> set[str]:
    return {repr(value), f"{value:.1f}", f"{value:.2f}", f"{value:.3f}", f"{value:g}"}


def _withheld_values(session: Session) -> set[float]:
    """Every value a failed output computed, released or not: none may be written."""
    found: set[float] = set()
    for output in session.outputs.values():
        if output.outcome != "fail" or output.exception:
            continue
        result = output.result
        if isinstance(result, CheckedTable):
            values = [float(v) for v in result._values]
        else:
            values = [
                float(v)
                for row in result.rows
                for v in row.values()
                if isinstance(v, float | int) and not isinstance(v, bool)
            ]
        found.update(v for v in values if not np.isnan(v) and abs(v - round(v)) > 0.05)
    return found


def test_no_file_finalise_writes_holds_a_value_of_a_failed_output(tmp_path: Path) -> None:
    df = _data()
    sess = Session(suppress=False)  # every cell shown, the west's too: these outputs fail
    sess.crosstab(
        df.region,
        df.domain,
        values=df.score,
        aggfunc="mean",
        margins=True,
        pupil=df.pupil,
        school=df.school,
    )
    sess.describe(df, "score", by="region", statistics=["count", "mean", "std"])
    protected = Session()  # differencing against its own earlier output fails the whole table
    protected.crosstab(
        df.domain,
        None,
        values=df.score,
        aggfunc="mean",
        margins=True,
        pupil=df.pupil,
        school=df.school,
    )
    rest = df[df.region != "W"]
    protected.crosstab(
        rest.domain, None, values=rest.score, aggfunc="mean", pupil=rest.pupil, school=rest.school
    )
    for session, name in ((sess, "a"), (protected, "b")):
        withheld = _withheld_values(session)
        failed = [o for o in session.outputs.values() if o.outcome == "fail"]
        assert failed, name
        assert withheld, name
        folder = session.finalise(tmp_path / name)
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8")
            leaked = {v for v in withheld if _written_forms(v) & set(_tokens(text))}
            assert not leaked, f"{path.name} holds withheld values"


def _tokens(text: str) -> list[str]:
    """Every number-like token of ``text``."""
    return re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", text)


def test_a_failed_output_with_an_exception_goes_to_its_csv_only(tmp_path: Path) -> None:
    df = _data()
    sess = Session(suppress=False)
    sess.crosstab(
        df.region,
        df.domain,
        values=df.score,
        aggfunc="mean",
        margins=True,
        pupil=df.pupil,
        school=df.school,
    )
    sess.add_exception("output_0", "the checker may judge it")
    folder = sess.finalise(tmp_path / "out")
    values = {float(v) for v in sess.outputs["output_0"].result._values}
    csv = set(_tokens((folder / "output_0.csv").read_text()))
    assert any(_written_forms(v) & csv for v in values)
    for name in ("results.json", "index.html"):
        text = set(_tokens((folder / name).read_text()))
        assert not any(_written_forms(v) & text for v in values if abs(v - round(v)) > 0.05)
