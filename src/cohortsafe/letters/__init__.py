"""The information letter for parents: why results are kept, what goes to CBS, how to object.

The letter names exactly the delivered domains, and :data:`COLUMN_PHRASES` ties
every delivered column to the words that name it, so a test can hold the letter
to the delivery schema.

>>> import datetime as dt
>>> facts = LetterFacts("OBS De Linde", "de administratie (info@delinde.example)",
...                     dt.date(2027, 3, 7))
>>> text = render_letter(facts, lang="nl", fmt="md")
>>> "7\\u00a0maart\\u00a02027" in text and "OBS De Linde" in text
True
>>> "schooljaar 2026-2027" in text
True
>>> "<h1>" in render_letter(facts, lang="en", fmt="html")
True
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from cohortsafe.domain.codes import NCO_DOMAINS, SchoolYear
from cohortsafe.letters._content import (
    AND,
    CONTENT,
    DOMAIN_NAMES,
    EN_DELIVERED,
    FORM_SENTENCE,
    MADE_ON,
    NL_DELIVERED,
    Block,
)

__all__ = [
    "COLUMN_PHRASES",
    "DELIVERED_ITEMS",
    "FORMATS",
    "LANGUAGES",
    "LetterFacts",
    "domain_names",
    "letter_body",
    "render_letter",
]

LANGUAGES = tuple(CONTENT)
FORMATS = ("md", "html")
DELIVERED_ITEMS = {"nl": NL_DELIVERED, "en": EN_DELIVERED}

#: Per delivered table and column, the words of the letter's delivered list that name it
#: (Dutch, English). A test checks this against cohortsafe.domain.schemas both ways.
COLUMN_PHRASES: dict[str, dict[str, tuple[str, str]]] = {
    "leerlingen": {
        "pgn": ("het burgerservicenummer of het onderwijsnummer", "the citizen service number"),
        "geboortedatum": ("de geboortedatum", "the date of birth"),
        "geslacht": ("het geslacht", "the sex"),
        "postcode": ("de postcode", "the postcode"),
        "huisnummer": ("het huisnummer", "the house number"),
        "huisnummertoevoeging": ("(met toevoeging)", "(with any addition)"),
        "jaargroep": ("de groep", "the class"),
        "brin": ("de school", "the school"),
        "vestiging": ("de school", "the school"),
    },
    "toetsresultaten": {
        "pgn": ("het burgerservicenummer of het onderwijsnummer", "the citizen service number"),
        "toets": ("de toets", "the test"),
        "leergebied": ("de toetsen voor", "the tests in"),
        "toetsmoment": ("het moment", "the moment"),
        "schooljaar": ("het moment", "the moment"),
        "jaargroep": ("de groep", "the class"),
        "afnamedatum": ("het moment", "the moment"),
        "vaardigheidsscore": ("de score", "the score"),
        "schaal": ("de score", "the score"),
        "niveau": ("het niveau", "the level"),
    },
    "voorschool": {
        "pgn": ("het burgerservicenummer of het onderwijsnummer", "the citizen service number"),
        "soort": ("kinderdagverblijf, peuterspeelzaal of voorschool", "day nursery, playgroup"),
        "maanden": ("hoe lang", "how long"),
        "dagdelen_per_week": ("dagdelen per week", "half-days a week"),
    },
    # Only with consent for a study; the letter says so in its own paragraph.
    "bijzonder": {
        "pgn": ("het burgerservicenummer of het onderwijsnummer", "the citizen service number"),
        "categorie": ("bijzondere persoonsgegevens", "special-category data"),
        "datum": ("bijzondere persoonsgegevens", "special-category data"),
    },
}

_MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class LetterFacts:
    """What the letter is filled with.

    ``deadline`` is the next objection deadline; the delivery it concerns is of
    the school year containing it. ``domains`` are the delivered domain codes.
    """

    school: str
    contact: str
    deadline: dt.date
    form_url: str | None = None
    domains: tuple[str, ...] = field(default=NCO_DOMAINS)
    made_on: dt.date | None = None


def domain_names(domains: tuple[str, ...], lang: str) -> str:
    """``a, b en c`` in the letter's language, in the NCO order."""
    names = [DOMAIN_NAMES[lang][code] for code in NCO_DOMAINS if code in domains]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {AND[lang]} {names[-1]}"


def _date(day: dt.date, lang: str, fmt: str) -> str:
    space = "&nbsp;" if fmt == "html" else "\u00a0"
    return space.join((str(day.day), _MONTHS[lang][day.month - 1], str(day.year)))


def _contact(contact: str, fmt: str) -> str:
    if fmt != "html":
        return contact
    match = _EMAIL.search(contact)
    if not match:
        return html.escape(contact)
    return f'<a href="mailto:{html.escape(match.group(0))}">{html.escape(contact)}</a>'


def _fill(text: str, facts: LetterFacts, lang: str, fmt: str) -> str:
    def value(raw: str) -> str:
        return html.escape(raw) if fmt == "html" else raw

    form = FORM_SENTENCE[lang].format(form_url=value(facts.form_url)) if facts.form_url else ""
    made_on = facts.made_on or dt.date.today()
    return text.format(
        school=value(facts.school),
        contact=_contact(facts.contact, fmt),
        deadline=_date(facts.deadline, lang, fmt),
        period=SchoolYear.containing(facts.deadline),
        domains=domain_names(facts.domains, lang),
        form_sentence=form,
        place_date=MADE_ON[lang].format(made_on=_date(made_on, lang, fmt)),
    )


def _blocks(facts: LetterFacts, lang: str) -> list[Block]:
    if lang not in CONTENT:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    unknown = [code for code in facts.domains if code not in NCO_DOMAINS]
    if unknown or not facts.domains:
        raise ValueError(f"the letter names only NCO domains: {', '.join(NCO_DOMAINS)}")
    return CONTENT[lang]


def render_letter(facts: LetterFacts, *, lang: str = "nl", fmt: str = "md") -> str:
    """The letter in ``lang`` (nl, en) as Markdown or a standalone HTML page."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    blocks = _blocks(facts, lang)
    if fmt == "md":
        return _markdown(blocks, facts, lang)
    return _html(blocks, facts, lang)


def _markdown(blocks: list[Block], facts: LetterFacts, lang: str) -> str:
    parts = []
    for kind, body in blocks:
        if isinstance(body, list):
            parts.append("\n".join(f"- {_fill(item, facts, lang, 'md')}" for item in body))
            continue
        text = _fill(body, facts, lang, "md")
        if not text:
            continue
        parts.append({"h1": "# ", "h2": "## ", "p": ""}[kind] + text)
    return "\n\n".join(parts) + "\n"


_STYLE = (
    "body{font-family:sans-serif;max-width:40em;margin:0 auto;padding:1em;line-height:1.5;"
    "font-size:1.05rem;overflow-wrap:break-word}h1{font-size:1.5em}h2{font-size:1.2em}"
    "a{word-break:break-all}"
)


def _html_body(blocks: list[Block], facts: LetterFacts, lang: str) -> str:
    body = []
    for kind, content in blocks:
        if isinstance(content, list):
            items = "".join(f"<li>{_fill(i, facts, lang, 'html')}</li>" for i in content)
            body.append(f"<ul>{items}</ul>")
            continue
        text = _fill(content, facts, lang, "html")
        if text:
            body.append(f"<{kind}>{text}</{kind}>")
    return "\n".join(body)


def letter_body(facts: LetterFacts, *, lang: str = "nl") -> str:
    """The HTML letter's body only (every value escaped), to show inside another page."""
    return _html_body(_blocks(facts, lang), facts, lang)


def _html(blocks: list[Block], facts: LetterFacts, lang: str) -> str:
    title = _fill(str(blocks[0][1]), facts, lang, "html")
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
        + _html_body(blocks, facts, lang)
        + "\n</body>\n</html>\n"
    )
