"""The vault never deletes data it cannot account for (issue 10, items 2 and 15).

A missing, older or damaged catalog, or a listed file missing or damaged, is a
``VaultError`` naming the problem, and nothing is deleted or created; only the files a
pending-change record names are ever removed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cohortsafe.errors import VaultError
from cohortsafe.vault import Vault
from cohortsafe.vault import _vault as vault_module
from tests.vault.test_vault import _content, _deliveries


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (the catalog's WAL aside)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".wal")
    }


@pytest.fixture
def vault_root(tmp_path: Path) -> Path:
    """A vault with two batches committed (two files per table)."""
    root = tmp_path / "vault"
    first, second = _deliveries(2)
    with Vault(root, create=True) as vault:
        vault.add_deliveries([first])
        vault.add_deliveries([second])
    return root


def _parts(root: Path) -> list[Path]:
    return sorted(p for p in (root / "data").rglob("*.parquet") if p.parent.name != "_empty")


def test_a_missing_catalog_is_an_error_that_deletes_nothing(vault_root: Path) -> None:
    (vault_root / "catalog.duckdb").unlink()
    before = _tree(vault_root)
    for create in (False, True):  # not even `office init` makes a catalog over old data
        with pytest.raises(VaultError, match=r"vault/catalog.duckdb is missing.*6 data file"):
            Vault(vault_root, create=create).open()
        assert _tree(vault_root) == before


def test_without_create_a_vault_is_never_made(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="missing: restore it from your backup"):
        Vault(tmp_path / "vault").open()
    assert not (tmp_path / "vault").exists()


def test_an_older_catalog_keeps_the_files_it_does_not_list_and_says_so(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    first, second = _deliveries(2)
    with Vault(root, create=True) as vault:
        vault.add_deliveries([first])
    shutil.copy(root / "catalog.duckdb", tmp_path / "backup.duckdb")
    with Vault(root) as vault:
        vault.add_deliveries([second])
    newer = {str(p.relative_to(tmp_path)) for p in _parts(root) if "g00000001" not in p.name}
    shutil.copy(tmp_path / "backup.duckdb", root / "catalog.duckdb")  # restored from backup
    before = _tree(root)
    with pytest.raises(VaultError, match=r"3 file\(s\) it does not list are present") as caught:
        Vault(root).open()
    assert all(path in str(caught.value) for path in newer)
    assert "they were kept" in str(caught.value)
    assert _tree(root) == before  # the second batch is still there, nothing rewritten


def test_a_listed_file_that_is_missing_is_an_error_naming_it(vault_root: Path) -> None:
    gone = _parts(vault_root)[0]
    gone.unlink()
    before = _tree(vault_root)
    with pytest.raises(VaultError, match=r"1 file\(s\) it lists are missing") as caught:
        Vault(vault_root).open()
    assert str(gone.relative_to(vault_root.parent)) in str(caught.value)
    assert _tree(vault_root) == before


def test_a_truncated_file_is_an_error_naming_it(vault_root: Path) -> None:
    cut = _parts(vault_root)[1]
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(VaultError, match=r"damaged or truncated") as caught:
        Vault(vault_root).open()
    assert str(cut.relative_to(vault_root.parent)) in str(caught.value)


def test_a_file_damaged_inside_is_named_when_it_is_read(vault_root: Path) -> None:
    bad = _parts(vault_root)[0]
    data = bytearray(bad.read_bytes())
    data[4:-8] = b"\x00" * (len(data) - 12)  # the magic bytes survive, nothing else
    bad.write_bytes(bytes(data))
    vault = Vault(vault_root)
    with pytest.raises(VaultError, match="the vault cannot be read: damaged file") as caught:
        vault.open()  # the views read each file's footer
    assert vault._con is None  # closed again
    assert str(bad.relative_to(vault_root.parent)) in str(caught.value)


def test_a_garbage_catalog_is_an_error_that_changes_nothing(vault_root: Path) -> None:
    (vault_root / "catalog.duckdb").write_bytes(b"not a catalog" * 1000)
    before = _tree(vault_root)
    with pytest.raises(VaultError, match=r"vault/catalog.duckdb cannot be opened: it is damaged"):
        Vault(vault_root).open()
    assert _tree(vault_root) == before


def test_only_files_the_pending_record_names_are_removed(vault_root: Path) -> None:
    """A crash left a half-written file and named it; a stray file it did not name stays."""
    folder = _parts(vault_root)[0].parent
    (folder / "g00000009.parquet").write_bytes(b"PAR1 half")
    listed = _parts(vault_root)[0]
    (vault_root / "pending.json").write_text(
        json.dumps(
            {
                "create": [str((folder / "g00000009.parquet").relative_to(vault_root))],
                "obsolete": [str(listed.relative_to(vault_root))],
            }
        )
    )
    with Vault(vault_root) as vault:
        assert not (folder / "g00000009.parquet").exists()
        assert listed.exists()  # listed: the change that named it obsolete did not commit
        assert not (vault_root / "pending.json").exists()
        content = _content(vault)
    (folder / "stray.parquet").write_bytes(b"PAR1 not ours")
    with pytest.raises(VaultError, match=r"stray\.parquet"):
        Vault(vault_root).open()
    assert (folder / "stray.parquet").exists()
    (folder / "stray.parquet").unlink()
    with Vault(vault_root) as vault:
        assert _content(vault) == content


def test_a_crash_after_the_commit_leaves_the_replaced_files_to_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vault"
    with Vault(root, create=True, compact_after=1) as vault:
        for delivery in _deliveries(2):
            vault.add_deliveries([delivery])
        before = _content(vault)

        def crash(step: str) -> None:
            if step == "after_commit":
                raise KeyboardInterrupt

        monkeypatch.setattr(vault_module, "fault_point", crash)
        with pytest.raises(KeyboardInterrupt):
            vault.compact()
    assert len(_parts(root)) == 9  # the merged files and the six they replace
    monkeypatch.setattr(vault_module, "fault_point", lambda step: None)
    with Vault(root) as vault:
        assert len(_parts(root)) == 3
        assert _content(vault) == before


def test_a_catalog_open_in_another_process_is_in_use_not_a_traceback(vault_root: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(vault_root / "catalog.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(VaultError, match="the vault is in use by another command"):
            Vault(vault_root).open()
        from cohortsafe.vault import scan

        with pytest.raises(VaultError, match="the vault is in use by another command"):
            scan(vault_root)
    finally:
        holder.communicate("")
