"""Record ids and pseudonyms of an extract, on random tables with repeated rows."""

from __future__ import annotations

import hashlib
import hmac
import random

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.pseudonym import PROJECT, new_key
from cohortsafe.research._extract import _project_rows
from cohortsafe.research._records import RecordCipher

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


@given(st.lists(_ROW, min_size=1, max_size=30), st.data())
def test_a_retracted_row_takes_only_its_own_id(
    rows: list[tuple[str, str, float | None]], data: st.DataObject
) -> None:
    kept = data.draw(st.lists(st.sampled_from(range(len(rows))), unique=True))
    full = _project_rows(_table(rows), "toetsresultaten", ("vaardigheidsscore",), KEY)
    part = _project_rows(
        _table([rows[i] for i in kept]), "toetsresultaten", ("vaardigheidsscore",), KEY
    )
    # the ledger still knows every record that stays
    assert set(part.column("record").to_pylist()) <= set(full.column("record").to_pylist())


def test_ids_are_keyed_per_project_and_cover_what_the_project_was_not_given() -> None:
    rows = [("p1", "s1", 150.0), ("p2", "s1", 151.5), ("p3", "s2", None)]
    table = _table(rows)
    ids = set(_project_rows(table, "toetsresultaten", (), KEY).column("record").to_pylist())
    other = _project_rows(table, "toetsresultaten", (), new_key(PROJECT))
    # another project's ids (and pseudonyms) link to nothing here
    assert ids.isdisjoint(other.column("record").to_pylist())
    assert set(other.column("pupil").to_pylist()).isdisjoint(
        _project_rows(table, "toetsresultaten", (), KEY).column("pupil").to_pylist()
    )
    # the score was not approved, yet it is part of the row's id: rows that differ only
    # in it are told apart, and an id is no digest a researcher could try scores on
    changed = _table([("p1", "s1", 150.5), *rows[1:]])
    again = set(_project_rows(changed, "toetsresultaten", (), KEY).column("record").to_pylist())
    assert len(ids & again) == 2
    # the same content in another table is another record
    elsewhere = _project_rows(table, "leerlingen", (), KEY).column("record").to_pylist()
    assert ids.isdisjoint(elsewhere)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_coinciding_ids_are_told_apart_whatever_the_order(
    macs: list[int], shuffle: random.Random
) -> None:
    cipher = RecordCipher.of(KEY)
    # every id the same: the worst case of two rows whose 60 bits coincide
    blocks = np.array([[m, 7] for m in macs], np.uint64)
    ids = np.zeros(len(macs), np.uint64)
    unique = cipher.told_apart(ids, blocks)
    assert len(set(unique.tolist())) == len(macs)
    assert np.all(unique[1:] > unique[:-1])
    order = list(range(len(macs)))
    shuffle.shuffle(order)
    assert cipher.told_apart(ids, blocks[order]).tolist() == unique.tolist()
