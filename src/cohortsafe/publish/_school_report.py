"""The school feedback report: a school's learning growth next to the country and to a
predicted reference, with every figure checked before it is shown.

Three kinds of figure, three protections:

- **the school's own figures** (mean M and E score, mean growth, the share of its pupils
  who grew more than the national mean) follow the ``school_report`` policy: a jaargroep
  is shown only when it rests on at least the policy's number of pupils, a share is
  clipped to [5 %, 95 %], and a domain is withheld whole when less than half of its
  jaargroepen can be shown;
- **the national figures** are the mean over every school of the country on the same
  scale. The school knows its own pupils, so what it can learn from them is the mean of
  *the other schools*: that group is judged by the ``research`` policy's cell rules
  (pupils, schools, school dominance, dominance and p % on values), the same rules an
  output of a researcher passes. National pupil counts are never shown;
- **the predicted reference** is the figure of a fictional school with the same
  schoolweging: a least-squares line of the schools' means on their schoolweging,
  weighted by pupils and fitted on every school with a schoolweging in that cell. It is
  shown only when the other schools of the fit leave at least the research policy's
  residual degrees of freedom (counted in schools, the unit of the covariate), so no
  school's mean can be solved from the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cohortsafe.publish._growth import MEASURES, CellKey, GrowthCells
from cohortsafe.sdc import Policy

__all__ = [
    "ABOUT_AVERAGE",
    "Measures",
    "ReportPart",
    "ReportRow",
    "SchoolReport",
    "Share",
    "build_school_report",
]

#: standardised growth within this distance of 0 is "about average" (NCO's band)
ABOUT_AVERAGE = 0.5


@dataclass(frozen=True)
class Measures:
    """Mean M score, mean E score and mean growth of one group."""

    m: float
    e: float
    groei: float

    def as_dict(self) -> dict[str, float]:
        return {"m": self.m, "e": self.e, "groei": self.groei}


@dataclass(frozen=True)
class Share:
    """A percentage as the policy lets it be shown: clipped, with the side it was clipped on."""

    percent: float
    below: bool = False
    above: bool = False

    def text(self) -> str:
        if self.below:
            return f"< {self.percent:g} %"
        if self.above:
            return f"> {self.percent:g} %"
        return f"{round(self.percent):d} %"


@dataclass(frozen=True)
class ReportRow:
    """One jaargroep of one domain; a figure that may not be shown is None, with a reason."""

    jaargroep: int
    pupils: int | None
    school: Measures | None
    national: Measures | None = None
    predicted: Measures | None = None
    standardised: float | None = None
    more_growth: Share | None = None
    #: why a figure is missing: "pupils", "comparison", "reference", "model"
    missing: tuple[str, ...] = ()

    @property
    def verdict(self) -> str | None:
        """``above``, ``about`` or ``below`` the national growth, by standardised growth."""
        if self.standardised is None:
            return None
        if abs(self.standardised) <= ABOUT_AVERAGE:
            return "about"
        return "above" if self.standardised > 0 else "below"

    def as_dict(self) -> dict[str, Any]:
        return {
            "jaargroep": self.jaargroep,
            "pupils": self.pupils,
            "school": self.school.as_dict() if self.school else None,
            "national": self.national.as_dict() if self.national else None,
            "predicted": self.predicted.as_dict() if self.predicted else None,
            "standardised": self.standardised,
            "verdict": self.verdict,
            "more_growth": self.more_growth.text() if self.more_growth else None,
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class ReportPart:
    """One domain on one scale; a withheld part shows no figure at all."""

    leergebied: str
    schaal: str
    rows: tuple[ReportRow, ...]
    withheld: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "leergebied": self.leergebied,
            "schaal": self.schaal,
            "withheld": self.withheld,
            "rows": [] if self.withheld else [row.as_dict() for row in self.rows],
        }


@dataclass(frozen=True)
class SchoolReport:
    """Everything a report shows, already protected; renderers only lay it out."""

    school: str  # the school's pseudonym: for the office's bookkeeping, never rendered
    period: str
    schoolweging: float | None
    parts: tuple[ReportPart, ...]
    min_pupils: int
    min_schools: int
    fit_min_schools: int
    policy: dict[str, Any] = field(default_factory=dict)
    comparison_policy: dict[str, Any] = field(default_factory=dict)

    @property
    def withheld(self) -> bool:
        """Too little survives: no part can be shown."""
        return all(part.withheld for part in self.parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "withheld": self.withheld,
            "schoolweging": self.schoolweging,
            "min_pupils": self.min_pupils,
            "min_schools": self.min_schools,
            "fit_min_schools": self.fit_min_schools,
            "policy": self.policy,
            "comparison_policy": self.comparison_policy,
            "parts": [part.as_dict() for part in self.parts],
        }


def _passes(
    cells: GrowthCells, keys: list[CellKey], school: str, side: str, policy: Policy
) -> np.ndarray:
    """Which of ``keys`` pass every cell rule of ``policy``, for all three measures."""
    ok = np.ones(len(keys), dtype=bool)
    for measure in MEASURES:
        stats = cells.stats(keys, school, "own" if side == "own" else "rest", measure)
        for rule in policy.cell_rules():
            for finding in rule.evaluate(stats):
                ok &= ~finding.cells  # in a report no person reviews: a review flag blocks
        ok &= stats.n_pupils > 0
    return ok


def _fit_minimum(comparison: Policy) -> int:
    # a line has two parameters; the schools other than the report's own must leave the
    # policy's residual degrees of freedom
    minimum = comparison.residual_df.minimum if comparison.residual_df is not None else 10
    return minimum + 2


def _predicted(
    cells: GrowthCells,
    key: CellKey,
    school: str,
    weging: float,
    reference: Mapping[str, float],
    fit_min_schools: int,
) -> Measures | None:
    names, _ = cells.school_means(key, "m")
    fitted = [i for i, name in enumerate(names) if name in reference]
    others = [i for i in fitted if names[i] != school]
    x = np.asarray([reference[names[i]] for i in fitted])
    if len(others) < fit_min_schools or np.ptp(x) == 0:
        return None
    weights = np.asarray([cells.pupils(key, names[i]) for i in fitted], dtype=np.float64)
    values = []
    for measure in MEASURES:
        _, means = cells.school_means(key, measure)
        slope, intercept = np.polyfit(x, means[fitted], 1, w=np.sqrt(weights))
        values.append(float(intercept + slope * weging))
    return Measures(*values)


def build_school_report(
    cells: GrowthCells,
    school: str,
    period: str,
    *,
    policy: Policy,
    comparison: Policy,
    reference: Mapping[str, float],
) -> SchoolReport:
    """The report of ``school`` (pseudonym) for ``period``.

    ``policy`` protects the school's own figures (``school_report``), ``comparison`` the
    figures about other schools (``research``); ``reference`` is every school's
    schoolweging of the period, by pseudonym.
    """
    if policy.withhold is None or policy.percent_clip is None:
        raise ValueError("a school report's policy needs the withhold and percent_clip rules")
    keys = cells.keys_of(school)
    own_ok = _passes(cells, keys, school, "own", policy)
    rest_ok = _passes(cells, keys, school, "rest", comparison)
    weging = reference.get(school)
    fit_min = _fit_minimum(comparison)
    rows: dict[tuple[str, str], list[ReportRow]] = {}
    for key, own, rest in zip(keys, own_ok, rest_ok, strict=True):
        rows.setdefault((key.leergebied, key.schaal), []).append(
            _row(cells, key, school, bool(own), bool(rest), weging, reference, fit_min, policy)
        )
    parts = []
    for (leergebied, schaal), found in sorted(rows.items()):
        shown = sum(1 for row in found if row.school is not None)
        withheld = policy.withhold.withholds(released=shown, cells=len(found))
        parts.append(ReportPart(leergebied, schaal, tuple(found), withheld))
    threshold = policy.pupil_threshold
    schools = comparison.min_schools.threshold if comparison.min_schools is not None else 1
    return SchoolReport(
        school=school,
        period=period,
        schoolweging=weging,
        parts=tuple(parts),
        min_pupils=threshold,
        min_schools=schools,
        fit_min_schools=fit_min,
        policy=policy.identity(),
        comparison_policy=comparison.identity(),
    )


def _row(
    cells: GrowthCells,
    key: CellKey,
    school: str,
    own: bool,
    rest: bool,
    weging: float | None,
    reference: Mapping[str, float],
    fit_min: int,
    policy: Policy,
) -> ReportRow:
    if not own:
        return ReportRow(key.jaargroep, None, None, missing=("pupils",))
    mine = Measures(*(cells.mean(key, m, school) for m in MEASURES))
    missing: list[str] = []
    national = standardised = share = None
    if rest:
        national = Measures(*(cells.mean(key, m) for m in MEASURES))
        sd = cells.growth_sd(key)
        if sd > 0:
            standardised = (mine.groei - national.groei) / sd
        grew = cells.growth_values(key, school)
        percent = np.asarray([100.0 * float(np.mean(grew > national.groei))])
        assert policy.percent_clip is not None
        clipped, below, above = policy.percent_clip.clip(percent)
        share = Share(float(clipped[0]), bool(below[0]), bool(above[0]))
    else:
        missing.append("comparison")
    predicted = None
    if weging is None:
        missing.append("reference")
    else:
        predicted = _predicted(cells, key, school, weging, reference, fit_min)
        if predicted is None:
            missing.append("model")
    return ReportRow(
        key.jaargroep,
        cells.pupils(key, school),
        mine,
        national,
        predicted,
        standardised,
        share,
        tuple(missing),
    )
