"""Pseudonyms: the vectorised HMAC is Python's hmac, byte for byte; keys stay secret."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.nl import bsn, onderwijsnummer

from cohortsafe.errors import ConfigurationError, ExistsError
from cohortsafe.pseudonym import KeyChain, PseudonymKey, hmac_hex, load_key, new_key, write_key
from cohortsafe.vault import pgn_kinds

KEY = PseudonymKey("p-test", "pupil", "ab" * 32)


def _reference(secret_hex: str, value: str) -> str:
    return hmac.new(secret_hex.encode(), value.encode(), hashlib.sha256).hexdigest()


@given(st.lists(st.text(max_size=40), max_size=50), st.binary(min_size=32, max_size=32))
def test_vectorised_hmac_equals_pythons(values: list[str], secret: bytes) -> None:
    key = PseudonymKey("k", "pupil", secret.hex())
    assert hmac_hex(key, pa.array(values, pa.string())).to_pylist() == [
        _reference(key.secret_hex, v) for v in values
    ]


@given(
    st.lists(
        st.text(alphabet="0123456789", min_size=9, max_size=9), min_size=1, max_size=30, unique=True
    )
)
def test_distinct_pgns_get_distinct_pseudonyms(pgns: list[str]) -> None:
    out = KeyChain((KEY,)).pseudonyms(pa.array(pgns))
    assert len(set(out.to_pylist())) == len(pgns)
    assert all(len(p) == 64 for p in out.to_pylist())


def test_a_chain_applies_every_key_in_order() -> None:
    second = PseudonymKey("p-two", "pupil", "cd" * 32)
    chained = KeyChain((KEY, second)).pseudonyms(["111222333"])[0].as_py()
    assert chained == _reference(second.secret_hex, _reference(KEY.secret_hex, "111222333"))


@given(st.text(alphabet="0123456789", min_size=0, max_size=11))
def test_the_vectorised_check_agrees_with_python_stdnum(value: str) -> None:
    (kind,) = pgn_kinds(pa.array([value], pa.string()))
    expected = (
        1
        if bsn.is_valid(value) and len(value) == 9
        else (2 if onderwijsnummer.is_valid(value) else 0)
    )
    assert kind == expected


@given(st.integers(0, 999_999_999))
def test_the_vectorised_check_agrees_on_every_nine_digit_number(number: int) -> None:
    value = f"{number:09d}"
    (kind,) = pgn_kinds(pa.array([value]))
    assert (kind == 1) == bsn.is_valid(value)
    assert (kind == 2) == onderwijsnummer.is_valid(value)


def test_key_files_are_private_and_the_secret_never_shows(tmp_path: Path) -> None:
    key = new_key("pupil")
    path = write_key(key, tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key(path) == key
    assert key.secret_hex not in repr(key)
    with pytest.raises(ExistsError, match="never overwritten"):
        write_key(key, tmp_path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load_key(path)
