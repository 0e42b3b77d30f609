"""The office makes school feedback reports from the vault; each school gets only its own.

One call reads the school year's growth once and makes the report of one school or of
every school with results. Each report is kept in the home's ``reports`` folder (0700,
files 0600) and listed in the registry by BRIN and vestiging, so the web application can
hand it to that school's administrators and to no one else; ``out`` writes a copy for
the office. The vault read is one audit event with counts, never a school's code.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cohortsafe.app.accounts.models import SchoolAccess
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.office.models import RegisteredSchool
from cohortsafe.app.office.services import open_vault, pseudonyms
from cohortsafe.app.publish.models import SchoolReportFile
from cohortsafe.app.school.models import School
from cohortsafe.config import load
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.errors import CohortsafeError, ConfigurationError, ExistsError, UsageError
from cohortsafe.files import private_dir, write_atomic
from cohortsafe.publish import (
    LANGUAGES,
    CellKey,
    GrowthCells,
    Populations,
    ReportBasis,
    ReportHeading,
    checked_tables,
    dp_tables,
    growth_cells,
    public_csv,
    public_frames,
    render_public_html,
    render_report_html,
    render_report_pdf,
    school_report,
    symbols_note,
)
from cohortsafe.sdc import Ledger, Policy, load_policy

__all__ = [
    "MadeReport",
    "ReportRun",
    "TablesRun",
    "make_public_tables",
    "make_school_reports",
    "report_policy",
    "reports_folder",
]

REPORTS = "reports"


def _years(period: str) -> list[SchoolYear]:
    """``period`` as school years (one, or ``A..B``); a malformed one is a usage error."""
    try:
        return SchoolYear.span(period)
    except (ValueError, CohortsafeError) as error:
        raise UsageError(f"--period: {error}") from None


def reports_folder() -> Path:
    return load().home / REPORTS


def report_policy() -> Policy:
    """The ``school_report`` policy with the setting's number of pupils per figure."""
    threshold = load().report_min_pupils
    shipped = load_policy("school_report")
    if threshold == shipped.pupil_threshold:
        return shipped
    return load_policy(
        {
            "extends": "school_report",
            "name": f"school_report_min{threshold}",
            "min_pupils": {"threshold": threshold},
        }
    )


@dataclass(frozen=True)
class MadeReport:
    """One report made: for which school, whether withheld, the files written."""

    school: str
    withheld: bool
    files: tuple[str, ...]
    report: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"school": self.school, "withheld": self.withheld, "files": list(self.files)}


@dataclass(frozen=True)
class ReportRun:
    period: str
    reports: tuple[MadeReport, ...]
    without_results: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "reports": [r.as_dict() for r in self.reports],
            "withheld": sum(1 for r in self.reports if r.withheld),
            "without_results": list(self.without_results),
        }


def _codes(schools: list[str] | None, known: set[str]) -> list[str]:
    if schools is None:
        return sorted(known)
    codes = []
    for given in schools:
        try:
            code = SchoolCode.parse(given).code
        except (ValueError, CohortsafeError) as error:
            raise UsageError(f"--school: {error}") from None
        if code not in known:
            raise UsageError(
                f"--school: {code} is not registered at this office (`office schools` lists them)"
            )
        codes.append(code)
    return codes


@holds_home
def make_school_reports(
    period: str,
    *,
    actor: str,
    schools: list[str] | None = None,
    out: Path | None = None,
    pdf: bool = False,
    lang: str = "nl",
) -> ReportRun:
    """The reports of ``schools`` (BRIN + vestiging) for ``period``; None: every school
    registered at the office. ``out`` is a file (one school: ``.html`` or ``.pdf``) or a
    folder (``<brinvest>-<period>.html``, and ``.pdf`` with ``pdf``)."""
    year = str(_years(period)[0]) if ".." not in period else ""
    if not year:
        raise UsageError("a report is of one school year, e.g. --period 2025-2026")
    if lang not in LANGUAGES:
        raise UsageError(f"language must be one of {', '.join(LANGUAGES)}")
    single = out is not None and out.suffix.lower() in (".html", ".pdf")
    if out is not None and not single and out.suffix and not out.is_dir():
        raise UsageError("--out is FILE.html or FILE.pdf for one school, or a folder")
    if single and (schools is None or len(schools) != 1):
        raise UsageError("--out names a file: give exactly one --school (or --out a folder)")
    keys = pseudonyms()
    registered = {f"{r.brin}{r.vestiging}" for r in RegisteredSchool.objects.all()}
    names = {s.code: s.name for s in School.objects.all()}  # a school sharing the home
    codes = _codes(schools, registered)
    code_of = {keys.school(code): code for code in registered | set(codes)}
    boards = _coalitions()
    policy, comparison = report_policy(), load_policy("research")
    with open_vault() as vault:
        cells = growth_cells(vault.con, year, ("rekenen_wiskunde", "begrijpend_lezen", "spelling"))
        reference = {
            str(row["school"]): float(row["schoolweging"])
            for row in vault.school_reference().to_pylist()
            if row["schooljaar"] == year
        }
    present = cells.schools()
    made: list[MadeReport] = []
    missing: list[str] = []
    folder = private_dir(reports_folder())
    history = folder / f"released-{year}.json"
    released = _released(history, {code: p for p, code in code_of.items()})
    basis = ReportBasis(cells, year, policy, comparison, reference, released)
    for code in codes:
        pseudonym = keys.school(code)
        if pseudonym not in present:
            missing.append(code)
            continue
        report = school_report(
            basis, pseudonym, coalition={keys.school(c) for c in boards.get(code, ())}
        )
        page = render_report_html(report, ReportHeading(code, names.get(code, "")), lang=lang)
        data = page.encode()
        stem = f"{code}-{year}-{secrets.token_hex(4)}"
        write_atomic(folder / f"{stem}.html", data)
        wants_pdf = pdf or (single and out is not None and out.suffix.lower() == ".pdf")
        pdf_bytes = render_report_pdf(page) if wants_pdf else None
        if pdf_bytes is not None:
            write_atomic(folder / f"{stem}.pdf", pdf_bytes)
        written = _copy_out(out, code, year, data, pdf_bytes, single)
        with transaction.atomic():
            SchoolReportFile.objects.create(
                brin=code[:4],
                vestiging=code[4:],
                period=year,
                lang=lang,
                made_by=actor,
                withheld=report.withheld,
                html_file=f"{stem}.html",
                pdf_file=f"{stem}.pdf" if pdf_bytes is not None else "",
                html_sha256=hashlib.sha256(data).hexdigest(),
            )
        made.append(MadeReport(code, report.withheld, written, report.as_dict()))
    if schools is not None and len(codes) == 1 and missing:
        raise UsageError(
            f"the vault holds no results of both the middle and the end test (M and E) of "
            f"this school for {year}: there is nothing to report"
        )
    if made:
        _keep_released(history, cells, code_of)
    record(
        "publish.school_reports",
        actor=actor,
        period=year,
        reports=len(made),
        withheld=sum(1 for r in made if r.withheld),
        without_results=len(missing),
        policy=policy.fingerprint,
    )
    return ReportRun(year, tuple(made), tuple(missing))


def _coalitions() -> dict[str, set[str]]:
    """Per school, the schools whose reports reach the same administrators (a board)."""
    held: dict[int, set[str]] = {}
    for access in SchoolAccess.objects.all():
        held.setdefault(access.account_id, set()).add(access.school)
    boards: dict[str, set[str]] = {}
    for codes in held.values():
        for code in codes:
            boards.setdefault(code, set()).update(codes)
    return boards


def _cell_name(key: CellKey) -> str:
    return f"{key.leergebied}|{key.schaal}|{key.jaargroep}"


def _released(history: Path, pseudonym_of: dict[str, str]) -> list[Populations]:
    """The populations behind the national figures of every earlier run of the period.

    They are kept by BRIN and vestiging, not by pseudonym, so a rotated school key does
    not make every school look new."""
    if not history.exists():
        return []
    try:
        versions = json.loads(history.read_text())
    except ValueError:
        raise ConfigurationError(
            f"{history.name} in the reports folder is damaged: restore it from a backup; "
            "reports of this school year cannot be made again safely without it"
        ) from None
    out: list[Populations] = []
    for version in versions:
        cells: dict[CellKey, dict[str, int]] = {}
        for name, schools in version.items():
            domain, scale, group = name.rsplit("|", 2)
            cells[CellKey(domain, scale, int(group))] = {
                pseudonym_of.get(code, code): int(n) for code, n in schools.items()
            }
        out.append(cells)
    return out


def _keep_released(history: Path, cells: GrowthCells, code_of: dict[str, str]) -> None:
    versions = json.loads(history.read_text()) if history.exists() else []
    now = {
        _cell_name(key): {code_of.get(s, s): n for s, n in sorted(cells.populations(key).items())}
        for key in cells.keys
    }
    if not versions or versions[-1] != now:
        write_atomic(history, json.dumps([*versions, now], sort_keys=True).encode())


def _copy_out(
    out: Path | None, code: str, year: str, page: bytes, pdf: bytes | None, single: bool
) -> tuple[str, ...]:
    if out is None:
        return ()
    if single:
        data = pdf if out.suffix.lower() == ".pdf" else page
        assert data is not None
        write_atomic(out, data)
        return (str(out),)
    private_dir(out)
    written = [out / f"{code}-{year}.html"]
    write_atomic(written[0], page)
    if pdf is not None:
        written.append(out / f"{code}-{year}.pdf")
        write_atomic(written[1], pdf)
    return tuple(str(p) for p in written)


# --- public tables ----------------------------------------------------------------------

PUBLICATIONS_LEDGER = "publications-ledger"
#: per school year, how its tables left: "checked" or "dp" with the budget spent so far
METHODS = "methods.json"
#: the most budget the tables of one school year may spend in all their DP releases
DP_BUDGET_PER_YEAR = 10.0


def _methods(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / METHODS
    if not path.exists():
        return {}
    try:
        found = json.loads(path.read_text())
    except ValueError:
        raise ConfigurationError(
            f"{METHODS} in {folder.name} is damaged: restore it from a backup before publishing"
        ) from None
    return dict(found)


def _claim(folder: Path, years: tuple[str, ...], epsilon: float | None) -> None:
    """One way out per school year: exact checked tables and noisy DP counts of the same
    pupils together would let the noise be averaged away and the hidden cells estimated.
    Repeated DP releases of a year add up their budgets, up to a limit."""
    methods = _methods(folder)
    method = "checked" if epsilon is None else "dp"
    for year in years:
        held = methods.get(year)
        if held is not None and held["method"] != method:
            raise UsageError(
                f"the tables of {year} were published {held['method']} already; one school "
                "year leaves one way only (checked tables or --dp), never both"
            )
        spent = float(held.get("epsilon", 0.0)) if held else 0.0
        if epsilon is not None and spent + epsilon > DP_BUDGET_PER_YEAR + 1e-9:
            raise UsageError(
                f"the DP tables of {year} have spent epsilon {spent:g} already; this release "
                f"would pass the limit of {DP_BUDGET_PER_YEAR:g} per school year"
            )


def _spend(folder: Path, years: tuple[str, ...], epsilon: float | None) -> None:
    methods = _methods(folder)
    for year in years:
        held = methods.setdefault(year, {"method": "checked" if epsilon is None else "dp"})
        if epsilon is not None:
            held["epsilon"] = float(held.get("epsilon", 0.0)) + epsilon
    write_atomic(folder / METHODS, json.dumps(methods, sort_keys=True).encode())


@dataclass(frozen=True)
class TablesRun:
    years: tuple[str, ...]
    tables: tuple[dict[str, Any], ...]
    files: tuple[str, ...]
    epsilon: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "years": list(self.years),
            "tables": list(self.tables),
            "files": list(self.files),
            "epsilon_total": self.epsilon,
        }


@holds_home
def make_public_tables(
    period: str, *, actor: str, out: Path, epsilon: float | None = None, lang: str = "nl"
) -> TablesRun:
    """The national tables of ``period`` (one school year or ``A..B``) into ``out``.

    Without ``epsilon`` every table passes the research policy and the office's ledger of
    everything it published before; with it, the counts carry OpenDP noise instead and
    ``epsilon`` is the publication's whole budget.
    """
    years = tuple(str(y) for y in _years(period))
    if lang not in LANGUAGES:
        raise UsageError(f"language must be one of {', '.join(LANGUAGES)}")
    if epsilon is not None and not (0 < epsilon <= 10):
        raise UsageError("--dp EPSILON must be more than 0 and at most 10")
    if out.exists() and any(out.iterdir()):
        raise ExistsError(f"{out} is not empty: choose a new folder for a publication")
    policy = load_policy("research")
    ledger_folder = private_dir(load().home / PUBLICATIONS_LEDGER)
    _claim(ledger_folder, years, epsilon)
    with open_vault() as vault:
        frames = public_frames(vault.con, years)
    if epsilon is None:
        with Ledger.open(ledger_folder, project="publications") as ledger:
            tables = checked_tables(frames, years, policy=policy, ledger=ledger)
        spent = None
    else:
        tables = dp_tables(frames, years, epsilon=epsilon)
        spent = float(sum(t.epsilon or 0.0 for t in tables))
    _spend(ledger_folder, years, spent)
    private_dir(out)
    written = []
    for table in tables:
        if table.published:
            path = out / f"{table.spec.name}.csv"
            write_atomic(path, public_csv(table))
            written.append(path)
    note = out / ("verklaring-van-symbolen.txt" if lang == "nl" else "symbols.txt")
    write_atomic(note, symbols_note(lang).encode())
    page = out / "index.html"
    write_atomic(
        page,
        render_public_html(
            tables,
            lang=lang,
            min_pupils=policy.pupil_threshold,
            min_schools=policy.min_schools.threshold if policy.min_schools else 1,
            policy=policy.name,
            dp_total=spent,
        ).encode(),
    )
    written += [note, page]
    record(
        "publish.tables",
        actor=actor,
        years=list(years),
        published=sum(1 for t in tables if t.published),
        withheld=sum(1 for t in tables if not t.published),
        epsilon=spent,
    )
    return TablesRun(years, tuple(t.as_dict() for t in tables), tuple(map(str, written)), spent)
