"""The demo as a script of console commands, each run as its own process with its role's home.

Each role keeps its state in its own home folder, as it would on separate
machines; the demo shows every command it runs so a reader can repeat them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cohortsafe.errors import CohortsafeError


@dataclass
class Step:
    title: str
    command: list[str]
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "command": self.command, "summary": self.summary}

    def describe(self) -> str:
        shown = " ".join(self.command)
        return f"== {self.title}\n$ cohortsafe {shown}\n{self.summary}"


class DemoFailed(CohortsafeError):
    """A demo step did not end as expected."""


def _run(command: list[str], *, expect: int = 0) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own console, arguments built by this module
        [sys.executable, "-m", "cohortsafe.cli", *command, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != expect:
        raise DemoFailed(
            f"`cohortsafe {' '.join(command)}` ended with {result.returncode}: "
            f"{result.stdout.strip()[:500]} {result.stderr.strip()[-500:]}"
        )
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def run_demo(root: Path, *, schools: int, seed: int) -> list[Step]:
    exports = root / "lvs-exports"
    school_home = root / "school"
    years = "2023-2024..2025-2026"
    steps: list[Step] = []

    command = [
        "synth",
        "--schools",
        str(schools),
        "--seed",
        str(seed),
        "--years",
        years,
        "--out",
        str(exports),
    ]
    made = _run(command)
    steps.append(
        Step(
            "An LVS vendor exports its schools (synthetic data)",
            command,
            f"{made['exports']} exports: {made['pupils']} pupil rows, "
            f"{made['results']} test results, {made['childcare']} childcare rows, "
            f"{made['special']} special-category rows",
        )
    )

    command = ["--home", str(school_home), "school", "import", str(exports)]
    imported = _run(command)
    accepted = [e for e in imported["exports"] if e["accepted"]]
    pupils = sum(e["rows"]["leerlingen"] for e in accepted)
    results = sum(e["rows"]["toetsresultaten"] for e in accepted)
    steps.append(
        Step(
            "The school imports the exports, checking every row",
            command,
            f"{len(accepted)} of {len(imported['exports'])} exports accepted "
            f"({pupils} pupil rows, {results} results) into {school_home}",
        )
    )
    return steps
