"""Synthetic LVS exports: the only pupil data this project ever uses.

Deterministic (the same spec gives the same bytes), realistic enough to
exercise every part of the chain, and able to reach national size (6,000
schools, about 1.4 million pupils a year) by writing one school at a time.

- schools sized like Dutch primary schools, a few as a second vestiging;
- Dutch names with diacritics, valid BSNs and some onderwijsnummers that are
  later replaced by a BSN, addresses with twins and siblings at one address;
- midden and eind results per domain growing with jaargroep and differing
  between schools; childcare participation; a few special-category records;
- pupils moving up, repeating, changing school, leaving and arriving;
- the separators, encodings, date and decimal notations of different vendors.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     summary = write_exports(SynthSpec(schools=2, seed=1), pathlib.Path(tmp))
>>> summary.exports
2
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from cohortsafe.domain import SchoolYear
from cohortsafe.errors import UsageError
from cohortsafe.files import write_atomic
from cohortsafe.reference import PROVINCES, REFERENCE_COLUMNS, REGION_COLUMN, WEGING_RANGE
from cohortsafe.synth._exports import build_tables, write_tables
from cohortsafe.synth._numbers import NumberStream
from cohortsafe.synth._population import Population, make_schools
from cohortsafe.synth._vendors import VENDORS

__all__ = ["SynthSpec", "SynthSummary", "write_exports", "write_reference"]

DEFAULT_YEARS = (SchoolYear(2025),)


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: how many school locations, which school years, from which seed."""

    schools: int
    seed: int = 1
    years: tuple[SchoolYear, ...] = DEFAULT_YEARS

    def __post_init__(self) -> None:
        if not 1 <= self.schools <= 60_000:
            raise UsageError("the number of schools must be between 1 and 60000")
        if not self.years:
            raise UsageError("at least one school year is needed")


@dataclass
class SynthSummary:
    schools: int = 0
    exports: int = 0
    pupils: int = 0
    results: int = 0
    childcare: int = 0
    special: int = 0
    years: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def write_exports(spec: SynthSpec, out: Path) -> SynthSummary:
    """Write ``out/<schooljaar>/<BRINVEST>/`` for every school and requested year."""
    rng = np.random.default_rng(spec.seed)
    schools = make_schools(rng, spec.schools, len(VENDORS))
    population = Population(rng, schools, NumberStream(spec.seed))
    wanted = set(spec.years)
    first, last = min(spec.years), max(spec.years)
    summary = SynthSummary(schools=schools.count, years=[str(y) for y in sorted(wanted)])
    year = first
    population.start(year)
    while True:
        if year in wanted:
            _write_year(population, year, out, spec.seed, summary)
        if year == last:
            return summary
        year = year.next()
        population.advance(year)


def _write_year(
    population: Population, year: SchoolYear, out: Path, seed: int, summary: SynthSummary
) -> None:
    cols = population.cols
    active = np.flatnonzero(cols["active"])
    by_school = active[np.argsort(cols["school"][active], kind="stable")]
    bounds = np.searchsorted(cols["school"][by_school], np.arange(population.schools.count + 1))
    for school in range(population.schools.count):
        members = by_school[bounds[school] : bounds[school + 1]]
        vendor = VENDORS[int(population.schools.vendor[school])]
        tables = build_tables(population, school, members, year, vendor, seed)
        write_tables(out / str(year) / population.schools.code(school), tables, vendor)
        summary.exports += 1
        summary.pupils += tables.leerlingen.num_rows
        summary.results += tables.toetsresultaten.num_rows
        summary.childcare += tables.voorschool.num_rows
        summary.special += tables.bijzonder.num_rows


# pupils per province, roughly (Groningen … Limburg, in PROVINCES' order)
_PROVINCE_SHARES = np.asarray([3, 4, 3, 7, 2.5, 12, 8, 17, 21, 2, 15, 5.5]) / 100.0


def write_reference(spec: SynthSpec, path: Path) -> int:
    """Write the office's reference file for the schools of ``spec``; returns its rows.

    A stand-in for CBS's *schoolweging* (20 to 40), which CBS computes from its own
    registers: it falls as the school's effect on its pupils' results rises, with noise,
    and moves a little from year to year. It draws from a stream of its own, so the
    exports of a seed stay the same bytes whether or not it is written."""
    schools = make_schools(np.random.default_rng(spec.seed), spec.schools, len(VENDORS))
    rng = np.random.default_rng([spec.seed, 0x5C00])
    base = 30.0 - 12.0 * schools.effect + rng.normal(0.0, 2.0, schools.count)
    years = sorted(spec.years)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    # each school's province, from a stream of its own, roughly as pupils are spread
    where = np.random.default_rng([spec.seed, 0x5C01]).choice(
        len(PROVINCES), schools.count, p=_PROVINCE_SHARES
    )
    writer.writerow([*REFERENCE_COLUMNS, REGION_COLUMN])
    for offset, year in enumerate(years):
        drift = rng.normal(0.0, 0.3, schools.count) * offset
        weging = np.clip(np.round(base + drift, 1), *WEGING_RANGE)
        writer.writerows(
            [schools.code(school), str(year), f"{weging[school]:.1f}", PROVINCES[where[school]]]
            for school in range(schools.count)
        )
    # names every school by BRIN: private like every file of the office's
    write_atomic(path, out.getvalue().encode())
    rows = schools.count * len(years)
    return rows
