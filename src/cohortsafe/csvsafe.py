"""CSV cells that a spreadsheet shows instead of running (CSV injection).

Excel, LibreOffice and Google Sheets run a cell that begins with ``=``, ``+``,
``-`` or ``@`` (or a tab or a carriage return) as a formula. Every CSV the
project writes for people passes its cells through :func:`safe_cell`, which puts
a single quote before such a cell, as OWASP advises. A plain number (``-3``,
``+1.5``, ``-2,5``, ``-1e-05``) is no formula and stays as it is, so numeric
columns stay numeric; so does any value that is not text.

>>> [safe_cell(v) for v in ["=1+1", "@SUM(A1)", "+31 6", "-", "a=b", "-3", "-2,5", -3, None]]
["'=1+1", "'@SUM(A1)", "'+31 6", "'-", 'a=b', '-3', '-2,5', -3, None]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["safe_cell", "safe_row"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")

T = TypeVar("T")


def safe_cell(value: T) -> T | str:
    """``value``, with a quote before it if it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    """Every cell of ``row`` through :func:`safe_cell`, for ``csv.writer``."""
    return [safe_cell(value) for value in row]
