"""The demo as a script of console commands, each run as its own process with its role's home.

Each role keeps its state in its own home folder, as it would on separate
machines; the demo shows every command it runs so a reader can repeat them.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cohortsafe.errors import CohortsafeError
from cohortsafe.lvs import find_exports, read_export

PERIOD = "2025-2026"
STUDY = "DYS-2026"


@dataclass
class Step:
    title: str
    command: list[str]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "command": self.command, "summary": self.summary}

    def describe(self) -> str:
        return f"== {self.title}\n$ cohortsafe {shlex.join(self.command)}\n{self.summary}"


class DemoFailed(CohortsafeError):
    """A demo step did not end as expected."""


@dataclass
class _Demo:
    root: Path
    steps: list[Step] = field(default_factory=list)

    def run(self, title: str, command: list[str], summary: Any, *, json_flag: bool = True) -> Any:
        """Run one command; ``summary`` turns its JSON document into a line for the reader."""
        full = [sys.executable, "-m", "cohortsafe.cli", *command]
        if json_flag:
            full.append("--json")
        result = subprocess.run(full, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise DemoFailed(
                f"`cohortsafe {' '.join(command)}` ended with {result.returncode}: "
                f"{result.stdout.strip()[:500]} {result.stderr.strip()[-500:]}"
            )
        document = json.loads(result.stdout) if json_flag else {}
        self.steps.append(Step(title, command, summary(document)))
        return document


def run_demo(root: Path, *, schools: int, seed: int) -> list[Step]:
    demo = _Demo(root)
    exports = root / "lvs-exports"
    school_home = root / "school"
    office = root / "office-keys"
    packages = root / "packages"

    demo.run(
        "An LVS vendor exports its schools (synthetic data)",
        [
            "synth",
            "--schools",
            str(schools),
            "--seed",
            str(seed),
            "--years",
            "2023-2024..2025-2026",
            "--out",
            str(exports),
        ],
        lambda d: (
            f"{d['exports']} exports: {d['pupils']} pupil rows, {d['results']} test "
            f"results, {d['childcare']} childcare rows, {d['special']} special-category rows"
        ),
    )

    def imported(d: dict[str, Any]) -> str:
        accepted = [e for e in d["exports"] if e["accepted"]]
        pupils = sum(e["rows"]["leerlingen"] for e in accepted)
        results = sum(e["rows"]["toetsresultaten"] for e in accepted)
        return (
            f"{len(accepted)} of {len(d['exports'])} exports accepted "
            f"({pupils} pupil rows, {results} results), every row checked"
        )

    home = ["--home", str(school_home)]
    demo.run(
        "The school imports the exports, all or nothing per export",
        [*home, "school", "import", str(exports)],
        imported,
    )

    demo.run(
        "The school makes its signing key (Ed25519 + ML-DSA-65, ML-KEM-768 + X25519)",
        ["keys", "new", "--name", "school", "--out", str(school_home)],
        lambda d: f"fingerprint {d['fingerprint'][:16]}…, private key mode 0600",
    )
    demo.run(
        "The office makes its key pair; schools get office.pub",
        ["keys", "new", "--name", "office", "--out", str(office)],
        lambda d: f"fingerprint {d['fingerprint'][:16]}…",
    )

    first, pupils, special = _pick_pupils(exports)
    demo.run(
        "The school records its name and who parents contact to object",
        [
            *home,
            "school",
            "set",
            "--school",
            first,
            "--name",
            "Synthetische basisschool De Linde",
            "--contact",
            "de administratie (bezwaar@delinde.example)",
        ],
        lambda d: f"{d['school']}: {d['name']}",
    )
    demo.run(
        "The parent letter, in Dutch",
        [
            *home,
            "school",
            "letter",
            "--school",
            first,
            "--format",
            "html",
            "--out",
            str(root / "brief-ouders.html"),
        ],
        lambda d: f"written to {d['file']}",
    )

    for leerlingnummer, parent in zip(pupils[:2], ("ouder A", "ouder B"), strict=False):
        demo.run(
            "A parent objects: the pupil is left out from now on",
            [
                *home,
                "school",
                "object",
                "--school",
                first,
                "--pupil",
                leerlingnummer,
                "--received",
                "2026-02-03",
                "--from",
                parent,
                "--channel",
                "email",
            ],
            lambda d: f"objection registered for pupil {d['leerlingnummer']}",
        )

    demo.run(
        "A study that needs special-category data",
        [
            *home,
            "school",
            "study-add",
            "--code",
            STUDY,
            "--title",
            "Dyslexie en lezen",
            "--categories",
            "dyslexie",
            "--from",
            "2026-01-01",
            "--until",
            "2027-12-31",
        ],
        lambda d: f"study {d['study']} asks for {', '.join(d['categories'])}",
    )
    if special:
        demo.run(
            "A parent gives explicit consent for that study",
            [
                *home,
                "school",
                "consent",
                "--school",
                first,
                "--pupil",
                special,
                "--study",
                STUDY,
                "--categories",
                "dyslexie",
                "--given-by",
                "ouder C",
                "--date",
                "2026-09-01",
                "--evidence",
                "map 2026/17",
            ],
            lambda d: f"consent for pupil {d['leerlingnummer']}: {d['categories']}",
        )

    def delivered(d: dict[str, Any]) -> str:
        done = [x for x in d["deliveries"] if x["delivered"]]
        left = sum(x["exclusions"].get("objection", 0) for x in done)
        special_rows = sum(x["rows"].get("bijzonder", 0) for x in done)
        return (
            f"{len(done)} packages signed and encrypted to the office; {left} pupils left "
            f"out for an objection; {special_rows} special-category rows with consent"
        )

    deliveries = demo.run(
        "The school delivers every school's 2025-2026 package",
        [
            *home,
            "school",
            "deliver",
            "--period",
            PERIOD,
            "--study",
            STUDY,
            "--office-key",
            str(office / "office.pub"),
            "--out",
            str(packages),
        ],
        delivered,
    )
    package = packages / next(x["file"] for x in deliveries["deliveries"] if x["delivered"])
    demo.run(
        "The office verifies, decrypts and unpacks one package",
        [
            "package",
            "open",
            str(package),
            "--office-key",
            str(office / "office.key"),
            "--school-key",
            str(school_home / "school.pub"),
            "--out",
            str(root / "opened"),
        ],
        _manifest_summary,
    )

    late = pupils[2]
    demo.run(
        "A parent objects after the delivery",
        [
            *home,
            "school",
            "object",
            "--school",
            first,
            "--pupil",
            late,
            "--received",
            "2026-11-02",
            "--from",
            "ouder D",
            "--channel",
            "formulier",
        ],
        lambda d: f"objection registered; pupil was in {d['earlier_deliveries']} delivery",
    )
    demo.run(
        "The school retracts what it delivered about that pupil",
        [
            *home,
            "school",
            "retract",
            "--school",
            first,
            "--pupil",
            late,
            "--office-key",
            str(office / "office.pub"),
            "--out",
            str(packages),
        ],
        lambda d: f"{d['file']} retracts the pupil from {', '.join(d['deliveries'])}",
    )
    return demo.steps


def _manifest_summary(d: dict[str, Any]) -> str:
    manifest = d["manifest"]
    tables = ", ".join(f"{n} {e['rows']} rows" for n, e in manifest["tables"].items())
    left = ", ".join(f"{k} {v}" for k, v in manifest["exclusions"].items())
    return (
        f"manifest of delivery {manifest['delivery_id'][:8]}…, {manifest['period']}, "
        f"signed {'+'.join(manifest['algorithms']['signature'])}: {tables}; left out: {left}"
    )


def _pick_pupils(exports: Path) -> tuple[str, list[str], str | None]:
    """The first school of the last year, three of its pupils, and one with special data."""
    folders = [f for f in find_exports(exports) if f.parent.name == PERIOD]
    outcome = read_export(folders[0])
    if outcome.export is None:
        raise DemoFailed("the synthetic export was not accepted")
    export = outcome.export
    with_special = set(export.bijzonder.column("leerlingnummer").to_pylist())
    numbers = [
        n for n in export.leerlingen.column("leerlingnummer").to_pylist() if n not in with_special
    ]
    special = sorted(with_special)[0] if with_special else None
    return export.school.code, numbers[:3], special
