"""Synthetic microdata for the disclosure-control tests, built in code."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pandas as pd

_pupils = itertools.count()


def pupils_in(
    labels: dict[str, Any],
    schools: Sequence[int],
    *,
    school_prefix: str = "s",
    scores: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """Rows for one cell: ``schools[k]`` new pupils at school ``k`` (one result each)."""
    rows = []
    for k, count in enumerate(schools):
        for _ in range(count):
            rows.append({**labels, "pupil": f"p{next(_pupils)}", "school": f"{school_prefix}{k}"})
    if scores is not None:
        for row, score in zip(rows, scores, strict=True):
            row["score"] = float(score)
    return rows


def spread(n: int, schools: int) -> list[int]:
    """``n`` pupils over ``schools`` schools as evenly as possible."""
    base, extra = divmod(n, schools)
    return [base + (1 if k < extra else 0) for k in range(schools)]


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows))


def background(column: str, label: Any, n: int = 200, schools: int = 20) -> list[dict[str, Any]]:
    """A large, safe cell so that the table's totals are safe too."""
    return pupils_in({column: label}, spread(n, schools), school_prefix="bg")
