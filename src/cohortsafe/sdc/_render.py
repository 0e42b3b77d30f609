"""Checked outputs for people: a plain-text table for the console, an HTML page.

Suppressed cells show ``x`` (primary) or ``(x)`` (secondary, suppressed to protect a
primary cell); a cell flagged for review carries ``*``. Below the grid every cell that
is not plainly ``ok`` is listed with its reasons. Nothing here ever sees a suppressed
value: rendering works from :attr:`CheckedTable.cells`, where those are ``None``.

>>> import pandas as pd
>>> from cohortsafe.sdc._table import crosstab
>>> frame = pd.DataFrame({"pupil": [f"p{i}" for i in range(40)],
...                       "school": [f"s{i % 5}" for i in range(40)],
...                       "region": ["N"] * 36 + ["S"] * 4})
>>> print(table_text(crosstab(frame, "region", pupil="pupil", school="school")))
region  count
N       (x)
S       x
All     40
<BLANKLINE>
outcome: pass — 1 primary, 1 secondary (milp, optimal)
policy research (fingerprint cd43559b363eca93)
region=N: secondary — secondary_suppression: suppressed so that no primary cell can be
recovered from the published cells
region=S: primary — min_pupils: fewer than 10 pupils
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from cohortsafe.sdc._table import Cell, CheckedTable

__all__ = ["format_value", "html_page", "table_text"]


def format_value(cell: Cell, table: CheckedTable) -> str:
    """What the cell shows: its value, ``x``, ``(x)`` or ``-`` for an empty mean."""
    if cell.status == "primary":
        shown = "x"
    elif cell.status == "secondary":
        shown = "(x)"
    elif cell.value is None:
        shown = "-"
    elif table.request.normalize is not None:
        shown = f"{cell.value:.1f}%"
    elif isinstance(cell.value, int):
        shown = str(cell.value)
    else:
        shown = f"{cell.value:.2f}"
    for reason in cell.reasons:
        if reason.startswith("percent_clip"):
            shown = ("<" if "shown as <" in reason else ">") + shown
    return shown + ("*" if cell.review else "")


def _label(values: dict[str, Any]) -> str:
    return " / ".join(str(v) for v in values.values())


def _grid(table: CheckedTable) -> list[list[str]]:
    request = table.request
    rows: dict[str, dict[str, str]] = {}
    columns: dict[str, None] = {}
    for cell in table.cells:
        row = _label(dict(cell.index))
        column = _label(dict(cell.columns)) if request.columns else request.aggfunc
        columns.setdefault(column)
        rows.setdefault(row, {})[column] = format_value(cell, table)
    header = [" / ".join(request.index), *columns]
    body = [[row, *(cells.get(c, "") for c in columns)] for row, cells in rows.items()]
    return [header, *body]


def table_text(table: CheckedTable) -> str:
    """The table as aligned text, then its outcome and the reasons per cell."""
    lines: list[str] = []
    if table.cells:
        grid = _grid(table)
        widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]
        for row in grid:
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        lines.append("")
    counts = table.counts
    summary = f"outcome: {table.outcome}"
    if table.suppression is not None:
        how = table.suppression.method + (", optimal" if table.suppression.optimal else "")
        summary += f" — {counts['primary']} primary, {counts['secondary']} secondary ({how})"
    elif counts["primary"]:
        summary += f" — {counts['primary']} primary"
    lines.append(summary)
    lines.append(table.policy.describe())
    lines.extend(f"table: {reason}" for reason in table.reasons)
    for cell in table.cells:
        if cell.status == "ok" and not cell.review and not cell.reasons:
            continue
        where = ", ".join(f"{k}={v}" for k, v in {**cell.index, **cell.columns}.items())
        notes = "; ".join((*cell.reasons, *cell.review))
        lines.append(f"{where}: {cell.status} — {notes}")
    return "\n".join(lines)


def _html_table(grid: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(v)}</th>" for v in grid[0])
    body = "".join(
        "<tr>"
        + f"<th>{html.escape(row[0])}</th>"
        + "".join(f"<td>{html.escape(v)}</td>" for v in row[1:])
        + "</tr>"
        for row in grid[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(title: str, sections: Sequence[dict[str, Any]]) -> str:
    """A self-contained page; each section has a title, outcome, reasons, lines and
    optionally a ``table`` (a CheckedTable) or ``rows`` (a list of dicts)."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
        "padding:.2em .6em;text-align:right}.pass{color:#060}.review{color:#a60}"
        ".fail{color:#b00}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>x = primary suppression, (x) = secondary suppression, * = flagged for review.</p>",
    ]
    for section in sections:
        outcome = str(section.get("outcome", ""))
        parts.append(
            f"<h2>{html.escape(str(section['title']))} "
            f"<span class='{html.escape(outcome)}'>{html.escape(outcome)}</span></h2>"
        )
        for line in section.get("lines", []):
            parts.append(f"<p>{html.escape(str(line))}</p>")
        table = section.get("table")
        if isinstance(table, CheckedTable) and table.cells:
            parts.append(_html_table(_grid(table)))
        rows = section.get("rows")
        if rows:
            keys = list(rows[0])
            grid = [keys] + [
                ["" if r.get(k) is None else str(r.get(k)) for k in keys] for r in rows
            ]
            parts.append(_html_table(grid))
        reasons = section.get("reasons", [])
        if reasons:
            items = "".join(f"<li>{html.escape(str(r))}</li>" for r in reasons)
            parts.append(f"<ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
