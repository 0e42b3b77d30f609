"""The synthetic generator: deterministic, valid for the importer, realistic where it matters."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cohortsafe.domain import SchoolYear
from cohortsafe.lvs import Export, find_exports, read_export
from cohortsafe.synth import SynthSpec, write_exports

YEARS = tuple(SchoolYear.span("2023-2024..2025-2026"))
TODAY = dt.date(2026, 11, 30)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Export]]:
    out = tmp_path_factory.mktemp("synth")
    write_exports(SynthSpec(schools=16, seed=5, years=YEARS), out)
    exports: dict[str, list[Export]] = defaultdict(list)
    for folder in find_exports(out):
        outcome = read_export(folder, today=TODAY)
        assert outcome.export is not None, [str(p) for p in outcome.problems[:5]]
        exports[str(outcome.export.school_year)].append(outcome.export)
    return exports


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    spec = SynthSpec(schools=3, seed=9, years=YEARS[:2])
    write_exports(spec, tmp_path / "a")
    write_exports(spec, tmp_path / "b")
    write_exports(SynthSpec(schools=3, seed=10, years=YEARS[:2]), tmp_path / "c")
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    assert _tree_digest(tmp_path / "a") != _tree_digest(tmp_path / "c")


def test_every_export_is_accepted_in_every_vendor_dialect(tmp_path: Path) -> None:
    write_exports(SynthSpec(schools=16, seed=5, years=YEARS[-1:]), tmp_path)
    encodings, delimiters = set(), set()
    for folder in find_exports(tmp_path):
        outcome = read_export(folder, today=TODAY)
        assert outcome.export is not None
        encodings |= set(outcome.encodings.values())
        raw = (folder / "leerlingen.csv").read_bytes()
        delimiters.add(";" if b";" in raw.split(b"\n")[0] else ",")
    assert encodings == {"utf-8", "windows-1252"}
    assert delimiters == {";", ","}


def test_one_export_per_school_and_year(synthetic: dict[str, list[Export]]) -> None:
    assert sorted(synthetic) == [str(y) for y in YEARS]
    assert all(len(exports) == 16 for exports in synthetic.values())
    for exports in synthetic.values():
        for export in exports:
            assert 10 <= export.leerlingen.num_rows <= 1100


def _pupils(exports: list[Export]) -> pa.Table:
    tables = []
    for export in exports:
        table = export.leerlingen.select(["leerlingnummer", "bsn", "onderwijsnummer"])
        tables.append(
            table.append_column("school", pa.array([export.school.code] * table.num_rows))
        )
    return pa.concat_tables(tables)


def test_pupils_change_school_between_years(synthetic: dict[str, list[Export]]) -> None:
    first = _pupils(synthetic["2023-2024"]).to_pylist()
    second = _pupils(synthetic["2024-2025"]).to_pylist()
    school_of = {p["bsn"]: p["school"] for p in first if p["bsn"]}
    moved = [p for p in second if p["bsn"] in school_of and school_of[p["bsn"]] != p["school"]]
    stayed = [p for p in second if p["bsn"] in school_of and school_of[p["bsn"]] == p["school"]]
    assert len(moved) >= 10
    assert len(stayed) > 20 * len(moved)


def test_onderwijsnummers_are_later_replaced_by_a_bsn(synthetic: dict[str, list[Export]]) -> None:
    first = _pupils(synthetic["2023-2024"]).to_pylist()
    second = {
        (p["school"], p["leerlingnummer"]): p for p in _pupils(synthetic["2024-2025"]).to_pylist()
    }
    temporary = [p for p in first if p["onderwijsnummer"] and not p["bsn"]]
    replaced = [
        p
        for p in temporary
        if (later := second.get((p["school"], p["leerlingnummer"]))) and later["bsn"]
    ]
    assert temporary
    assert replaced


def test_scores_grow_with_jaargroep_and_differ_between_schools(
    synthetic: dict[str, list[Export]],
) -> None:
    results = pa.concat_tables(
        e.toetsresultaten.append_column(
            "school", pa.array([e.school.code] * e.toetsresultaten.num_rows)
        )
        for e in synthetic["2025-2026"]
    )
    rekenen = results.filter(pc.equal(results.column("leergebied"), "rekenen_wiskunde"))
    by_group = rekenen.group_by("jaargroep").aggregate([("vaardigheidsscore", "mean")])
    means = dict(
        zip(
            by_group.column("jaargroep").to_pylist(),
            by_group.column("vaardigheidsscore_mean").to_pylist(),
            strict=True,
        )
    )
    ordered = [means[g] for g in range(3, 9)]
    assert ordered == sorted(ordered)
    group5 = rekenen.filter(pc.equal(rekenen.column("jaargroep"), 5))
    per_school = group5.group_by("school").aggregate([("vaardigheidsscore", "mean")])
    school_means = per_school.column("vaardigheidsscore_mean").to_pylist()
    assert max(school_means) - min(school_means) > 8
    moments = set(results.column("toetsmoment").to_pylist())
    assert moments == {"M", "E"}


def test_names_carry_diacritics_and_childcare_and_special_data_exist(
    synthetic: dict[str, list[Export]],
) -> None:
    exports = synthetic["2025-2026"]
    names = {n for e in exports for n in e.leerlingen.column("voornamen").to_pylist()}
    assert any(ch in "".join(names) for ch in "ëïéèö")
    kinds = {k for e in exports for k in e.voorschool.column("soort").to_pylist()}
    assert kinds == {"kinderdagverblijf", "peuterspeelzaal", "vve"}
    assert (
        0
        < sum(e.bijzonder.num_rows for e in exports)
        < sum(e.leerlingen.num_rows for e in exports) * 0.1
    )


def test_twins_share_birth_date_sex_and_address_sometimes(
    synthetic: dict[str, list[Export]],
) -> None:
    keys: dict[tuple[object, ...], int] = defaultdict(int)
    for export in synthetic["2025-2026"]:
        for p in export.leerlingen.to_pylist():
            keys[
                (p["geboortedatum"], p["postcode"], p["huisnummer"], p["huisnummertoevoeging"])
            ] += 1
    assert any(count > 1 for count in keys.values())
