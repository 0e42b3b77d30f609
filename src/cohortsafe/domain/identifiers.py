"""Identifiers of pupils and schools, checked with python-stdnum.

A pupil is identified by a *persoonsgebonden nummer* (PGN): the BSN, or an
onderwijsnummer when the pupil has no BSN (yet). Both are nine digits; a BSN
passes the eleven test (weighted sum ≡ 0 mod 11), an onderwijsnummer starts
with ``10`` and its weighted sum is ≡ 5 mod 11, so the two can never collide
and the nine digits alone are the canonical form.

A school location is a BRIN (two digits, two letters) plus a two-digit
*vestiging*.

Error messages name the check that failed, never the number.

>>> canonical_pgn(bsn="1112.22.333", onderwijsnummer=None)
Pgn(kind='bsn', number='111222333')
>>> canonical_pgn(bsn="12 34 56", onderwijsnummer=None)
Traceback (most recent call last):
cohortsafe.errors.IdentifierError: bsn must have 9 digits (or 8, when a leading zero was lost)
>>> SchoolCode.parse("00aa 01")
SchoolCode(brin='00AA', vestiging='01')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from stdnum.exceptions import ValidationError
from stdnum.nl import brin as _brin
from stdnum.nl import bsn as _bsn
from stdnum.nl import onderwijsnummer as _onderwijsnummer
from stdnum.nl import postcode as _postcode

from cohortsafe.errors import IdentifierError

__all__ = [
    "Pgn",
    "SchoolCode",
    "canonical_pgn",
    "canonical_postcode",
    "is_bsn",
    "is_onderwijsnummer",
    "is_pgn",
]

PgnKind = Literal["bsn", "onderwijsnummer"]


def is_bsn(value: str) -> bool:
    """True when ``value`` is a BSN by the eleven test (separators allowed)."""
    return bool(_bsn.is_valid(value))


def is_onderwijsnummer(value: str) -> bool:
    """True when ``value`` is a valid onderwijsnummer."""
    return bool(_onderwijsnummer.is_valid(value))


def is_pgn(value: str) -> bool:
    """True when ``value`` is a BSN or an onderwijsnummer."""
    return is_bsn(value) or is_onderwijsnummer(value)


@dataclass(frozen=True, slots=True)
class Pgn:
    """A pupil's persoonsgebonden nummer in canonical form (nine digits)."""

    kind: PgnKind
    number: str

    def __repr__(self) -> str:
        return f"Pgn(kind={self.kind!r}, number={self.number!r})"

    def __str__(self) -> str:
        return self.number


def canonical_pgn(bsn: str | None, onderwijsnummer: str | None) -> Pgn:
    """The pupil's PGN: the BSN when present, else the onderwijsnummer.

    Raises :class:`IdentifierError` naming the failed check when the present
    number is invalid, or when neither is given.
    """
    bsn = (bsn or "").strip()
    onderwijsnummer = (onderwijsnummer or "").strip()
    if bsn:
        digits = _digits(bsn)
        # python-stdnum pads any short number with zeros; only a lost leading zero is a BSN
        if len(digits) == 8:
            digits = "0" + digits
        if len(digits) != 9:
            raise IdentifierError("bsn must have 9 digits (or 8, when a leading zero was lost)")
        try:
            return Pgn("bsn", _bsn.validate(digits))
        except ValidationError:
            raise IdentifierError("bsn fails the eleven test") from None
    if onderwijsnummer:
        digits = _digits(onderwijsnummer)
        if len(digits) != 9:
            raise IdentifierError("onderwijsnummer must have 9 digits")
        try:
            return Pgn("onderwijsnummer", _onderwijsnummer.validate(digits))
        except ValidationError:
            raise IdentifierError("onderwijsnummer fails its check") from None
    raise IdentifierError("neither a bsn nor an onderwijsnummer is given")


_SEPARATORS = re.compile(r"[\s.\-]")


def _digits(value: str) -> str:
    """``value`` without the dots, dashes and spaces a spreadsheet may add; "" unless digits."""
    compact = _SEPARATORS.sub("", value)
    return compact if compact.isascii() and compact.isdigit() else ""


def canonical_postcode(value: str) -> str:
    """A Dutch postcode as ``1234AB``; raises :class:`IdentifierError` if invalid."""
    try:
        return str(_postcode.validate(value)).replace(" ", "")
    except ValidationError:
        raise IdentifierError("not a Dutch postcode") from None


@dataclass(frozen=True, slots=True, order=True)
class SchoolCode:
    """A school location: BRIN plus vestiging, written together as ``00AA01``."""

    brin: str
    vestiging: str

    def __post_init__(self) -> None:
        if not (_brin.is_valid(self.brin) and len(self.brin) == 4):
            raise IdentifierError("brin must be two digits and two letters")
        if not (len(self.vestiging) == 2 and self.vestiging.isdigit()):
            raise IdentifierError("vestiging must be two digits")

    @classmethod
    def parse(cls, value: str) -> SchoolCode:
        """Parse ``00AA01`` (separators allowed); a bare BRIN means vestiging ``00``."""
        try:
            compact = str(_brin.validate(value))
        except ValidationError:
            raise IdentifierError("not a BRIN with vestiging") from None
        return cls(compact[:4], compact[4:] or "00")

    @property
    def code(self) -> str:
        return self.brin + self.vestiging

    def __str__(self) -> str:
        return self.code
