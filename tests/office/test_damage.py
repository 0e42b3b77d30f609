"""A damaged, incomplete, busy, full or read-only office vault, through the console.

Every case is a clear message naming the file, exit status 1, no traceback, and the
vault and registry as they were (issue 10, items 2 and 15).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cohortsafe.app.office.models import ReceivedPackage
from cohortsafe.cli import main
from cohortsafe.domain import SchoolYear
from cohortsafe.package import DeliveryContents, load_public, write_delivery
from cohortsafe.synth._numbers import NumberStream
from tests.office.kit import Office, Pupil, pupils, tables

pytestmark = pytest.mark.django_db


def _run(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["--home", str(home), "office", *args, "--json"])
    out = capsys.readouterr().out
    document = json.loads(out)
    assert status == 0 or document["ok"] is False
    return status, (document.get("error") or {}).get("message", "")


def _files(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted((home / "vault").rglob("*"))
        if p.is_file() and not p.name.endswith(".wal")
    }


@pytest.fixture
def held(office: Office, capsys: pytest.CaptureFixture[str]) -> Path:
    """A package the vault holds already."""
    path = office.delivery(pupils(3))
    office.receive(path)
    capsys.readouterr()
    return path


def _part(home: Path) -> Path:
    return sorted((home / "vault" / "data" / "leerlingen").rglob("*.parquet"))[0]


def test_a_missing_catalog_is_reported_and_no_command_wipes_the_vault(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "vault" / "catalog.duckdb").unlink()
    before = _files(home)
    rows = ReceivedPackage.objects.count()
    for command in (["status"], ["receive", str(held)], ["scan"]):
        status, message = _run(home, capsys, *command)
        assert status == 1, command
        assert "catalog.duckdb is missing" in message
        assert _files(home) == before  # nothing deleted, no new catalog
    assert ReceivedPackage.objects.count() == rows  # the old package was not taken as new


@pytest.mark.parametrize("command", ["status", "scan", "receive"])
def test_a_listed_file_missing_is_reported_not_nothing_found(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    part = _part(home)
    part.unlink()
    before = _files(home)
    args = (
        [command, str(office.delivery(pupils(2), SchoolYear(2025)))]
        if command == "receive"
        else [command]
    )
    status, message = _run(home, capsys, *args)
    assert status == 1
    assert part.name in message
    assert "missing" in message
    assert _files(home) == before


@pytest.mark.parametrize("command", ["status", "scan", "receive"])
def test_a_truncated_file_is_reported(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    part = _part(home)
    part.write_bytes(part.read_bytes()[:-50])
    before = _files(home)
    args = (
        [command, str(office.delivery(pupils(2), SchoolYear(2025)))]
        if command == "receive"
        else [command]
    )
    status, message = _run(home, capsys, *args)
    assert status == 1
    assert part.name in message
    assert "damaged" in message
    assert _files(home) == before


@pytest.mark.parametrize("command", ["status", "scan", "receive"])
def test_a_garbage_catalog_is_reported(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (home / "vault" / "catalog.duckdb").write_bytes(os.urandom(20_000))
    before = _files(home)
    args = [command, str(held)] if command == "receive" else [command]
    status, message = _run(home, capsys, *args)
    assert status == 1
    assert "catalog.duckdb" in message
    assert "damaged" in message
    assert _files(home) == before


def test_scan_while_another_command_holds_the_vault_says_it_is_in_use(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(home / "vault" / "catalog.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        for command in ("scan", "status"):
            status, message = _run(home, capsys, command)
            assert (status, message.startswith("the vault is in use by another command")) == (
                1,
                True,
            )
    finally:
        holder.communicate("")


def test_status_counts_deliveries_the_registry_missed(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ReceivedPackage.objects.filter(status="received").delete()  # as a crash would leave it
    assert main(["--home", str(home), "office", "status"]) == 0
    assert "1 delivery(ies) held but not in the registry" in capsys.readouterr().out
    office.receive(held)
    assert main(["--home", str(home), "office", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deliveries_unrecorded"] == 0


# -- a real full disk and a real read-only home, in a mount namespace of their own ------------


def _namespace() -> list[str] | None:
    """The command that runs a shell in a private mount namespace, if this system has one."""
    if shutil.which("unshare") is None:
        return None
    for command in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = subprocess.run(
            [*command, "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k none $d"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return command
    return None


NAMESPACE = _namespace()
needs_namespace = pytest.mark.skipif(
    NAMESPACE is None,
    reason="no private mount namespace here (unshare -m / -rm refused): cannot mount a small "
    "tmpfs or a read-only bind mount without touching the machine's own mounts",
)


def _console(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cohortsafe.cli", "--home", str(home), *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.pop("COHORTSAFE_HOME", None)
    # The home keeps its own SQLite registry, also when the suite runs against PostgreSQL.
    env.pop("DATABASE_URL", None)
    return env


def _real_office(tmp_path: Path) -> tuple[Path, Path]:
    """An office home with its own SQLite registry (the test database is not the home's)."""
    home, school = tmp_path / "real-office", tmp_path / "real-school"
    for args in (
        _console(home, "office", "init"),
        [
            sys.executable,
            "-m",
            "cohortsafe.cli",
            "keys",
            "new",
            "--name",
            "school",
            "--out",
            str(school),
        ],
        _console(home, "office", "school-add", "12AB00", "--key", str(school / "school.pub")),
    ):
        subprocess.run(args, check=True, capture_output=True, env=_env())
    return home, school


def _package(home: Path, school: Path, members: list[Pupil], name: str) -> Path:
    from cohortsafe.domain import SchoolCode
    from cohortsafe.package import load_private

    path = home.parent / "packages" / name
    write_delivery(
        DeliveryContents(
            SchoolCode("12AB", "00"),
            SchoolYear(2024),
            tables(members, SchoolYear(2024)),
            {"objection": 0},
            ("rekenen_wiskunde", "begrijpend_lezen", "spelling"),
            None,
        ),
        signing_key=load_private(school / "school.key"),
        recipient=load_public(home / "office.pub"),
        path=path,
    )
    return path


def _in_namespace(script: str) -> subprocess.CompletedProcess[str]:
    assert NAMESPACE is not None
    return subprocess.run(
        [*NAMESPACE, "sh", "-c", script], capture_output=True, text=True, env=_env(), check=False
    )


def _many(n: int) -> list[Pupil]:
    numbers = NumberStream(seed=7).bsns(n)
    return [
        Pupil(f"{b:09d}", number=1 + i % 400, postcode=f"{1000 + i % 8000}AB")
        for i, b in enumerate(numbers)
    ]


@needs_namespace
def test_a_full_disk_during_intake_names_the_file_and_leaves_the_vault_as_it_was(
    tmp_path: Path,
) -> None:
    home, school = _real_office(tmp_path)
    small = _package(home, school, pupils(3), "small.nco")
    big = _package(home, school, _many(4000), "big.nco")
    subprocess.run(
        _console(home, "office", "receive", str(small)), check=True, env=_env(), capture_output=True
    )
    data, out = home / "vault" / "data", tmp_path / "out"
    out.mkdir()
    used = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    py = " ".join(_console(home))
    script = f"""
        set -e
        cp -a {data} {tmp_path}/data-copy
        mount -t tmpfs -o size={used // 1024 + 48}k,mode=0700 none {data}
        cp -a {tmp_path}/data-copy/. {data}/
        {py} office status --json > {out}/before.json
        set +e
        {py} office receive {big} --json > {out}/full.json 2> {out}/full.err
        echo $? > {out}/full.rc
        set -e
        {py} office status --json > {out}/after.json
        find {data} -name '*.parquet' | sort > {out}/after.ls
        mount -o remount,size=64m {data}
        {py} office receive {big} --json > {out}/rerun.json
        {py} office status --json > {out}/final.json
    """
    done = _in_namespace(script)
    assert done.returncode == 0, done.stderr
    assert (out / "full.rc").read_text().strip() == "1"
    assert "Traceback" not in (out / "full.err").read_text()
    error = json.loads((out / "full.json").read_text())["error"]
    assert error["message"].startswith("cannot write the vault file vault/data/")
    assert "No space left on device" in error["message"]
    before, after = (json.loads((out / f).read_text()) for f in ("before.json", "after.json"))
    assert before == after
    assert not any("g00000002" in line for line in (out / "after.ls").read_text().splitlines())
    (report,) = json.loads((out / "rerun.json").read_text())["packages"]
    assert report["status"] == "received"
    assert (
        json.loads((out / "final.json").read_text())["pupils"] == 4000
    )  # it replaced the small one


# What is mounted read-only: the whole home; the vault folder with its catalog file still
# writable (as for a user who owns the catalog but not the folder: DuckDB cannot make its
# WAL); the data folder only. Then (command, what the message says).
READ_ONLY = {
    "home": (
        "mount --bind {home} {home} && mount -o remount,bind,ro {home}",
        [("status", "Read-only file system"), ("receive", "Read-only file system")],
    ),
    "vault folder": (
        "mount --bind {vault}/catalog.duckdb {vault}/catalog.duckdb && "
        "mount --rbind {vault} {vault} && mount -o remount,bind,ro {vault}",
        [
            ("status", "vault/catalog.duckdb cannot be written: the folder is read-only"),
            ("receive", "vault/catalog.duckdb cannot be written: the folder is read-only"),
        ],
    ),
    "data folder": (
        "mount --bind {vault}/data {vault}/data && mount -o remount,bind,ro {vault}/data",
        [("receive", "cannot write the vault file vault/data/")],
    ),
}


@needs_namespace
@pytest.mark.parametrize("where", READ_ONLY)
def test_a_read_only_home_is_a_clear_error_and_changes_nothing(tmp_path: Path, where: str) -> None:
    home, school = _real_office(tmp_path)
    subprocess.run(
        _console(home, "office", "receive", str(_package(home, school, pupils(2), "a.nco"))),
        check=True,
        env=_env(),
        capture_output=True,
    )
    package = _package(home, school, pupils(3), "b.nco")
    mount, cases = READ_ONLY[where]
    py = " ".join(_console(home))
    status = subprocess.run(
        _console(home, "office", "status", "--json"),
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command, says in cases:
        args = f"receive {package}" if command == "receive" else command
        done = _in_namespace(
            mount.format(home=home, vault=home / "vault") + f" && {py} office {args} --json"
        )
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert says in json.loads(done.stdout)["error"]["message"], command
    after = subprocess.run(
        _console(home, "office", "status", "--json"),
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(after) == json.loads(status)


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root writes whatever the file modes say; the read-only bind mounts above cover this",
)
@pytest.mark.parametrize("command", ["status", "receive"])
def test_a_vault_folder_not_writable_by_this_user_is_a_clear_error(
    office: Office, held: Path, home: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    before = _files(home)
    args = [command, str(held)] if command == "receive" else [command]
    (home / "vault").chmod(0o500)
    try:
        status, message = _run(home, capsys, *args)
    finally:
        (home / "vault").chmod(0o700)
    assert status == 1
    assert "vault/catalog.duckdb cannot be" in message
    assert _files(home) == before
