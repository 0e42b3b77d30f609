"""A project's extract and its locked workspace, tried as a researcher would attack them.

Each test builds a small vault from the office kit, an extract for a project, and
opens the workspace: what the project was not approved for is in no file and no view,
its pseudonyms link to nothing outside it, and no statement reaches the file system.
"""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import ConfigurationError, PolicyError, WorkspaceError
from cohortsafe.pseudonym import PROJECT, new_key
from cohortsafe.research import ProjectSpec, Workspace, build_extract
from cohortsafe.vault import Vault, prepare_deliveries
from tests.office.kit import pupils, tables
from tests.vault.test_batches import KEYS, _manifest
from tests.vault.test_vault import _deliveries

SPEC = ProjectSpec(
    "NCO-2026-01",
    {
        "leerlingen": ("geboortejaar", "geslacht", "jaargroep"),
        "toetsresultaten": ("leergebied", "toetsmoment", "jaargroep", "vaardigheidsscore"),
    },
)


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    vault = Vault(tmp_path / "vault", create=True)
    vault.open()
    for delivery in _deliveries(3):
        assert vault.add_deliveries([delivery])[0].status == "received"
    yield vault
    vault.close()


def _built(vault: Vault, folder: Path, spec: ProjectSpec = SPEC) -> Workspace:
    build_extract(vault, spec, new_key(PROJECT), folder)
    return Workspace(folder)


def test_an_unapproved_column_is_in_no_file_and_no_view(vault: Vault, tmp_path: Path) -> None:
    with _built(vault, tmp_path / "p") as ws:
        assert ws.tables["leerlingen"] == [
            "pupil",
            "school",
            "record",
            "geboortejaar",
            "geslacht",
            "jaargroep",
        ]
        with pytest.raises(WorkspaceError, match="query failed"):
            ws.sql("SELECT geboortemaand FROM leerlingen")
        years = {row[0] for row in ws.sql("SELECT DISTINCT geboortejaar FROM leerlingen").rows}
        assert all(len(y) == 4 for y in years)
    for path in (tmp_path / "p" / "extract").glob("*.parquet"):
        names = pq.read_schema(path).names
        assert not {"delivery_id", "pupil_key", "school_key", "geboortemaand"} & set(names)
        assert "schooljaar" not in names  # not approved here


def test_pseudonyms_differ_between_projects_and_from_the_vault(
    vault: Vault, tmp_path: Path
) -> None:
    with _built(vault, tmp_path / "a") as a, _built(vault, tmp_path / "b") as b:
        found = {}
        for name, ws in (("a", a), ("b", b)):
            pupils = {r[0] for r in ws.sql("SELECT pupil FROM leerlingen").rows}
            schools = {r[0] for r in ws.sql("SELECT school FROM leerlingen").rows}
            # within a project one pupil has one pseudonym in every table
            results = {r[0] for r in ws.sql("SELECT pupil FROM toetsresultaten").rows}
            assert results <= pupils
            found[name] = (pupils, schools)
    held = vault.table("leerlingen")
    vault_ids = set(held.column("pupil").to_pylist()) | set(held.column("school").to_pylist())
    assert len(found["a"][0]) == len(set(held.column("pupil").to_pylist()))
    assert not (found["a"][0] | found["a"][1]) & (found["b"][0] | found["b"][1])
    assert not (found["a"][0] | found["a"][1] | found["b"][0] | found["b"][1]) & vault_ids
    # a pupil's and a school's pseudonyms never coincide, nor do record ids
    assert not found["a"][0] & found["a"][1]


@pytest.mark.parametrize(
    "statement",
    [
        "COPY leerlingen TO '{out}/copy.csv'",
        "ATTACH '{out}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE TABLE mine AS SELECT * FROM leerlingen",
        "SET enable_external_access = true",
        "PRAGMA database_list",
        "SELECT 1; SELECT 2",
        "EXPORT DATABASE '{out}'",
    ],
)
def test_the_workspace_refuses_every_statement_but_one_query(
    vault: Vault, tmp_path: Path, statement: str
) -> None:
    with _built(vault, tmp_path / "p") as ws, pytest.raises(WorkspaceError):
        ws.sql(statement.format(out=tmp_path))
    assert not (tmp_path / "copy.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('{outside}')",
        "SELECT * FROM '{outside}'",
        "SELECT * FROM read_parquet('{extract}/../../vault/data/*/*.parquet')",
    ],
)
def test_a_query_reads_no_file_outside_the_extract(
    vault: Vault, tmp_path: Path, query: str
) -> None:
    outside = tmp_path / "outside.parquet"
    pq.write_table(pa.table({"secret": [1]}), outside)
    folder = tmp_path / "p"
    with _built(vault, folder) as ws, pytest.raises(WorkspaceError, match="query failed"):
        ws.sql(query.format(outside=outside, extract=folder / "extract"))


def test_the_lock_holds_inside_duckdb_too(vault: Vault, tmp_path: Path) -> None:
    # the statement check is the first wall; the database's own settings the second
    with _built(vault, tmp_path / "p") as ws:
        connection = ws._con
        for statement in (
            f"COPY leerlingen TO '{tmp_path}/copy.csv'",
            "SET enable_external_access = true",
            "SET lock_configuration = false",
        ):
            with pytest.raises(duckdb.Error, match=r"(?i)permission|configuration"):
                connection.execute(statement)
    assert not (tmp_path / "copy.csv").exists()


def test_a_rebuild_after_a_retraction_holds_no_row_of_the_pupil(
    vault: Vault, tmp_path: Path
) -> None:
    key = new_key(PROJECT)
    query = "SELECT record, pupil, school FROM toetsresultaten"
    build_extract(vault, SPEC, key, tmp_path / "p")
    with Workspace(tmp_path / "p") as ws:
        before = {tuple(r) for r in ws.sql(query).rows}
    held = vault.table("leerlingen").to_pylist()[0]
    results = vault.table("toetsresultaten").num_rows
    vault.retract("retraction-1", held["school"], [held["pupil"]])
    removed = results - vault.table("toetsresultaten").num_rows
    build_extract(vault, SPEC, key, tmp_path / "p")
    with Workspace(tmp_path / "p") as ws:
        after = {tuple(r) for r in ws.sql(query).rows}
    # the kit's pupils attend several schools: the retraction is this school's rows
    gone = before - after
    assert len({(p, s) for _, p, s in gone}) == 1
    assert len(gone) == removed > 0
    # every other record keeps its id: the ledger still knows it
    assert after < before


def test_extract_files_are_private(vault: Vault, tmp_path: Path) -> None:
    _built(vault, tmp_path / "p").close()
    assert stat.S_IMODE((tmp_path / "p").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "p" / "extract").stat().st_mode) == 0o700
    for path in [*(tmp_path / "p" / "extract").iterdir(), tmp_path / "p" / "extract.json"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_build_cut_off_leaves_no_spill_behind_the_next(vault: Vault, tmp_path: Path) -> None:
    # a spill holds vault pseudonyms: a killed build's must not stay next to the extract
    left = tmp_path / "p" / "extract" / ".spill-killed"
    left.mkdir(parents=True)
    (left / "0.arrow").write_bytes(b"vault pseudonyms")
    _built(vault, tmp_path / "p").close()
    assert sorted(p.name for p in (tmp_path / "p" / "extract").iterdir()) == [
        "leerlingen.parquet",
        "toetsresultaten.parquet",
    ]


def test_school_years_and_tables_outside_the_approval_are_left_out(
    vault: Vault, tmp_path: Path
) -> None:
    only = ProjectSpec("P-1", {"leerlingen": ("schooljaar",)}, school_years=("2030-2031",))
    with _built(vault, tmp_path / "p", only) as ws:
        assert list(ws.tables) == ["leerlingen"]
        assert ws.sql("SELECT count(*) FROM leerlingen").rows == [[0]]
        with pytest.raises(WorkspaceError):
            ws.sql("SELECT * FROM toetsresultaten")


@pytest.mark.parametrize(
    ("tables", "study", "message"),
    [
        ({"leerlingen": ("delivery_id",)}, None, "never reaches a workspace"),
        ({"leerlingen": ("pupil_key",)}, None, "never reaches a workspace"),
        ({"leerlingen": ("pupil",)}, None, "in every workspace table"),
        ({"leerlingen": ("naam",)}, None, "no column"),
        ({"adressen": ("straat",)}, None, "no vault table"),
        ({"bijzonder": ("categorie",)}, None, "study with consent"),
    ],
)
def test_a_project_cannot_be_approved_for_what_never_leaves(
    tables: dict[str, tuple[str, ...]], study: str | None, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProjectSpec("P-1", tables, study=study)


def test_an_extract_is_keyed_with_a_project_key(vault: Vault, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="project key"):
        build_extract(vault, SPEC, new_key("pupil"), tmp_path / "p")


def test_the_session_is_the_projects(vault: Vault, tmp_path: Path) -> None:
    with _built(vault, tmp_path / "p") as ws:
        sess = ws.session()
        assert sess.fixed_columns
        assert (sess.pupil, sess.school, sess.record) == ("pupil", "school", "record")
        assert sess.policy.name == "research"
        frame = ws.arrow("SELECT * FROM toetsresultaten").to_pandas()
        with pytest.raises(PolicyError):
            sess.pivot_table(frame, index="leergebied", pupil="school")
    assert (tmp_path / "p" / "ledger").exists()


def test_a_missing_workspace_says_the_office_builds_it(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="workspace-build"):
        Workspace(tmp_path / "nothing")


def test_a_delivery_sent_again_keeps_its_records_ids(tmp_path: Path) -> None:
    school = SchoolCode("12AB", "00")
    sent = tables(pupils(4), SchoolYear(2024), school)
    first, again = prepare_deliveries(
        [
            (_manifest(school, SchoolYear(2024), 1), sent),
            (_manifest(school, SchoolYear(2024), 2), sent),
        ],
        KEYS,
    )
    key = new_key(PROJECT)
    query = "SELECT record, pupil, vaardigheidsscore FROM toetsresultaten"
    found = []
    with Vault(tmp_path / "vault", create=True) as vault:
        for delivery in (first, again):
            vault.add_deliveries([delivery])
            build_extract(vault, SPEC, key, tmp_path / "p")
            with Workspace(tmp_path / "p") as ws:
                found.append(sorted(tuple(r) for r in ws.sql(query).rows))
    assert found[0] == found[1]
    assert len({r[0] for r in found[0]}) == len(found[0])  # one id per record


@pytest.mark.parametrize(
    "manifest",
    ["[]", '{"project": "P-1"}', '{"project": "P-1", "policy": "research", "tables": {"t": 1}}'],
)
def test_a_damaged_manifest_is_an_error_not_a_traceback(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "extract.json").write_text(manifest)
    with pytest.raises(WorkspaceError, match="damaged"):
        Workspace(tmp_path)
