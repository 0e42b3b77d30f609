"""Shared fixtures: every test runs with its own home folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# No deadlines: timing is for benchmarks, never for tests (a busy machine is not a bug).
settings.register_profile("cohortsafe", deadline=None, print_blob=True)
settings.load_profile("cohortsafe")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("COHORTSAFE_HOME", str(home))
    return home


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that touches the database also runs against PostgreSQL (`-m db`)."""
    for item in items:
        if item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.db)
