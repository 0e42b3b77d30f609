"""The vault on its own: batches, compaction, and what a reader sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.vault import TABLES, Vault, prepare_deliveries
from tests.office.kit import pupils, tables
from tests.vault.test_batches import KEYS, _manifest


def _deliveries(count: int) -> list:  # type: ignore[type-arg]
    items = []
    for n in range(count):
        school = SchoolCode(f"{10 + n:02d}AB", "00")
        items.append(
            (
                _manifest(school, SchoolYear(2024), n + 1),
                tables(pupils(3), SchoolYear(2024), school),
            )
        )
    return prepare_deliveries(items, KEYS)


def _content(vault: Vault) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(tuple(r.values()) for r in vault.table(t).to_pylist()) for t in TABLES}


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_compaction_merges_files_and_keeps_every_row(tmp_path: Path, compression: str) -> None:
    prepared = _deliveries(3)
    with Vault(tmp_path / "vault", compression=compression, compact_after=1, create=True) as vault:
        for delivery in prepared:
            assert vault.add_deliveries([delivery])[0].status == "received"
        before = _content(vault)
        assert len(vault.files()) == 9  # three tables, three batches
        assert vault.compact() == 3
        assert len(vault.files()) == 3
        assert _content(vault) == before
    with Vault(tmp_path / "vault") as reopened:
        assert _content(reopened) == before
        on_disk = {
            p for p in (tmp_path / "vault" / "data").rglob("*.parquet") if p.parent.name != "_empty"
        }
        assert on_disk == set(reopened.files())


def test_a_batch_with_two_deliveries_of_one_school_keeps_the_newer(tmp_path: Path) -> None:
    school = SchoolCode("12AB", "00")
    older, newer = prepare_deliveries(
        [
            (_manifest(school, SchoolYear(2024), 1), tables(pupils(4), SchoolYear(2024), school)),
            (_manifest(school, SchoolYear(2024), 2), tables(pupils(2), SchoolYear(2024), school)),
        ],
        KEYS,
    )
    with Vault(tmp_path / "vault", create=True) as vault:
        outcomes = vault.add_deliveries([older, newer])
        assert [o.status for o in outcomes] == ["superseded", "received"]
        assert vault.table("leerlingen").num_rows == 2
