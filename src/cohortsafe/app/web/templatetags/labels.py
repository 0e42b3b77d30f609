"""Plain words for the states the services name by code (``partially_reviewed``, ``expired``),
and the times they give in ISO form."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from cohortsafe.research import STATES

register = template.Library()

_LABELS = {
    # an output request (cohortsafe.research.STATES)
    "pending": _("being prepared"),
    "submitted": _("waiting for review"),
    "partially_reviewed": _("partly reviewed"),
    "reviewed": _("reviewed"),
    "returned": _("returned to the researcher"),
    "approved": _("approved, to release"),
    "released": _("released"),
    "rejected": _("rejected"),
    "withdrawn": _("withdrawn"),
    # a project
    "open": _("open"),
    "expired": _("past its end date"),
    "ended": _("ended"),
}
assert set(STATES) <= set(_LABELS), "every request state needs plain words"


@register.filter
def state_label(state: str) -> str:
    """The words for ``state``; an unknown state is shown as it is rather than hidden."""
    return str(_LABELS.get(state, state))


@register.filter
def moment(iso: str | None) -> str:
    """An ISO time as services give it (``2026-12-07T18:30:37+00:00``), in local time."""
    if not iso:
        return ""
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return date_format(timezone.localtime(when), "d-m-Y H:i")
