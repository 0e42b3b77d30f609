"""The information letter for parents, filled with the school's own facts."""

from __future__ import annotations

import datetime as dt

from cohortsafe.app.homelock import holds_home
from cohortsafe.app.school.services.registers import RegisterError, find_school, objection_deadline
from cohortsafe.config import load
from cohortsafe.letters import LetterFacts, letter_body, render_letter

__all__ = ["parent_letter"]


@holds_home
def parent_letter(
    school: str | None,
    *,
    lang: str,
    fmt: str,
    today: dt.date | None = None,
    form_url: str | None = None,
) -> str:
    the_school = find_school(school)
    if not the_school.name or not the_school.contact:
        raise RegisterError(
            f"first record {the_school.code}'s name and the contact for objections: "
            "cohortsafe school set --name … --contact …"
        )
    today = today or dt.date.today()
    facts = LetterFacts(
        the_school.name,
        the_school.contact,
        objection_deadline(today),
        form_url=form_url,
        domains=load().delivery_domains,  # exactly what a delivery carries
        made_on=today,
    )
    if fmt == "body":
        return letter_body(facts, lang=lang)
    return render_letter(facts, lang=lang, fmt=fmt)
