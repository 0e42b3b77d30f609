"""Every file a school or office command writes is private, whatever the caller's umask.

The school home holds BSNs, names and addresses; packages and `package open`'s
output hold PGNs, birth dates and postcodes: folders 0700, files 0600. Only
public keys (*.pub) and the parents' letter may be readable by others.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cohortsafe.cli import main
from cohortsafe.config import check_private_home
from cohortsafe.errors import ConfigurationError
from cohortsafe.files import private_dir, write_atomic
from tests.exportkit import ExportKit

pytestmark = pytest.mark.django_db


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def _loose(root: Path, public: set[Path]) -> list[str]:
    """Every path under ``root`` whose mode is not 0700 (folder) or 0600 (file)."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            expected = {0o700}
        elif path.suffix == ".pub" or path in public:
            expected = {0o600, 0o644}
        else:
            expected = {0o600}
        if mode not in expected:
            found.append(f"{path.relative_to(root)} {mode:o}")
    return found


def test_every_file_a_school_or_office_command_writes_is_private(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    permissive_umask: None,
) -> None:
    school, office = tmp_path / "school", tmp_path / "office"
    deliveries, opened, letter = tmp_path / "out", tmp_path / "opened", tmp_path / "brief.html"
    synth = tmp_path / "synth"

    def ok(*argv: str) -> dict[str, object]:
        status, data = _run(capsys, *argv)
        assert status == 0, data
        return data

    ok("synth", "--schools", "1", "--out", str(synth))
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    ok("school", "import", str(ExportKit.valid().write(tmp_path / "export")))
    ok("keys", "new", "--name", "school", "--out", str(school))
    ok("school", "set", "--name", "De Regenboog", "--contact", "directie@example.org")
    ok("school", "letter", "--out", str(letter))
    ok("school", "object", "--pupil", "1002", "--received", "03-02-2026", "--from", "ouder")
    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    ok("office", "init")
    ok("office", "school-add", "12AB00", "--key", str(school / "school.pub"))
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    office_pub = str(office / "office.pub")
    ok(
        "school",
        "deliver",
        "--schooljaar",
        "2025-2026",
        "--office-key",
        office_pub,
        "--out",
        str(deliveries),
    )
    ok("school", "object", "--pupil", "1003", "--received", "04-02-2026", "--from", "ouder")
    ok("school", "retract", "--pupil", "1003", "--office-key", office_pub, "--out", str(deliveries))
    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    ok("office", "receive", str(deliveries))
    (package,) = sorted(deliveries.glob("12AB00-2025-2026-*.nco"))
    ok(
        "package",
        "open",
        str(package),
        "--office-key",
        str(office / "office.key"),
        "--school-key",
        str(school / "school.pub"),
        "--out",
        str(opened),
    )
    ok("office", "status")
    ok("office", "scan")
    ok("office", "rotate-key", "--purpose", "pupil", "--yes")

    assert os.umask(0o022) == 0o077  # the console set it for what other libraries write
    for root in (school, office, deliveries, opened, synth):
        assert _loose(root, set()) == [], root
    assert stat.S_IMODE(tmp_path.joinpath("brief.html").stat().st_mode) in {0o600, 0o644}


def test_package_open_names_the_identifiers_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["keys", "new", "--name", "school", "--out", str(tmp_path)])
    main(["keys", "new", "--name", "office", "--role", "office", "--out", str(tmp_path)])
    main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))])
    main(
        [
            "school",
            "deliver",
            "--schooljaar",
            "2025-2026",
            "--office-key",
            str(tmp_path / "office.pub"),
            "--signing-key",
            str(tmp_path / "school.key"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    capsys.readouterr()
    (package,) = (tmp_path / "out").glob("*.nco")
    argv = [
        "package",
        "open",
        str(package),
        "--office-key",
        str(tmp_path / "office.key"),
        "--school-key",
        str(tmp_path / "school.pub"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "identifiers (PGN, birth dates, postcodes)" in text
    assert "delete it after use" in text
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "o").iterdir()}
    status, refused = _run(capsys, *argv)
    assert status != 0
    assert "already holds files" in refused["error"]["message"]  # type: ignore[index]
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "o").iterdir()} == before


def test_a_home_open_to_others_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    assert main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))]) == 0
    assert main(["school", "objections"]) == 0
    capsys.readouterr()
    home.chmod(0o755)
    status, refused = _run(capsys, "school", "objections")
    assert status == 2
    message = refused["error"]["message"]  # type: ignore[index]
    assert f"chmod -R go-rwx {home}" in message
    home.chmod(0o700)
    assert main(["school", "objections"]) == 0


def test_a_key_file_open_to_others_in_the_home_is_refused(home: Path) -> None:
    private_dir(home)
    write_atomic(home / "school.key", b"{}", mode=0o640)
    with pytest.raises(ConfigurationError, match=r"school\.key"):
        check_private_home(home)
    (home / "school.key").chmod(0o600)
    check_private_home(home)


def test_private_dir_and_writes_ignore_the_umask(tmp_path: Path, permissive_umask: None) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    write_atomic(folder / "f", b"x")
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "f").stat().st_mode) == 0o600


def test_the_office_key_must_be_the_office_s_and_a_redelivery_names_the_earlier_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    school, office = tmp_path / "school", tmp_path / "office"
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    main(["school", "import", str(ExportKit.valid().write(tmp_path / "x"))])
    main(["keys", "new", "--name", "school", "--out", str(school)])
    main(["keys", "new", "--name", "vendor", "--out", str(tmp_path)])
    document = json.loads((school / "school.pub").read_text())
    document.pop("role")  # a copy as an earlier version wrote it
    (tmp_path / "old.pub").write_text(json.dumps(document))
    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    main(["office", "init"])
    monkeypatch.setenv("COHORTSAFE_HOME", str(school))
    capsys.readouterr()

    def deliver(key: Path) -> tuple[int, dict[str, object]]:
        return _run(
            capsys, "school", "deliver", "--schooljaar", "2025-2026",
            "--office-key", str(key), "--out", str(tmp_path / "out"),
        )  # fmt: skip

    for key, says in (
        (school / "school.pub", "the school's own key"),
        (tmp_path / "vendor.pub", "is a school key"),
        (tmp_path / "old.pub", "the school's own key"),
    ):
        status, refused = deliver(key)
        message = refused["error"]["message"]  # type: ignore[index]
        assert status != 0
        assert says in message
        assert "use the office's office.pub" in message
    assert not (tmp_path / "out").exists()

    status, first = deliver(office / "office.pub")
    assert status == 0
    assert first["deliveries"][0]["replaces"] is None  # type: ignore[index]
    status, second = deliver(office / "office.pub")
    (again,) = second["deliveries"]  # type: ignore[misc]
    assert again["replaces"].startswith("replaces delivery 12AB00-2025-2026-1.nco of ")
    assert "the office keeps only the newest" in again["replaces"]

    monkeypatch.setenv("COHORTSAFE_HOME", str(office))
    (tmp_path / "empty").mkdir()
    status, nothing = _run(capsys, "office", "receive", str(tmp_path / "empty"))
    assert status == 1
    assert nothing["empty_folders"] == [str(tmp_path / "empty")]
    assert main(["office", "receive", str(tmp_path / "empty")]) == 1
    assert "holds no *.nco files" in capsys.readouterr().out
    status, _ = _run(capsys, "office", "school-add", "12AB00", "--key", str(office / "office.pub"))
    assert status != 0


def test_the_core_writes_privately_without_the_console(
    tmp_path: Path, permissive_umask: None
) -> None:
    """Used as a library (no console, so no umask of 077), the core still writes 0600/0700."""
    import datetime as dt

    from cohortsafe.domain import SchoolCode, SchoolYear
    from cohortsafe.lvs import LvsStore, read_export
    from cohortsafe.synth import SynthSpec, write_exports
    from cohortsafe.vault import Vault, prepare_deliveries
    from tests.office.kit import pupils, tables
    from tests.vault.test_batches import KEYS, _manifest

    export = read_export(
        ExportKit.valid().write(tmp_path / "x"), today=dt.date(2026, 11, 30)
    ).export
    assert export is not None
    store = LvsStore(tmp_path / "lvs")
    store.commit(store.prepare(export))
    write_exports(SynthSpec(schools=1), tmp_path / "synth")
    school = SchoolCode("12AB", "00")
    (delivery,) = prepare_deliveries(
        [(_manifest(school, SchoolYear(2024), 1), tables(pupils(3), SchoolYear(2024), school))],
        KEYS,
    )
    with Vault(tmp_path / "vault", compact_after=0, create=True) as vault:
        vault.add_deliveries([delivery])
        assert _loose(tmp_path / "vault", set()) == []
        vault.compact()
    for root in (tmp_path / "lvs", tmp_path / "synth", tmp_path / "vault"):
        assert _loose(root, set()) == [], root


def test_the_real_settings_make_the_database_and_secret_key_private(tmp_path: Path) -> None:
    """SQLite gives -wal and -shm the database file's mode; settings create it 0600."""
    import subprocess
    import sys

    home = tmp_path / "home"
    script = (
        "import os; os.umask(0o022); "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'cohortsafe.app.settings'; "
        "import django; django.setup(); "
        "from django.core.management import call_command; "
        "call_command('migrate', verbosity=0); "
        "from django.db import connection; "
        "connection.cursor().execute('CREATE TABLE t (x INTEGER)'); "
        # while the connection is open, so the -wal and -shm files exist
        "import pathlib, stat; home = pathlib.Path(os.environ['COHORTSAFE_HOME']); "
        "names = sorted(p.name for p in home.iterdir()); "
        "assert 'cohortsafe.sqlite3-wal' in names, names; "
        "loose = [p.name for p in home.iterdir() "
        "if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)]; "
        "assert not loose, loose"
    )
    env = {**os.environ, "COHORTSAFE_HOME": str(home)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    assert (home / "cohortsafe.sqlite3").exists()
    assert _loose(home, set()) == []
