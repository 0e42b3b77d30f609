"""A registry database that cannot be reached is a set-up error with its reason, never an
internal error, and the message never repeats DATABASE_URL (it may hold a password)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

SECRET = "s3cret-Pw"
MAIN = "from cohortsafe.cli import main; raise SystemExit(main())"


def _run(home: Path, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exports = tmp_path / "exports"
    exports.mkdir(exist_ok=True)
    env = {**os.environ, "COHORTSAFE_HOME": str(home), "DATABASE_URL": database_url}
    env.pop("COHORTSAFE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", MAIN, "school", "import", str(exports), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _error(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 2, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    found: dict[str, str] = json.loads(done.stdout)["error"]
    return found


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_server_at_the_address(home: Path, tmp_path: Path) -> None:
    url = f"postgres://cohortsafe:{SECRET}@127.0.0.1:{_closed_port()}/registry"
    error = _error(_run(home, url, tmp_path))
    assert error["kind"] == "configuration"
    assert "DATABASE_URL cannot be used: no database server answers" in error["message"]


@pytest.mark.db
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL"
)
def test_a_database_that_does_not_exist(home: Path, tmp_path: Path) -> None:
    server = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    url = server._replace(path="/no_such_registry").geturl()
    error = _error(_run(home, url, tmp_path))
    assert error["kind"] == "configuration"
    assert "the database it names does not exist" in error["message"]
    assert "no_such_registry" not in error["message"]
