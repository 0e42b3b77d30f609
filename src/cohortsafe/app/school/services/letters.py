"""The information letter for parents, filled with the school's own facts."""

from __future__ import annotations

import datetime as dt

from cohortsafe.app.school.services.registers import RegisterError, find_school, objection_deadline
from cohortsafe.letters import LetterFacts, render_letter

__all__ = ["parent_letter"]


def parent_letter(school: str | None, *, lang: str, fmt: str, today: dt.date | None = None) -> str:
    the_school = find_school(school)
    if not the_school.name or not the_school.contact:
        raise RegisterError(
            f"first record {the_school.code}'s name and the contact for objections: "
            "cohortsafe school set --name … --contact …"
        )
    facts = LetterFacts(the_school.name, the_school.contact, objection_deadline(today))
    return render_letter(facts, lang=lang, fmt=fmt)
