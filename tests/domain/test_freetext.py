"""The free-text rules both sides apply: numbers found wherever they hide, names as words."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.domain import SCALES, is_bsn, is_onderwijsnummer
from cohortsafe.domain.freetext import NameMatcher, bad_characters, holds_pgn, pgn_in_text
from cohortsafe.domain.names import FIRST_NAMES_BOYS, FIRST_NAMES_GIRLS, SURNAMES
from cohortsafe.synth._vendors import VENDORS

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def _check_digit(first: str, remainder: int) -> str | None:
    """The ninth digit that makes ``first`` weigh ``remainder`` mod 11, if one exists."""
    digit = (sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) - remainder) % 11
    return None if digit == 10 else str(digit)


_DIGITS = "0123456789"


@st.composite
def pgns(draw: st.DrawFn) -> str:
    """A BSN or an onderwijsnummer: eight digits and the check digit that fits them."""
    onderwijsnummer = draw(st.booleans())
    remainder = 5 if onderwijsnummer else 0
    first = draw(
        st.text(_DIGITS, min_size=6 if onderwijsnummer else 8, max_size=6 if onderwijsnummer else 8)
        .map(lambda d: "10" + d if onderwijsnummer else d)
        .filter(lambda d: d != "0" * 8 and _check_digit(d, remainder) is not None)
    )
    number = first + str(_check_digit(first, remainder))
    assert is_onderwijsnummer(number) if onderwijsnummer else is_bsn(number)
    return number


def _written(number: str, style: int) -> str:
    return [
        number,
        f"{number[:4]}.{number[4:6]}.{number[6:]}",
        f"{number[:3]} {number[3:6]} {number[6:]}",
    ][style]


_WORDS = st.text("abcXYZ ë-()/", max_size=12)


@given(pgns(), st.integers(0, 2), _WORDS, _WORDS)
def test_a_pgn_is_found_wherever_it_stands(
    number: str, style: int, before: str, after: str
) -> None:
    # a digit or separator touching the number would make it another number
    text = f"{before}x {_written(number, style)} x{after}"
    assert pgn_in_text(text)
    assert holds_pgn(pa.array(["Cito Rekenen", text])).tolist() == [False, True]


@given(st.lists(st.text("0123456789 .-aM", max_size=30), max_size=20), st.booleans())
def test_the_vectorised_check_agrees_with_the_rule(texts: list[str], apart: bool) -> None:
    """The regex that picks candidates never drops a value the rule would refuse."""
    found = holds_pgn(pa.array(texts), apart=apart).tolist()
    assert found == [pgn_in_text(t, apart=apart) for t in texts]


@given(pgns(), st.integers(0, 2), st.sampled_from(["", " ", "(", "x-", ": "]))
def test_apart_a_pgn_is_found_unless_glued_to_a_letter(number: str, style: int, edge: str) -> None:
    text = f"Cito{edge}{_written(number, style)}{edge[::-1]}"
    assert pgn_in_text(text, apart=True) == (edge != "")


def test_hex_pseudonyms_hold_no_pgn_apart() -> None:
    """Why the scan looks for numbers apart: pseudonyms are hex, rich in digit runs."""
    hexes = pa.array([hashlib.sha256(str(i).encode()).hexdigest() for i in range(3000)])
    assert holds_pgn(hexes).any()
    assert not holds_pgn(hexes, apart=True).any()


def test_nulls_and_repeats_are_spread_back_over_the_rows() -> None:
    values = pa.chunked_array([["x 123456782", None], ["x 123456782", "y"]])
    assert holds_pgn(values).tolist() == [True, False, True, False]


def _latin(ch: str) -> bool:
    """A Latin letter (ASCII to Latin Extended-B) or a combining diacritic, by Unicode's names."""
    name = unicodedata.name(ch, "")
    if 0x300 <= ord(ch) <= 0x36F:
        return True
    return ord(ch) <= 0x24F and ch.isalpha() and name.startswith("LATIN") and ch not in "ªº"


@given(st.text(st.characters(max_codepoint=0x2FFF), max_size=20))
def test_only_the_allowed_characters_pass(text: str) -> None:
    ok = all(_latin(ch) or ch in "0123456789 .,-–_/()+&':" for ch in text)
    assert bad_characters(pa.array([text])).tolist() == [not ok]


def test_the_names_use_only_allowed_characters() -> None:
    every = [*FIRST_NAMES_BOYS, *FIRST_NAMES_GIRLS, *(f"{t} {a}" for t, a in SURNAMES)]
    assert not bad_characters(pa.array(every)).any()


ALL_NAMES = NameMatcher(
    [*FIRST_NAMES_BOYS, *FIRST_NAMES_GIRLS, *(f"{t} {a}".strip() for t, a in SURNAMES)]
)


def _generated_test_names() -> list[str]:
    return [f"{v.test_prefix} {label}" for v in VENDORS for _, label in v.domain_labels]


def test_the_generators_test_names_hold_none_of_its_names() -> None:
    """Checked on the raw words too, so no name is spared by the test-word list alone."""
    names = {n.casefold() for n in (*FIRST_NAMES_BOYS, *FIRST_NAMES_GIRLS)}
    names |= {part.casefold() for _, surname in SURNAMES for part in surname.split()}
    for toets in _generated_test_names():
        assert not set(re.split(r"[\s\-]+", toets.casefold())) & names, toets
    assert not ALL_NAMES.found_in(pa.array(_generated_test_names())).any()


def test_the_generators_scales_are_codes() -> None:
    assert {v.scale for v in VENDORS} <= set(SCALES)


def test_every_common_name_is_found_in_a_sentence() -> None:
    sentences = pa.array([f"toets ({u.upper()}) m6" for u in ALL_NAMES.units])
    assert ALL_NAMES.found_in(sentences).all()
    assert len(ALL_NAMES.units) > 90


def test_names_are_matched_as_words_in_any_case() -> None:
    names = NameMatcher.of_pupils(
        pa.array(["Daan Pieter", "Zoë"]), pa.array(["'t", None]), pa.array(["Hart", "Ait Taleb"])
    )
    texts = ["x PIETER", "daan!", "Daantje", "'t  hart", "Hart", "ait taleb", "Taleb", "zoë", None]
    assert names.found_in(pa.array(texts)).tolist() == [
        True,
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    assert NameMatcher([]).found_in(pa.array(["Daan"])).tolist() == [False]
    assert isinstance(names.found_in(pa.array([], pa.string())), np.ndarray)
