"""The import's problem reasons in the screen's language.

The LVS checks (``cohortsafe.lvs``, a core without Django) give each reason in English, for
the console and for LVS vendors. On the school's screens they are shown in Dutch: each
reason the checks write is matched here, exactly or by its pattern, and put into words
through Django's catalogue. A reason no pattern knows is shown as it came, never hidden;
``tests/web/test_import_reasons.py`` makes every reason of a broken export known.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

__all__ = ["known", "reason_in_language"]

# reasons written without anything of the file in them
_FIXED = {
    gettext_noop("value is missing"),
    gettext_noop("not a date (dd-mm-jjjj or jjjj-mm-dd)"),
    gettext_noop("not a date"),
    gettext_noop("date does not exist"),
    gettext_noop("date lies in the future"),
    gettext_noop("date lies outside the schooljaar"),
    gettext_noop("not a number"),
    gettext_noop("not a whole number"),
    gettext_noop("value holds a NUL byte"),
    gettext_noop("required column is missing"),
    gettext_noop("file is missing from the export"),
    gettext_noop("file does not exist"),
    gettext_noop("file has no header line"),
    gettext_noop("the header holds a NUL byte"),
    gettext_noop("header line cannot be read"),
    gettext_noop("file is not readable as CSV"),
    gettext_noop("file is neither UTF-8 nor Windows-1252"),
    gettext_noop(
        "not UTF-8 in a file otherwise UTF-8 (two encodings mixed): save the file as UTF-8"
    ),
    gettext_noop("the export holds no pupils"),
    gettext_noop("a pupil of another school: an export holds one school"),
    gettext_noop("no pupil with this leerlingnummer in leerlingen.csv"),
    gettext_noop("no results, so the school year cannot be told: give it explicitly"),
    gettext_noop("bsn must have 9 digits (or 8, when a leading zero was lost)"),
    gettext_noop("bsn fails the eleven test"),
    gettext_noop("onderwijsnummer must have 9 digits"),
    gettext_noop("onderwijsnummer fails its check"),
    gettext_noop("neither a bsn nor an onderwijsnummer is given"),
    gettext_noop("not a Dutch postcode"),
    # the web's import of the administrator's own school (school.services.imports)
    gettext_noop("this export is of another school than yours: nothing was written"),
    # free text (cohortsafe.domain.freetext)
    gettext_noop("holds a BSN or onderwijsnummer"),
    gettext_noop("holds the name of a pupil"),
}


def _pattern(regex: str, words: str) -> tuple[re.Pattern[str], Callable[[re.Match[str]], str]]:
    return re.compile(regex), lambda found: _(words) % found.groupdict()


# reasons with a line, a value range or a list of codes in them
_PATTERNS = [
    _pattern(
        r"^leerlingnummer also on line (?P<line>\d+)$",
        gettext_noop("leerlingnummer also on line %(line)s"),
    ),
    _pattern(
        r"^the same pupil number as line (?P<line>\d+)$",
        gettext_noop("the same pupil number as line %(line)s"),
    ),
    _pattern(
        r"^the same pupil and (?P<what>soort|categorie) as line (?P<line>\d+)$",
        gettext_noop("the same pupil and %(what)s as line %(line)s"),
    ),
    _pattern(
        r"^the same result \(pupil, toets, leergebied, moment, year\) as line (?P<line>\d+)$",
        gettext_noop("the same result (pupil, toets, leergebied, moment, year) as line %(line)s"),
    ),
    _pattern(
        r"^must be between (?P<low>\S+) and (?P<high>\S+)$",
        gettext_noop("must be between %(low)s and %(high)s"),
    ),
    _pattern(r"^date lies before (?P<date>[\d-]+)$", gettext_noop("date lies before %(date)s")),
    _pattern(
        r"^value is longer than (?P<n>\d+) characters$",
        gettext_noop("value is longer than %(n)s characters"),
    ),
    _pattern(
        r"^column given twice: (?P<columns>.+)$", gettext_noop("column given twice: %(columns)s")
    ),
    _pattern(
        r"^file is (?P<encoding>\S+); save it as UTF-8$",
        gettext_noop("file is %(encoding)s; save it as UTF-8"),
    ),
    _pattern(
        r"^row has (?P<actual>\d+) fields, the header has (?P<expected>\d+)$",
        gettext_noop("row has %(actual)s fields, the header has %(expected)s"),
    ),
    _pattern(
        r"^results from after the export's school year (?P<year>\S+)$",
        gettext_noop("results from after the export's school year %(year)s"),
    ),
    _pattern(
        r"^the school year (?P<year>\S+) has not begun yet \(the current school year is "
        r"(?P<current>\S+)\): check --schooljaar$",
        gettext_noop(
            "the school year %(year)s has not begun yet (the current school year is "
            "%(current)s): check the school year"
        ),
    ),
    _pattern(
        r"^none of the results is of the school year (?P<year>\S+) \(they are of "
        r"(?P<held>[^)]+)\): check --schooljaar$",
        gettext_noop(
            "none of the results is of the school year %(year)s (they are of %(held)s): "
            "check the school year"
        ),
    ),
    _pattern(
        r"^has characters other than Latin letters, digits, spaces and (?P<marks>.+)$",
        gettext_noop("has characters other than Latin letters, digits, spaces and %(marks)s"),
    ),
]
_UNKNOWN = re.compile(r"^unknown (?P<what>.+)$")
# the code lists ``unknown …`` names, each in words of its own
_WHAT = {
    "BRIN (two digits, two letters)": gettext_noop("BRIN (two digits, two letters)"),
    "vestiging (two digits)": gettext_noop("vestiging (two digits)"),
    "geslacht (M, V, X or O)": gettext_noop("geslacht (M, V, X or O)"),
    "toetsmoment (M or E)": gettext_noop("toetsmoment (M or E)"),
    "schooljaar (as 2025-2026)": gettext_noop("schooljaar (as 2025-2026)"),
    "niveau (I–V or A–E)": gettext_noop("niveau (I–V or A–E)"),
}
_KNOWN = re.compile(r"^(?P<name>\w+) \(known: (?P<codes>.+)\)$")


def _what(text: str) -> tuple[str, bool]:
    if text in _WHAT:
        return _(_WHAT[text]), True
    found = _KNOWN.match(text)
    if found:
        return _("%(name)s (known: %(codes)s)") % found.groupdict(), True
    return text, False


def _in_words(reason: str) -> tuple[str, bool]:
    """(``reason`` in the active language, whether every part of it is known here)."""
    if reason in _FIXED:
        return _(reason), True
    unknown = _UNKNOWN.match(reason)
    if unknown:
        what, known_what = _what(unknown["what"])
        return _("unknown %(what)s") % {"what": what}, known_what
    for pattern, words in _PATTERNS:
        found = pattern.match(reason)
        if found:
            return words(found), True
    return reason, False


def reason_in_language(reason: str) -> str:
    """``reason`` in the active language; unknown reasons as they are."""
    return _in_words(reason)[0]


def known(reason: str) -> bool:
    """Whether ``reason`` is one this module puts into words (for the tests)."""
    return _in_words(reason)[1]
