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

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cohortsafe.publish._growth import MEASURES, CellKey, GrowthCells
from cohortsafe.sdc import Policy
from cohortsafe.sdc._cellstats import CellStats, FloatArray

__all__ = [
    "ABOUT_AVERAGE",
    "Measures",
    "Populations",
    "ReportBasis",
    "ReportPart",
    "ReportRow",
    "SchoolReport",
    "Share",
    "build_school_report",
    "school_report",
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


#: a released population: per cell, the pupils of each school behind its national figure
Populations = Mapping[CellKey, Mapping[str, int]]


def _passes(stats_of: Callable[[str], CellStats], size: int, policy: Policy) -> np.ndarray:
    """Which of ``size`` cells pass every cell rule of ``policy``, for all three measures
    (``stats_of(measure)`` gives the cells' statistics)."""
    ok = np.ones(size, dtype=bool)
    if not size:
        return ok
    for measure in MEASURES:
        stats = stats_of(measure)
        for rule in policy.cell_rules():
            for finding in rule.evaluate(stats):
                ok &= ~finding.cells  # in a report no person reviews: a review flag blocks
        ok &= stats.n_pupils > 0
    return ok


def _difference_passes(now: Mapping[str, int], before: Mapping[str, int], policy: Policy) -> bool:
    """Whether the pupils in one release of a national figure and not the other (or the
    other way round) form a group the policy would publish: otherwise the two versions
    give that group away (a retraction between two runs of the reports)."""
    moved = [abs(now.get(s, 0) - before.get(s, 0)) for s in set(now) | set(before)]
    moved = sorted((m for m in moved if m), reverse=True)
    if not moved:
        return True
    stats = CellStats.example(pupils=[sum(moved)], schools=[len(moved)], school_top=[moved])
    rules = [r for r in (policy.min_pupils, policy.min_schools, policy.school_dominance) if r]
    return not any(f.cells.any() for rule in rules for f in rule.evaluate(stats))


def _fit_minimum(comparison: Policy) -> int:
    # a line has two parameters; the schools other than the report's own must leave the
    # policy's residual degrees of freedom
    minimum = comparison.residual_df.minimum if comparison.residual_df is not None else 10
    return minimum + 2


def _rounded(measures: Measures) -> Measures:
    # a report holds only what it shows: more digits would tell more than the page does
    return Measures(*(round(getattr(measures, m), 1) for m in MEASURES))


@dataclass
class ReportBasis:
    """What every report of one run shares: the cells, the policies, the schoolweging,
    the earlier releases; and what follows from them alone (the fitted lines, which
    cells changed since a release), worked out once for all schools."""

    cells: GrowthCells
    period: str
    policy: Policy
    comparison: Policy
    reference: Mapping[str, float]
    released: Sequence[Populations] = ()
    _weging: dict[CellKey, FloatArray] = field(default_factory=dict, repr=False)
    _lines: dict[CellKey, tuple[tuple[float, float], ...] | None] = field(
        default_factory=dict, repr=False
    )
    _changed: dict[CellKey, bool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.policy.withhold is None or self.policy.percent_clip is None:
            raise ValueError("a school report's policy needs the withhold and percent_clip rules")
        # the cells cache the fit's schools under this name: another basis, another name
        self.tag = f"weging-{uuid.uuid4().hex}"
        self.identities = (self.policy.identity(), self.comparison.identity())

    def weging(self, key: CellKey) -> FloatArray:
        """Each school's schoolweging in the cell's order (NaN where none is known)."""
        if key not in self._weging:
            self._weging[key] = np.asarray(
                [self.reference.get(s, np.nan) for s in self.cells.names(key)], dtype=np.float64
            )
        return self._weging[key]

    def line(self, key: CellKey) -> tuple[tuple[float, float], ...] | None:
        """Per measure, (slope, intercept) of the pupil-weighted line of school means on
        schoolweging over every school of the cell that has one; None if it is flat."""
        if key not in self._lines:
            x = self.weging(key)
            at = np.flatnonzero(~np.isnan(x))
            found = None
            if len(at) >= 2 and np.ptp(x[at]) > 0:
                names = self.cells.names(key)
                weights = np.asarray([self.cells.pupils(key, names[i]) for i in at], np.float64)
                fitted = []
                for measure in MEASURES:
                    _, means = self.cells.school_means(key, measure)
                    slope, intercept = np.polyfit(x[at], means[at], 1, w=np.sqrt(weights))
                    fitted.append((float(slope), float(intercept)))
                found = tuple(fitted)
            self._lines[key] = found
        return self._lines[key]

    def changed(self, key: CellKey) -> bool:
        """Whether the national figure differs from an earlier release by a group of
        pupils the comparison policy would not publish."""
        if key not in self._changed:
            now = self.cells.populations(key)
            self._changed[key] = any(
                key in version and not _difference_passes(now, version[key], self.comparison)
                for version in self.released
            )
        return self._changed[key]


def school_report(basis: ReportBasis, school: str, coalition: Collection[str] = ()) -> SchoolReport:
    """The report of ``school`` (pseudonym); ``coalition`` names the schools whose reports
    reach the same people as this one (a board's administrator): what they know of each
    other is taken away from every comparison group."""
    cells, policy, comparison = basis.cells, basis.policy, basis.comparison
    assert policy.withhold is not None
    known = {school, *coalition}
    keys = cells.keys_of(school)
    size = len(keys)
    own = [cells.mask(k, only=(school,)) for k in keys]
    own_ok = _passes(lambda m: cells.stats(keys, m, own), size, policy)
    rest_ok = _passes(lambda m: cells.stats_without(keys, m, known), size, comparison)
    rest_ok &= np.asarray([not basis.changed(k) for k in keys], dtype=bool)
    weging = basis.reference.get(school)
    fit_min = _fit_minimum(comparison)
    has_weging = [~np.isnan(basis.weging(k)) for k in keys]
    fitted = _passes(
        lambda m: cells.stats_without(keys, m, known, among=has_weging, tag=basis.tag),
        size,
        comparison,
    )
    fit_others = np.asarray(
        [
            int(h.sum()) - int(h[cells.mask(k, only=known)].sum())
            for k, h in zip(keys, has_weging, strict=True)
        ]
    )
    fit_ok = fitted & (fit_others >= fit_min)
    rows: dict[tuple[str, str], list[ReportRow]] = {}
    for j, key in enumerate(keys):
        predicted: Measures | None = None
        line = basis.line(key)
        if weging is not None and rest_ok[j] and fit_ok[j] and line is not None:
            predicted = _rounded(Measures(*(b + a * weging for a, b in line)))
        rows.setdefault((key.leergebied, key.schaal), []).append(
            _row(cells, key, school, bool(own_ok[j]), bool(rest_ok[j]), weging, predicted, policy)
        )
    parts = []
    for (leergebied, schaal), found in sorted(rows.items()):
        shown = sum(1 for row in found if row.school is not None)
        withheld = policy.withhold.withholds(released=shown, cells=len(found))
        parts.append(ReportPart(leergebied, schaal, tuple(found), withheld))
    schools = comparison.min_schools.threshold if comparison.min_schools is not None else 1
    return SchoolReport(
        school=school,
        period=basis.period,
        schoolweging=weging,
        parts=tuple(parts),
        min_pupils=policy.pupil_threshold,
        min_schools=schools,
        fit_min_schools=fit_min,
        policy=basis.identities[0],
        comparison_policy=basis.identities[1],
    )


def build_school_report(
    cells: GrowthCells,
    school: str,
    period: str,
    *,
    policy: Policy,
    comparison: Policy,
    reference: Mapping[str, float],
    coalition: Collection[str] = (),
    released: Sequence[Populations] = (),
) -> SchoolReport:
    """The report of ``school`` (pseudonym) for ``period``: :func:`school_report` on a
    :class:`ReportBasis` of its own (make one basis for many reports).

    ``policy`` protects the school's own figures (``school_report``), ``comparison`` the
    figures about other schools (``research``); ``reference`` is every school's
    schoolweging of the period, by pseudonym; ``released`` holds the populations behind
    the national figures of earlier runs of the same period.
    """
    basis = ReportBasis(cells, period, policy, comparison, reference, released)
    return school_report(basis, school, coalition)


def _row(
    cells: GrowthCells,
    key: CellKey,
    school: str,
    own: bool,
    rest: bool,
    weging: float | None,
    predicted: Measures | None,
    policy: Policy,
) -> ReportRow:
    if not own:
        return ReportRow(key.jaargroep, None, None, missing=("pupils",))
    mine = Measures(*(cells.mean(key, m, school) for m in MEASURES))
    missing: list[str] = []
    national = standardised = share = None
    if rest:
        exact = Measures(*(cells.mean(key, m) for m in MEASURES))
        national = _rounded(exact)
        sd = cells.growth_sd(key)
        if sd > 0:
            standardised = round((mine.groei - exact.groei) / sd, 2)
        grew = cells.growth_values(key, school)
        percent = np.asarray([100.0 * float(np.mean(grew > exact.groei))])
        assert policy.percent_clip is not None
        clipped, below, above = policy.percent_clip.clip(percent)
        share = Share(float(np.round(clipped[0])), bool(below[0]), bool(above[0]))
    else:
        missing.append("comparison")
    if weging is None:
        missing.append("reference")
    elif predicted is None:
        missing.append("model")
    return ReportRow(
        key.jaargroep,
        cells.pupils(key, school),
        _rounded(mine),
        national,
        predicted,
        standardised,
        share,
        tuple(missing),
    )
