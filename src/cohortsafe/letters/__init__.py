"""The information letter for parents: why results are kept, what goes to CBS, how to object.

>>> import datetime as dt
>>> facts = LetterFacts("OBS De Linde", "de administratie (info@delinde.example)",
...                     dt.date(2027, 3, 7))
>>> text = render_letter(facts, lang="nl", fmt="md")
>>> "7 maart 2027" in text and "OBS De Linde" in text
True
>>> "<h1>" in render_letter(facts, lang="en", fmt="html")
True
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from cohortsafe.letters._content import CONTENT, FORM_SENTENCE, Block

__all__ = ["FORMATS", "LANGUAGES", "LetterFacts", "render_letter"]

LANGUAGES = tuple(CONTENT)
FORMATS = ("md", "html")
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


@dataclass(frozen=True)
class LetterFacts:
    """What the letter is filled with."""

    school: str
    contact: str
    deadline: dt.date
    form_url: str | None = None


def _date(day: dt.date, lang: str) -> str:
    return f"{day.day} {_MONTHS[lang][day.month - 1]} {day.year}"


def _fill(text: str, facts: LetterFacts, lang: str, escape: bool) -> str:
    def value(raw: str) -> str:
        return html.escape(raw) if escape else raw

    form = FORM_SENTENCE[lang].format(form_url=value(facts.form_url)) if facts.form_url else ""
    return text.format(
        school=value(facts.school),
        contact=value(facts.contact),
        deadline=_date(facts.deadline, lang),
        form_sentence=form,
    )


def render_letter(facts: LetterFacts, *, lang: str = "nl", fmt: str = "md") -> str:
    """The letter in ``lang`` (nl, en) as Markdown or a standalone HTML page."""
    if lang not in CONTENT:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    blocks: list[Block] = CONTENT[lang]
    if fmt == "md":
        return _markdown(blocks, facts, lang)
    return _html(blocks, facts, lang)


def _markdown(blocks: list[Block], facts: LetterFacts, lang: str) -> str:
    parts = []
    for kind, body in blocks:
        if isinstance(body, list):
            parts.append("\n".join(f"- {_fill(item, facts, lang, False)}" for item in body))
            continue
        text = _fill(body, facts, lang, False)
        if not text:
            continue
        parts.append({"h1": "# ", "h2": "## ", "p": ""}[kind] + text)
    return "\n\n".join(parts) + "\n"


def _html(blocks: list[Block], facts: LetterFacts, lang: str) -> str:
    body = []
    for kind, content in blocks:
        if isinstance(content, list):
            items = "".join(f"<li>{_fill(i, facts, lang, True)}</li>" for i in content)
            body.append(f"<ul>{items}</ul>")
            continue
        text = _fill(content, facts, lang, True)
        if text:
            body.append(f"<{kind}>{text}</{kind}>")
    title = _fill(str(blocks[0][1]), facts, lang, True)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.5}"
        "</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
