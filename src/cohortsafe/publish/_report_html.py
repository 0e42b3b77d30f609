"""The school report as one self-contained HTML page (Dutch, or English), and as PDF.

The page needs nothing from outside: its style is in the page, its charts are inline SVG
with the numbers written beside the bars and repeated in a table, so it reads the same
without JavaScript, printed, or by a screen reader. The PDF is WeasyPrint's rendering of
the same HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from cohortsafe.errors import ConfigurationError
from cohortsafe.publish._school_report import Measures, ReportPart, ReportRow, SchoolReport

__all__ = ["LANGUAGES", "ReportHeading", "render_report_html", "render_report_pdf"]

LANGUAGES = ("nl", "en")

_DOMAINS = {
    "nl": {
        "rekenen_wiskunde": "Rekenen-wiskunde",
        "begrijpend_lezen": "Begrijpend lezen",
        "spelling": "Spelling",
    },
    "en": {
        "rekenen_wiskunde": "Mathematics",
        "begrijpend_lezen": "Reading comprehension",
        "spelling": "Spelling",
    },
}

_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Leerresultaten en groei",
        "year": "Schooljaar",
        "intro": (
            "Dit rapport laat zien hoeveel de leerlingen van uw school in dit schooljaar "
            "zijn gegroeid, van de middentoets (M) naar de eindtoets (E). Naast uw school "
            "staan het landelijk gemiddelde en de verwachte waarde: de uitkomst van een "
            "denkbeeldige school met dezelfde schoolweging als uw school."
        ),
        "own": (
            "Dit rapport is alleen voor uw school. Wij geven het niet aan het ministerie of "
            "aan de inspectie. Er staat geen naam van een leerling in, en geen cijfer van "
            "een andere school."
        ),
        "weging": "Schoolweging van uw school",
        "no_weging": "Van uw school is voor dit schooljaar geen schoolweging bekend.",
        "scale": "Toets (schaal)",
        "chart": "Groei per groep: uw school, landelijk en verwacht",
        "group": "Groep",
        "pupils": "Leerlingen",
        "m": "Gemiddelde M",
        "e": "Gemiddelde E",
        "groei": "Groei",
        "national": "Groei landelijk",
        "predicted": "Groei verwacht",
        "verdict": "Vergeleken met landelijk",
        "more": "Leerlingen met meer groei dan landelijk",
        "school_bar": "uw school",
        "national_bar": "landelijk",
        "predicted_bar": "verwacht",
        "about": "ongeveer gemiddeld",
        "above": "meer dan gemiddeld",
        "below": "minder dan gemiddeld",
        "none": "–",
        "withheld_part": (
            "Voor {domain} laten wij geen cijfers zien: bij minder dan de helft van de "
            "groepen hadden genoeg leerlingen een M- én een E-toets."
        ),
        "withheld_report": (
            "Voor dit schooljaar kunnen wij geen rapport maken: te weinig leerlingen van uw "
            "school hadden een M- én een E-toets."
        ),
        "notes": "Waarom een cijfer ontbreekt",
        "pupils_note": (
            "groep {group}: minder dan {n} leerlingen met een M- én een E-toets, daarom "
            "geen cijfers"
        ),
        "comparison_note": (
            "groep {group}: te weinig andere scholen met deze toets om mee te vergelijken"
        ),
        "reference_note": "geen verwachte waarde, omdat de schoolweging ontbreekt",
        "model_note": (
            "groep {group}: te weinig scholen met een schoolweging voor een verwachte waarde"
        ),
        "method": "Hoe wij rekenen en hoe wij leerlingen en scholen beschermen",
        "policy": (
            "Voor wie het wil controleren: beschermd volgens beleid {name} ({fingerprint}), "
            "vergelijkingen volgens beleid {cname}."
        ),
    },
    "en": {
        "title": "Learning results and growth",
        "year": "School year",
        "intro": (
            "This report shows how much the pupils of your school grew this school year, "
            "from the middle test (M) to the end test (E). Next to your school you see the "
            "national average and the predicted value: the result of a fictional school "
            "with the same schoolweging as yours."
        ),
        "own": (
            "This report is for your school only. We do not give it to the ministry or "
            "the inspectorate. It names no pupil and holds no figure of another school."
        ),
        "weging": "Your school's schoolweging",
        "no_weging": "No schoolweging of your school is known for this school year.",
        "scale": "Test (scale)",
        "chart": "Growth per group: your school, national and predicted",
        "group": "Group",
        "pupils": "Pupils",
        "m": "Mean M",
        "e": "Mean E",
        "groei": "Growth",
        "national": "Growth national",
        "predicted": "Growth predicted",
        "verdict": "Compared with national",
        "more": "Pupils who grew more than nationally",
        "school_bar": "your school",
        "national_bar": "national",
        "predicted_bar": "predicted",
        "about": "about average",
        "above": "above average",
        "below": "below average",
        "none": "–",
        "withheld_part": (
            "We show no figures for {domain}: in fewer than half of the groups enough "
            "pupils took both an M and an E test."
        ),
        "withheld_report": (
            "We cannot make a report for this school year: too few pupils of your school "
            "took both an M and an E test."
        ),
        "notes": "Why a figure is missing",
        "pupils_note": "group {group}: fewer than {n} pupils with both tests, so no figures",
        "comparison_note": "group {group}: too few other schools with this test to compare with",
        "reference_note": "no predicted value, as the schoolweging is missing",
        "model_note": "group {group}: too few schools with a schoolweging for a predicted value",
        "method": "How we compute, and how we protect pupils and schools",
        "policy": (
            "For those who check: protected by policy {name} ({fingerprint}), comparisons "
            "by policy {cname}."
        ),
    },
}

_METHOD: dict[str, tuple[str, ...]] = {
    "nl": (
        "Groei is de score op de E-toets min de score op de M-toets van hetzelfde "
        "schooljaar, per leerling. Alleen leerlingen met beide toetsen tellen mee.",
        "Het landelijk gemiddelde gaat over alle scholen die dezelfde toets gebruiken.",
        "Vergeleken met landelijk: hoeveel meer of minder uw leerlingen groeiden dan alle "
        "leerlingen in het land. Wij rekenen dat om naar een getal waarbij 0 precies "
        "gemiddeld is (het verschil gedeeld door hoeveel de groei van leerlingen onderling "
        "verschilt). Tussen −{band} en {band} noemen wij dat ongeveer gemiddeld.",
        "De verwachte waarde komt uit een rechte lijn door de gemiddelden van alle "
        "scholen, uitgezet tegen hun schoolweging (grotere scholen tellen zwaarder).",
        "Elk cijfer over uw school gaat over minstens {n} leerlingen. Een percentage "
        "onder 5 % of boven 95 % staat er als '< 5 %' of '> 95 %'.",
        "Een vak waarin minder dan de helft van de groepen cijfers heeft, laten wij weg.",
        "Een landelijk cijfer staat er alleen als de andere scholen samen minstens "
        "{schools} scholen zijn en geen één of twee scholen het grootste deel van de "
        "leerlingen hebben. Een verwachte waarde alleen als minstens {fit} andere "
        "scholen een schoolweging hebben.",
    ),
    "en": (
        "Growth is a pupil's E score minus their M score of the same school year. Only "
        "pupils with both tests count.",
        "The national average covers every school that uses the same test.",
        "Compared with national: the difference between your school's growth and the "
        "national growth, divided by the spread of all pupils' growth. Between −{band} "
        "and {band} we call it about average.",
        "The predicted value comes from a straight line through every school's mean "
        "against its schoolweging (larger schools weigh more).",
        "Every figure about your school rests on at least {n} pupils. A percentage "
        "below 5 % or above 95 % is shown as '< 5 %' or '> 95 %'.",
        "A subject in which fewer than half of the groups have figures is left out.",
        "A national figure is shown only when the other schools number at least "
        "{schools} and no one or two schools hold most of their pupils; a predicted "
        "value only when at least {fit} other schools have a schoolweging.",
    ),
}

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1a1a1a; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; font-size: 1rem; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.35rem; margin-top: 2rem; border-bottom: 2px solid #154273; }
.meta { color: #333; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: 0.95rem; }
th, td { border: 1px solid #999; padding: 0.3rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #e8eef5; }
.note { background: #fff4d6; border-left: 4px solid #b35c00; padding: 0.5rem 1rem; }
svg { max-width: 100%; height: auto; }
.legend span { display: inline-block; margin-right: 1.5rem; }
.key { display: inline-block; width: 0.9rem; height: 0.9rem; vertical-align: middle;
       margin-right: 0.3rem; }
.k0 { background: #154273; } .k1 { background: #8fa9c7; } .k2 { background: #b35c00; }
@page { size: A4; margin: 1.6cm 1.4cm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  table { font-size: 8pt; }
  th, td { padding: 0.15rem 0.3rem; }
  tr, figure { break-inside: avoid; }
}
"""
_COLOURS = ("#154273", "#8fa9c7", "#b35c00")


@dataclass(frozen=True)
class ReportHeading:
    """What names the school on its own report (the office's registry knows it)."""

    brinvest: str
    name: str = ""


def _number(value: float, lang: str, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".replace("-", "−")
    return text.replace(".", ",") if lang == "nl" else text


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render_report_html(report: SchoolReport, heading: ReportHeading, *, lang: str = "nl") -> str:
    """The report as a complete HTML document."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    t = _TEXT[lang]
    who = f"{heading.name} ({heading.brinvest})" if heading.name else heading.brinvest
    out = [
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(t['title'])} {_e(report.period)}</title>",
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>",
        f"<h1>{_e(t['title'])}</h1>",
        f'<p class="meta">{_e(who)} · {_e(t["year"])} {_e(report.period)}</p>',
        f"<p>{_e(t['intro'])}</p>",
        f"<p>{_e(t['own'])}</p>",
    ]
    if report.schoolweging is None:
        out.append(f"<p>{_e(t['no_weging'])}</p>")
    else:
        out.append(f"<p>{_e(t['weging'])}: {_number(report.schoolweging, lang)}</p>")
    if report.withheld:
        out.append(f'<p class="note">{_e(t["withheld_report"])}</p>')
    else:
        for part in report.parts:
            out.extend(_part(part, report, lang))
    out.extend(_method(report, lang))
    out.append("</main>\n</body>\n</html>\n")
    return "\n".join(out)


def _part(part: ReportPart, report: SchoolReport, lang: str) -> list[str]:
    t = _TEXT[lang]
    domain = _DOMAINS[lang].get(part.leergebied, part.leergebied)
    out = [f"<section>\n<h2>{_e(domain)}</h2>"]
    if part.withheld:
        out.append(f'<p class="note">{_e(t["withheld_part"].format(domain=domain.lower()))}</p>')
        out.append("</section>")
        return out
    out.append(f'<p class="meta">{_e(t["scale"])}: {_e(part.schaal)}</p>')
    out.append(_chart(part, domain, lang))
    out.append(_table(part, lang))
    notes = _notes(part, report, lang)
    if notes:
        out.append(f"<p><strong>{_e(t['notes'])}</strong></p>\n<ul>")
        out.extend(f"<li>{_e(note)}</li>" for note in notes)
        out.append("</ul>")
    out.append("</section>")
    return out


def _cell(value: float | None, lang: str) -> str:
    return _number(value, lang) if value is not None else _TEXT[lang]["none"]


def _table(part: ReportPart, lang: str) -> str:
    t = _TEXT[lang]
    heads = ("group", "pupils", "m", "e", "groei", "national", "predicted", "verdict", "more")
    rows = ["<table>", "<thead><tr>" + "".join(f'<th scope="col">{_e(t[h])}</th>' for h in heads)]
    rows.append("</tr></thead><tbody>")
    for row in part.rows:
        mine: Measures | None = row.school
        cells = [
            f'<th scope="row">{row.jaargroep}</th>',
            f"<td>{row.pupils if row.pupils is not None else t['none']}</td>",
            f"<td>{_cell(mine.m if mine else None, lang)}</td>",
            f"<td>{_cell(mine.e if mine else None, lang)}</td>",
            f"<td>{_cell(mine.groei if mine else None, lang)}</td>",
            f"<td>{_cell(row.national.groei if row.national else None, lang)}</td>",
            f"<td>{_cell(row.predicted.groei if row.predicted else None, lang)}</td>",
            f"<td>{_e(_verdict(row, lang))}</td>",
            f"<td>{_e(row.more_growth.text() if row.more_growth else t['none'])}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _verdict(row: ReportRow, lang: str) -> str:
    t = _TEXT[lang]
    if row.verdict is None or row.standardised is None:
        return t["none"]
    return f"{t[row.verdict]} ({_number(row.standardised, lang, 2)})"


def _groups(groups: list[int], lang: str) -> str:
    names = [str(g) for g in groups]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {'en' if lang == 'nl' else 'and'} " + names[-1]


def _notes(part: ReportPart, report: SchoolReport, lang: str) -> list[str]:
    """One line per reason, naming every group it applies to."""
    t = _TEXT[lang]
    notes = []
    for reason in ("pupils", "comparison", "model"):
        groups = [row.jaargroep for row in part.rows if reason in row.missing]
        if groups:
            notes.append(
                t[f"{reason}_note"].format(group=_groups(groups, lang), n=report.min_pupils)
            )
    if any("reference" in row.missing for row in part.rows):
        notes.append(t["reference_note"])
    return notes


def _chart(part: ReportPart, domain: str, lang: str) -> str:
    """Horizontal bars of growth per group; every bar carries its number."""
    t = _TEXT[lang]
    shown = [row for row in part.rows if row.school is not None]
    series = [
        [
            row.school.groei if row.school else None,
            row.national.groei if row.national else None,
            row.predicted.groei if row.predicted else None,
        ]
        for row in shown
    ]
    values = [v for group in series for v in group if v is not None] or [0.0]
    low, high = min(0.0, *values), max(0.0, *values)
    span = (high - low) or 1.0
    label_w, plot_w, bar_h, gap = 90, 420, 16, 14
    group_h = 3 * bar_h + gap
    height = group_h * len(shown) + 40
    width = label_w + plot_w + 150

    def x(value: float) -> float:
        return label_w + (value - low) / span * plot_w

    title = f"{t['chart']} ({domain})"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" aria-labelledby="c-{_e(part.leergebied)}">',
        f'<title id="c-{_e(part.leergebied)}">{_e(title)}</title>',
    ]
    for i, (row, group) in enumerate(zip(shown, series, strict=True)):
        top = 10 + i * group_h
        out.append(
            f'<text x="0" y="{top + 1.7 * bar_h:.0f}" font-size="14">'
            f"{_e(t['group'])} {row.jaargroep}</text>"
        )
        for j, value in enumerate(group):
            y = top + j * bar_h
            if value is None:
                out.append(
                    f'<text x="{x(0) + 4:.1f}" y="{y + bar_h - 4}" font-size="12">'
                    f"{_e(t[('school_bar', 'national_bar', 'predicted_bar')[j]])}: "
                    f"{_e(t['none'])}</text>"
                )
                continue
            left, right = sorted((x(0), x(value)))
            out.append(
                f'<rect x="{left:.1f}" y="{y + 1}" width="{max(right - left, 1):.1f}" '
                f'height="{bar_h - 2}" fill="{_COLOURS[j]}"/>'
            )
            out.append(
                f'<text x="{max(x(0), x(value)) + 4:.1f}" y="{y + bar_h - 4}" font-size="12">'
                f"{_e(t[('school_bar', 'national_bar', 'predicted_bar')[j]])}: "
                f"{_number(value, lang)}</text>"
            )
    out.append(f'<line x1="{x(0):.1f}" y1="5" x2="{x(0):.1f}" y2="{height - 25}" stroke="#333"/>')
    out.append("</svg>")
    legend = "".join(
        f'<span><span class="key k{j}"></span>{_e(t[name])}</span>'
        for j, name in enumerate(("school_bar", "national_bar", "predicted_bar"))
    )
    return f'<figure>\n{"".join(out)}\n<figcaption class="legend">{legend}</figcaption>\n</figure>'


def _method(report: SchoolReport, lang: str) -> list[str]:
    t = _TEXT[lang]
    band = _number(0.5, lang)
    items = [
        item.format(
            n=report.min_pupils, schools=report.min_schools, fit=report.fit_min_schools, band=band
        )
        for item in _METHOD[lang]
    ]
    policy = t["policy"].format(
        name=report.policy.get("name", ""),
        fingerprint=report.policy.get("fingerprint", ""),
        cname=report.comparison_policy.get("name", ""),
    )
    return [
        f"<section>\n<h2>{_e(t['method'])}</h2>\n<ul>",
        *(f"<li>{_e(item)}</li>" for item in items),
        f'</ul>\n<p class="meta">{_e(policy)}</p>\n</section>',
    ]


def render_report_pdf(page: str) -> bytes:
    """The PDF of an HTML page, by WeasyPrint (no network: the page holds everything)."""
    try:
        import weasyprint  # a heavy import, only for PDF
    except OSError:  # WeasyPrint loads Pango when imported
        raise ConfigurationError(
            "a PDF needs the Pango library: install it (scripts/system-deps.sh), or make HTML"
        ) from None

    def refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError("a report loads nothing from outside")

    pdf = weasyprint.HTML(string=page, url_fetcher=refuse).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
