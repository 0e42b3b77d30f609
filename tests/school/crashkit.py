"""Killing school commands at named fault points, in child processes, and comparing homes.

A kill is ``os._exit`` at a :func:`cohortsafe.faults.fault_point`, so no clean-up
handler runs: exactly what a power cut or ``kill -9`` leaves. A home is compared
through :data:`SNAPSHOT`, which runs a normal command first (so recovery runs as
it would for a user) and prints the registry, the audit actions, the LVS store
and the package files as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SRC = str(Path(__file__).resolve().parents[2] / "src")
KILLED = 137

KILL_AT = """
import errno, os, sys
from cohortsafe import faults
step, nth, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = [0]
def fault(at):
    if at == step:
        seen[0] += 1
        if seen[0] == nth:
            if how == "kill":
                os._exit(137)
            if how == "enospc":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            raise RuntimeError("the registry's commit failed")
faults.fault_point = fault
from cohortsafe.cli import main
raise SystemExit(main(sys.argv[4:]))
"""

SNAPSHOT = """
import json, sys
from pathlib import Path
from cohortsafe.cli._home import open_home
config = open_home("school")
from cohortsafe.app.school import services
from cohortsafe.app.school.models import (
    Delivery, DeliveredPupil, ExportImport, Pupil, Reinstatement, Retraction, School,
)
from cohortsafe.app.audit.models import AuditEvent
services.school_status(actor="snapshot")  # a normal command: recovery runs first
store = services.lvs_store()
snapshot = {
    "schools": sorted(School.objects.values_list("brin", "vestiging", "latest_year")),
    "pupils": sorted(
        Pupil.objects.values_list("school__brin", "leerlingnummer", "jaargroep", "current")
    ),
    "imports": sorted(
        [i.school.code, i.school_year, sorted(i.rows.items())]
        for i in ExportImport.objects.select_related("school")
    ),
    "deliveries": sorted(Delivery.objects.values_list("period", "seq", "file_name")),
    "delivered_pupils": DeliveredPupil.objects.count(),
    "retractions": Retraction.objects.count(),
    "reinstatements": Reinstatement.objects.count(),
    "pending_files": [
        m.objects.exclude(pending_file="").count() for m in (Delivery, Retraction, Reinstatement)
    ],
    "audit": [
        [a, s] for a, s in AuditEvent.objects.order_by("seq").values_list("action", "subject")
        if not a.startswith("school.view_")
    ],
    "store": {},
    "store_files": {},
}
for code in store.schools():
    snapshot["store"][code.code] = {
        "latest": str(store.latest_year(code)),
        "tables": {
            t: sorted(json.dumps(r, default=str, sort_keys=True)
                      for r in store.read(code, t).to_pylist())
            for t in ("toetsresultaten", "inschrijvingen", "voorschool", "bijzonder")
        },
    }
root = config.home / "lvs"
for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.exists() else []:
    snapshot["store_files"][folder.name] = sorted(p.name for p in folder.iterdir())
out = Path(sys.argv[1])
snapshot["out"] = sorted(p.name for p in out.iterdir()) if out.exists() else []
print(json.dumps(snapshot, default=str))
"""


def env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "COHORTSAFE_HOME": str(home),
        "COHORTSAFE_DEBUG": "1",
    }


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A console command in a child process; returns its outcome."""
    code = "from cohortsafe.cli import main; raise SystemExit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env(home),
        capture_output=True,
        text=True,
        check=False,
    )


def ok(home: Path, *args: str) -> str:
    done = run(home, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def faulted_at(
    home: Path, step: str, *args: str, nth: int = 1, how: str = "kill"
) -> subprocess.CompletedProcess[str]:
    """Run a console command with a fault the ``nth`` time it reaches ``step``.

    ``how``: ``kill`` (no clean-up runs), ``enospc`` (a full disk there) or ``fail``
    (an error there, as a failing registry commit raises).
    """
    done = subprocess.run(
        [sys.executable, "-c", KILL_AT, step, str(nth), how, *args],
        env=env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    if how == "kill":
        assert done.returncode == KILLED, f"never reached {step}: {done.stdout}{done.stderr}"
    return done


def snapshot(home: Path, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SNAPSHOT, str(out)],
        env=env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def store_is_tidy(state: dict[str, Any]) -> None:
    """Every file in the store is one its manifest names: no orphan, no record left."""
    for code, names in state["store_files"].items():
        assert "pending.json" not in names, code
        assert sorted(names) == sorted(
            ["manifest.json", *(f"{t}.g{_generation(names)}.parquet" for t in _TABLES)]
        ), names


_TABLES = ("toetsresultaten", "inschrijvingen", "voorschool", "bijzonder")


def _generation(names: list[str]) -> str:
    found = {n.split(".g")[1].split(".")[0] for n in names if n.endswith(".parquet")}
    assert len(found) == 1, names
    return found.pop()
