"""Record ids and pseudonyms of an extract, on random tables with repeated rows."""

from __future__ import annotations

import hashlib
import hmac
import random

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.pseudonym import PROJECT, new_key
from cohortsafe.research._extract import _project_rows

KEY = new_key(PROJECT)
_ROW = st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["s1", "s2"]),
                 st.sampled_from([150.0, 151.5, None]))  # fmt: skip


def _table(rows: list[tuple[str, str, float | None]]) -> pa.Table:
    return pa.table(
        {
            "delivery_id": [f"d{i}" for i in range(len(rows))],  # differs: never in an id
            "pupil": [r[0] for r in rows],
            "school": [r[1] for r in rows],
            "vaardigheidsscore": pa.array([r[2] for r in rows], pa.float64()),
        }
    )


def _expected(purpose: str, value: str) -> str:
    message = f"{purpose}\x1f{value}".encode()
    # the key is used as its hex text, as everywhere in cohortsafe.pseudonym
    return hmac.new(KEY.secret_hex.encode(), message, hashlib.sha256).hexdigest()


@given(st.lists(_ROW, min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_ids_are_unique_and_do_not_depend_on_the_order_of_delivery(
    rows: list[tuple[str, str, float | None]], shuffle: random.Random
) -> None:
    first = _project_rows(_table(rows), "toetsresultaten", ("vaardigheidsscore",), KEY)
    again = list(rows)
    shuffle.shuffle(again)
    second = _project_rows(_table(again), "toetsresultaten", ("vaardigheidsscore",), KEY)
    records = first.column("record").to_pylist()
    assert len(set(records)) == len(rows)
    # the same rows in another order give the same ids, in the same order
    assert first.to_pylist() == second.to_pylist()
    assert set(first.column("pupil").to_pylist()) == {_expected("pupil", r[0]) for r in rows}
    assert set(first.column("school").to_pylist()) == {_expected("school", r[1]) for r in rows}
