"""Free text that leaves the school, and what it may not hold.

Two delivered columns are text an LVS user types: ``toets`` (product and
version, which differ by vendor and year, so no closed list is honest) and
``huisnummertoevoeging``. Every other delivered string column is a code from a
closed list (``schaal`` among them). A free-text value is kept as written, but
refused when it

- holds a BSN or onderwijsnummer (nine digits passing their check), even inside
  other text and written with dots or dashes;
- holds, as a whole word and in any case, a name of a pupil of the same export
  (only the school knows them: the office checks the rest);
- has a character other than Latin letters (with their diacritics), digits 0-9,
  spaces and ``. , - – _ / ( ) + & ' :`` (no line breaks, no ``@`` of an e-mail
  address, no other script's digits that would carry a number past the digit check);
- is longer than its column allows.

School and office apply these same functions, so what the school delivers the
office accepts. Each works on a column's *distinct* values: a column of a million
rows holds a few dozen tests.

>>> holds_pgn(pa.array(["Cito M6 123456782", "Cito 3.0 2024-2025", "x 1234.56.782", None]))
array([ True, False,  True, False])
>>> names = NameMatcher.of_pupils(pa.array(["Zoë Anna"]), pa.array(["van der"]), pa.array(["Meer"]))
>>> names.found_in(pa.array(["Rekenen ZOË", "Meer lezen", "Toets Van der Meer", "Zoëlla"]))
array([ True, False,  True, False])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.domain.codes import ALIASES
from cohortsafe.domain.identifiers import is_bsn, is_onderwijsnummer

__all__ = [
    "ALLOWED_CHARACTERS",
    "FREE_TEXT",
    "NameMatcher",
    "bad_characters",
    "holds_pgn",
    "pgn_in_text",
    "refusals",
]

Column = tuple[str, str]  # (table, column)

#: The delivered free-text columns with their maximum length.
FREE_TEXT: dict[Column, int] = {
    ("leerlingen", "huisnummertoevoeging"): 10,
    ("toetsresultaten", "toets"): 80,
}

ALLOWED_CHARACTERS = "Latin letters, digits, spaces and . , - – _ / ( ) + & ' :"
# Latin letters: ASCII, Latin-1, Latin Extended-A and -B, and combining diacritics. Explicit
# ranges, not \pL: Arrow compiles a regex on every call and RE2's Unicode letter class takes
# milliseconds to build; and Python and RE2 read ranges alike whatever their Unicode versions.
_LETTERS = "A-Za-zÀ-ÖØ-öø-ɏ\u0300-\u036f"
_ALLOWED = f"^[{_LETTERS}0-9 .,\\-–_/()+&':]*$"

# Any nine digits with at most one separator between two: every value holding a PGN matches,
# almost no test name does, so only these few go on to the eleven test in Python.
_NINE_DIGITS = r"[0-9](?:[ .\-]?[0-9]){8}"
# A run of digit groups joined by single dots or dashes (1234.56.782, 123-456-782). A space
# ends a run: "Cito 3.0 2024-2025" is three runs, not the nine digits 0, 2024 and 2025 that
# happen to pass the eleven test.
_RUN = re.compile(r"[0-9]+(?:[.\-][0-9]+)*")
# ... except the two ways a BSN is written with spaces.
_SPACED = re.compile(
    r"(?<![0-9])(?:[0-9]{3} [0-9]{3} [0-9]{3}|[0-9]{4} [0-9]{2} [0-9]{3})(?![0-9])"
)
_GROUPS = re.compile(r"[.\-]")


def pgn_in_text(text: str, *, apart: bool = False) -> bool:
    """True when ``text`` holds a BSN or onderwijsnummer among its digits.

    Every stretch of consecutive digit groups of a run with exactly nine digits is
    tried, so neither a version glued on ("3.0-123456782") nor separators hide one.
    Eight digits are not read as a BSN that lost its leading zero, as the import
    does for the bsn column: every date written 20250115 would then pass one time
    in eleven. With ``apart``, nine digits touching a letter do not count: a
    hexadecimal pseudonym holds a nine-digit run that passes the eleven test once
    in a few dozen values.

    >>> pgn_in_text("Cito 3.0-123456782"), pgn_in_text("123 456 782"), pgn_in_text("1234567820")
    (True, True, False)
    >>> pgn_in_text("ab123456782"), pgn_in_text("ab123456782", apart=True)
    (True, False)
    """

    def glued(start: int, end: int) -> bool:
        before = start > 0 and text[start - 1].isalnum()
        return apart and (before or (end < len(text) and text[end].isalnum()))

    for match in _SPACED.finditer(text):
        if not glued(*match.span()) and _is_pgn(match.group().replace(" ", "")):
            return True
    for run in _RUN.finditer(text):
        groups = _GROUPS.split(run.group())
        start = run.start()
        for first in range(len(groups)):
            digits, end = "", start
            for group in groups[first:]:
                digits += group
                end += len(group) + 1
                if len(digits) >= 9:
                    break
            if len(digits) == 9 and not glued(start, end - 1) and _is_pgn(digits):
                return True
            start += len(groups[first]) + 1
    return False


def _is_pgn(digits: str) -> bool:
    return is_bsn(digits) or is_onderwijsnummer(digits)


def _distinct(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct values, and per row the index of its value (one past the last for null)."""
    encoded = pc.dictionary_encode(_combined(values).cast(pa.string()))
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary))
    return encoded.dictionary, np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _spread(
    test: Callable[[pa.Array], np.ndarray], distinct: pa.Array, index: np.ndarray
) -> np.ndarray:
    """``test`` run on the distinct values only, spread back over the rows (nulls: False)."""
    hits = test(distinct) if len(distinct) else np.zeros(0, bool)
    spread: np.ndarray = np.append(hits.astype(bool), False)[index]
    return spread


def _per_value(
    values: pa.Array | pa.ChunkedArray, test: Callable[[pa.Array], np.ndarray]
) -> np.ndarray:
    return _spread(test, *_distinct(values))


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    found = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _pgns(distinct: pa.Array, *, apart: bool = False) -> np.ndarray:
    out = _matches(distinct, _NINE_DIGITS)
    for index in np.flatnonzero(out):
        out[index] = pgn_in_text(distinct[int(index)].as_py(), apart=apart)
    return out


def _bad(distinct: pa.Array) -> np.ndarray:
    return ~_matches(distinct, _ALLOWED)


def holds_pgn(values: pa.Array | pa.ChunkedArray, *, apart: bool = False) -> np.ndarray:
    """Per row: the value holds a BSN or onderwijsnummer (see :func:`pgn_in_text`)."""
    return _per_value(values, lambda distinct: _pgns(distinct, apart=apart))


def bad_characters(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row: the value has a character outside :data:`ALLOWED_CHARACTERS`."""
    return _per_value(values, _bad)


def too_long(values: pa.Array | pa.ChunkedArray, max_length: int) -> np.ndarray:
    """Per row: the value is longer than ``max_length`` characters."""
    longer = pc.fill_null(pc.greater(pc.utf8_length(values), max_length), False)
    return np.asarray(longer.to_numpy(zero_copy_only=False), dtype=bool)


# Words test names are made of (vendors, products, domains, moments). A pupil whose name is one
# of them (a surname Boom, as the publisher's) makes no test name a leak, and without this one
# such pupil would have every "Boom LVS" result of the school refused.
_TEST_WORDS = frozenset(
    {"cito", "boom", "iep", "lvs", "dia", "route", "toets", "leerling", "beeld", "versie", "groep"}
    | {
        word
        for column in ("leergebied", "toetsmoment")
        for codes, aliases in [ALIASES[column]]
        for text in (*codes, *aliases)
        for word in re.split(r"[\s_]+", text.casefold())
    }
)
# Shorter names are left out: two letters are what test names abbreviate with (BL, RW, M6, in),
# and a name part of one or two letters (Bo, Li, Ng) would match them, not a leak.
_SHORTEST = 3
_TEST_WORD_KEYS = pa.array(sorted(_TEST_WORDS), pa.string())


_WORD_SEPARATORS = f"[^{_LETTERS}0-9]+"


class NameMatcher:
    """Finds any of a set of names as a whole word (or words) in text, ignoring case.

    Text and names are cut into words (runs of Latin letters and digits, in lower
    case); a name is found where its words stand one after the other. This is set
    look-ups in Arrow, not a regex of every name: RE2 would compile one anew for
    each export.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self._use(_keys(pa.array(list(names), pa.string())))

    def _use(self, keys: pa.Array) -> None:
        """Look up ``keys`` (from :func:`_keys`), in Arrow: a school's names are many."""
        keys = pc.unique(keys.filter(pc.fill_null(pc.greater(pc.utf8_length(keys), 0), False)))
        sharp = pc.match_substring(keys, "ß")
        if pc.any(sharp).as_py():  # "Eßer" is also "Esser"
            spelled = pc.replace_substring(keys.filter(sharp), "ß", "ss")
            keys = pc.unique(pa.concat_arrays([keys, spelled]))
        spaces = pc.count_substring(keys, " ")
        letters = pc.subtract(pc.utf8_length(keys), spaces)
        kept = pc.and_(
            pc.greater_equal(letters, _SHORTEST),
            pc.invert(pc.is_in(keys, value_set=_TEST_WORD_KEYS)),
        )
        keys, words = keys.filter(kept), pc.add(spaces.filter(kept), 1)
        self._by_length = {n: keys.filter(pc.equal(words, n)) for n in pc.unique(words).to_pylist()}

    @property
    def units(self) -> list[str]:
        """Every name looked up, in lower case, sorted."""
        return sorted(k for same in self._by_length.values() for k in same.to_pylist())

    @classmethod
    def of_pupils(
        cls,
        voornamen: pa.Array | pa.ChunkedArray,
        tussenvoegsel: pa.Array | pa.ChunkedArray,
        achternaam: pa.Array | pa.ChunkedArray,
    ) -> NameMatcher:
        """Each given name, and each surname with its tussenvoegsel ("van der Meer").

        The surname alone is not matched when it has a tussenvoegsel: "Meer", "Berg",
        "Wit" and "Jong" are Dutch words a test name may hold; "van der Meer" is not.
        """
        surnames = pc.binary_join_element_wise(
            pc.fill_null(_combined(tussenvoegsel), ""), pc.fill_null(_combined(achternaam), ""), " "
        )
        given = _combined(voornamen).cast(pa.string())
        keys = _keys(pa.concat_arrays([given, surnames.cast(pa.string())]))
        given_words = pc.list_flatten(pc.split_pattern(keys[: len(given)], " "))
        matcher = cls.__new__(cls)
        matcher._use(pa.concat_arrays([given_words, keys[len(given) :]]))
        return matcher

    def found_in(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per row: the value holds one of the names."""
        return _per_value(values, self._test)

    def _test(self, distinct: pa.Array) -> np.ndarray:
        hit = np.zeros(len(distinct), dtype=bool)
        if not self._by_length:
            return hit
        text = pc.utf8_lower(pc.utf8_normalize(distinct, "NFC"))
        lists = pc.split_pattern_regex(text, _WORD_SEPARATORS)
        words = pc.list_flatten(lists)
        parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
        real = np.asarray(pc.utf8_length(words).to_numpy(zero_copy_only=False)) > 0
        words = words.filter(pa.array(real))  # "" before a leading or after a trailing separator
        parents = parents[real]
        grams = words
        for n in range(1, max(self._by_length) + 1):
            if n > 1:  # grams[i]: the n words from words[i] on
                grams = pc.binary_join_element_wise(grams[:-1], words[n - 1 :], " ")
            if len(grams) == 0:
                break
            if n not in self._by_length:
                continue
            within = parents[: len(grams)] == parents[n - 1 :]
            found = np.asarray(
                pc.is_in(grams, value_set=self._by_length[n]).to_numpy(zero_copy_only=False),
                dtype=bool,
            )
            hit[parents[: len(grams)][found & within]] = True
        return hit


def _keys(names: pa.Array) -> pa.Array:
    """Each name as its words in lower case, one space between: how it is looked up."""
    lowered = pc.utf8_lower(pc.utf8_normalize(names, "NFC"))
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(lowered, _WORD_SEPARATORS, " "))


def refusals(
    columns: Mapping[Column, pa.Array | pa.ChunkedArray],
    *,
    lengths: bool = True,
    names: NameMatcher | None = None,
) -> list[tuple[Column, str, np.ndarray]]:
    """Each reason to refuse free-text ``columns``: (column, reason, the rows it holds for).

    All columns are checked in one pass over their distinct values. With
    ``lengths`` the maximum lengths of :data:`FREE_TEXT` apply. The reasons never
    quote a value; the school passes its pupils' ``names``, the office, which has
    none, does not.
    """
    keys = list(columns)
    arrays = [_combined(columns[k]) for k in keys]
    if not arrays:
        return []
    tests = [
        ("holds a BSN or onderwijsnummer", _pgns),
        (f"has characters other than {ALLOWED_CHARACTERS}", _bad),
    ]
    if names is not None:
        tests.append(("holds the name of a pupil", names._test))
    distinct, index = _distinct(pa.concat_arrays([a.cast(pa.string()) for a in arrays]))
    bounds = np.cumsum([0, *(len(a) for a in arrays)])
    out = []
    for reason, test in tests:
        rows = _spread(test, distinct, index)
        out += [(k, reason, rows[bounds[i] : bounds[i + 1]]) for i, k in enumerate(keys)]
    if lengths:
        for key, array in zip(keys, arrays, strict=True):
            longest = FREE_TEXT[key]
            out.append((key, f"is longer than {longest} characters", too_long(array, longest)))
    return [(key, reason, rows) for key, reason, rows in out if rows.any()]


def _combined(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
