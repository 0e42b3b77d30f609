"""The public tables as CSV (``.`` for a figure kept secret) and as one readable page."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from typing import Any

from cohortsafe.csvsafe import safe_row
from cohortsafe.publish._public import TOTAL, PublicTable

__all__ = ["HIDDEN", "public_csv", "render_public_html", "symbols_note"]

#: CBS's symbol for a figure that is secret (here: suppressed to protect pupils or schools)
HIDDEN = "."

_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Leerlingen in het basisonderwijs: toetsen, voorschool, geslacht en provincie",
        "intro": (
            "Deze tabellen tellen leerlingen van de scholen die meedoen aan het Nationaal "
            "Cohortonderzoek Onderwijs, per groep en schooljaar. Geen tabel is uitgesplitst "
            "naar school."
        ),
        "leerlingen_per_leergebied": "Leerlingen met een eindtoets (E), per leergebied",
        "leerlingen_per_voorschool": "Leerlingen naar voorschoolse voorziening",
        "leerlingen_per_geslacht": "Leerlingen naar geslacht",
        "leerlingen_per_provincie": (
            "Leerlingen met een eindtoets (E), per provincie van de school en leergebied"
        ),
        "group": "Groep",
        "withheld": (
            "Deze tabel publiceren wij niet: samen met eerder gepubliceerde tabellen zou "
            "zij iets over een leerling of een school verraden."
        ),
        "symbols": "Verklaring van symbolen",
        "secret": ". = geheim: dit cijfer laten wij weg om leerlingen en scholen te beschermen",
        "total": (
            "Totaal = alle groepen, categorieën of schooljaren samen. Een leerling telt daarin "
            "één keer per schooljaar, en in de tabel per leergebied één keer per leergebied."
        ),
        "method": "Methode",
        "checked": (
            "Elk cijfer gaat over minstens {n} leerlingen van minstens {schools} scholen, en "
            "geen één of twee scholen hebben het grootste deel ervan. Weggelaten cijfers "
            "zijn zo gekozen dat ze niet terug te rekenen zijn uit de totalen, ook niet met "
            "de andere tabellen van deze en eerdere publicaties samen (beleid {policy})."
        ),
        "dp": (
            "Bij elk aantal is een toevallig getal opgeteld of afgetrokken (differential "
            "privacy, berekend met OpenDP). Zo zegt geen aantal iets over één leerling; "
            "kleine aantallen zijn daardoor onnauwkeurig. Privacybudget (epsilon) per tabel: "
            "{each}; samen: {total}. Totalen zijn sommen van de cellen; een aantal onder 0 "
            "staat er als 0."
        ),
    },
    "en": {
        "title": "Pupils in primary education: tests, early childhood care, sex and province",
        "intro": (
            "These tables count pupils of the schools that take part in the national "
            "cohort study of education, per group and school year. No table is broken "
            "down by school."
        ),
        "leerlingen_per_leergebied": "Pupils with an end test (E), by learning domain",
        "leerlingen_per_voorschool": "Pupils by early childhood care",
        "leerlingen_per_geslacht": "Pupils by sex",
        "leerlingen_per_provincie": (
            "Pupils with an end test (E), by the school's province and domain"
        ),
        "group": "Group",
        "withheld": (
            "We do not publish this table: together with tables published before it would "
            "give away something about a pupil or a school."
        ),
        "symbols": "Explanation of symbols",
        "secret": ". = secret: this figure is left out to protect pupils and schools",
        "total": (
            "Totaal = all groups, categories or school years together. A pupil counts once "
            "per school year in it, and in the table by domain once per domain."
        ),
        "method": "Method",
        "checked": (
            "Every figure counts at least {n} pupils of at least {schools} schools, and no "
            "one or two schools hold most of them. Figures left out are chosen so that they "
            "cannot be worked back from the totals, not even with the other tables of this "
            "and earlier publications (policy {policy})."
        ),
        "dp": (
            "The counts carry random noise (differential privacy, discrete Laplace noise "
            "by OpenDP), so that no count tells anything about one pupil. Privacy budget "
            "(epsilon) per table: {each}; in total: {total}. Totals are sums of the noisy "
            "cells; negative counts are shown as 0."
        ),
    },
}


#: how the page names the codes the CSV files keep
_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "rekenen_wiskunde": "rekenen-wiskunde",
        "begrijpend_lezen": "begrijpend lezen",
        "kinderdagverblijf": "kinderdagverblijf",
        "peuterspeelzaal": "peuterspeelzaal",
        "vve": "VVE",
        "geen": "geen",
        "M": "jongen",
        "V": "meisje",
        "X": "anders of onbekend",
        "leergebied": "Leergebied",
        "voorschool": "Voorschoolse voorziening",
        "geslacht": "Geslacht",
        "provincie": "Provincie",
        "onbekend": "provincie onbekend",
    },
    "en": {
        "rekenen_wiskunde": "mathematics",
        "begrijpend_lezen": "reading comprehension",
        "spelling": "spelling",
        "kinderdagverblijf": "day care",
        "peuterspeelzaal": "playgroup",
        "vve": "early childhood education (VVE)",
        "geen": "none",
        "M": "boy",
        "V": "girl",
        "X": "other or unknown",
        "leergebied": "Learning domain",
        "voorschool": "Early childhood care",
        "geslacht": "Sex",
        "provincie": "Province",
        "onbekend": "province unknown",
    },
}


def _label(code: str, lang: str) -> str:
    return _LABELS[lang].get(code, code)


def _decimal(value: float, lang: str) -> str:
    text = f"{value:.3g}"
    return text.replace(".", ",") if lang == "nl" else text


def symbols_note(lang: str = "nl") -> str:
    t = _TEXT[lang]
    return f"{t['symbols']}\n{t['secret']}\n{t['total']}\n"


def _shown(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def public_csv(table: PublicTable) -> bytes:
    """Long form: category, jaargroep (or domain), schooljaar, leerlingen (``.`` where
    secret)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row((table.spec.by, table.spec.second, "schooljaar", "leerlingen")))
    for (category, group, year), value in sorted(table.cells.items(), key=_order):
        writer.writerow(safe_row((category, group, year, _shown(value))))
    return buffer.getvalue().encode()


def _order(item: tuple[tuple[str, str, str], Any]) -> tuple[Any, ...]:
    (category, group, year), _ = item
    return (category == TOTAL, category, group == TOTAL, group.zfill(2), year == TOTAL, year)


def render_public_html(
    tables: Sequence[PublicTable],
    *,
    lang: str = "nl",
    min_pupils: int,
    min_schools: int,
    policy: str,
    dp_total: float | None = None,
) -> str:
    t = _TEXT[lang]
    out = [
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(t['title'])}</title>",
        "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:60rem;margin:2rem "
        "auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}table{border-collapse:collapse;"
        "margin:1rem 0}th,td{border:1px solid #999;padding:.25rem .6rem;text-align:right}"
        "th:first-child,td:first-child{text-align:left}th{background:#e8eef5}"
        ".note{background:#fff4d6;border-left:4px solid #b35c00;padding:.5rem 1rem}</style>",
        "</head>\n<body>\n<main>",
        f"<h1>{html.escape(t['title'])}</h1>",
        f"<p>{html.escape(t['intro'])}</p>",
    ]
    for table in tables:
        out.append(f"<section>\n<h2>{html.escape(t[table.spec.name])}</h2>")
        if not table.published:
            out.append(f'<p class="note">{html.escape(t["withheld"])}</p>\n</section>')
            continue
        out.append(_grid(table, lang))
        out.append("</section>")
    out.append(f"<section>\n<h2>{html.escape(t['symbols'])}</h2>")
    out.append(f"<p>{html.escape(t['secret'])}<br>{html.escape(t['total'])}</p>\n</section>")
    out.append(f"<section>\n<h2>{html.escape(t['method'])}</h2>")
    if dp_total is None:
        text = t["checked"].format(n=min_pupils, schools=min_schools, policy=policy)
    else:
        each = ", ".join(
            f"{t[table.spec.name].lower()} {_decimal(table.epsilon, lang)}"
            for table in tables
            if table.epsilon is not None
        )
        text = t["dp"].format(each=each, total=_decimal(dp_total, lang))
    out.append(f"<p>{html.escape(text)}</p>\n</section>")
    out.append("</main>\n</body>\n</html>\n")
    return "\n".join(out)


def _grid(table: PublicTable, lang: str) -> str:
    t = _TEXT[lang]
    second = t["group"] if table.spec.second == "jaargroep" else _label(table.spec.second, lang)
    years = [*table.years, TOTAL]
    rows = sorted(
        {(c, g) for c, g, _ in table.cells},
        key=lambda r: (r[0] == TOTAL, r[0], r[1] == TOTAL, r[1].zfill(2)),
    )
    head = "".join(f'<th scope="col">{html.escape(y)}</th>' for y in years)
    lines = [
        "<table>",
        f'<thead><tr><th scope="col">{html.escape(_label(table.spec.by, lang))}</th>'
        f'<th scope="col">{html.escape(second)}</th>{head}</tr></thead>',
        "<tbody>",
    ]
    for category, group in rows:
        values = "".join(
            f"<td>{html.escape(_shown(table.cells.get((category, group, y))))}</td>"
            if (category, group, y) in table.cells
            else "<td></td>"
            for y in years
        )
        lines.append(
            f'<tr><th scope="row">{html.escape(_label(category, lang))}</th>'
            f"<td>{html.escape(_label(group, lang))}</td>"
            f"{values}</tr>"
        )
    lines.append("</tbody></table>")
    return "\n".join(lines)
