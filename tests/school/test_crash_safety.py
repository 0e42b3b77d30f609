"""Whatever stops a school command, the home is as before it or fully after it (issue 10 items
1, 3 and 5, school side).

Each case kills (or fails) a command at a named fault point in a child process,
lets a normal command recover the home, and compares registry, audit actions,
LVS store and package files with a clean run's; then it re-runs the command and
compares again. The template home holds 2024-2025 imported and delivered, and an
objection for one delivered pupil.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from cohortsafe.domain import SchoolYear
from cohortsafe.synth import SynthSpec, write_exports
from tests.mounts import fill, read_only, small_disk
from tests.school.crashkit import faulted_at, ok, run, snapshot, store_is_tidy

YEARS = (SchoolYear(2024), SchoolYear(2025))


class Template:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.exports = root / "exports"
        self.keys = root / "keys"
        write_exports(SynthSpec(schools=1, seed=7, years=YEARS), self.exports)
        home = root / "home"
        ok(home, "school", "import", str(self.exports / "2024-2025"))
        ok(home, "keys", "new", "--name", "school", "--out", str(home))
        ok(home, "keys", "new", "--name", "office", "--role", "office", "--out", str(self.keys))
        self.pupil = ""
        ok(home, *self.command("deliver", root))
        self.pupil = snapshot(home, root / "out")["pupils"][0][1]
        ok(
            home,
            "school",
            "object",
            "--pupil",
            self.pupil,
            "--received",
            "01-12-2026",
            "--from",
            "ouder",
        )

    def copy(self, to: Path) -> Path:
        """A fresh copy of the template: home, exports, keys and output folder."""
        shutil.copytree(self.root, to, symlinks=True)
        return to

    def command(self, name: str, root: Path) -> list[str]:
        """The console arguments of ``name`` run on the copy at ``root``."""
        office = ["--office-key", str(root / "keys" / "office.pub"), "--out", str(root / "out")]
        return {
            "import": ["school", "import", str(root / "exports" / "2025-2026")],
            "deliver": ["school", "deliver", "--schooljaar", "2024-2025", *office],
            "retract": ["school", "retract", "--pupil", self.pupil, *office],
            "remove": ["school", "import-remove", "--schooljaar", "2025-2026"],
        }[name]

    def prepared(self, name: str, to: Path) -> Path:
        """A copy on which ``name`` can run: removing an import needs one to remove."""
        root = self.copy(to)
        if name == "remove":
            ok(root / "home", *self.command("import", root))
        return root


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return Template(tmp_path_factory.mktemp("template"))


_CLEAN: dict[tuple[str, int], dict[str, Any]] = {}


def _normal(state: dict[str, Any]) -> dict[str, Any]:
    """Random parts of names out; hidden files (swept by the next package) aside."""
    state = dict(state)
    state["out"] = sorted(
        re.sub(r"-(retraction|reinstatement)-[0-9a-f]{12}", r"-\1-*", name)
        for name in state["out"]
        if not name.startswith(".")
    )
    return state


def clean(
    template: Template, command: str, tmp_path_factory: pytest.TempPathFactory, times: int
) -> dict[str, Any]:
    """The home after ``times`` clean runs of ``command`` (computed once per module)."""
    if (command, times) not in _CLEAN:
        root = template.prepared(command, tmp_path_factory.mktemp("clean") / "r")
        for _ in range(times):
            ok(root / "home", *template.command(command, root))
        _CLEAN[command, times] = _normal(snapshot(root / "home", root / "out"))
    return _CLEAN[command, times]


CASES = [
    ("import", "store.pending_recorded", 1),
    ("import", "store.file_written", 1),
    ("import", "store.file_written", 4),
    ("import", "import.registry_written", 1),
    ("import", "import.registry_committed", 1),
    ("import", "store.switched", 1),
    ("deliver", "deliver.package_written", 1),
    ("deliver", "deliver.recorded", 1),
    ("deliver", "deliver.committed", 1),
    ("deliver", "package.published", 1),
    ("retract", "retract.package_written", 1),
    ("retract", "retract.recorded", 1),
    ("retract", "retract.committed", 1),
    ("retract", "package.published", 1),
    ("remove", "store.pending_recorded", 1),
    ("remove", "store.file_written", 2),
    ("remove", "import_removal.registry_written", 1),
    ("remove", "store.switched", 1),
]


@pytest.mark.parametrize(("command", "step", "nth"), CASES)
def test_a_kill_leaves_the_home_before_or_after_and_a_re_run_ends_as_a_clean_run(
    template: Template,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    step: str,
    nth: int,
) -> None:
    root = template.prepared(command, tmp_path / "r")
    home, out = root / "home", root / "out"
    before = _normal(
        snapshot(template.prepared(command, tmp_path / "b") / "home", tmp_path / "b" / "out")
    )
    after = clean(template, command, tmp_path_factory, 1)
    assert before != after

    faulted_at(home, step, *template.command(command, root), nth=nth)
    recovered = _normal(snapshot(home, out))
    store_is_tidy(recovered)
    assert recovered in (before, after), step
    assert recovered["pending_files"] == [0, 0, 0]

    if command == "remove" and recovered == after:
        # removed already: the re-run says so and changes nothing
        assert run(home, *template.command(command, root)).returncode == 1
        expected = after
    else:
        ok(home, *template.command(command, root))
        expected = clean(template, command, tmp_path_factory, 2 if recovered == after else 1)
    again = _normal(snapshot(home, out))
    assert again == expected
    assert not [name for name in snapshot(home, out)["out"] if name.startswith(".")]
    ok(home, "audit", "verify")


@pytest.mark.parametrize(
    ("step", "how", "message"),
    [
        ("import.registry_written", "fail", "RuntimeError"),
        ("store.file_written", "enospc", "No space left on device"),
    ],
)
def test_a_failing_commit_or_a_full_disk_leaves_the_home_as_before(
    template: Template, tmp_path: Path, step: str, how: str, message: str
) -> None:
    root = template.copy(tmp_path / "r")
    before = _normal(snapshot(template.copy(tmp_path / "b") / "home", tmp_path / "b" / "out"))
    done = faulted_at(root / "home", step, *template.command("import", root), how=how)
    assert done.returncode == 1
    assert message in done.stdout + done.stderr
    assert _normal(snapshot(root / "home", root / "out")) == before


def test_a_full_disk_at_the_switch_is_finished_by_the_next_command(
    template: Template, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = template.copy(tmp_path / "r")
    done = faulted_at(
        root / "home", "store.switched", *template.command("import", root), how="enospc"
    )
    assert done.returncode == 1
    assert "is recorded" in done.stderr
    assert "next command finishes it" in done.stderr
    recovered = _normal(snapshot(root / "home", root / "out"))
    store_is_tidy(recovered)
    assert recovered == clean(template, "import", tmp_path_factory, 1)


def test_the_store_never_deletes_what_its_record_does_not_name(
    template: Template, tmp_path: Path
) -> None:
    """A file beside the store that no record names (a backup, say) survives every recovery."""
    root = template.copy(tmp_path / "r")
    (school,) = [p for p in (root / "home" / "lvs").iterdir() if p.is_dir()]
    keep = school / "toetsresultaten.backup.parquet"
    keep.write_bytes(b"kept")
    faulted_at(root / "home", "store.file_written", *template.command("import", root), nth=2)
    snapshot(root / "home", root / "out")
    assert keep.read_bytes() == b"kept"


@pytest.mark.parametrize("leave", [4096, 12288, 32768, 65536, 131072])
def test_a_real_full_disk_fails_the_import_cleanly_or_lets_it_finish(
    template: Template, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, leave: int
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        root = template.copy(disk / "r")
        before = _normal(snapshot(root / "home", root / "out"))
        filler = fill(disk, leave)
        done = run(root / "home", *template.command("import", root))
        filler.unlink()
        state = _normal(snapshot(root / "home", root / "out"))
        if done.returncode == 0:
            assert state == clean(template, "import", tmp_path_factory, 1)
        else:
            assert done.returncode == 1
            assert "internal error" not in done.stderr
            assert any(
                reason in done.stderr
                for reason in ("No space left on device", "could not be written")
            ), done.stderr
            assert state == before
        store_is_tidy(state)
        ok(root / "home", *template.command("import", root))


def test_a_read_only_home_is_refused_with_its_reason_and_left_as_it_was(
    template: Template, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        root = template.copy(disk / "r")
        before = _normal(snapshot(root / "home", root / "out"))
        with read_only(disk):
            for command in ("import", "deliver", "retract"):
                done = run(root / "home", *template.command(command, root), "--json")
                assert done.returncode == 1, done.stdout + done.stderr
                message = json.loads(done.stdout)["error"]["message"]
                assert "Read-only file system" in message or "cannot be written" in message
            status = run(root / "home", "school", "status")
            assert status.returncode == 1
            assert "Traceback" not in status.stderr
        assert _normal(snapshot(root / "home", root / "out")) == before
