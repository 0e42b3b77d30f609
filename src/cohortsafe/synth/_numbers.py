"""Streams of unique, valid synthetic BSNs and onderwijsnummers.

A multiplicative map over the prefix space visits every prefix once in a
scrambled order; prefixes whose check digit would be 10 are skipped, so every
number handed out passes its check and none repeats.

>>> from stdnum.nl import bsn, onderwijsnummer
>>> numbers = NumberStream(seed=7)
>>> b = numbers.bsns(1000)
>>> all(bsn.is_valid(f"{n:09d}") for n in b) and len(set(b.tolist())) == 1000
True
>>> o = numbers.onderwijsnummers(1000)
>>> all(onderwijsnummer.is_valid(f"{n:09d}") for n in o)
True
"""

from __future__ import annotations

import numpy as np

_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)

# BSN prefixes: 8 digits from 10000000 (no leading zeros, so BSNs print as 9 digits).
_BSN_LOW, _BSN_SPAN = 10_000_000, 89_999_999
# Onderwijsnummer prefixes: "10" and six free digits.
_ONR_LOW, _ONR_SPAN = 10_000_000, 1_000_000


def _digits(prefixes: np.ndarray) -> np.ndarray:
    powers = 10 ** np.arange(7, -1, -1, dtype=np.int64)
    return (prefixes[:, None] // powers) % 10


class NumberStream:
    """Hands out BSNs and onderwijsnummers, each at most once, deterministically."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 11])
        self._bsn_step = self._coprime(rng, _BSN_SPAN)
        self._onr_step = self._coprime(rng, _ONR_SPAN)
        self._bsn_offset = int(rng.integers(_BSN_SPAN))
        self._onr_offset = int(rng.integers(_ONR_SPAN))
        self._bsn_next = 0
        self._onr_next = 0

    @staticmethod
    def _coprime(rng: np.random.Generator, span: int) -> int:
        while True:
            step = int(rng.integers(span // 3, span - 1))
            if np.gcd(step, span) == 1:
                return step

    def _take(self, count: int, *, bsn: bool) -> np.ndarray:
        out: list[np.ndarray] = []
        needed = count
        while needed > 0:
            batch = needed + needed // 8 + 16
            if bsn:
                k = np.arange(self._bsn_next, self._bsn_next + batch, dtype=np.int64)
                self._bsn_next += batch
                if self._bsn_next > _BSN_SPAN:
                    raise OverflowError("the synthetic BSN space is used up")
                prefixes = _BSN_LOW + (k * self._bsn_step + self._bsn_offset) % _BSN_SPAN
                check = (_digits(prefixes) @ _WEIGHTS) % 11  # last digit ≡ sum (mod 11)
            else:
                k = np.arange(self._onr_next, self._onr_next + batch, dtype=np.int64)
                self._onr_next += batch
                if self._onr_next > _ONR_SPAN:
                    raise OverflowError("the synthetic onderwijsnummer space is used up")
                prefixes = _ONR_LOW + (k * self._onr_step + self._onr_offset) % _ONR_SPAN
                check = ((_digits(prefixes) @ _WEIGHTS) - 5) % 11
            usable = check < 10
            numbers = prefixes[usable] * 10 + check[usable]
            out.append(numbers[:needed])
            needed -= len(out[-1])
            # what a batch handed out beyond `needed` is discarded, never reused
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def bsns(self, count: int) -> np.ndarray:
        return self._take(count, bsn=True)

    def onderwijsnummers(self, count: int) -> np.ndarray:
        return self._take(count, bsn=False)
