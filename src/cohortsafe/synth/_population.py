"""The synthetic nation: schools and pupils as NumPy columns, moved on one school year at a time.

Everything a pupil keeps from year to year (identifiers, name, birth date,
address, ability, childcare history, special-category record) lives in one
column per attribute; a national population of two million pupils takes
about 150 MB. Tables per school are cut from it one school at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cohortsafe.domain import SchoolYear
from cohortsafe.domain.names import FIRST_NAMES_BOYS, FIRST_NAMES_GIRLS, SURNAMES
from cohortsafe.synth._numbers import NumberStream

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Letter pairs a Dutch postcode may end in (SA, SD and SS are not used).
POSTCODE_LETTERS = np.array(
    [a + b for a in _LETTERS for b in _LETTERS if a + b not in ("SA", "SD", "SS")], dtype=object
)
TOEVOEGINGEN = np.array(["A", "B", "C", "1", "2", "bis", "hs", "zw"], dtype=object)

# Yearly rates of the pupil flows (fractions of the pupils concerned).
REPEAT_RATE = 0.02
MOVE_RATE = 0.03
EMIGRATION_RATE = 0.005
NEWCOMER_RATE = 0.012
ONDERWIJSNUMMER_AT_START = 0.01
ONDERWIJSNUMMER_NEWCOMER = 0.30
BSN_REPLACES_ONDERWIJSNUMMER = 0.5
TWIN_RATE = 0.015
SIBLING_RATE = 0.2
SPECIAL_RATE = 0.04


@dataclass
class Schools:
    """One row per school location."""

    brin: np.ndarray  # object: "12AB"
    vestiging: np.ndarray  # object: "00"
    size: np.ndarray  # int: pupils aimed for
    effect: np.ndarray  # float: school's ability offset in SD units
    area: np.ndarray  # int: PC4 area the pupils live around
    vendor: np.ndarray  # int: index into the vendor profiles
    test_day_m: np.ndarray  # int: day offset of the midden test week
    test_day_e: np.ndarray  # int: day offset of the eind test week
    woordenschat: np.ndarray  # bool: school tests woordenschat too
    vve_share: np.ndarray  # float: share of pupils in a VVE programme

    @property
    def count(self) -> int:
        return len(self.brin)

    def code(self, index: int) -> str:
        return f"{self.brin[index]}{self.vestiging[index]}"


def make_schools(rng: np.random.Generator, count: int, vendors: int) -> Schools:
    """School locations sized like Dutch primary schools (tens to about a thousand pupils)."""
    order = rng.permutation(100 * 26 * 26)[:count]
    brin = np.array(
        [f"{i % 100:02d}{_LETTERS[(i // 100) % 26]}{_LETTERS[i // 2600]}" for i in order],
        dtype=object,
    )
    vestiging = np.array(["00"] * count, dtype=object)
    # Every tenth location is a second vestiging of the previous school's BRIN.
    second = np.arange(count) % 10 == 9
    brin[second] = brin[np.flatnonzero(second) - 1]
    vestiging[second] = "01"
    size = np.clip(np.round(rng.lognormal(np.log(205), 0.55, count)), 18, 1000).astype(np.int64)
    return Schools(
        brin=brin,
        vestiging=vestiging,
        size=size,
        effect=rng.normal(0.0, 0.3, count),
        area=rng.integers(1000, 9990, count),
        vendor=rng.integers(0, vendors, count),
        test_day_m=rng.integers(0, 25, count),
        test_day_e=rng.integers(0, 22, count),
        woordenschat=rng.random(count) < 0.3,
        vve_share=np.clip(rng.beta(1.2, 6.0, count), 0, 0.8),
    )


_COLUMNS: dict[str, Any] = {  # NumPy dtype of each population column
    "school": np.int32,
    "active": bool,
    "jaargroep": np.int8,
    "leerlingnummer": np.int32,
    "bsn": np.int64,  # 0: none
    "onderwijsnummer": np.int64,  # 0: none
    "sex": np.int8,  # 0 M, 1 V, 2 X
    "first_name": np.int16,
    "surname": np.int16,
    "birth": "datetime64[D]",
    "pc4": np.int16,
    "pc_letters": np.int16,
    "huisnummer": np.int32,
    "toevoeging": np.int8,  # -1: none
    "ability": np.float32,  # general ability; per-domain abilities lean on it
    "ability_rw": np.float32,
    "ability_bl": np.float32,
    "ability_sp": np.float32,
    "ability_tl": np.float32,
    "ability_ws": np.float32,
    "kdv_months": np.int8,  # 0: did not attend
    "psz_months": np.int8,
    "vve_months": np.int8,
    "care_dagdelen": np.float32,
    "special": np.int8,  # -1: none, else index into SPECIAL_CATEGORIES
    "special_date": "datetime64[D]",
}


class Population:
    """Every pupil ever enrolled, active or not, one NumPy column per attribute."""

    def __init__(self, rng: np.random.Generator, schools: Schools, numbers: NumberStream) -> None:
        self.rng = rng
        self.schools = schools
        self.numbers = numbers
        self.cols: dict[str, np.ndarray] = {
            name: np.zeros(0, dtype=dtype) for name, dtype in _COLUMNS.items()
        }
        self.next_leerlingnummer = np.full(schools.count, 1001, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.cols["school"])

    # -- enrolment -------------------------------------------------------------------------

    def start(self, year: SchoolYear) -> None:
        """Fill every school for its first year, spread over jaargroep 1–8."""
        school = np.repeat(np.arange(self.schools.count), self.schools.size)
        jaargroep = self.rng.integers(1, 9, len(school))
        onr = self.rng.random(len(school)) < ONDERWIJSNUMMER_AT_START
        self._enrol(school, jaargroep, onr, year)

    def advance(self, year: SchoolYear) -> None:
        """Move everyone on from the previous school year into ``year``."""
        c = self.cols
        rng = self.rng
        active = np.flatnonzero(c["active"])
        leaving = active[c["jaargroep"][active] == 8]
        c["active"][leaving] = False
        staying = active[c["jaargroep"][active] < 8]
        repeat = rng.random(len(staying)) < REPEAT_RATE
        c["jaargroep"][staying[~repeat]] += 1

        emigrate = staying[rng.random(len(staying)) < EMIGRATION_RATE]
        c["active"][emigrate] = False
        movers = staying[(rng.random(len(staying)) < MOVE_RATE) & c["active"][staying]]
        new_school = rng.integers(0, self.schools.count, len(movers))
        c["school"][movers] = new_school
        c["leerlingnummer"][movers] = self._take_leerlingnummers(new_school)
        relocate = movers[rng.random(len(movers)) < 0.5]
        self._new_address(relocate, c["school"][relocate])

        # Temporary onderwijsnummers are replaced by a BSN once the pupil gets one.
        holders = np.flatnonzero(c["active"] & (c["bsn"] == 0))
        replaced = holders[rng.random(len(holders)) < BSN_REPLACES_ONDERWIJSNUMMER]
        c["bsn"][replaced] = self.numbers.bsns(len(replaced))
        c["onderwijsnummer"][replaced] = 0

        intake = rng.poisson(self.schools.size / 8.0)
        school = np.repeat(np.arange(self.schools.count), intake)
        self._enrol(school, np.ones(len(school), dtype=np.int64), None, year)

        newcomers = rng.poisson(self.schools.size * NEWCOMER_RATE)
        school = np.repeat(np.arange(self.schools.count), newcomers)
        jaargroep = rng.integers(2, 9, len(school))
        onr = rng.random(len(school)) < ONDERWIJSNUMMER_NEWCOMER
        self._enrol(school, jaargroep, onr, year)

    def _take_leerlingnummers(self, school: np.ndarray) -> np.ndarray:
        out = np.empty(len(school), dtype=np.int32)
        order = np.argsort(school, kind="stable")
        sorted_school = school[order]
        starts = np.searchsorted(sorted_school, sorted_school, side="left")
        rank = np.arange(len(school)) - starts
        out[order] = self.next_leerlingnummer[sorted_school] + rank
        np.add.at(self.next_leerlingnummer, school, 1)
        return out

    def _new_address(self, who: np.ndarray, school: np.ndarray) -> None:
        c, rng = self.cols, self.rng
        c["pc4"][who] = np.clip(
            self.schools.area[school] + rng.integers(-3, 4, len(who)), 1000, 9999
        )
        c["pc_letters"][who] = rng.integers(0, len(POSTCODE_LETTERS), len(who))
        c["huisnummer"][who] = np.minimum(1 + rng.geometric(0.02, len(who)), 999)
        c["toevoeging"][who] = np.where(
            rng.random(len(who)) < 0.08, rng.integers(0, len(TOEVOEGINGEN), len(who)), -1
        )

    def _enrol(
        self,
        school: np.ndarray,
        jaargroep: np.ndarray,
        onderwijsnummer: np.ndarray | None,
        year: SchoolYear,
    ) -> None:
        rng = self.rng
        n = len(school)
        if n == 0:
            return
        if onderwijsnummer is None:
            onderwijsnummer = rng.random(n) < ONDERWIJSNUMMER_AT_START
        new = {name: np.zeros(n, dtype=dtype) for name, dtype in _COLUMNS.items()}
        new["school"][:] = school
        new["active"][:] = True
        new["jaargroep"][:] = jaargroep
        new["sex"][:] = rng.choice(3, n, p=[0.495, 0.495, 0.01])
        boys = len(FIRST_NAMES_BOYS)
        girls = len(FIRST_NAMES_GIRLS)
        name = rng.integers(0, boys + girls, n)
        name[new["sex"] == 0] = rng.integers(0, boys, int((new["sex"] == 0).sum()))
        name[new["sex"] == 1] = boys + rng.integers(0, girls, int((new["sex"] == 1).sum()))
        new["first_name"][:] = name
        new["surname"][:] = rng.integers(0, len(SURNAMES), n)
        # Born so that the pupil is 4 on entering groep 1, plus a year per group since.
        oct_first = np.datetime64(f"{year.start - 5}-10-01")
        years_back = (jaargroep.astype(np.int64) - 1) * 365
        new["birth"][:] = oct_first - years_back + rng.integers(0, 365, n)
        new["ability"][:] = rng.normal(0.0, 1.0, n)
        for domain in ("rw", "bl", "sp", "tl", "ws"):
            new[f"ability_{domain}"][:] = 0.75 * new["ability"] + 0.66 * rng.normal(0.0, 1.0, n)
        share = self.schools.vve_share[school]
        vve = rng.random(n) < share
        kdv = rng.random(n) < 0.55
        psz = ~vve & (rng.random(n) < 0.35)
        new["kdv_months"][:] = np.where(kdv, rng.integers(3, 45, n), 0)
        new["psz_months"][:] = np.where(psz, rng.integers(6, 24, n), 0)
        new["vve_months"][:] = np.where(vve, rng.integers(12, 24, n), 0)
        new["care_dagdelen"][:] = rng.choice([1, 1.5, 2, 2.5, 3, 4, 5], n)
        special = rng.random(n) < SPECIAL_RATE
        new["special"][:] = np.where(special, rng.choice(5, n, p=[0.5, 0.15, 0.15, 0.12, 0.08]), -1)
        new["special_date"][:] = new["birth"] + rng.integers(5 * 365, 8 * 365, n)

        onr_count = int(onderwijsnummer.sum())
        new["bsn"][~onderwijsnummer] = self.numbers.bsns(n - onr_count)
        new["onderwijsnummer"][onderwijsnummer] = self.numbers.onderwijsnummers(onr_count)

        first = len(self)
        self.cols = {name: np.concatenate([self.cols[name], new[name]]) for name in _COLUMNS}
        who = np.arange(first, first + n)
        self.cols["leerlingnummer"][who] = self._take_leerlingnummers(school)
        self._new_address(who, school)
        self._families(who)

    def _families(self, who: np.ndarray) -> None:
        """Some new pupils are a twin of, or a younger sibling living with, another new pupil."""
        c, rng = self.cols, self.rng
        if len(who) < 2:
            return
        partner = who[:-1]
        pupil = who[1:]
        same_school = c["school"][partner] == c["school"][pupil]
        twin = same_school & (rng.random(len(pupil)) < TWIN_RATE)
        sibling = same_school & ~twin & (rng.random(len(pupil)) < SIBLING_RATE)
        for mask, copy_birth in ((twin, True), (sibling, False)):
            src, dst = partner[mask], pupil[mask]
            for name in ("surname", "pc4", "pc_letters", "huisnummer", "toevoeging"):
                c[name][dst] = c[name][src]
            if copy_birth:
                c["birth"][dst] = c["birth"][src]
                c["jaargroep"][dst] = c["jaargroep"][src]
