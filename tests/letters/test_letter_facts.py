"""The letter's facts held to the code: the delivery schema, the delivered domains, the vault."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from cohortsafe.app.school import services
from cohortsafe.domain import NCO_DOMAINS
from cohortsafe.domain.schemas import DELIVERY_SCHEMAS
from cohortsafe.letters import COLUMN_PHRASES, DELIVERED_ITEMS, LetterFacts, render_letter
from cohortsafe.vault import VAULT_SCHEMAS
from tests.exportkit import ExportKit

FACTS = LetterFacts(
    "OBS De Linde",
    "de administratie, info@delinde.example",
    dt.date(2027, 3, 7),
    made_on=dt.date(2026, 12, 1),
)
LANGS = {"nl": 0, "en": 1}


def _plain(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@pytest.mark.parametrize("lang", LANGS)
def test_every_delivered_column_has_a_phrase_in_the_delivered_list(lang: str) -> None:
    assert set(COLUMN_PHRASES) == set(DELIVERY_SCHEMAS)
    listed = " ".join(DELIVERED_ITEMS[lang])
    letter = _plain(render_letter(FACTS, lang=lang))
    for table, schema in DELIVERY_SCHEMAS.items():
        assert set(COLUMN_PHRASES[table]) == set(schema.names), table
        for column, phrases in COLUMN_PHRASES[table].items():
            phrase = phrases[LANGS[lang]]
            assert phrase in letter, f"{table}.{column}: {phrase!r}"
            if table != "bijzonder":  # named in the consent paragraph instead
                assert phrase in listed, f"{table}.{column}: {phrase!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_letter_never_says_addresses_or_postcodes_stay_at_school(lang: str) -> None:
    letter = _plain(render_letter(FACTS, lang=lang)).lower()
    for denial in (
        "adressen geven we nooit",
        "postcode geven we nooit",
        "never pass on names, addresses",
        "addresses",
    ):
        assert denial not in letter
    assert "postcode" in " ".join(DELIVERED_ITEMS[lang])


@pytest.mark.parametrize(
    ("lang", "kept", "removed"),
    [
        (
            "nl",
            "bewaart het CBS alleen de maand en het jaar",
            "verwijdert de postcode en het huisnummer",
        ),
        ("en", "keeps only the month and the year", "removes the postcode and the house number"),
    ],
)
def test_what_the_letter_says_the_office_keeps_matches_the_vault(
    lang: str, kept: str, removed: str
) -> None:
    pupils = VAULT_SCHEMAS["leerlingen"].names
    assert "geboortemaand" in pupils
    assert "geboortedatum" not in pupils
    assert "postcode" not in pupils
    assert "huisnummer" not in pupils
    letter = _plain(render_letter(FACTS, lang=lang))
    assert kept in letter
    assert removed in letter
    assert "verwijdert de geboortedatum" not in letter
    assert "removes the date of birth" not in letter


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", LANGS)
def test_every_sentence_has_at_most_twenty_words(lang: str, fmt: str) -> None:
    text = render_letter(FACTS, lang=lang, fmt=fmt)
    if fmt == "html":
        text = html.unescape(re.sub(r"<[^>]+>", "\n", text.split("<body>")[1]))
    lines = [re.sub(r"^(#+|-)\s+", "", line.strip()) for line in text.splitlines()]
    sentences = [s for line in lines for s in re.split(r"(?<=[.!?;:])\s+", line) if s.strip()]
    assert len(sentences) > 30
    for sentence in sentences:
        assert len(sentence.split()) <= 20, sentence


@pytest.mark.parametrize(
    ("lang", "points"),
    [
        (
            "nl",
            [
                "geen bijzondere persoonsgegevens",
                "niet over gezondheid",
                "algemeen belang",
                "vragen we u eerst uitdrukkelijk toestemming",
                "kunnen niet zien om welk kind",
                "CBS-wet",
                "eigen strenge regels",
                "www.cbs.nl",
                "www.nationaalcohortonderzoek.nl",
                "op onze school en in het hele land",
                "Namen en straatnamen geven we nooit door",
                "vrije tekst",
                "De directie van OBS De Linde",
                "Datum: 1 december 2026",
            ],
        ),
        (
            "en",
            [
                "not special-category data",
                "not about health",
                "public interest",
                "we will first ask for your explicit consent",
                "cannot see which child",
                "CBS-wet",
                "own strict rules",
                "www.cbs.nl",
                "www.nationaalcohortonderzoek.nl",
                "in our school and in the whole country",
                "never pass on names or street names",
                "free text",
                "The management of OBS De Linde",
                "Date: 1 December 2026",
            ],
        ),
    ],
)
def test_the_points_of_the_original_letter_are_there(lang: str, points: list[str]) -> None:
    letter = _plain(render_letter(FACTS, lang=lang, fmt="html"))
    for point in points:
        assert point in letter, point


@pytest.mark.parametrize(
    ("made", "deadline", "year"),
    [
        (dt.date(2026, 12, 1), "7 maart 2027", "2026-2027"),
        (dt.date(2027, 3, 7), "7 maart 2027", "2026-2027"),
        (dt.date(2027, 3, 8), "7 maart 2028", "2027-2028"),
        (dt.date(2027, 3, 10), "7 maart 2028", "2027-2028"),
    ],
)
@pytest.mark.django_db
def test_the_deadline_sentence_fits_the_day_the_letter_is_made(
    tmp_path: Path, made: dt.date, deadline: str, year: str
) -> None:
    services.import_exports(
        [ExportKit.valid().write(tmp_path / "x")], actor="t", today=dt.date(2026, 11, 30)
    )
    services.set_school(None, name="OBS De Linde", contact="juf Anna", actor="t")
    text = " ".join(services.parent_letter(None, lang="nl", fmt="md", today=made).split())
    assert f"vóór {deadline}. Dan verwerken we het vóór de levering over schooljaar {year}." in text


@pytest.mark.django_db
def test_the_letter_names_exactly_the_delivered_domains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.import_exports(
        [ExportKit.valid().write(tmp_path / "x")], actor="t", today=dt.date(2026, 11, 30)
    )
    services.set_school(None, name="OBS De Linde", contact="juf Anna", actor="t")
    assert "rekenen-wiskunde, begrijpend lezen en spelling" in services.parent_letter(
        None, lang="nl", fmt="md"
    )
    monkeypatch.setenv("COHORTSAFE_DELIVERY_DOMAINS", "spelling")
    nl = services.parent_letter(None, lang="nl", fmt="md")
    en = services.parent_letter(None, lang="en", fmt="md")
    assert "de toetsen voor spelling:" in nl
    assert "the tests in spelling:" in en
    for name in ("rekenen", "begrijpend", "mathematics", "reading comprehension"):
        assert name not in nl
        assert name not in en


def test_the_letter_refuses_a_domain_outside_the_nco_set() -> None:
    with pytest.raises(ValueError, match="only NCO domains"):
        render_letter(
            LetterFacts("S", "c", dt.date(2027, 3, 7), domains=(*NCO_DOMAINS, "technisch_lezen"))
        )


def test_the_html_is_made_for_a_phone_with_a_mailto_link_and_unbroken_dates() -> None:
    page = render_letter(FACTS, fmt="html")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<a href="mailto:info@delinde.example">' in page
    assert "7&nbsp;maart&nbsp;2027" in page
    assert "7 maart 2027" not in page
    style = re.search(r"<style>(.*)</style>", page).group(1)  # type: ignore[union-attr]
    assert not re.search(r"(?<!max-)width:\s*\d", style)
    assert "mailto:" not in render_letter(
        LetterFacts("S", "juf Anna", dt.date(2027, 3, 7)), fmt="html"
    )
    markdown = render_letter(FACTS, fmt="md")
    assert "7\u00a0maart\u00a02027" in markdown
    assert "7 maart 2027" not in markdown
