"""Special categories and childcare kinds as LVS products write them map to one code."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from cohortsafe.domain import (
    CHILDCARE_KINDS,
    SPECIAL_CATEGORIES,
    childcare_code,
    special_category_code,
)
from cohortsafe.domain.codes import ALIASES

SPECIAL = ALIASES["categorie"][1]
CHILDCARE = ALIASES["soort"][1]
ALL_SPELLINGS = {word for _, aliases in ALIASES.values() for word in aliases}


def _respelled(word: str, data: st.DataObject) -> str:
    """``word`` with each letter in either case and each space as a run of separators."""
    letters = [c.upper() if data.draw(st.booleans()) else c.lower() for c in word]
    text = "".join(letters)
    return re.sub(
        " ", lambda _: data.draw(st.sampled_from([" ", "  ", "-", "_", " - ", "/"])), text
    )


@given(st.sampled_from(sorted(SPECIAL)), st.data())
def test_every_special_alias_in_any_spelling_maps_to_its_code(
    alias: str, data: st.DataObject
) -> None:
    written = " " * data.draw(st.integers(0, 2)) + _respelled(alias, data)
    assert special_category_code(written) == SPECIAL[alias]


@given(st.sampled_from(sorted(CHILDCARE)), st.data())
def test_every_childcare_alias_in_any_spelling_maps_to_its_kind(
    alias: str, data: st.DataObject
) -> None:
    assert childcare_code(_respelled(alias, data) + " ") == CHILDCARE[alias]


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz()- ", min_size=1, max_size=12))
def test_unknown_words_are_refused(word: str) -> None:
    normal = re.sub(r"[\s_\-/.]+", " ", word.lower()).strip()
    if normal not in ALL_SPELLINGS:
        assert special_category_code(word) is None
        assert childcare_code(word) is None


def test_the_alias_tables_are_normalised_and_map_onto_the_code_lists() -> None:
    for codes, aliases in ALIASES.values():
        for alias, code in aliases.items():
            assert alias == re.sub(r"[\s_\-/.]+", " ", alias.lower()).strip()
            assert code in codes
    assert set(SPECIAL.values()) == set(SPECIAL_CATEGORIES)
    assert set(CHILDCARE.values()) == set(CHILDCARE_KINDS)
    for written, code in [
        ("Dyslexieverklaring", "dyslexie"),
        ("dyslexie-verklaring", "dyslexie"),
        ("DYS", "dyslexie"),
        ("AD(H)D", "adhd"),
        ("ASS", "autisme"),
        ("autismespectrumstoornis", "autisme"),
        ("dyscalculieverklaring", "dyscalculie"),
        ("medische verklaring", "medisch"),
    ]:
        assert special_category_code(written) == code
    for written, kind in [
        ("KDV", "kinderdagverblijf"),
        ("Kinderdagverblijf", "kinderdagverblijf"),
        ("PSZ", "peuterspeelzaal"),
        ("Peuteropvang", "peuterspeelzaal"),
        ("VVE-indicatie", "vve"),
        ("voorschool", "vve"),
        ("Voor- en vroegschoolse educatie", "vve"),
    ]:
        assert childcare_code(written) == kind
