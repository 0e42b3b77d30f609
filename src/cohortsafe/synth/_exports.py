"""Cutting one school's export for one school year out of the population, and writing it."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cohortsafe.domain import SPECIAL_CATEGORIES, SchoolYear
from cohortsafe.domain.names import FIRST_NAMES_BOYS, FIRST_NAMES_GIRLS, SURNAMES
from cohortsafe.files import PRIVATE_FILE, private_dir
from cohortsafe.synth._population import POSTCODE_LETTERS, TOEVOEGINGEN, Population
from cohortsafe.synth._vendors import Vendor


@dataclass(frozen=True, slots=True)
class DomainModel:
    """Scores grow by ``growth`` per jaargroep from ``base`` at the start of groep 3."""

    code: str
    ability: str  # population column with the pupil's ability in this domain
    first_group: int
    base: float
    growth: float
    spread: float


DOMAIN_MODELS: tuple[DomainModel, ...] = (
    DomainModel("rekenen_wiskunde", "ability_rw", 3, 112.0, 22.0, 14.0),
    DomainModel("begrijpend_lezen", "ability_bl", 4, 121.0, 14.0, 13.0),
    DomainModel("spelling", "ability_sp", 3, 108.0, 16.0, 11.0),
    DomainModel("technisch_lezen", "ability_tl", 3, 24.0, 11.0, 9.0),
    DomainModel("woordenschat", "ability_ws", 3, 58.0, 10.0, 12.0),
)

_NAMES = np.array(FIRST_NAMES_BOYS + FIRST_NAMES_GIRLS, dtype=object)
_TUSSENVOEGSELS = np.array([t for t, _ in SURNAMES], dtype=object)
_ACHTERNAMEN = np.array([a for _, a in SURNAMES], dtype=object)
_SEXES = np.array(["M", "V", "X"], dtype=object)
_LEVEL_CUTS = np.array([-0.84, -0.25, 0.25, 0.84])
_LEVELS = np.array(["V", "IV", "III", "II", "I"], dtype=object)
_DESCRIPTIONS = (
    "Dyslexieverklaring aanwezig - extra leestijd",
    "Dyscalculieverklaring - rekenkaart toegestaan",
    "Diagnose ADHD - afspraken over pauzes",
    "ASS-diagnose - prikkelarme werkplek",
    "Medisch protocol aanwezig - contact via ouders",
)
ABSENCE_RATE = 0.03


@dataclass
class ExportTables:
    """One school's export for one year, as text columns ready to be written."""

    leerlingen: pa.Table
    toetsresultaten: pa.Table
    voorschool: pa.Table
    bijzonder: pa.Table


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(str).astype(object), pa.string())


def _dates(days: np.ndarray, vendor: Vendor) -> pa.Array:
    array = pa.array(days.astype("datetime64[D]"), pa.date32())
    return pc.strftime(array, "%d-%m-%Y" if vendor.dutch_dates else "%Y-%m-%d")


def _decimal(values: np.ndarray, vendor: Vendor) -> pa.Array:
    text = np.char.mod("%g", values.astype(np.float64))
    if vendor.decimal_comma:
        text = np.char.replace(text, ".", ",")
    return pa.array(text.astype(object), pa.string())


def build_tables(
    pop: Population,
    school: int,
    members: np.ndarray,
    year: SchoolYear,
    vendor: Vendor,
    seed: int,
) -> ExportTables:
    """The four tables of ``school``'s export at the end of ``year``."""
    rng = np.random.default_rng([seed, year.start, school])
    c = pop.cols
    members = members[np.argsort(c["leerlingnummer"][members])]
    n = len(members)
    leerlingnummer = c["leerlingnummer"][members].astype(str).astype(object)
    sex = _SEXES[c["sex"][members]]
    sex[sex == "X"] = vendor.unknown_sex
    bsn = c["bsn"][members]
    onr = c["onderwijsnummer"][members]
    pc4 = c["pc4"][members].astype(str).astype(object)
    letters = POSTCODE_LETTERS[c["pc_letters"][members]]
    separator = " " if vendor.dutch_dates else ""
    toevoeging = np.where(
        c["toevoeging"][members] >= 0, TOEVOEGINGEN[np.maximum(c["toevoeging"][members], 0)], ""
    )
    leerlingen = pa.table(
        {
            "leerlingnummer": pa.array(leerlingnummer, pa.string()),
            "bsn": pa.array(
                np.where(bsn > 0, np.char.zfill(bsn.astype(str), 9), "").astype(object), pa.string()
            ),
            "onderwijsnummer": pa.array(
                np.where(onr > 0, np.char.zfill(onr.astype(str), 9), "").astype(object), pa.string()
            ),
            "voornamen": pa.array(_NAMES[c["first_name"][members]], pa.string()),
            "tussenvoegsel": pa.array(_TUSSENVOEGSELS[c["surname"][members]], pa.string()),
            "achternaam": pa.array(_ACHTERNAMEN[c["surname"][members]], pa.string()),
            "geboortedatum": _dates(c["birth"][members], vendor),
            "geslacht": pa.array(sex, pa.string()),
            "postcode": pa.array(pc4 + separator + letters, pa.string()),
            "huisnummer": _text(c["huisnummer"][members]),
            "huisnummertoevoeging": pa.array(toevoeging.astype(object), pa.string()),
            "jaargroep": _text(c["jaargroep"][members]),
            "brin": pa.array([pop.schools.brin[school]] * n, pa.string()),
            "vestiging": pa.array([pop.schools.vestiging[school]] * n, pa.string()),
        }
    )
    return ExportTables(
        leerlingen=leerlingen,
        toetsresultaten=_results(pop, school, members, year, vendor, rng),
        voorschool=_childcare(pop, members, vendor),
        bijzonder=_special(pop, members, year, vendor),
    )


def _results(
    pop: Population,
    school: int,
    members: np.ndarray,
    year: SchoolYear,
    vendor: Vendor,
    rng: np.random.Generator,
) -> pa.Table:
    c = pop.cols
    schools = pop.schools
    effect = schools.effect[school]
    pieces: list[dict[str, np.ndarray]] = []
    for model in DOMAIN_MODELS:
        if model.code == "woordenschat" and not schools.woordenschat[school]:
            continue
        who = members[c["jaargroep"][members] >= model.first_group]
        for moment, start, day in (
            ("M", np.datetime64(f"{year.start + 1}-01-15"), schools.test_day_m[school]),
            ("E", np.datetime64(f"{year.start + 1}-06-01"), schools.test_day_e[school]),
        ):
            present = who[rng.random(len(who)) >= ABSENCE_RATE]
            group = c["jaargroep"][present].astype(np.float64)
            t = (group - 3.0) + (0.5 if moment == "E" else 0.0)
            z = c[model.ability][present] + effect + rng.normal(0.0, 0.35, len(present))
            score = np.round(model.base + model.growth * t + model.spread * z)
            level = _LEVELS[np.searchsorted(_LEVEL_CUTS, z)]
            pieces.append(
                {
                    "who": present,
                    "domain": np.full(len(present), model.code, dtype=object),
                    "moment": np.full(len(present), moment, dtype=object),
                    "date": start + day + rng.integers(0, 5, len(present)),
                    "score": score,
                    "level": level if vendor.gives_level else np.full(len(present), "", object),
                }
            )
    who = np.concatenate([p["who"] for p in pieces])
    domain = np.concatenate([p["domain"] for p in pieces])
    labels = np.array([vendor.label(d) for d in domain], dtype=object) if len(domain) else domain
    toets = np.char.add(f"{vendor.test_prefix} ", labels.astype(str)).astype(object)
    return pa.table(
        {
            "leerlingnummer": _text(c["leerlingnummer"][who]),
            "toets": pa.array(toets, pa.string()),
            "leergebied": pa.array(labels, pa.string()),
            "toetsmoment": pa.array(np.concatenate([p["moment"] for p in pieces]), pa.string()),
            "schooljaar": pa.array([str(year)] * len(who), pa.string()),
            "jaargroep": _text(c["jaargroep"][who]),
            "afnamedatum": _dates(np.concatenate([p["date"] for p in pieces]), vendor),
            "vaardigheidsscore": _decimal(np.concatenate([p["score"] for p in pieces]), vendor),
            "schaal": pa.array([vendor.scale] * len(who), pa.string()),
            "niveau": pa.array(np.concatenate([p["level"] for p in pieces]), pa.string()),
        }
    )


def _childcare(pop: Population, members: np.ndarray, vendor: Vendor) -> pa.Table:
    c = pop.cols
    labels = (
        ("kdv_months", "kinderdagverblijf" if vendor.dutch_dates else "KDV"),
        ("psz_months", "peuterspeelzaal" if vendor.dutch_dates else "PSZ"),
        ("vve_months", "VVE"),
    )
    who_parts, kind_parts, month_parts = [], [], []
    for column, label in labels:
        attended = members[c[column][members] > 0]
        who_parts.append(attended)
        kind_parts.append(np.full(len(attended), label, dtype=object))
        month_parts.append(c[column][attended])
    who = np.concatenate(who_parts)
    order = np.argsort(c["leerlingnummer"][who], kind="stable")
    who = who[order]
    return pa.table(
        {
            "leerlingnummer": _text(c["leerlingnummer"][who]),
            "soort": pa.array(np.concatenate(kind_parts)[order], pa.string()),
            "maanden": _text(np.concatenate(month_parts)[order]),
            "dagdelen_per_week": _decimal(c["care_dagdelen"][who], vendor),
        }
    )


def _special(pop: Population, members: np.ndarray, year: SchoolYear, vendor: Vendor) -> pa.Table:
    c = pop.cols
    known = members[
        (c["special"][members] >= 0) & (c["special_date"][members] <= np.datetime64(year.last_day))
    ]
    category = c["special"][known]
    names = np.array(SPECIAL_CATEGORIES, dtype=object)[category]
    if not vendor.dutch_dates:
        names = np.array([n.capitalize() for n in names], dtype=object)
    return pa.table(
        {
            "leerlingnummer": _text(c["leerlingnummer"][known]),
            "categorie": pa.array(names, pa.string()),
            "omschrijving": pa.array(np.array(_DESCRIPTIONS, dtype=object)[category], pa.string()),
            "datum": _dates(c["special_date"][known], vendor),
        }
    )


def write_tables(folder: Path, tables: ExportTables, vendor: Vendor) -> None:
    """Write the export's CSV files the way ``vendor`` writes them."""
    options = pacsv.WriteOptions(
        delimiter=vendor.delimiter,
        quoting_style="all_valid" if vendor.quote_all else "none",
        quoting_header="none",
        eol=vendor.eol,
    )
    files = {
        "leerlingen.csv": tables.leerlingen,
        "toetsresultaten.csv": tables.toetsresultaten,
        "voorschool.csv": tables.voorschool,
    }
    if tables.bijzonder.num_rows:
        files["bijzonder.csv"] = tables.bijzonder
    # synthetic, but shaped like a real export: private like one
    private_dir(folder)
    for name, table in files.items():
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, write_options=options)
        data = buffer.getvalue()
        if vendor.encoding == "cp1252":
            data = data.decode("utf-8").encode("cp1252")
        elif vendor.encoding == "utf-8-sig":
            data = b"\xef\xbb\xbf" + data
        _write_private(folder / name, data)


def _write_private(path: Path, data: bytes) -> None:
    # no fsync: a generated export can be generated again
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
