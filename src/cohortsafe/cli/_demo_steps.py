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

YEARS = ("2023-2024", "2024-2025", "2025-2026")
PERIOD = YEARS[-1]
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
    steps: list[Step] = field(default_factory=list)

    def call(self, command: list[str]) -> Any:
        """Run one command as a user would; its JSON document, or DemoFailed."""
        full = [sys.executable, "-m", "cohortsafe.cli", *command, "--json"]
        result = subprocess.run(full, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise DemoFailed(
                f"`cohortsafe {shlex.join(command)}` ended with {result.returncode}: "
                f"{result.stdout.strip()[:500]} {result.stderr.strip()[-500:]}"
            )
        return json.loads(result.stdout)

    def run(self, title: str, command: list[str], summary: Any) -> Any:
        """Run and show one command; ``summary`` turns its JSON into a line for the reader."""
        document = self.call(command)
        self.steps.append(Step(title, command, summary(document)))
        return document


def run_demo(root: Path, *, schools: int, seed: int) -> list[Step]:
    demo = _Demo()
    exports = root / "lvs-exports"
    school = ["--home", str(root / "school")]
    office = ["--home", str(root / "office")]
    school_pub = str(root / "school" / "school.pub")
    office_pub = str(root / "office" / "office.pub")
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
            f"{YEARS[0]}..{YEARS[-1]}",
            "--out",
            str(exports),
        ],
        lambda d: (
            f"{d['exports']} exports: {d['pupils']} pupil rows, {d['results']} test "
            f"results, {d['childcare']} childcare rows, {d['special']} special-category rows"
        ),
    )
    demo.run(
        "The school imports the exports, all or nothing per export",
        [*school, "school", "import", str(exports)],
        _imported,
    )
    demo.run(
        "The school makes its signing key (Ed25519 + ML-DSA-65, ML-KEM-768 + X25519)",
        ["keys", "new", "--name", "school", "--out", str(root / "school")],
        lambda d: f"fingerprint {d['fingerprint'][:16]}…, private key mode 0600",
    )
    demo.run(
        "The office makes its key pair and its secret pseudonym keys",
        [*office, "office", "init"],
        lambda d: (
            "office.pub for the schools; pseudonym keys "
            f"{', '.join(k['key_id'] for k in d['pseudonym_keys'])}, mode 0600"
        ),
    )
    codes = sorted(p.name for p in (exports / PERIOD).iterdir())
    for code in codes:
        demo.call([*office, "office", "school-add", code, "--key", school_pub])
    demo.steps.append(
        Step(
            "The office registers the school's public key for each location",
            [*office, "office", "school-add", codes[0], "--key", school_pub],
            f"{len(codes)} school locations registered",
        )
    )

    first, pupils, special = _pick_pupils(exports)
    demo.run(
        "The school records its name and who parents contact to object",
        [
            *school,
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
            *school,
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
                *school,
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
            *school,
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
                *school,
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

    for period in YEARS[:-1]:
        demo.call(
            [
                *school,
                "school",
                "deliver",
                "--schooljaar",
                period,
                "--office-key",
                office_pub,
                "--out",
                str(packages),
            ]
        )
    deliveries = demo.run(
        f"The school delivers each year's packages (shown: {PERIOD}, with the study)",
        [
            *school,
            "school",
            "deliver",
            "--schooljaar",
            PERIOD,
            "--study",
            STUDY,
            "--office-key",
            office_pub,
            "--out",
            str(packages),
        ],
        _delivered,
    )
    package = packages / next(x["file"] for x in deliveries["deliveries"] if x["delivered"])
    demo.run(
        "The office's tool opens one package: verify, decrypt, unpack",
        [
            "package",
            "open",
            str(package),
            "--office-key",
            str(root / "office" / "office.key"),
            "--school-key",
            school_pub,
            "--out",
            str(root / "opened"),
        ],
        _manifest_summary,
    )
    received = demo.call(
        [*office, "office", "receive", *sorted(str(p) for p in packages.glob("*.nco"))]
    )
    demo.steps.append(
        Step(
            "The office takes in every package: verify, check, pseudonymise, link, store",
            [*office, "office", "receive", str(packages / "*.nco")],
            f"{sum(p['status'] == 'received' for p in received['packages'])} of "
            f"{len(received['packages'])} packages received into the vault",
        )
    )

    late = pupils[2]
    demo.run(
        "A parent objects after the delivery",
        [
            *school,
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
        lambda d: (
            f"objection registered; the pupil was in {d['earlier_deliveries']} earlier deliveries"
        ),
    )
    retraction = demo.run(
        "The school retracts everything it delivered about that pupil",
        [
            *school,
            "school",
            "retract",
            "--school",
            first,
            "--pupil",
            late,
            "--office-key",
            office_pub,
            "--out",
            str(root / "retractions"),
        ],
        lambda d: f"{d['file']} retracts the pupil from {', '.join(d['deliveries'])}",
    )
    demo.run(
        "The office honours it: every row of the pupil goes, a tombstone stays",
        [*office, "office", "receive", str(root / "retractions" / retraction["file"])],
        lambda d: (
            f"{d['packages'][0]['status']}: "
            f"{d['packages'][0]['counts']['rows_removed']} rows removed"
        ),
    )
    demo.run("The vault's counts", [*office, "office", "status"], _status_summary)
    demo.run(
        "The office scans every vault file for identifiers",
        [*office, "office", "scan"],
        lambda d: (
            "nothing found: no BSN, onderwijsnummer, postcode, full date or name"
            if not d["findings"]
            else f"{len(d['findings'])} finding(s)"
        ),
    )
    demo.run(
        "An output checker checks a table of mean scores from the vault",
        [
            "sdc",
            "crosstab",
            str(root / "office" / "vault" / "data" / "toetsresultaten" / YEARS[-1]),
            "--index",
            "leergebied",
            "--columns",
            "jaargroep",
            "--values",
            "vaardigheidsscore",
            "--pupil",
            "pupil",
            "--school",
            "school",
            "--suppress",
        ],
        _checked_summary,
    )
    return demo.steps


def _checked_summary(d: dict[str, Any]) -> str:
    counts = d["counts"]
    suppression = d["suppression"] or {}
    method = suppression.get("method", "none")
    review = sum(1 for cell in d["cells"] if cell.get("review"))
    return (
        f"{len(d['cells'])} cells with margins: {counts['ok']} released, "
        f"{counts['primary']} primary (pupil and school rules), {counts['secondary']} "
        f"secondary ({method}), {review} flagged for review; table: {d['outcome']}"
    )


def _imported(d: dict[str, Any]) -> str:
    accepted = [e for e in d["exports"] if e["accepted"]]
    pupils = sum(e["rows"]["leerlingen"] for e in accepted)
    results = sum(e["rows"]["toetsresultaten"] for e in accepted)
    return (
        f"{len(accepted)} of {len(d['exports'])} exports accepted ({pupils} pupil rows, "
        f"{results} results), every row checked"
    )


def _delivered(d: dict[str, Any]) -> str:
    done = [x for x in d["deliveries"] if x["delivered"]]
    left = sum(x["exclusions"].get("objection", 0) for x in done)
    special_rows = sum(x["rows"].get("bijzonder", 0) for x in done)
    return (
        f"{len(done)} packages signed and encrypted to the office; {left} pupils left out "
        f"for an objection; {special_rows} special-category row(s) with consent"
    )


def _manifest_summary(d: dict[str, Any]) -> str:
    manifest = d["manifest"]
    tables = ", ".join(f"{n} {e['rows']} rows" for n, e in manifest["tables"].items())
    left = ", ".join(f"{k} {v}" for k, v in manifest["exclusions"].items())
    return (
        f"manifest of delivery {manifest['delivery_id'][:8]}…, {manifest['period']}, "
        f"signed {' + '.join(manifest['algorithms']['signature'])}: {tables}; "
        f"left out: {left}"
    )


def _status_summary(d: dict[str, Any]) -> str:
    rows = ", ".join(f"{k} {v}" for k, v in d["rows"].items())
    return (
        f"{d['deliveries_current']} deliveries from {d['schools_registered']} school "
        f"locations; {d['pupils']} pupils; {rows}; {d['retractions']} retraction(s), "
        f"{d['tombstones']} tombstone(s); onderwijsnummers linked to a later BSN: "
        f"{d['linked']}, unlinked: {d['unlinked']}"
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
