"""The demo as a script of console commands, each run as its own process with its role's home.

Each role keeps its state in its own home folder, as it would on separate
machines; the demo shows every command it runs so a reader can repeat them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cohortsafe.csvsafe import safe_row
from cohortsafe.errors import CohortsafeError
from cohortsafe.files import private_dir, write_private
from cohortsafe.lvs import find_exports, read_export

YEARS = ("2023-2024", "2024-2025", "2025-2026")
#: the office's people who sign in to the web in the demo (with a second factor)
WEB_PEOPLE = ("o.jansen", "r.devries", "c.bakker", "m.visser")
PERIOD = YEARS[-1]
STUDY = "DYS-2026"


@dataclass
class Step:
    """One command as a user types it, and what it printed."""

    title: str
    command: list[str]
    output: str

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "command": self.command, "output": self.output}

    def describe(self) -> str:
        return f"== {self.title}\n$ cohortsafe {shlex.join(self.command)}\n{self.output}"


class DemoFailed(CohortsafeError):
    """A demo step did not end as expected."""


@dataclass
class _Demo:
    steps: list[Step] = field(default_factory=list)
    #: told each step's title as it starts (the console shows progress on a terminal)
    on_step: Callable[[str], None] | None = None

    def run(self, title: str, command: list[str]) -> str:
        """Run one command exactly as shown (its own process, no shell); keep what it printed."""
        if self.on_step is not None and title:
            self.on_step(title)
        full = [sys.executable, "-m", "cohortsafe.cli", *command]
        result = subprocess.run(full, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise DemoFailed(
                f"`cohortsafe {shlex.join(command)}` ended with {result.returncode}: "
                f"{result.stdout.strip()[-500:]} {result.stderr.strip()[-500:]}"
            )
        self.steps.append(Step(title, command, result.stdout.rstrip("\n")))
        return result.stdout


def write_registry(path: Path, codes: list[str], key: Path) -> None:
    """The list ``office school-add --from`` reads: each school with its public key."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        rows = [("school", "key"), *((code, str(key)) for code in codes)]
        csv.writer(handle, lineterminator="\n").writerows(safe_row(row) for row in rows)


def run_demo(
    root: Path, *, schools: int, seed: int, on_step: Callable[[str], None] | None = None
) -> list[Step]:
    demo = _Demo(on_step=on_step)
    exports = root / "lvs-exports"
    school = ["--home", str(root / "school")]
    office = ["--home", str(root / "office")]
    school_pub = root / "school" / "school.pub"
    office_pub = str(root / "office" / "office.pub")
    packages = root / "packages"
    retractions = root / "retractions"

    demo.run(
        "An LVS vendor exports its schools (synthetic data); CBS's registers give each a "
        "schoolweging",
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
            "--reference",
            str(root / "schoolweging.csv"),
        ],
    )
    demo.run(
        "The school imports the exports, all or nothing per export",
        [*school, "school", "import", str(exports)],
    )
    demo.run(
        "The school makes its signing key (Ed25519 + ML-DSA-65, ML-KEM-768 + X25519)",
        ["keys", "new", "--name", "school", "--out", str(root / "school")],
    )
    demo.run(
        "The office makes its key pair and its secret pseudonym keys",
        [*office, "office", "init"],
    )
    codes = sorted(p.name for p in (exports / PERIOD).iterdir())
    registry = root / "schools.csv"
    write_registry(registry, codes, school_pub)
    demo.run(
        f"The office registers the school's public key for each location (list in {registry.name})",
        [*office, "office", "school-add", "--from", str(registry)],
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
            "bezwaar@delinde.example",
        ],
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
        )

    for period in YEARS:
        study = ["--study", STUDY] if period == PERIOD else []
        demo.run(
            f"The school delivers {period}"
            + (" (with the special-category data consented for the study)" if study else ""),
            [
                *school,
                "school",
                "deliver",
                "--schooljaar",
                period,
                *study,
                "--office-key",
                office_pub,
                "--out",
                str(packages),
            ],
        )
    demo.run("What the school has imported and delivered", [*school, "school", "status"])
    package = sorted(packages.glob(f"{first}-{PERIOD}-*.nco"))[-1]
    demo.run(
        "The office's tool opens one package: verify, decrypt, unpack",
        [
            "package",
            "open",
            str(package),
            "--office-key",
            str(root / "office" / "office.key"),
            "--school-key",
            str(school_pub),
            "--out",
            str(root / "opened"),
        ],
    )
    demo.run(
        "The office takes in every package: verify, check, pseudonymise, link, store",
        [*office, "office", "receive", str(packages)],
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
    )
    demo.run(
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
            str(retractions),
        ],
    )
    demo.run(
        "The office honours it: every row of the pupil goes, a tombstone stays",
        [*office, "office", "receive", str(retractions)],
    )
    demo.run("The vault's counts", [*office, "office", "status"])
    demo.run("The office scans every vault file for identifiers", [*office, "office", "scan"])
    demo.run("The office's audit log is an unbroken chain", [*office, "audit", "verify"])
    _research(demo, root, office)
    _publish(demo, root, office)
    _web_users(demo, root, school, office, first)
    demo.run("The office's audit log is still an unbroken chain", [*office, "audit", "verify"])
    return demo.steps


#: what a delivery's exclusion counts count, in the summary's words
LEFT_OUT = {
    "objection": "pupils left out because a parent objected",
    "results_outside_delivered_domains": "results of other subjects, never delivered",
    "special_category_rows_without_study": "special-category rows without a study, not delivered",
    "special_category_rows_without_consent": "special-category rows without consent, not delivered",
}
#: the demo's outputs a reader opens first
SHOWN = (
    ("the parents' letter", "brief-ouders.html"),
    ("the released bundle", "release"),
    ("the school reports", "school-reports"),
    ("the public tables", "public-tables/index.html"),
    ("the public tables with differential privacy", "public-tables-dp/index.html"),
)


def demo_summary(root: Path) -> dict[str, Any]:
    """What the demo left behind: every file it wrote, and what the deliveries of the
    newest school year left out, and why."""
    quiet = _Demo()
    listing = json.loads(
        quiet.run("", ["--home", str(root / "school"), "school", "deliveries", "--json"])
    )
    retractions = json.loads(
        quiet.run("", ["--home", str(root / "office"), "office", "retractions", "--json"])
    )
    left_out: dict[str, int] = {}
    newest = [d for d in listing["deliveries"] if d["period"] == PERIOD]
    for delivery in newest:
        for reason, count in delivery.get("exclusions", {}).items():
            left_out[reason] = left_out.get(reason, 0) + int(count)
    retracted = sum(int(r.get("counts", {}).get("pupils", 0)) for r in retractions["retractions"])
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return {
        "root": str(root),
        "period": PERIOD,
        "deliveries": len(newest),
        "left_out": left_out,
        "retracted_after_delivery": retracted,
        "outputs": {name: str(root / path) for name, path in SHOWN if (root / path).exists()},
        "files": files,
    }


def describe_summary(summary: dict[str, Any]) -> str:
    folders: dict[str, int] = {}
    for name in summary["files"]:
        top = name.split("/", 1)[0]
        folders[top] = folders.get(top, 0) + 1
    lines = [
        f"== Summary: the {summary['deliveries']} deliveries of {summary['period']} left out",
        *(
            f"  {count} {LEFT_OUT.get(reason, reason)}"
            for reason, count in sorted(summary["left_out"].items())
        ),
        f"  and {summary['retracted_after_delivery']} pupil(s) were retracted after delivery "
        "(a late objection)",
        "Open:",
        *(f"  {name}: {path}" for name, path in summary["outputs"].items()),
        f"Files written under {summary['root']} (--json names each):",
        *(f"  {top}: {n} file(s)" for top, n in sorted(folders.items())),
    ]
    if "note" in summary:
        lines.append(summary["note"])
    return "\n".join(lines)


def _publish(demo: _Demo, root: Path, office: list[str]) -> None:
    demo.run(
        "The office keeps each school's schoolweging, by school pseudonym",
        [*office, "office", "reference-load", str(root / "schoolweging.csv")],
    )
    demo.run(
        "The office makes every school's feedback report; each school fetches only its own "
        "(with a handful of schools most comparisons are withheld: too few use the same test)",
        [
            *office,
            "publish",
            "school-report",
            "--all",
            "--period",
            PERIOD,
            "--out",
            str(root / "school-reports"),
        ],
    )
    span = f"{YEARS[0]}..{YEARS[-2]}"
    demo.run(
        "The office publishes national tables, checked with everything it published before",
        [*office, "publish", "tables", "--period", span, "--out", str(root / "public-tables")],
    )
    demo.run(
        # one school year leaves one way only: exact checked tables or noisy counts
        f"The counts of {PERIOD} leave with differential privacy instead, and say their budget",
        [
            *office,
            "publish",
            "tables",
            "--period",
            PERIOD,
            "--out",
            str(root / "public-tables-dp"),
            "--dp",
            "1.0",
        ],
    )


def _web_users(demo: _Demo, root: Path, school: list[str], office: list[str], first: str) -> None:
    """Passwords (and authenticator keys) for the demo's people, to try the web screens."""
    demo.run(
        f"The school adds an administrator account for {first}",
        [*school, "user", "add", "beheerder", "--role", "school", "--school", first],
    )
    demo.run(
        "The office adds a staff account", [*office, "user", "add", "o.jansen", "--role", "office"]
    )
    demo.run(
        f"The office lets {first}'s administrator fetch that school's reports (and nothing else)",
        [*office, "user", "add", "rapporten", "--role", "school", "--school", first],
    )
    folder = root / "demo-passwords"
    private_dir(folder)
    people = ((school, "beheerder"), (office, "rapporten"), *((office, n) for n in WEB_PEOPLE))
    for home, name in people:
        password = secrets.token_urlsafe(12)
        write_private(folder / name, password.encode())
        demo.run(
            f"{name} gets a web password (demo only, shown here once: {password})",
            [*home, "user", "password", name, "--password-file", str(folder / name)],
        )
        if home is office and name in WEB_PEOPLE:
            demo.run(
                f"{name} gets an authenticator key: enter it in an authenticator app",
                [*home, "user", "second-factor", name],
            )
    demo.run(
        "To try the web screens, keep the demo's folders (cohortsafe demo --keep FOLDER) and "
        "run `cohortsafe --home FOLDER/school serve` (schools, parents at /bezwaar/"
        f"{first}/) or `cohortsafe --home FOLDER/office serve` (research, review, school reports)",
        [*office, "user", "list"],
    )


# The analysis the demo's researcher asks for: mean ability score by domain, year group
# and childcare participation (each pupil's kind of childcare, or none).
ANALYSIS = {
    "name": "score_by_childcare",
    "kind": "table",
    "table": "toetsresultaten",
    "with": [{"table": "voorschool", "column": "soort", "missing": "geen"}],
    "index": ["leergebied", "jaargroep"],
    "columns": ["voorschool_soort"],
    "values": "vaardigheidsscore",
    "aggfunc": "mean",
}


def _research(demo: _Demo, root: Path, office: list[str]) -> None:
    """A project from approval to a verified release bundle."""
    code = "NCO-DEMO"
    for name, role in (("r.devries", "researcher"), ("c.bakker", "checker"),
                       ("m.visser", "checker")):  # fmt: skip
        demo.run(
            f"The office adds {_a(role)} account", [*office, "user", "add", name, "--role", role]
        )
    until = (dt.date.today() + dt.timedelta(days=730)).isoformat()
    demo.run(
        "The office registers an approved research project (its own key, its own pseudonyms)",
        [*office, "research", "project-new", code, "--title", "Voorschool en leerresultaten",
         "--institution", "Synthetische Universiteit", "--approval", "NCO-2026-017",
         "--until", until],
    )  # fmt: skip
    for table, columns in (
        ("toetsresultaten", "leergebied,toetsmoment,jaargroep,schooljaar,vaardigheidsscore"),
        ("voorschool", "soort,maanden"),
    ):
        demo.run(
            f"The office approves the project's columns of {table}",
            [*office, "research", "project-vars", code, "--table", table, "--columns", columns],
        )
    demo.run(
        "The office grants the researcher access",
        [*office, "research", "project-grant", code, "--user", "r.devries"],
    )
    demo.run(
        "The office builds the project's workspace from the vault",
        [*office, "research", "workspace-build", code],
    )
    demo.run(
        "The researcher looks at the data (read-only queries; every one audited)",
        [*office, "research", "sql", code, "--user", "r.devries",
         "SELECT leergebied, count(record) AS results, count(DISTINCT pupil) AS pupils "
         "FROM toetsresultaten GROUP BY 1 ORDER BY 1"],
    )  # fmt: skip
    spec = root / "analysis.json"
    spec.write_text(json.dumps(ANALYSIS, indent=1), encoding="utf-8")
    demo.run(
        f"The server computes and checks the researcher's analysis ({spec.name})",
        [*office, "research", "output", code, "--user", "r.devries", "--spec", str(spec)],
    )
    number = json.loads(
        demo.run(
            "The researcher starts an output request",
            [
                *office,
                "research",
                "request-new",
                code,
                "--user",
                "r.devries",
                "--json",
                "--title",
                "Tabel 1 van het artikel",
            ],
        )
    )["request"]
    request = str(number)
    demo.run(
        "The researcher adds the output with its context and controls",
        [*office, "research", "request-add", request, ANALYSIS["name"], "--user", "r.devries",
         "--context", "mean ability score by domain, year group and childcare",
         "--controls", "cells below 10 pupils or 3 schools suppressed, with complements"],
    )  # fmt: skip
    demo.run(
        "The researcher submits it: the server computes it again and checks it with the ledger",
        [*office, "research", "request-submit", request, "--user", "r.devries"],
    )
    for checker in ("c.bakker", "m.visser"):
        demo.run(
            f"Output checker {checker} reviews it (votes stay hidden until both are in)",
            [*office, "research", "review", request, "--user", checker,
             "--approve", str(ANALYSIS["name"])],
        )  # fmt: skip
    bundle = root / "release" / f"{code}-request-{request}.zip"
    bundle.parent.mkdir(exist_ok=True)
    demo.run(
        "The office releases it: a zip signed with the office key, entered in the ledger",
        [*office, "research", "release", request, "--out", str(bundle)],
    )
    demo.run(
        f"Anyone verifies the bundle with the office's public key (the bundle: {bundle})",
        ["research", "verify", str(bundle), "--office-key", str(root / "office" / "office.pub")],
    )


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


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
