"""Pupil and school identifiers: the eleven test, onderwijsnummers and BRIN, as properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.domain import (
    SchoolCode,
    canonical_pgn,
    canonical_postcode,
    is_bsn,
    is_onderwijsnummer,
)
from cohortsafe.errors import IdentifierError

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def _weighted(prefix: str) -> int:
    return sum(w * int(d) for w, d in zip(WEIGHTS, prefix, strict=True))


@st.composite
def bsns(draw: st.DrawFn) -> str:
    """BSNs built from the definition: the last digit makes the weighted sum ≡ 0 (mod 11)."""
    prefix = draw(st.integers(10_000_000, 99_999_999).map(str))
    check = _weighted(prefix) % 11
    if check == 10:
        prefix = str(int(prefix) + 1) if prefix != "99999999" else "99999998"
        check = _weighted(prefix) % 11
    if check == 10:  # two neighbours can't both fail; this branch is a safety net
        prefix, check = "11122233", 3
    return prefix + str(check)


@st.composite
def onderwijsnummers(draw: st.DrawFn) -> str:
    """Onderwijsnummers: start with 10 and the weighted sum is ≡ 5 (mod 11)."""
    while True:
        prefix = "10" + draw(st.integers(0, 999_999).map(lambda n: f"{n:06d}"))
        check = (_weighted(prefix) - 5) % 11
        if check < 10:
            return prefix + str(check)


@given(bsns())
def test_bsns_pass_the_eleven_test(number: str) -> None:
    assert is_bsn(number)
    assert canonical_pgn(number, None).number == number
    assert canonical_pgn(number, None).kind == "bsn"


@given(bsns(), st.integers(0, 8), st.integers(1, 9))
def test_any_single_digit_change_breaks_a_bsn(number: str, position: int, delta: int) -> None:
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert not is_bsn("".join(digits))


@given(bsns(), st.integers(0, 7))
def test_swapping_two_different_neighbours_breaks_a_bsn(number: str, position: int) -> None:
    digits = list(number)
    if digits[position] == digits[position + 1]:
        return
    digits[position], digits[position + 1] = digits[position + 1], digits[position]
    assert not is_bsn("".join(digits))


@given(onderwijsnummers())
def test_onderwijsnummers_are_valid_and_never_a_bsn(number: str) -> None:
    assert is_onderwijsnummer(number)
    assert not is_bsn(number)
    assert canonical_pgn(None, number).kind == "onderwijsnummer"


@given(bsns(), onderwijsnummers())
def test_the_bsn_wins_when_both_are_given(bsn: str, onr: str) -> None:
    assert canonical_pgn(bsn, onr).number == bsn


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_errors_never_contain_the_number(number: str) -> None:
    if is_bsn(number):
        return
    with pytest.raises(IdentifierError) as caught:
        canonical_pgn(number, None)
    assert number not in str(caught.value)


def test_separators_are_allowed_and_removed() -> None:
    assert canonical_pgn("1112.22.333", None).number == "111222333"


def test_no_number_at_all_is_an_error() -> None:
    with pytest.raises(IdentifierError, match="neither"):
        canonical_pgn("", "  ")


@given(
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
)
def test_brin_with_vestiging_round_trips(digits: str, letters: str, vestiging: str) -> None:
    code = SchoolCode.parse(f"{digits}{letters.lower()}{vestiging}")
    assert code == SchoolCode(digits + letters, vestiging)
    assert code.code == digits + letters + vestiging


@pytest.mark.parametrize("text", ["1ABC00", "AB1200", "12AB0", "12A", "", "12AB0A"])
def test_malformed_brins_are_refused(text: str) -> None:
    with pytest.raises(IdentifierError):
        SchoolCode.parse(text)


def test_a_bare_brin_means_the_main_location() -> None:
    assert SchoolCode.parse("12AB").vestiging == "00"


@pytest.mark.parametrize(("text", "expected"), [("1234 ab", "1234AB"), ("1234AB", "1234AB")])
def test_postcodes_are_made_canonical(text: str, expected: str) -> None:
    assert canonical_postcode(text) == expected


@pytest.mark.parametrize("text", ["0123AB", "1234 SS", "12345", "1234 A"])
def test_invalid_postcodes_are_refused(text: str) -> None:
    with pytest.raises(IdentifierError):
        canonical_postcode(text)


@given(st.text(alphabet="0123456789 .-", min_size=1, max_size=12))
def test_a_bsn_has_nine_digits_or_eight_with_a_lost_leading_zero(text: str) -> None:
    """python-stdnum pads short numbers with zeros; "12" or "1000007" is no BSN."""
    digits = "".join(c for c in text if c.isdigit())
    try:
        pgn = canonical_pgn(text, None)
    except IdentifierError:
        return
    assert len(digits) in (8, 9)
    assert pgn.number == digits.zfill(9)
    assert is_bsn(pgn.number)


@pytest.mark.parametrize("text", ["12", "1000007", "12 34 56", "0", "1 2", "１１１２２２３３３"])
def test_short_or_spaced_numbers_are_refused(text: str) -> None:
    with pytest.raises(IdentifierError, match="9 digits"):
        canonical_pgn(text, None)


def test_an_eight_digit_bsn_gets_its_leading_zero_back() -> None:
    # 012345611 passes the eleven test; a spreadsheet shows it as 12345611
    assert is_bsn("012345611")
    assert canonical_pgn("12345611", None).number == "012345611"


def test_an_onderwijsnummer_has_exactly_nine_digits() -> None:
    with pytest.raises(IdentifierError, match="9 digits"):
        canonical_pgn(None, "10000007")
