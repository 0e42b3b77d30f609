"""Reading and validating one LVS export folder, all or nothing.

Every row of every file is checked; a single problem rejects the whole export,
and the outcome lists every problem found (file, line, column, reason) so the
school can fix them in one pass. Problems never quote the offending value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cohortsafe.domain import (
    CHILDCARE_KINDS,
    DOMAINS,
    EARLIEST_BIRTH_DATE,
    LEVELS,
    SCALES,
    SPECIAL_CATEGORIES,
    SchoolCode,
    SchoolYear,
    canonical_pgn,
    canonical_postcode,
    childcare_code,
    domain_code,
    moment_code,
    scale_code,
    sex_code,
    special_category_code,
)
from cohortsafe.domain.schemas import (
    LVS_BIJZONDER,
    LVS_LEERLINGEN,
    LVS_TOETSRESULTATEN,
    LVS_VOORSCHOOL,
)
from cohortsafe.errors import IdentifierError
from cohortsafe.lvs import _columns as col
from cohortsafe.lvs._csvfile import CsvColumns, read_columns
from cohortsafe.lvs._freetext import free_text_problems
from cohortsafe.lvs._problems import Problem

__all__ = ["EXPORT_FILES", "Export", "ReadOutcome", "find_exports", "read_export"]

#: The columns of each file; the second set may be left out of the header.
EXPORT_FILES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "leerlingen.csv": (
        tuple(LVS_LEERLINGEN.names),
        frozenset({"onderwijsnummer", "tussenvoegsel", "huisnummertoevoeging"}),
    ),
    "toetsresultaten.csv": (tuple(LVS_TOETSRESULTATEN.names), frozenset({"niveau"})),
    "voorschool.csv": (tuple(LVS_VOORSCHOOL.names), frozenset()),
    "bijzonder.csv": (tuple(LVS_BIJZONDER.names), frozenset({"omschrijving"})),
}
_OPTIONAL_FILES = frozenset({"bijzonder.csv"})


@dataclass(frozen=True)
class Export:
    """A valid export, typed: one school, the school year it describes, four tables."""

    folder: Path
    school: SchoolCode
    school_year: SchoolYear
    leerlingen: pa.Table
    toetsresultaten: pa.Table
    voorschool: pa.Table
    bijzonder: pa.Table

    def row_counts(self) -> dict[str, int]:
        return {
            "leerlingen": self.leerlingen.num_rows,
            "toetsresultaten": self.toetsresultaten.num_rows,
            "voorschool": self.voorschool.num_rows,
            "bijzonder": self.bijzonder.num_rows,
        }


@dataclass(frozen=True)
class ReadOutcome:
    """What reading an export gave: the export, or every problem that rejects it."""

    folder: Path
    export: Export | None
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.export is not None


def find_exports(path: Path) -> list[Path]:
    """``path`` itself if it is an export folder, else the export folders below it, sorted.

    Every folder holding a CSV file is an export: one without ``leerlingen.csv``
    is then rejected as incomplete by :func:`read_export`, not skipped unseen.
    """
    if (path / "leerlingen.csv").is_file():
        return [path]
    return sorted({p.parent for p in path.rglob("*") if p.suffix.lower() == ".csv" and p.is_file()})


def read_export(
    folder: Path, *, school_year: SchoolYear | None = None, today: dt.date | None = None
) -> ReadOutcome:
    """Read and check every file of the export in ``folder``.

    ``school_year`` is the year the export describes (whose jaargroepen the
    pupils are in); by default the latest school year among its results.
    """
    today = today or dt.date.today()
    problems: list[Problem] = []
    files: dict[str, CsvColumns] = {}
    ignored: dict[str, list[str]] = {}
    for name, (columns, optional) in EXPORT_FILES.items():
        path = folder / name
        if not path.is_file():
            if name not in _OPTIONAL_FILES:
                problems.append(Problem(name, None, None, "file is missing from the export"))
            continue
        csv_file = read_columns(path)
        problems.extend(csv_file.problems)
        if not csv_file.columns and csv_file.problems:
            continue
        missing = [c for c in columns if c not in csv_file.columns and c not in optional]
        problems.extend(Problem(name, 1, c, "required column is missing") for c in missing)
        extra = sorted(set(csv_file.columns) - set(columns))
        if extra:
            ignored[name] = extra
        if missing:
            continue
        empty = pa.array([""] * csv_file.num_rows, pa.string())
        for c in optional:
            csv_file.columns.setdefault(c, empty)
        files[name] = csv_file
    encodings = {name: f.encoding for name, f in files.items()}

    if "leerlingen.csv" not in files:
        return ReadOutcome(folder, None, _sorted(problems), ignored, encodings)
    pupils, school, pupil_problems = _leerlingen(files["leerlingen.csv"], today)
    problems.extend(pupil_problems)
    known = files["leerlingen.csv"].columns["leerlingnummer"]
    problems.extend(free_text_problems(files))

    tables: dict[str, pa.Table | None] = {}
    for name, table_of in _DEPENDENT_TABLES.items():
        if name in files:
            table, table_problems = table_of(files[name], known, today)
            problems.extend(table_problems)
            tables[name] = None if table_problems else table
    results = tables.get("toetsresultaten.csv")
    year = school_year
    if results is not None:
        years = [SchoolYear.parse(y) for y in pc.unique(results.column("schooljaar")).to_pylist()]
        if year is None and years:
            year = max(years)
        problems.extend(_school_year_problems(year, years, today))
    childcare = tables.get("voorschool.csv")
    special = tables.get("bijzonder.csv", LVS_BIJZONDER.empty_table())
    if (
        problems
        or pupils is None
        or school is None
        or year is None
        or results is None
        or childcare is None
        or special is None
    ):
        return ReadOutcome(folder, None, _sorted(problems), ignored, encodings)
    export = Export(folder, school, year, pupils, results, childcare, special)
    return ReadOutcome(folder, export, [], ignored, encodings)


def _school_year_problems(
    year: SchoolYear | None, years: list[SchoolYear], today: dt.date
) -> list[Problem]:
    """Whether the export's school year (given or taken from the results) fits the results.

    Each rule reports only when the ones before it passed: one mistake, one line.
    """

    def problem(reason: str) -> list[Problem]:
        return [Problem("toetsresultaten.csv", None, "schooljaar", reason)]

    if year is None:
        return problem("no results, so the school year cannot be told: give it explicitly")
    current = SchoolYear.containing(today)
    if year > current:
        return problem(
            f"the school year {year} has not begun yet (the current school year is {current}): "
            "check --schooljaar"
        )
    if years and year not in years:
        held = ", ".join(str(y) for y in sorted(years))
        return problem(
            f"none of the results is of the school year {year} (they are of {held}): "
            "check --schooljaar"
        )
    if any(y > year for y in years):
        return problem(f"results from after the export's school year {year}")
    return []


def _sorted(problems: list[Problem]) -> list[Problem]:
    order = {name: i for i, name in enumerate(EXPORT_FILES)}
    return sorted(
        problems,
        key=lambda p: (order.get(p.file, 99), p.line or 0, p.column or "", p.reason),
    )


def _leerlingen(
    f: CsvColumns, today: dt.date
) -> tuple[pa.Table | None, SchoolCode | None, list[Problem]]:
    check = col.Checker(f.file, f.lines)
    c = f.columns
    leerlingnummer = col.text(
        check, "leerlingnummer", c["leerlingnummer"], required=True, max_length=20
    )
    rows, firsts = col.duplicates([leerlingnummer])
    for row, first in zip(rows, firsts, strict=True):
        check.flag_row(
            "leerlingnummer", int(row), f"leerlingnummer also on line {int(f.lines[first])}"
        )

    bsn_values = c["bsn"].to_pylist()
    onr_values = c["onderwijsnummer"].to_pylist()
    bsn_out: list[str | None] = []
    onr_out: list[str | None] = []
    for index, (bsn, onr) in enumerate(zip(bsn_values, onr_values, strict=True)):
        try:
            pgn = canonical_pgn(bsn, onr)
        except IdentifierError as error:
            column = "bsn" if bsn else ("onderwijsnummer" if onr else "bsn")
            check.flag_row(column, index, str(error))
            bsn_out.append(None)
            onr_out.append(None)
            continue
        bsn_out.append(pgn.number if pgn.kind == "bsn" else None)
        onr_out.append(pgn.number if pgn.kind == "onderwijsnummer" else onr or None)
    pgn_key = pa.array([b or o for b, o in zip(bsn_out, onr_out, strict=True)], pa.string())
    present = np.asarray(pc.is_valid(pgn_key).to_numpy(zero_copy_only=False), dtype=bool)
    rows, firsts = col.duplicates([pgn_key])
    for row, first in zip(rows, firsts, strict=True):
        if present[row]:
            check.flag_row("bsn", int(row), f"the same pupil number as line {int(f.lines[first])}")

    postcodes: list[str | None] = []
    for index, value in enumerate(c["postcode"].to_pylist()):
        if not value:
            check.flag_row("postcode", index, "value is missing")
            postcodes.append(None)
            continue
        try:
            postcodes.append(canonical_postcode(value))
        except IdentifierError as error:
            check.flag_row("postcode", index, str(error))
            postcodes.append(None)

    brin = col.code(check, "brin", c["brin"], _brin, what="BRIN (two digits, two letters)")
    vestiging = col.code(
        check, "vestiging", c["vestiging"], _vestiging, what="vestiging (two digits)"
    )
    table = pa.table(
        {
            "leerlingnummer": leerlingnummer,
            "bsn": pa.array(bsn_out, pa.string()),
            "onderwijsnummer": pa.array(onr_out, pa.string()),
            "voornamen": col.text(check, "voornamen", c["voornamen"], required=True),
            "tussenvoegsel": col.text(
                check, "tussenvoegsel", c["tussenvoegsel"], required=False, max_length=20
            ),
            "achternaam": col.text(check, "achternaam", c["achternaam"], required=True),
            "geboortedatum": col.date(
                check,
                "geboortedatum",
                c["geboortedatum"],
                not_after=today,
                not_before=EARLIEST_BIRTH_DATE,
            ),
            "geslacht": col.code(
                check, "geslacht", c["geslacht"], sex_code, what="geslacht (M, V, X or O)"
            ),
            "postcode": pa.array(postcodes, pa.string()),
            "huisnummer": col.integer(check, "huisnummer", c["huisnummer"], 1, 99999, pa.int32()),
            "huisnummertoevoeging": col.text(
                check,
                "huisnummertoevoeging",
                c["huisnummertoevoeging"],
                required=False,
                max_length=10,
            ),
            "jaargroep": col.integer(check, "jaargroep", c["jaargroep"], 1, 8, pa.int8()),
            "brin": brin,
            "vestiging": vestiging,
        }
    )
    school = _one_school(check, brin, vestiging)
    if check.problems:
        return None, school, check.problems
    return table.cast(LVS_LEERLINGEN), school, []


def _brin(value: str) -> str | None:
    try:
        return SchoolCode(value.upper(), "00").brin
    except IdentifierError:
        return None


def _vestiging(value: str) -> str | None:
    value = value.zfill(2)
    return value if len(value) == 2 and value.isdigit() else None


def _one_school(check: col.Checker, brin: pa.Array, vestiging: pa.Array) -> SchoolCode | None:
    codes = pc.binary_join_element_wise(brin, vestiging, "")
    valid = codes.drop_null()
    if len(valid) == 0:
        if len(codes) == 0:
            check.problems.append(Problem(check.file, None, None, "the export holds no pupils"))
        return None
    counts = pc.value_counts(valid).to_pylist()
    main = max(counts, key=lambda item: item["counts"])["values"]
    other = np.asarray(
        pc.not_equal(codes, main).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool
    )
    check.flag("brin", other, "a pupil of another school: an export holds one school")
    return SchoolCode(main[:4], main[4:])


def _known_pupil(check: col.Checker, column: pa.Array, known: pa.Array) -> pa.Array:
    values = col.text(check, "leerlingnummer", column, required=True, max_length=20)
    unknown = np.asarray(
        pc.invert(pc.is_in(values, value_set=known)).to_numpy(zero_copy_only=False), dtype=bool
    ) & ~col.is_empty(values)
    check.flag("leerlingnummer", unknown, "no pupil with this leerlingnummer in leerlingen.csv")
    return values


def _school_year(value: str) -> str | None:
    try:
        return str(SchoolYear.parse(value))
    except IdentifierError:
        return None


def _level(value: str) -> str | None:
    upper = value.upper()
    return upper if upper in LEVELS else None


def _toetsresultaten(
    f: CsvColumns, known: pa.Array, today: dt.date
) -> tuple[pa.Table, list[Problem]]:
    check = col.Checker(f.file, f.lines)
    c = f.columns
    leerlingnummer = _known_pupil(check, c["leerlingnummer"], known)
    toets = col.text(check, "toets", c["toets"], required=True, max_length=80)
    leergebied = col.code(
        check,
        "leergebied",
        c["leergebied"],
        domain_code,
        what=f"leergebied (known: {', '.join(DOMAINS)})",
    )
    moment = col.code(
        check, "toetsmoment", c["toetsmoment"], moment_code, what="toetsmoment (M or E)"
    )
    schooljaar = col.code(
        check, "schooljaar", c["schooljaar"], _school_year, what="schooljaar (as 2025-2026)"
    )
    afnamedatum = col.date(check, "afnamedatum", c["afnamedatum"], not_after=today)
    _within_school_year(check, schooljaar, afnamedatum)
    table = pa.table(
        {
            "leerlingnummer": leerlingnummer,
            "toets": toets,
            "leergebied": leergebied,
            "toetsmoment": moment,
            "schooljaar": schooljaar,
            "jaargroep": col.integer(check, "jaargroep", c["jaargroep"], 1, 8, pa.int8()),
            "afnamedatum": afnamedatum,
            "vaardigheidsscore": col.decimal(
                check, "vaardigheidsscore", c["vaardigheidsscore"], -1000, 10000
            ),
            "schaal": col.code(
                check,
                "schaal",
                c["schaal"],
                scale_code,
                what=f"schaal (known: {', '.join(SCALES)})",
            ),
            "niveau": col.code(
                check, "niveau", c["niveau"], _level, required=False, what="niveau (I–V or A–E)"
            ),
        }
    )
    keys = [
        table.column(k).combine_chunks().fill_null("")
        for k in ("leerlingnummer", "toets", "leergebied", "toetsmoment", "schooljaar")
    ]
    rows, firsts = col.duplicates(keys)
    for row, first in zip(rows, firsts, strict=True):
        check.flag_row(
            None,
            int(row),
            f"the same result (pupil, toets, leergebied, moment, year) as line "
            f"{int(f.lines[first])}",
        )
    return (table if check.problems else table.cast(LVS_TOETSRESULTATEN)), check.problems


def _within_school_year(check: col.Checker, schooljaar: pa.Array, day: pa.Array) -> None:
    encoded = schooljaar.dictionary_encode()
    years = [SchoolYear.parse(y) if y else None for y in encoded.dictionary.to_pylist()]
    # one extra NaT at the end stands for rows whose schooljaar is already rejected
    first = np.array([y.first_day if y else "NaT" for y in years] + ["NaT"], "datetime64[D]")
    last = np.array([y.last_day if y else "NaT" for y in years] + ["NaT"], "datetime64[D]")
    index = np.asarray(encoded.indices.fill_null(len(years)).to_numpy(), dtype=np.int64)
    days = np.asarray(day.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    # a rejected schooljaar or a rejected date was reported already: not outside as well
    known = ~np.isnat(first[index]) & ~np.isnat(days)
    outside = known & ((days < first[index]) | (days > last[index]))
    check.flag("afnamedatum", outside, "date lies outside the schooljaar")


def _voorschool(f: CsvColumns, known: pa.Array, today: dt.date) -> tuple[pa.Table, list[Problem]]:
    check = col.Checker(f.file, f.lines)
    c = f.columns
    table = pa.table(
        {
            "leerlingnummer": _known_pupil(check, c["leerlingnummer"], known),
            "soort": col.code(
                check,
                "soort",
                c["soort"],
                childcare_code,
                what=f"soort (known: {', '.join(CHILDCARE_KINDS)})",
            ),
            "maanden": col.integer(check, "maanden", c["maanden"], 0, 72, pa.int16()),
            "dagdelen_per_week": col.decimal(
                check, "dagdelen_per_week", c["dagdelen_per_week"], 0, 10
            ),
        }
    )
    keys = [table.column(k).combine_chunks().fill_null("") for k in ("leerlingnummer", "soort")]
    rows, firsts = col.duplicates(keys)
    for row, first in zip(rows, firsts, strict=True):
        check.flag_row(None, int(row), f"the same pupil and soort as line {int(f.lines[first])}")
    return (table if check.problems else table.cast(LVS_VOORSCHOOL)), check.problems


def _bijzonder(f: CsvColumns, known: pa.Array, today: dt.date) -> tuple[pa.Table, list[Problem]]:
    check = col.Checker(f.file, f.lines)
    c = f.columns
    table = pa.table(
        {
            "leerlingnummer": _known_pupil(check, c["leerlingnummer"], known),
            "categorie": col.code(
                check,
                "categorie",
                c["categorie"],
                special_category_code,
                what=f"categorie (known: {', '.join(SPECIAL_CATEGORIES)})",
            ),
            "omschrijving": col.text(
                check, "omschrijving", c["omschrijving"], required=False, max_length=500
            ),
            "datum": col.date(check, "datum", c["datum"], not_after=today),
        }
    )
    # A pupil has a category or not: a second row of it, whatever its date, is a mistake.
    # An unknown categorie is null, and null keys never match: it repeats nothing.
    keys = [table.column(k).combine_chunks() for k in ("leerlingnummer", "categorie")]
    rows, firsts = col.duplicates(keys)
    for row, first in zip(rows, firsts, strict=True):
        check.flag_row(
            None, int(row), f"the same pupil and categorie as line {int(f.lines[first])}"
        )
    return (table if check.problems else table.cast(LVS_BIJZONDER)), check.problems


TableCheck = Callable[[CsvColumns, pa.Array, dt.date], tuple[pa.Table, list[Problem]]]

#: The files whose rows refer to pupils in leerlingen.csv, and how each is checked.
_DEPENDENT_TABLES: dict[str, TableCheck] = {
    "toetsresultaten.csv": _toetsresultaten,
    "voorschool.csv": _voorschool,
    "bijzonder.csv": _bijzonder,
}
