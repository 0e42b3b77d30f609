"""``cohortsafe research …``: projects, their workspaces, and researchers' queries.

Run in the office's home: the office makes projects, approves their variables,
grants researchers access and builds each workspace; a researcher queries it
with ``research sql CODE --user NAME``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cohortsafe.cli._commands import (
    Subparsers,
    add_command,
    add_examples,
    add_group,
    positive,
    school_years,
)
from cohortsafe.cli._home import open_home
from cohortsafe.cli._report import Report
from cohortsafe.errors import UsageError

EXAMPLES = {
    "project-new": "cohortsafe research project-new NCO-2026-01 --title 'VVE en rekenen' "
    "--institution 'Universiteit Utrecht' --until 2028-12-31",
    "project-grant": "cohortsafe research project-grant NCO-2026-01 --user j.jansen",
    "project-vars": "cohortsafe research project-vars NCO-2026-01 --table toetsresultaten "
    "--columns leergebied,toetsmoment,jaargroep,schooljaar,vaardigheidsscore",
    "project-end": "cohortsafe research project-end NCO-2026-01",
    "projects": "cohortsafe research projects --json",
    "workspace-build": "cohortsafe research workspace-build NCO-2026-01",
    "risk": "cohortsafe research risk NCO-2026-01 --k 5",
    "sql": "cohortsafe research sql NCO-2026-01 --user j.jansen "
    '"SELECT leergebied, count(*) FROM toetsresultaten GROUP BY 1"',
    "output": "cohortsafe research output NCO-2026-01 --user j.jansen --spec outputs.json",
    "outputs": "cohortsafe research outputs NCO-2026-01 --user j.jansen",
    "request-new": "cohortsafe research request-new NCO-2026-01 --user j.jansen",
    "request-add": "cohortsafe research request-add 1 score_by_domain --user j.jansen "
    "--context 'mean score per domain' --controls 'secondary suppression'",
    "request-submit": "cohortsafe research request-submit 1 --user j.jansen",
    "request-withdraw": "cohortsafe research request-withdraw 1 --user j.jansen",
    "request-show": "cohortsafe research request-show 1 --user k.klaassen",
    "requests": "cohortsafe research requests --user k.klaassen --json",
    "request-file": "cohortsafe research request-file 1 figure.png --user k.klaassen "
    "--out review/figure.png",
    "review": "cohortsafe research review 1 --user k.klaassen --approve score_by_domain",
    "release": "cohortsafe research release 1 --out release-1.zip",
    "verify": "cohortsafe research verify release-1.zip --office-key office.pub",
}
_SHOWN_ROWS = 200  # rows a query prints for people; --json gives them all


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a date is written YYYY-MM-DD, e.g. 2028-12-31") from None


def register(groups: Subparsers) -> None:
    research = add_group(groups, "research", "research projects, workspaces and queries")
    p = add_command(research, "project-new", _project_new, "register an approved project")
    p.add_argument("code", metavar="CODE", help="project code: letters, digits, hyphens")
    p.add_argument("--title", required=True, help="the project's title")
    p.add_argument("--institution", required=True, help="the institution the researchers work at")
    p.add_argument(
        "--until", required=True, type=_date, metavar="YYYY-MM-DD", help="last day of access"
    )
    p.add_argument("--approval", default="", metavar="REF", help="reference of the approval")
    p.add_argument(
        "--policy",
        default="research",
        metavar="NAME|FILE",
        help="disclosure policy for the project's outputs (researchers cannot loosen it)",
    )
    p.add_argument(
        "--reviews", type=positive, default=2, help="independent reviews every output needs"
    )
    p.add_argument(
        "--study", default="", metavar="STUDY", help="consented study (special-category data)"
    )
    p.add_argument(
        "--school-years",
        type=school_years,
        default=[],
        metavar="JJJJ-JJJJ[..JJJJ-JJJJ]",
        help="only these school years (default: all)",
    )
    p = add_command(research, "project-grant", _project_grant, "give a researcher access")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--user", required=True, metavar="NAME", help="a researcher's account")
    p = add_command(
        research, "project-vars", _project_vars, "approve one vault table's columns for a project"
    )
    p.add_argument("code", metavar="CODE")
    p.add_argument("--table", required=True, metavar="TABLE", help="vault table")
    p.add_argument("--columns", default=None, metavar="A,B,…", help="approved columns")
    p.add_argument("--drop", action="store_true", help="take the table away from the project")
    p = add_command(research, "project-end", _project_end, "close a project now")
    p.add_argument("code", metavar="CODE")
    add_command(research, "projects", _projects, "every project: state, variables, researchers")
    p = add_command(
        research, "workspace-build", _workspace_build, "build a project's extract from the vault"
    )
    p.add_argument("code", metavar="CODE")
    p = add_command(research, "risk", _risk, "how unique the workspace's pupils are (k-anonymity)")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--k", type=positive, default=5, help="smallest group of pupils counted as safe")
    p = add_command(research, "sql", _sql, "run one read-only query in a project's workspace")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--user", required=True, metavar="NAME", help="the researcher asking")
    p.add_argument("statement", metavar="SELECT", help="one SELECT statement")
    register_airlock(research)
    add_examples(research, EXAMPLES)


def _services():  # type: ignore[no-untyped-def]
    open_home("office")
    from cohortsafe.app.research import services

    return services


def _actor() -> str:
    from cohortsafe.app.audit.services import console_actor

    return console_actor()


def _describe(info: Any) -> str:
    tables = "; ".join(f"{t}: {', '.join(c)}" for t, c in info.tables.items()) or "none yet"
    return "\n".join(
        [
            f"{info.code} ({info.state}, until {info.until.isoformat()}): {info.title}, "
            f"{info.institution}",
            f"  policy {info.policy} ({info.policy_fingerprint}), {info.reviews} reviews per "
            "output" + (f", study {info.study}" if info.study else ""),
            "  school years: " + (", ".join(info.school_years) or "all"),
            f"  tables: {tables}",
            "  researchers: " + (", ".join(info.researchers) or "none yet"),
            f"  workspace: {info.workspace}" + (f" ({info.built_at})" if info.built_at else ""),
        ]
    )


def _project_new(args: argparse.Namespace) -> Report:
    services = _services()
    made = services.new_project(
        args.code,
        title=args.title,
        institution=args.institution,
        until=args.until,
        approval=args.approval,
        policy=args.policy,
        reviews=args.reviews,
        study=args.study,
        school_years=[str(y) for y in args.school_years],
        actor=_actor(),
    )
    return Report.ok(
        {"project": made.as_dict()},
        _describe(made) + "\nnext: research project-vars, project-grant, workspace-build",
    )


def _project_grant(args: argparse.Namespace) -> Report:
    info = _services().grant(args.code, args.user, actor=_actor())
    return Report.ok({"project": info.as_dict()}, f"{args.user} has access to {info.code}")


def _project_vars(args: argparse.Namespace) -> Report:
    if args.drop == (args.columns is not None):
        raise UsageError("give --columns A,B,… to approve, or --drop to take the table away")
    columns = [] if args.drop else [c.strip() for c in args.columns.split(",") if c.strip()]
    info = _services().approve_table(args.code, args.table, columns, actor=_actor(), drop=args.drop)
    return Report.ok({"project": info.as_dict()}, _describe(info))


def _project_end(args: argparse.Namespace) -> Report:
    info = _services().end_project(args.code, actor=_actor())
    return Report.ok(
        {"project": info.as_dict()},
        f"project {info.code} ended: no researcher reaches it again; its extract is removed",
    )


def _projects(args: argparse.Namespace) -> Report:
    found = _services().projects()
    text = "\n".join(_describe(p) for p in found) or "no project yet: research project-new"
    return Report.ok({"projects": [p.as_dict() for p in found]}, text)


def _workspace_build(args: argparse.Namespace) -> Report:
    services = _services()
    rows = services.build_workspace(args.code, actor=_actor())
    risk = services.risk(args.code, actor=_actor())
    return Report.ok(
        {"project": args.code, "rows": rows, "risk": risk.as_dict()},
        f"workspace of {args.code} built: "
        + ", ".join(f"{t} {n} rows" for t, n in rows.items())
        + "\n"
        + _risk_summary(risk),
    )


def _risk_summary(risk: Any) -> str:
    return (
        f"risk (k = {risk.k}, per {risk.unit}, on {', '.join(risk.quasi_identifiers)}): "
        f"{risk.at_risk} of {risk.population} in {risk.below_k} combinations below k, "
        f"{risk.uniques} unique; research risk shows what would help"
    )


def _risk(args: argparse.Namespace) -> Report:
    risk = _services().risk(args.code, actor=_actor(), k=args.k)
    lines = [_risk_summary(risk).split("; research risk")[0]]
    if risk.smallest:
        lines.append("smallest combinations (schools numbered, not named):")
        lines += ["  " + ", ".join(f"{k} {v}" for k, v in row.items()) for row in risk.smallest]
    lines.append("coarsenings, and the pupils still below k after each:")
    lines += [f"  {c.change}: {c.at_risk}" for c in risk.coarsenings]
    if len(risk.combined) > 1:
        lines.append("together:")
        lines += [f"  {c.change}: {c.at_risk}" for c in risk.combined[1:]]
    return Report.ok({"project": args.code, "risk": risk.as_dict()}, "\n".join(lines))


def _sql(args: argparse.Namespace) -> Report:
    result = _services().run_sql(args.code, args.statement, user=args.user, actor=_actor())
    return Report.ok(result.as_json(), _render(result.columns, result.rows))


def _render(columns: list[str], rows: list[list[Any]]) -> str:
    shown = [[("" if v is None else str(v)) for v in row] for row in rows[:_SHOWN_ROWS]]
    widths = [max([len(c)] + [len(r[i]) for r in shown]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in shown]
    more = f" (first {_SHOWN_ROWS} shown; --json gives all)" if len(rows) > _SHOWN_ROWS else ""
    lines.append(f"{len(rows)} row(s){more}")
    return "\n".join(lines)


# --- the airlock ------------------------------------------------------------------------


def register_airlock(research: Subparsers) -> None:
    p = add_command(
        research, "output", _output, "compute and check outputs from a specification file"
    )
    p.add_argument("code", metavar="CODE")
    p.add_argument("--user", required=True, metavar="NAME", help="the researcher asking")
    p.add_argument(
        "--spec",
        required=True,
        type=Path,
        metavar="FILE.json",
        help="one output specification (a JSON object) or a list of them (docs/research.md)",
    )
    p = add_command(research, "outputs", _outputs, "a project's checked outputs")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--user", required=True, metavar="NAME", help="a researcher of the project")
    p = add_command(research, "request-new", _request_new, "start an output request")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--user", required=True, metavar="NAME", help="the request's author")
    p.add_argument("--title", default="", help="what the request is for")
    p = add_command(research, "request-add", _request_add, "add outputs or free files to a request")
    p.add_argument("request", type=int, metavar="REQUEST", help="the request's number")
    p.add_argument("outputs", nargs="*", metavar="OUTPUT", help="names of checked outputs")
    p.add_argument("--user", required=True, metavar="NAME", help="the request's author")
    p.add_argument(
        "--file",
        dest="files",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="a free file (csv, json, html, txt, md, png, svg); repeatable",
    )
    p.add_argument("--context", default="", help="what the output is and what it shows")
    p.add_argument("--controls", default="", help="how it was protected (suppression, rounding)")
    p.add_argument(
        "--exception", default="", metavar="REASON", help="why an output that needs review "
        "should leave anyway"
    )  # fmt: skip
    for name, handler, help_text in (
        ("request-submit", _request_submit, "submit a request: the server checks it again"),
        ("request-withdraw", _request_withdraw, "withdraw a request (final)"),
        ("request-show", _request_show, "a request, its items and the votes you may see"),
    ):
        p = add_command(research, name, handler, help_text)
        p.add_argument("request", type=int, metavar="REQUEST", help="the request's number")
        p.add_argument(
            "--user",
            required=name != "request-show",
            default=None,
            metavar="NAME",
            help="who asks (request-show without --user: the office)",
        )
    p = add_command(
        research, "request-file", _request_file, "save a request's free file, to review it"
    )
    p.add_argument("request", type=int, metavar="REQUEST", help="the request's number")
    p.add_argument("name", metavar="NAME", help="the free file's name")
    p.add_argument("--user", required=True, metavar="NAME", help="the output checker")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="where to save it")
    p = add_command(research, "requests", _requests, "the requests you may see")
    p.add_argument(
        "--user", default=None, metavar="NAME", help="who asks (without: the office, all)"
    )
    p = add_command(research, "review", _review, "review a request as an output checker")
    p.add_argument("request", type=int, metavar="REQUEST", help="the request's number")
    p.add_argument("--user", required=True, metavar="NAME", help="the output checker")
    p.add_argument("--approve", nargs="*", default=[], metavar="OUTPUT", help="items approved")
    p.add_argument(
        "--changes", nargs="*", default=[], metavar="OUTPUT", help="items that need changes"
    )
    p.add_argument("--reject", action="store_true", help="reject the whole request (final)")
    p.add_argument("--comment", default="", help="said to the author (needed for changes)")
    p = add_command(research, "release", _release, "release an approved request as a bundle")
    p.add_argument("request", type=int, metavar="REQUEST", help="the request's number")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.zip", help="the bundle")
    p = add_command(research, "verify", _verify, "verify a release bundle's signature and files")
    p.add_argument("bundle", type=Path, metavar="FILE.zip", help="the bundle")
    p.add_argument(
        "--office-key", required=True, type=Path, metavar="office.pub", help="the office's key"
    )


def _airlock():  # type: ignore[no-untyped-def]
    open_home("office")
    from cohortsafe.app.research import airlock

    return airlock


def _outcome(data: dict[str, Any], text: str) -> Report:
    """Done, or refused with every reason (exit 1)."""
    refused = data.get("refused")
    if not refused:
        return Report.ok(data, text)
    lines = [refused["message"], *(f"  {r}" for r in refused["reasons"])]
    return Report.rejected({**data, "reasons": refused["reasons"]}, "\n".join(lines),
                           refused["message"])  # fmt: skip


def _output(args: argparse.Namespace) -> Report:
    try:
        documents = json.loads(args.spec.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {args.spec}: {error.strerror}") from None
    except ValueError:
        raise UsageError(f"{args.spec} is not JSON (see docs/research.md)") from None
    made = _airlock().compute_outputs(args.code, documents, user=args.user, actor=_actor())
    lines = [
        f"{o['name']}: {o['outcome']}" + "".join(f"\n  {r}" for r in o["reasons"]) for o in made
    ]
    data = {"outputs": made}
    if any(o["outcome"] == "fail" for o in made):
        return Report.rejected(data, "\n".join(lines), "an output fails its check")
    return Report.ok(data, "\n".join(lines))


def _outputs(args: argparse.Namespace) -> Report:
    found = _airlock().outputs(args.code, user=args.user)
    lines = [f"{o['name']} ({o['kind']}, {o['author']}): {o['outcome']}" for o in found]
    return Report.ok({"outputs": found}, "\n".join(lines) or "no output yet: research output")


def _show(view: dict[str, Any]) -> str:
    lines = [
        f"request {view['request']} of {view['project']} by {view['author']}: {view['state']}"
        f" (round {view['round']}, {view['reviews_in']} of {view['reviews_needed']} reviews)"
    ]
    if view["note"]:
        lines.append(f"  note: {view['note']}")
    for item in view["items"]:
        lines.append(f"  {item['name']} ({item['kind']}): {item['outcome'] or 'free file'}")
        for vote in item["votes"]:
            comment = f": {vote['comment']}" if vote["comment"] else ""
            lines.append(f"    {vote['reviewer']} {vote['decision']}{comment}")
    return "\n".join(lines)


def _request_new(args: argparse.Namespace) -> Report:
    number = _airlock().new_request(args.code, user=args.user, actor=_actor(), title=args.title)
    return Report.ok(
        {"request": number},
        f"request {number} started; add outputs with research request-add {number} OUTPUT…",
    )


def _request_add(args: argparse.Namespace) -> Report:
    view = _airlock().add_to_request(
        args.request,
        args.outputs,
        user=args.user,
        actor=_actor(),
        files=args.files,
        context=args.context,
        controls=args.controls,
        exception=args.exception,
    )
    return _outcome(view, _show(view))


def _request_submit(args: argparse.Namespace) -> Report:
    view = _airlock().submit(args.request, user=args.user, actor=_actor())
    return _outcome(view, _show(view))


def _request_withdraw(args: argparse.Namespace) -> Report:
    view = _airlock().withdraw(args.request, user=args.user, actor=_actor())
    return Report.ok(view, _show(view))


def _request_show(args: argparse.Namespace) -> Report:
    view = _airlock().request_view(args.request, user=args.user)
    return Report.ok(view, _show(view))


def _request_file(args: argparse.Namespace) -> Report:
    from cohortsafe.cli._commands import output_file
    from cohortsafe.files import write_atomic

    out = output_file(args.out)
    if out.exists():
        raise UsageError(f"--out {out} exists already; give a new file name")
    data = _airlock().request_file(args.request, args.name, user=args.user)
    write_atomic(out, data)
    return Report.ok(
        {"request": args.request, "file": args.name, "out": str(out), "bytes": len(data)},
        f"{args.name} of request {args.request} saved to {out} ({len(data)} bytes)",
    )


def _requests(args: argparse.Namespace) -> Report:
    found = _airlock().requests(user=args.user)
    lines = [
        f"{r['request']}: {r['project']} by {r['author']}, {r['state']}, {r['items']} item(s)"
        for r in found
    ]
    return Report.ok({"requests": found}, "\n".join(lines) or "no request to show")


def _review(args: argparse.Namespace) -> Report:
    view = _airlock().review(
        args.request,
        user=args.user,
        actor=_actor(),
        approve=args.approve,
        changes=args.changes,
        reject=args.reject,
        comment=args.comment,
    )
    return Report.ok(view, _show(view))


def _release(args: argparse.Namespace) -> Report:
    done = _airlock().release(args.request, args.out, actor=_actor())
    return _outcome(done, f"request {done['request']} released: {done['bundle']}")


def _verify(args: argparse.Namespace) -> Report:
    from cohortsafe.package import load_public
    from cohortsafe.research import verify_bundle

    manifest = verify_bundle(args.bundle, load_public(args.office_key))
    return Report.ok(
        {"manifest": manifest},
        f"{args.bundle}: signature and {len(manifest['files'])} checksums verify "
        f"(project {manifest['project']}, request {manifest['request']})",
    )
