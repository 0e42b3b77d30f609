"""The airlock: checked outputs, output requests, two-person review and release.

- A researcher hands in an output as a specification; the office's side computes and
  checks it on the project's extract, with the project's policy, against everything
  the project released (on a copy of its release ledger, so nothing is recorded yet).
- A request gathers outputs (and free files) with the author's context and controls.
  On submission every output is computed again from its specification, and the
  request is refused when a value differs from what is stored, when an output fails,
  when one that needs review has no exception reason, or when a free file does not
  pass the gate. The outputs are judged together, and with every earlier release.
- Checkers (the checker role; never the author, never in the project) review each
  item blind: no one sees another's votes until the required number are in. Any
  "changes requested" returns the request to its author; a rejection is final.
- The office releases an approved request: the outputs are computed a third time,
  now on the release ledger itself (which records them), and must be exactly what
  the checkers approved; the bundle is signed with the office's key. Should anything
  fail, the ledger's new entries are taken out again.

The states and who may act in each are :data:`cohortsafe.research.TRANSITIONS`.
Every step is audited.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cohortsafe.app.accounts.models import Account
from cohortsafe.app.accounts.services import account
from cohortsafe.app.audit.services import record
from cohortsafe.app.homelock import holds_home
from cohortsafe.app.research.models import (
    Membership,
    OutputRequest,
    Project,
    RequestItem,
    ResearchOutput,
    Vote,
)
from cohortsafe.app.research.services import (
    project_folder,
    project_for_researcher,
    project_state,
)
from cohortsafe.config import load
from cohortsafe.errors import AccessError, CohortsafeError, PolicyError, ProjectError
from cohortsafe.files import private_dir
from cohortsafe.package import load_private
from cohortsafe.research import (
    EDITABLE,
    FINAL,
    ComputedOutput,
    OutputSpec,
    Workspace,
    compute_output,
    gate_free_file,
    require,
    write_bundle,
)
from cohortsafe.sdc import Ledger

__all__ = [
    "RELEASED",
    "Refused",
    "add_to_request",
    "bundle_of",
    "compute_outputs",
    "new_request",
    "outputs",
    "release",
    "release_in_project",
    "request_file",
    "request_view",
    "requests",
    "review",
    "submit",
    "withdraw",
]

RELEASED = "released"  # the project's release ledger: what left, and nothing else
#: the states in which checkers see a request: what its author submitted, never a draft
#: (pending, returned, or withdrawn while being changed)
CHECKER_STATES = frozenset(
    {"submitted", "partially_reviewed", "reviewed", "approved", "released", "rejected"}
)
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class Refused:
    """Why the server would not move a request on: an expected outcome, not an error.

    The services that can refuse return it under ``"refused"`` (``None`` when done)."""

    message: str
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "reasons": list(self.reasons)}


# --- outputs ------------------------------------------------------------------------------


@contextlib.contextmanager
def _scratch_ledger(held: Project) -> Iterator[Ledger]:
    """A copy of the project's release ledger: judged against, never kept."""
    released = project_folder(held.code) / RELEASED
    with tempfile.TemporaryDirectory(dir=private_dir(project_folder(held.code))) as temp:
        copy = Path(temp) / "ledger"
        if released.is_dir():
            shutil.copytree(released, copy)
        ledger = Ledger.open(copy, project=held.code)
        try:
            yield ledger
        finally:
            ledger.close()


def _computed(held: Project, specs: Sequence[OutputSpec], ledger: Ledger) -> list[ComputedOutput]:
    with Workspace(project_folder(held.code)) as workspace:
        session = workspace.session(ledger)
        return [compute_output(workspace, session, spec) for spec in specs]


def _specs(documents: Any) -> list[OutputSpec]:
    items = documents if isinstance(documents, list) else [documents]
    if not items:
        raise PolicyError("the specification file holds no output")
    specs = [OutputSpec.parse(item) for item in items]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise PolicyError("two outputs have the same name")
    return specs


def _locked_names(held: Project) -> set[str]:
    """Outputs in a request under review or approved: not computed again until it ends."""
    busy = RequestItem.objects.filter(request__project=held, output__isnull=False).exclude(
        request__state__in=[*EDITABLE, *FINAL]
    )
    return {str(name) for name in busy.values_list("output__name", flat=True)}


def _digest_of(output: ResearchOutput) -> str:
    stored = ComputedOutput(
        OutputSpec.parse(output.spec),
        output.outcome,
        tuple(output.reasons),
        {},
        output.content.encode() if output.content else None,
        None,
    )
    return stored.digest


@holds_home
def compute_outputs(code: str, documents: Any, *, user: str, actor: str) -> list[dict[str, Any]]:
    """Compute and check outputs from their specifications (a JSON object or a list).

    They are judged together and with the project's releases; an output of the same
    name is replaced, unless it is in a request being reviewed."""
    held = project_for_researcher(code, user)
    author = account(user)
    specs = _specs(documents)
    locked = _locked_names(held) & {s.name for s in specs}
    if locked:
        raise ProjectError(
            f"{', '.join(sorted(locked))} is in a request under review: it is not computed "
            "again until that request is decided or withdrawn"
        )
    others = held.outputs.filter(name__in=[s.name for s in specs]).exclude(author=author)
    taken = sorted(str(n) for n in others.values_list("name", flat=True))
    if taken:
        raise ProjectError(
            f"{', '.join(taken)} is another researcher's output in {held.code}: choose another name"
        )
    with _scratch_ledger(held) as ledger:
        computed = _computed(held, specs, ledger)
    made = []
    with transaction.atomic():
        for result in computed:
            ResearchOutput.objects.update_or_create(
                project=held,
                name=result.spec.name,
                defaults={
                    "author": author,
                    "kind": result.spec.kind,
                    "spec": result.spec.as_json(),
                    "outcome": result.outcome,
                    "reasons": list(result.reasons),
                    "report": json.loads(json.dumps(result.report, default=str)),
                    "content": (result.content or b"").decode(),
                    "digest": result.digest,
                },
            )
            record(
                "research.output",
                actor=f"user:{user}",
                subject=held.code,
                name=result.spec.name,
                kind=result.spec.kind,
                rows=result.spec.rows.as_json(),
                outcome=result.outcome,
                digest=result.digest,
                console=actor,
            )
            made.append(_output_dict(result.spec.name, result.outcome, result.reasons))
    return made


def _output_dict(name: str, outcome: str, reasons: Sequence[str]) -> dict[str, Any]:
    return {"name": name, "outcome": outcome, "reasons": list(reasons)}


def outputs(code: str, *, user: str) -> list[dict[str, Any]]:
    """The project's outputs, with their outcome and released content."""
    held = project_for_researcher(code, user)
    return [
        {
            **_output_dict(o.name, o.outcome, o.reasons),
            "kind": o.kind,
            "author": o.author.name,
            "content": o.content or None,
            "computed_at": o.computed_at.isoformat(timespec="seconds"),
        }
        for o in held.outputs.select_related("author__user")
    ]


# --- requests -----------------------------------------------------------------------------


def _request(number: int) -> OutputRequest:
    found = OutputRequest.objects.select_related("project", "author__user").filter(pk=number)
    held = found.first()
    if held is None:
        raise ProjectError(f"there is no request {number}")
    return held


def _authored(number: int, user: str) -> OutputRequest:
    held = _request(number)
    if held.author.name != user:
        raise AccessError(f"request {number} is not {user}'s: only its author changes it")
    project_for_researcher(held.project.code, user)  # still in the project, and it is still open
    return held


def _audit(
    action: str, held: OutputRequest, *, user: str, console: str | None = None, **details: Any
) -> None:
    """An audit event of a researcher's or checker's step on a request."""
    if console is not None:
        details["console"] = console
    record(action, actor=f"user:{user}", subject=held.project.code, request=held.pk, **details)


def _move(held: OutputRequest, action: str, side: str, target: str | None = None) -> str:
    state = require(held.state, action, side, target)
    held.state = state
    return state


@holds_home
def new_request(code: str, *, user: str, actor: str, title: str = "") -> int:
    """Start a request in ``code``; returns its number."""
    held = project_for_researcher(code, user)
    with transaction.atomic():
        made = OutputRequest.objects.create(project=held, author=account(user), title=title)
        record(
            "research.request_new", actor=f"user:{user}", subject=held.code, request=made.pk,
            console=actor,
        )  # fmt: skip
    return int(made.pk)


@holds_home
def add_to_request(
    number: int,
    names: Sequence[str] = (),
    *,
    user: str,
    actor: str,
    files: Sequence[Path] = (),
    context: str = "",
    controls: str = "",
    exception: str = "",
) -> dict[str, Any]:
    """Add outputs (by name) and free files to a pending or returned request."""
    held = _authored(number, user)
    require(held.state, "edit", "author")
    if not names and not files:
        raise ProjectError("name an output or give a --file to add")
    found = {o.name: o for o in held.project.outputs.filter(name__in=list(names))}
    missing = [n for n in names if n not in found]
    if missing:
        raise ProjectError(f"no output named {', '.join(missing)} in {held.project.code}")
    held_items = {i.name: i.output_id is not None for i in held.items.all()}
    for name in names:
        if held_items.get(name) is False:
            raise ProjectError(f"{name} is a free file in this request already")
    loaded = []
    for path in files:
        if not _FILE_NAME.fullmatch(path.name):
            raise ProjectError(
                f"a free file's name is letters, digits, dots, hyphens and underscores "
                f"(rename {path.name!r})"
            )
        if held_items.get(path.name) or path.name in names:
            raise ProjectError(f"{path.name} is an output's name in this request already")
        data = path.read_bytes()
        with Workspace(project_folder(held.project.code)) as workspace:
            problems = gate_free_file(workspace, path.name, data)
        if problems:
            refusal = Refused(f"{path.name} does not pass the gate", problems)
            return {**request_view(number, user=user), "refused": refusal.as_dict()}
        loaded.append((path.name, data))
    with transaction.atomic():
        for name in names:
            output = found[name]
            RequestItem.objects.update_or_create(
                request=held,
                name=name,
                defaults={
                    "output": output,
                    "digest": output.digest,
                    "context": context,
                    "controls": controls,
                    "exception": exception,
                },
            )
        for name, data in loaded:
            digest = _sha256(data)
            RequestItem.objects.update_or_create(
                request=held,
                name=name,
                defaults={
                    "output": None,
                    "file_data": data,
                    "file_sha256": digest,
                    "digest": digest,
                    "context": context,
                    "controls": controls,
                    "exception": exception,
                },
            )
        held.save(update_fields=["changed_at"])
        _audit(
            "research.request_add",
            held,
            user=user,
            console=actor,
            outputs=list(names),
            files=[n for n, _ in loaded],
        )
    return {**request_view(number, user=user), "refused": None}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _problems_of(held: OutputRequest, ledger: Ledger) -> tuple[list[str], dict[str, str]]:
    """Every reason ``held`` cannot go on, computing its outputs again on ``ledger``;
    and the digest each output has now."""
    items = list(held.items.select_related("output"))
    problems: list[str] = []
    if not items:
        return ["the request holds no output"], {}
    for item in items:
        if not item.context.strip() or not item.controls.strip():
            problems.append(f"{item.name}: write its context and controls before submitting")
    outputs_ = [i for i in items if i.output is not None]
    digests: dict[str, str] = {}
    if outputs_:
        specs = [OutputSpec.parse(i.output.spec) for i in outputs_ if i.output is not None]
        computed = _computed(held.project, specs, ledger)
        for item, result in zip(outputs_, computed, strict=True):
            stored = item.output
            assert stored is not None
            digests[item.name] = result.digest
            if _digest_of(stored) != stored.digest:
                problems.append(
                    f"{item.name}: its stored values were altered after it was computed"
                )
            elif result.digest != stored.digest:
                problems.append(
                    f"{item.name}: computed again it gives other values (the extract or the "
                    "project's releases changed): compute it again before submitting"
                )
            if result.outcome == "fail":
                problems.append(
                    f"{item.name}: fails its check and cannot be released: "
                    + "; ".join(result.reasons)
                )
            elif result.outcome == "review" and not item.exception.strip():
                problems.append(f"{item.name}: needs review; give an exception with its reason")
    with Workspace(project_folder(held.project.code)) as workspace:
        for item in items:
            if item.output is None:
                data = bytes(item.file_data or b"")
                if _sha256(data) != item.file_sha256:
                    problems.append(f"{item.name}: the file changed after it was added")
                problems += gate_free_file(workspace, item.name, data)
                digests[item.name] = item.file_sha256
    return problems, digests


@holds_home
def submit(number: int, *, user: str, actor: str) -> dict[str, Any]:
    """Submit a request for review once the server has computed and checked it again."""
    held = _authored(number, user)
    target = require(held.state, "submit", "author")
    with _scratch_ledger(held.project) as ledger:
        problems, digests = _problems_of(held, ledger)
    if problems:
        _audit("research.request_refused", held, user=user, console=actor, reasons=problems)
        refusal = Refused(f"request {number} was not submitted", problems)
        return {**request_view(number, user=user), "refused": refusal.as_dict()}
    with transaction.atomic():
        for item in held.items.all():
            item.digest = digests[item.name]  # what the checkers see is what may leave
            item.save(update_fields=["digest"])
        held.state, held.round, held.note = target, held.round + 1, ""
        held.save(update_fields=["state", "round", "note", "changed_at"])
        _audit("research.request_submit", held, user=user, console=actor, round=held.round)
    return {**request_view(number, user=user), "refused": None}


@holds_home
def withdraw(number: int, *, user: str, actor: str) -> dict[str, Any]:
    held = _authored(number, user)
    with transaction.atomic():
        _move(held, "withdraw", "author")
        held.save(update_fields=["state", "changed_at"])
        _audit("research.request_withdraw", held, user=user, console=actor)
    return request_view(number, user=user)


# --- review -------------------------------------------------------------------------------


def _checker_of(held: OutputRequest, user: str) -> Account:
    checker = account(user)
    if checker.role != Account.Role.CHECKER:
        raise AccessError(f"{user} is no output checker: only checkers review requests")
    if held.author_id == checker.pk:
        raise AccessError("the author of a request never reviews it")
    if Membership.objects.filter(project=held.project, account=checker).exists():
        raise AccessError(f"{user} is in project {held.project.code}: checkers come from outside")
    return checker


@holds_home
def review(
    number: int,
    *,
    user: str,
    actor: str,
    approve: Sequence[str] = (),
    changes: Sequence[str] = (),
    reject: bool = False,
    comment: str = "",
) -> dict[str, Any]:
    """One checker's review: a decision on every item, or a rejection of the request."""
    held = _request(number)
    checker = _checker_of(held, user)
    _still_open(held)
    if reject:
        if approve or changes:
            raise ProjectError("a rejection decides the whole request: give no item decisions")
        if not comment.strip():
            raise ProjectError("a rejection needs a comment saying why")
        with transaction.atomic():
            _move(held, "reject", "checker")
            held.note = comment
            held.save(update_fields=["state", "note", "changed_at"])
            _audit("research.request_reject", held, user=user, console=actor, comment=comment)
        return request_view(number, user=user)
    require(held.state, "vote", "checker", "partially_reviewed")
    names = {i.name: i for i in held.items.all()}
    decided = [*approve, *changes]
    if len(set(decided)) != len(decided):
        raise ProjectError("an item is decided twice")
    if set(decided) != set(names):
        left = sorted(set(names) - set(decided))
        extra = sorted(set(decided) - set(names))
        raise ProjectError(
            "a review decides every item of the request"
            + (f"; not decided: {', '.join(left)}" if left else "")
            + (f"; not in the request: {', '.join(extra)}" if extra else "")
        )
    if changes and not comment.strip():
        raise ProjectError("asking for changes needs a comment saying which")
    if Vote.objects.filter(item__request=held, reviewer=checker, round=held.round).exists():
        raise ProjectError(f"{user} has reviewed this round of request {number} already")
    with transaction.atomic():
        for name in decided:
            decision = (
                Vote.Decision.APPROVED if name in approve else Vote.Decision.CHANGES_REQUESTED
            )
            Vote.objects.create(
                item=names[name], reviewer=checker, round=held.round, decision=decision,
                comment=comment,
            )  # fmt: skip
        reviewers = _reviewers(held)
        done = len(reviewers) >= held.project.reviews
        _move(held, "vote", "checker", "reviewed" if done else "partially_reviewed")
        if done:
            asked = Vote.objects.filter(
                item__request=held, round=held.round, decision=Vote.Decision.CHANGES_REQUESTED
            ).exists()
            _move(held, "consolidate", "system", "returned" if asked else "approved")
        held.save(update_fields=["state", "changed_at"])
        _audit(
            "research.request_review",
            held,
            user=user,
            console=actor,
            round=held.round,
            approved=list(approve),
            changes=list(changes),
            comment=comment,
            state=held.state,
        )
    # returned, the request is its author's draft again: checkers no longer see it, but at
    # this moment it is what they reviewed, with every vote in
    return request_view(number, user=None if held.state == "returned" else user)


def _still_open(held: OutputRequest) -> None:
    state = project_state(held.project)
    if state != "open":
        raise ProjectError(
            f"project {held.project.code} is {state}: nothing more of it is reviewed or released"
        )


def _reviewers(held: OutputRequest) -> set[str]:
    votes = Vote.objects.filter(item__request=held, round=held.round)
    return {str(name) for name in votes.values_list("reviewer__user__username", flat=True)}


# --- seeing requests ----------------------------------------------------------------------


def _may_see(held: OutputRequest, viewer: Account | None) -> str:
    """How ``viewer`` sees the request: author, member, checker or office (None)."""
    if viewer is None or viewer.role == Account.Role.OFFICE:
        return "office"
    if viewer.role == Account.Role.CHECKER:
        if (
            held.state not in CHECKER_STATES
            or held.round == 0
            or Membership.objects.filter(project=held.project, account=viewer).exists()
        ):
            raise AccessError(f"{viewer.name} has no access to request {held.pk}")
        return "checker"
    if (
        viewer.role == Account.Role.RESEARCHER
        and Membership.objects.filter(project=held.project, account=viewer).exists()
    ):
        return "author" if held.author_id == viewer.pk else "member"
    raise AccessError(f"{viewer.name} has no access to request {held.pk}")


def request_view(number: int, *, user: str | None) -> dict[str, Any]:
    """The request as ``user`` may see it (``None``: the office's console).

    Votes are blind: a checker sees only their own until the required number of
    reviews of the round are in; the author sees them once the round is decided."""
    held = _request(number)
    viewer = account(user) if user is not None else None
    side = _may_see(held, viewer)
    if viewer is not None:
        _audit("research.request_view", held, user=user, side=side)
    complete = len(_reviewers(held)) >= held.project.reviews or held.state in (
        "returned",
        "approved",
        "released",
        "rejected",
    )
    items = []
    for item in held.items.select_related("output").prefetch_related("votes__reviewer__user"):
        votes = []
        for vote in item.votes.all():
            if vote.round != held.round and side != "office":
                continue
            mine = viewer is not None and vote.reviewer_id == viewer.pk
            if side == "office" or mine or (complete and side in ("checker", "author", "member")):
                votes.append(
                    {
                        "reviewer": vote.reviewer.name,
                        "round": vote.round,
                        "decision": vote.decision,
                        "comment": vote.comment,
                    }
                )
        output = item.output
        items.append(
            {
                "name": item.name,
                "kind": output.kind if output else "file",
                "outcome": output.outcome if output else None,
                "reasons": list(output.reasons) if output else [],
                "context": item.context,
                "controls": item.controls,
                "exception": item.exception or None,
                "content": (output.content or None) if output else None,
                "cells": _cells(output.report) if output else [],
                "votes": votes,
            }
        )
    return {
        "request": held.pk,
        "project": held.project.code,
        "title": held.title,
        "author": held.author.name,
        "state": held.state,
        "round": held.round,
        "reviews_needed": held.project.reviews,
        "reviews_in": len(_reviewers(held)) if held.round else 0,
        "note": held.note or None,
        "items": items,
    }


def _cells(report: Any) -> list[dict[str, Any]]:
    """A table's cells as a checker reads them: labels, value shown, status and reasons."""
    check = report.get("check", report) if isinstance(report, dict) else None
    cells = check.get("cells") if isinstance(check, dict) else None
    if not isinstance(cells, list):
        return []
    shown = []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        labels = {**cell.get("index", {}), **cell.get("columns", {})}
        shown.append(
            {
                "labels": ", ".join(f"{k} = {v}" for k, v in labels.items()),
                "value": cell.get("value"),
                "status": cell.get("status"),
                "reasons": list(cell.get("reasons", [])) + list(cell.get("review", [])),
            }
        )
    return shown


def request_file(number: int, name: str, *, user: str) -> bytes:
    """A free file of a request, for a checker reviewing it or the office (audited).

    The author never takes a file out this way: it leaves only in a release."""
    held = _request(number)
    viewer = account(user)
    side = _may_see(held, viewer)
    if side not in ("checker", "office"):
        raise AccessError("a request's files are opened by its checkers; they leave in a release")
    item = held.items.filter(name=name, output__isnull=True).first()
    if item is None:
        raise ProjectError(f"request {number} has no free file {name}")
    _audit("research.file_view", held, user=user, file=name, sha256=item.file_sha256)
    return bytes(item.file_data or b"")


def requests(*, user: str | None) -> list[dict[str, Any]]:
    """The requests ``user`` may see: a researcher their projects', a checker those
    submitted for review (not of their projects), the office every one."""
    viewer = account(user) if user is not None else None
    seen = []
    for held in OutputRequest.objects.select_related("project", "author__user"):
        try:
            _may_see(held, viewer)
        except AccessError:
            continue
        seen.append(
            {
                "request": held.pk,
                "project": held.project.code,
                "title": held.title,
                "author": held.author.name,
                "state": held.state,
                "items": held.items.count(),
            }
        )
    return seen


# --- release ------------------------------------------------------------------------------


def _summary(held: OutputRequest) -> dict[str, Any]:
    votes = Vote.objects.filter(item__request=held).select_related("item", "reviewer__user")
    return {
        "project": held.project.code,
        "request": held.pk,
        "title": held.title,
        "author": held.author.name,
        "rounds": held.round,
        "policy": {"name": held.project.policy, "fingerprint": held.project.policy_fingerprint},
        "reviews_needed": held.project.reviews,
        "decisions": [
            {
                "item": v.item.name,
                "reviewer": v.reviewer.name,
                "round": v.round,
                "decision": v.decision,
                "comment": v.comment,
            }
            for v in votes
        ],
    }


def _public(report: Any) -> Any:
    """The check report as it leaves: a hidden cell is "suppressed", without saying
    whether it was primary or a complement, nor which rule hid it (the checkers saw
    that; an outsider would learn from it where the small groups are)."""
    if isinstance(report, dict):
        if "cells" in report and isinstance(report["cells"], list):
            cells = []
            for cell in report["cells"]:
                if isinstance(cell, dict) and cell.get("status") not in (None, "ok"):
                    cell = {**cell, "status": "suppressed", "reasons": [], "value": None}
                cells.append(cell)
            report = {**report, "cells": cells}
        hidden = {"suppression", "counts"}
        return {k: _public(v) for k, v in report.items() if k not in hidden}
    if isinstance(report, list):
        return [_public(item) for item in report]
    return report


@holds_home
def release(number: int, out: Path, *, actor: str) -> dict[str, Any]:
    """Release an approved request as a signed bundle; its outputs enter the ledger.

    Refused (the request returned to its author, ``"refused"`` saying why) when its
    outputs, computed again on the release ledger, are not what the checkers approved."""
    held = _request(number)
    require(held.state, "release", "office")
    _still_open(held)
    if out.exists():
        raise ProjectError(f"{out} exists already; give a new file name")
    items = list(held.items.select_related("output"))
    outputs_ = [i for i in items if i.output is not None]
    specs = [OutputSpec.parse(i.output.spec) for i in outputs_ if i.output is not None]
    ledger = Ledger.open(project_folder(held.project.code) / RELEASED, project=held.project.code)
    recorded: list[int] = []
    try:
        computed = _computed(held.project, specs, ledger)
        recorded = [c.ledger_number for c in computed if c.ledger_number is not None]
        changed = [
            i.name
            for i, c in zip(outputs_, computed, strict=True)
            if c.digest != i.digest or c.outcome == "fail"
        ]
        if changed:
            for number_ in recorded:
                ledger.remove(number_)
            recorded = []
            with transaction.atomic():
                _move(held, "return", "system")
                held.note = (
                    "computed again at release, " + ", ".join(changed) + " no longer gave "
                    "what the checkers approved (or fails with what was released since): "
                    "compute again and resubmit"
                )
                held.save(update_fields=["state", "note", "changed_at"])
                record(
                    "research.release_refused", actor=actor, subject=held.project.code,
                    request=held.pk, outputs=changed,
                )  # fmt: skip
            refusal = Refused(f"request {number} was not released", [held.note])
            return {"request": held.pk, "bundle": None, "sha256": None, "files": [],
                    "refused": refusal.as_dict()}  # fmt: skip
        files: dict[str, bytes] = {}
        for item, result in zip(outputs_, computed, strict=True):
            files[f"outputs/{item.name}.csv"] = result.content or b""
            report = {
                "name": item.name,
                "specification": result.spec.as_json(),
                "outcome": result.outcome,
                "reasons": list(result.reasons),
                "check": _public(result.report),
                "context": item.context,
                "controls": item.controls,
                "exception": item.exception or None,
            }
            files[f"reports/{item.name}.json"] = json.dumps(
                report, indent=1, ensure_ascii=False, default=str
            ).encode()
        for item in items:
            if item.output is None:
                files[f"files/{item.name}"] = bytes(item.file_data or b"")
        files["review.json"] = json.dumps(_summary(held), indent=1, ensure_ascii=False).encode()
        key = load_private(load().home / "office.key")
        manifest = write_bundle(
            out, files, project=held.project.code, request=str(held.pk), key=key
        )
        with transaction.atomic():
            _move(held, "release", "office")
            held.bundle_sha256 = _sha256(out.read_bytes())
            held.save(update_fields=["state", "bundle_sha256", "changed_at"])
            record(
                "research.release",
                actor=actor,
                subject=held.project.code,
                request=held.pk,
                bundle_sha256=held.bundle_sha256,
                files=manifest["files"],
                ledger_outputs=recorded,
            )
    except BaseException:
        for number_ in recorded:  # nothing left: the ledger holds what was released only
            with contextlib.suppress(CohortsafeError):
                ledger.remove(number_)
        if held.state != "released":
            out.unlink(missing_ok=True)
        raise
    finally:
        ledger.close()
    return {"request": held.pk, "bundle": str(out), "sha256": held.bundle_sha256,
            "files": sorted(manifest["files"]), "refused": None}  # fmt: skip


def _bundle_path(held: OutputRequest) -> Path:
    return project_folder(held.project.code) / "releases" / f"request-{held.pk}.zip"


@holds_home
def release_in_project(number: int, *, actor: str) -> dict[str, Any]:
    """:func:`release` into the project's own folder of bundles (the web's release)."""
    held = _request(number)
    folder = _bundle_path(held).parent
    private_dir(folder.parent)
    private_dir(folder)
    return release(number, _bundle_path(held), actor=actor)


def bundle_of(number: int, *, user: str) -> Path:
    """The signed bundle of a released request, for the office or a researcher of its
    project (audited); nobody else, and nothing before it is released."""
    held = _request(number)
    viewer = account(user)
    side = _may_see(held, viewer)
    if side not in ("office", "author", "member"):
        raise AccessError("a bundle goes to the project's researchers and the office")
    path = _bundle_path(held)
    if held.state != "released" or not path.is_file():
        raise ProjectError(f"request {number} has no released bundle here")
    _audit("research.bundle_download", held, user=user, sha256=held.bundle_sha256)
    return path
