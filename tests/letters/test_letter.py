"""The parent letter: filled in, Dutch by default, and covering every point parents are owed."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from cohortsafe.app.school import services
from cohortsafe.cli import main
from cohortsafe.letters import LetterFacts, render_letter
from tests.exportkit import ExportKit

FACTS = LetterFacts(
    "OBS De Linde & Co", "de administratie <info@delinde.example>", dt.date(2027, 3, 7)
)

# Each point the letter must cover, as words that show it does (per language).
POINTS = {
    "nl": {
        "why results are kept": ["kwaliteit", "Inspectie van het Onderwijs"],
        "what goes to CBS": [
            "begrijpend lezen",
            "spelling",
            "rekenen-wiskunde",
            "kinderdagverblijf",
            "peuterspeelzaal",
            "VVE",
            "CBS",
        ],
        "pseudonymisation and secure environment": [
            "pseudonimiseren",
            "beveiligde omgeving",
            "NCO",
        ],
        "nothing published traces back": ["Niets wat wordt gepubliceerd"],
        "how and until when to object": ["bezwaar", "7 maart 2027", "de administratie"],
        "what happens after objecting": ["verwijderen", "geen enkel gevolg"],
        "special categories only with consent": ["uitdrukkelijk toestemming", "intrekken"],
    },
    "en": {
        "why results are kept": ["quality", "Inspectorate"],
        "what goes to CBS": [
            "reading comprehension",
            "spelling",
            "mathematics",
            "day nursery",
            "playgroup",
            "VVE",
            "CBS",
        ],
        "pseudonymisation and secure environment": ["pseudonymisation", "secure", "NCO"],
        "nothing published traces back": ["Nothing that is published"],
        "how and until when to object": ["object", "7 March 2027", "de administratie"],
        "what happens after objecting": ["delete", "no consequences"],
        "special categories only with consent": ["explicitly consented", "withdraw"],
    },
}


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_letter_covers_every_point(lang: str, fmt: str) -> None:
    text = render_letter(FACTS, lang=lang, fmt=fmt)
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text)) if fmt == "html" else text
    plain = " ".join(plain.split())
    for point, words in POINTS[lang].items():
        for word in words:
            assert word in plain, f"{lang}/{fmt}: {point} lacks {word!r}"
    assert "OBS De Linde & Co" in plain


def test_html_escapes_what_the_school_typed() -> None:
    page = render_letter(FACTS, fmt="html")
    assert "&lt;info@delinde.example&gt;" in page
    assert "<info@" not in page
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="nl">' in page


def test_the_form_address_appears_only_when_there_is_one() -> None:
    assert "formulier" not in render_letter(FACTS).split("Bezwaar maken")[1].split("Vanaf")[0]
    with_form = LetterFacts(FACTS.school, FACTS.contact, FACTS.deadline, "https://x.example/b")
    assert "https://x.example/b" in render_letter(with_form)


@pytest.mark.django_db
def test_the_console_writes_the_letter_for_the_school(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services.import_exports(
        [ExportKit.valid().write(tmp_path / "x")], actor="t", today=dt.date(2026, 11, 30)
    )
    out = tmp_path / "brief.html"
    assert main(["school", "letter", "--out", str(out)]) == 1
    assert "school set" in capsys.readouterr().err
    assert main(["school", "set", "--name", "OBS De Linde", "--contact", "juf Anna"]) == 0
    assert main(["school", "letter", "--out", str(out)]) == 0
    page = out.read_text()
    assert "OBS De Linde" in page
    assert "juf Anna" in page
    assert "7&nbsp;maart" in page  # a date never breaks across lines
