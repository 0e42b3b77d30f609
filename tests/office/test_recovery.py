"""After a kill, a failing registry write or a full disk at any step of `office receive`,
receiving the same files again leaves registry, vault and audit log as one clean run does.

Each test runs the same receive twice in one office: once cleanly (its outcome is kept,
then the vault is put back and the registry rows it added are removed; the audit log is
append-only, so the comparison is of the events each run adds), and once with the fault
followed by a re-run. The pseudonym keys are the same, so even the vault's rows compare.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.audit.services import verify
from cohortsafe.app.office import services
from cohortsafe.app.office.models import ReceivedPackage
from cohortsafe.domain import SchoolYear
from cohortsafe.errors import VaultError
from cohortsafe.vault import Vault
from cohortsafe.vault import _vault as vault_module
from tests.office.kit import Office, pupils
from tests.office.test_intake import _vault_state
from tests.office.test_reinstatement import _reinstatement

pytestmark = pytest.mark.django_db

# Every fault point one receive of the scenario passes, in order: a batch (a replacing
# delivery and a new one), a retraction, a reinstatement, a last batch. The test below
# checks this list against a clean run, so a new fault point cannot be left untested.
_BATCH = [
    "files_written",
    "replaced_rewritten",
    "linked",
    "catalog_updated",
    "before_commit",
    "after_commit",
    "vault_committed",  # the vault committed, the registry not yet
]
SEQUENCE = [
    *_BATCH,
    "retraction_rewritten",
    "before_commit",
    "after_commit",
    "vault_committed",
    "reinstatement_lifted",
    "before_commit",
    "after_commit",
    "vault_committed",
    *_BATCH,
]


class Kill(BaseException):
    """A kill -9 as far as the code can tell: nothing after it runs, no `except Exception`."""


def _scenario(office: Office) -> list[Path]:
    members = pupils(4)
    office.receive(office.delivery(members), office.delivery(members, SchoolYear(2025)))
    return [
        office.delivery(members[:3]),  # replaces the first, so every step of a batch runs
        office.delivery(members, SchoolYear(2023)),
        office.retraction([members[1].pgn]),
        _reinstatement(office, [members[1].pgn]),
        office.delivery(pupils(2), SchoolYear(2026)),
    ]


def _marks() -> tuple[int, int]:
    """The last registry row and audit event so far."""
    last = ReceivedPackage.objects.order_by("-id").first()
    head = AuditEvent.objects.order_by("-seq").first()
    return (last.id if last else 0), (head.seq if head else 0)


def _outcome(
    start: tuple[int, int], rerun: tuple[int, int] | None = None, recorded: set[str] | None = None
) -> dict[str, Any]:
    """Registry rows and audit events since ``start``, the vault, and the status.

    Left out: the re-run's `duplicate` rows and events for the files the faulty run had
    recorded already, the honest record of a file given twice. Every other row and event
    must be exactly the clean run's.
    """
    if recorded is None:
        recorded = set()
    last_row, last_event = rerun or _marks()

    def again(at: int, last: int, status: str, package_id: object) -> bool:
        return at > last and status == "duplicate" and package_id in recorded

    fields = ("file_name", "sha256", "kind", "package_id", "school", "period", "status")
    rows = [
        (*(getattr(r, f) for f in fields), r.reason, r.replaced, r.counts)
        for r in ReceivedPackage.objects.filter(id__gt=start[0]).order_by("id")
        if not again(r.id, last_row, r.status, r.package_id)
    ]
    events = [
        (e.action, e.subject, e.details)
        for e in AuditEvent.objects.filter(seq__gt=start[1]).order_by("seq")
        if not again(
            e.seq, last_event, e.action.removeprefix("office."), e.details.get("package_id")
        )
    ]
    return {"rows": rows, "events": events, "vault": _vault_state(), "status": services.status()}


class Twice:
    """Run the scenario's receive cleanly, keep its outcome, and put the office back."""

    def __init__(self, office: Office, home: Path) -> None:
        self.office, self.vault = office, home / "vault"
        self.files = _scenario(office)
        saved = home.parent / "vault-before"
        shutil.copytree(self.vault, saved)
        start = _marks()
        office.receive(*self.files)
        self.clean = _outcome(start)
        ReceivedPackage.objects.filter(id__gt=start[0]).delete()
        shutil.rmtree(self.vault)
        shutil.copytree(saved, self.vault)

    def faulty(self, fault: type[BaseException], inject: Callable[[], None]) -> dict[str, Any]:
        """Receive with ``inject`` active (it must stop the run), then receive again."""
        start = _marks()
        with pytest.raises(fault):
            inject()
        recorded = {
            r.package_id for r in ReceivedPackage.objects.filter(id__gt=start[0])
        }  # the files the faulty run recorded before it stopped
        rerun = _marks()
        reports = self.office.receive(*self.files)
        assert sum(r.status == "duplicate" for r in reports) == len(recorded)
        assert verify().ok
        with services.open_vault() as vault:  # no file left over, none missing
            listed = set(vault.files())
            on_disk = {p for p in vault.data.rglob("*.parquet") if p.parent.name != "_empty"}
            assert listed == on_disk
            assert not (self.vault / "pending.json").exists()
        return _outcome(start, rerun, recorded)


@pytest.fixture
def twice(office: Office, home: Path) -> Twice:
    return Twice(office, home)


def _fault_at(monkeypatch: pytest.MonkeyPatch, index: int | None, seen: list[str]) -> None:
    def point(step: str) -> None:
        seen.append(step)
        if index is not None and len(seen) == index + 1:
            raise Kill(step)

    monkeypatch.setattr(vault_module, "fault_point", point)
    monkeypatch.setattr(services, "fault_point", point)


def test_the_scenario_passes_every_fault_point_in_order(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _scenario(office)
    seen: list[str] = []
    _fault_at(monkeypatch, None, seen)
    office.receive(*files)
    assert seen == SEQUENCE


@pytest.mark.parametrize("index", range(len(SEQUENCE)), ids=lambda i: f"{i}-{SEQUENCE[i]}")
def test_a_kill_at_any_step_then_a_rerun_leaves_what_a_clean_run_leaves(
    twice: Twice, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def run() -> None:
        with monkeypatch.context() as patch:
            _fault_at(patch, index, seen)
            twice.office.receive(*twice.files)

    assert twice.faulty(Kill, run) == twice.clean
    assert seen[-1] == SEQUENCE[index]


@pytest.mark.parametrize("call", [1, 2, 3, 4])  # the scenario records four times
def test_a_failing_registry_write_then_a_rerun_leaves_what_a_clean_run_leaves(
    twice: Twice, call: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services.record_many
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == call:
            raise RuntimeError("the database refused the commit")
        return real(*args, **kwargs)

    def run() -> None:
        with monkeypatch.context() as patch:
            patch.setattr(services, "record_many", failing)
            twice.office.receive(*twice.files)

    assert twice.faulty(RuntimeError, run) == twice.clean


@pytest.mark.parametrize("write", [1, 4, 7, 10, 13])
def test_a_full_disk_at_any_vault_write_then_a_rerun_leaves_what_a_clean_run_leaves(
    twice: Twice, write: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pq.write_table
    writes: list[str] = []

    def full(table: Any, where: Any, *args: Any, **kwargs: Any) -> None:
        if "data" in Path(str(where)).parts and "_empty" not in str(where):
            writes.append(str(where))
            if len(writes) == write:
                Path(where).write_bytes(b"PAR1 half a file")  # what a full disk leaves
                raise OSError(errno.ENOSPC, "No space left on device")
        real(table, where, *args, **kwargs)

    def run() -> None:
        with monkeypatch.context() as patch:
            patch.setattr(vault_module.pq, "write_table", full)
            with pytest.raises(VaultError, match=r"cannot write the vault file vault/data/"):
                twice.office.receive(*twice.files)
        raise Kill  # the error was checked; now the re-run

    assert twice.faulty(Kill, run) == twice.clean
    assert len(writes) == write


class _FailingCommit:
    """A catalog connection whose ``commit``-th COMMIT fails, as DuckDB's does on a bad disk."""

    def __init__(self, con: Any, commits: list[int], commit: int) -> None:
        self._con, self._commits, self._commit = con, commits, commit

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            self._commits.append(1)
            if len(self._commits) == self._commit:
                raise duckdb.IOException("Could not write the WAL")
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.mark.parametrize("commit", [1, 2, 3, 4])  # the scenario's four vault transactions
def test_a_failing_vault_commit_then_a_rerun_leaves_what_a_clean_run_leaves(
    twice: Twice, commit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits: list[int] = []

    class Failing(Vault):
        def open(self) -> None:
            super().open()
            self._con = _FailingCommit(self._con, commits, commit)  # type: ignore[assignment]

        def close(self) -> None:
            if isinstance(self._con, _FailingCommit):
                self._con = self._con._con
            super().close()

    def run() -> None:
        with monkeypatch.context() as patch:
            patch.setattr(services, "Vault", Failing)
            with pytest.raises(VaultError, match="could not record the change"):
                twice.office.receive(*twice.files)
        raise Kill  # the error was checked; now the re-run

    assert twice.faulty(Kill, run) == twice.clean
    assert len(commits) == commit
