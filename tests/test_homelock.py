"""One command at a time per home (issue 10 item 4): the lock, its waiting and its users."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cohortsafe.domain import SchoolYear
from cohortsafe.errors import HomeBusyError, StorageError
from cohortsafe.homelock import lock_home
from cohortsafe.lvs import LvsStore
from cohortsafe.synth import SynthSpec, write_exports
from tests.mounts import read_only, small_disk

SRC = str(Path(__file__).resolve().parents[1] / "src")

HOLDER = """
import sys, time
from pathlib import Path
from cohortsafe.homelock import lock_home
with lock_home(Path(sys.argv[1]), command="school import"):
    Path(sys.argv[2]).touch()
    time.sleep(120)
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "COHORTSAFE_HOME": str(home),
        "COHORTSAFE_DEBUG": "1",  # a traceback, not "internal error", if a child breaks
        **extra,
    }


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if path.exists():
            return
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "")
        time.sleep(0.05)
    raise AssertionError("the child never signalled")


@pytest.fixture
def held(home: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process holding the home's lock until the test ends (or kills it)."""
    home.mkdir(mode=0o700, exist_ok=True)
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home), str(ready)],
        env=_env(home),
        stderr=subprocess.PIPE,
    )
    _wait_for(ready, process)
    yield process
    process.kill()
    process.communicate()


def test_a_second_holder_waits_then_is_told_who_holds_the_home(
    home: Path, held: subprocess.Popen[bytes]
) -> None:
    started = time.monotonic()
    with pytest.raises(HomeBusyError) as caught, lock_home(home, wait=0.3):
        pass
    assert time.monotonic() - started >= 0.3
    message = str(caught.value)
    assert "is busy" in message
    assert "school import" in message
    assert f"process {held.pid}" in message


def test_a_killed_holder_leaves_no_stale_lock(home: Path, held: subprocess.Popen[bytes]) -> None:
    held.send_signal(signal.SIGKILL)
    held.wait()
    with lock_home(home, wait=0):  # the kernel dropped the lock with its holder
        pass


def test_the_lock_is_re_entrant_within_a_process_and_released_after(home: Path) -> None:
    with lock_home(home, wait=0), lock_home(home, wait=0):
        pass
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; import sys\n"
            "from cohortsafe.homelock import lock_home\n"
            "with lock_home(Path(sys.argv[1]), wait=0): pass",
            str(home),
        ],
        env=_env(home),
        capture_output=True,
        check=False,
    )
    assert child.returncode == 0, child.stderr.decode()


def test_a_read_only_home_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        home = disk / "home"
        home.mkdir(mode=0o700)
        with (
            read_only(disk),
            pytest.raises(StorageError, match="cannot be written"),
            lock_home(home),
        ):
            pass


SERVICE_MODULES = (
    "cohortsafe.app.school.services.consents",
    "cohortsafe.app.school.services.deliveries",
    "cohortsafe.app.school.services.evidence",
    "cohortsafe.app.school.services.import_removal",
    "cohortsafe.app.school.services.imports",
    "cohortsafe.app.school.services.letters",
    "cohortsafe.app.school.services.listings",
    "cohortsafe.app.school.services.parent_forms",
    "cohortsafe.app.school.services.registers",
    "cohortsafe.app.school.services.reinstatements",
    "cohortsafe.app.office.services",
    "cohortsafe.app.office.listings",
    "cohortsafe.app.office.reference",
    "cohortsafe.app.accounts.services",
    "cohortsafe.app.research.services",
)


def test_every_service_that_audits_holds_the_home() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    unlocked, registry_only = [], []
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        for attribute, function in vars(module).items():
            if attribute.startswith("_") or not inspect.isfunction(function):
                continue
            if getattr(function, "__module__", None) != name:
                continue
            takes_actor = "actor" in inspect.signature(function).parameters
            if not takes_actor or getattr(function, "__holds_home__", False):
                continue
            if getattr(function, "__registry_only__", False):
                registry_only.append(f"{name}.{attribute}")
            else:
                unlocked.append(f"{name}.{attribute}")
    assert unlocked == []
    # one registry transaction each and no file of the home: a choice made one by one
    assert registry_only == ["cohortsafe.app.school.services.parent_forms.send_parent_form"]


def _run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cohortsafe.cli import main; raise SystemExit(main())", *args],
        env=_env(home, **env),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def school_home(home: Path, tmp_path: Path) -> Path:
    exports = tmp_path / "exports"
    write_exports(SynthSpec(schools=1, seed=3, years=(SchoolYear(2025),)), exports)
    done = _run(home, "school", "import", str(exports))
    assert done.returncode == 0, done.stdout + done.stderr
    return exports


@pytest.mark.parametrize(
    "command",
    [
        ["school", "status"],
        ["school", "objections"],
        ["school", "set", "--name", "De Linde"],
        ["school", "import", "EXPORTS"],
        ["school", "import-remove", "--schooljaar", "2025-2026"],
    ],
)
def test_school_commands_say_the_home_is_busy(
    home: Path, school_home: Path, held: subprocess.Popen[bytes], command: list[str]
) -> None:
    args = [str(school_home) if part == "EXPORTS" else part for part in command]
    done = _run(home, *args, "--json", COHORTSAFE_LOCK_WAIT="0.2")
    assert done.returncode == 1, done.stdout + done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "home_busy"
    assert "school import" in error["message"]


@pytest.mark.parametrize("command", [["status"], ["scan"], ["schools"], ["receive", "NOFILE"]])
def test_office_commands_say_the_home_is_busy(
    home: Path, tmp_path: Path, command: list[str]
) -> None:
    assert _run(home, "office", "init").returncode == 0
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home), str(ready)], env=_env(home))
    try:
        _wait_for(ready, holder)
        args = [str(tmp_path / "none.pkg") if part == "NOFILE" else part for part in command]
        done = _run(home, "office", *args, "--json", COHORTSAFE_LOCK_WAIT="0.2")
        assert done.returncode == 1, done.stdout + done.stderr
        assert json.loads(done.stdout)["error"]["kind"] == "home_busy"
    finally:
        holder.kill()
        holder.wait()


SLOW_IMPORT = """
import sys, time
from pathlib import Path
from cohortsafe.lvs import _store
prepare = _store.LvsStore.prepare
def slow(self, export, **kwargs):
    prepared = prepare(self, export, **kwargs)
    Path(sys.argv[1]).touch()  # the generation is written from the store as it was
    time.sleep(2)
    return prepared
_store.LvsStore.prepare = slow
from cohortsafe.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


def test_two_imports_of_one_school_at_once_keep_both_years(home: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    write_exports(
        SynthSpec(schools=1, seed=5, years=tuple(SchoolYear.span("2024-2025..2025-2026"))), exports
    )
    ready = tmp_path / "ready"
    older = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_IMPORT,
            str(ready),
            "school",
            "import",
            str(exports / "2024-2025"),
        ],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _wait_for(ready, older)
    newer = _run(home, "school", "import", str(exports / "2025-2026"))
    _, errors = older.communicate()
    assert older.returncode == 0, errors.decode()
    assert newer.returncode == 0, newer.stdout + newer.stderr
    store = LvsStore(home / "lvs")
    (school,) = store.schools()
    assert store.years(school) == list(SchoolYear.span("2024-2025..2025-2026"))
    assert store.latest_year(school) == SchoolYear(2025)
    status = _run(home, "school", "status", "--json")
    (listed,) = json.loads(status.stdout)["schools"]
    assert sorted(listed["imports"]) == ["2024-2025", "2025-2026"]


def test_the_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    """The web server runs services in threads: each must wait for the others, and a
    thread's re-entry must not be mistaken for another thread's (it once was: a second
    thread walked in unlocked and failed on leaving, after its change was committed)."""
    import threading

    inside, overlaps, errors = [0], [0], []
    counter = [0]

    def work() -> None:
        try:
            for _ in range(20):
                with lock_home(tmp_path, command="thread"), lock_home(tmp_path):
                    inside[0] += 1
                    if inside[0] > 1:
                        overlaps[0] += 1
                    seen = counter[0]
                    time.sleep(0.0005)
                    counter[0] = seen + 1  # lost if two threads were here together
                    inside[0] -= 1
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert overlaps[0] == 0
    assert counter[0] == 8 * 20


def test_another_thread_waits_and_then_gives_up_with_the_busy_message(tmp_path: Path) -> None:
    import threading

    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock_home(tmp_path, command="school import"):
            taken.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    try:
        with pytest.raises(HomeBusyError, match="school import"), lock_home(tmp_path, wait=0.2):
            pass
    finally:
        release.set()
        holder.join()
    with lock_home(tmp_path, wait=1):  # free again
        pass
