"""The airlock end to end, and as the people around it would try to get round it.

A researcher computes outputs, gathers them in a request and submits it; two checkers
from outside the project review it blind; the office releases a signed bundle. The
attacks: an output altered after it was computed, a failing output, a second request
that differences the first release, a checker who is in the project, the author as
reviewer, one approval instead of two, a peek at the other checker's vote, a changed
byte in the bundle, the extract changing between approval and release.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cohortsafe.app.accounts import services as accounts
from cohortsafe.app.accounts.models import Account
from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.audit.services import verify
from cohortsafe.app.research import airlock
from cohortsafe.app.research.models import Membership, Project, ResearchOutput
from cohortsafe.cli import main
from cohortsafe.errors import AccessError, IntegrityError, ProjectError, SignatureError
from cohortsafe.package import KeyPair, load_public
from cohortsafe.research import verify_bundle
from cohortsafe.sdc import Ledger
from tests.office.kit import office
from tests.research.airlock_kit import CODE, SCHOOLS, Cohort, cohort

pytestmark = pytest.mark.django_db
__all__ = ["cohort", "office"]  # fixtures

BY_DOMAIN = {"kind": "table", "index": ["leergebied"], "values": "vaardigheidsscore",
             "aggfunc": "mean"}  # fmt: skip
COUNTS = {"kind": "table", "index": ["leergebied"]}


def _outputs(cohort: Cohort, *specs: tuple[str, dict[str, Any]], user: str = "anna") -> None:
    documents = [cohort.spec(name, **given) for name, given in specs]
    airlock.compute_outputs(CODE, documents, user=user, actor="t")


def _request(*names: str, user: str = "anna") -> int:
    number = airlock.new_request(CODE, user=user, actor="t", title="paper 1")
    airlock.add_to_request(
        number, names, user=user, actor="t", context="mean score", controls="suppression"
    )
    return number


def _approved(cohort: Cohort, *names: str) -> int:
    number = _request(*names)
    airlock.submit(number, user="anna", actor="t")
    for checker in ("carla", "dirk"):
        airlock.review(number, user=checker, actor="t", approve=names)
    assert airlock.request_view(number, user=None)["state"] == "approved"
    return number


def test_an_output_travels_from_specification_to_a_verified_bundle(
    cohort: Cohort, home: Path, tmp_path: Path
) -> None:
    _outputs(cohort, ("by_domain", BY_DOMAIN), ("counts", COUNTS))
    number = _request("by_domain", "counts")
    assert airlock.submit(number, user="anna", actor="t")["state"] == "submitted"
    first = airlock.review(number, user="carla", actor="t", approve=["by_domain", "counts"])
    assert first["state"] == "partially_reviewed"
    second = airlock.review(number, user="dirk", actor="t", approve=["by_domain", "counts"])
    assert second["state"] == "approved"
    bundle = tmp_path / "release.zip"
    done = airlock.release(number, bundle, actor="office")
    assert done["files"] == [
        "outputs/by_domain.csv",
        "outputs/counts.csv",
        "reports/by_domain.json",
        "reports/counts.csv".replace(".csv", ".json"),
        "review.json",
    ]
    manifest = verify_bundle(bundle, load_public(home / "office.pub"))
    assert manifest["project"] == CODE
    with zipfile.ZipFile(bundle) as archive:
        counts = archive.read("outputs/counts.csv").decode()
        review = json.loads(archive.read("review.json"))
    assert "rekenen_wiskunde,40" in counts
    assert {d["reviewer"] for d in review["decisions"]} == {"carla", "dirk"}
    # the released outputs, and only they, are in the project's release ledger
    ledger = Ledger.open(home / "research" / CODE / airlock.RELEASED)
    assert ledger.outputs == 2
    ledger.close()
    assert airlock.request_view(number, user="anna")["state"] == "released"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    for action in ("output", "request_new", "request_add", "request_submit", "request_review",
                   "release"):  # fmt: skip
        assert f"research.{action}" in actions
    assert verify().ok


def test_a_changed_byte_or_another_key_fails_verification(
    cohort: Cohort, home: Path, tmp_path: Path
) -> None:
    _outputs(cohort, ("counts", COUNTS))
    bundle = tmp_path / "release.zip"
    airlock.release(_approved(cohort, "counts"), bundle, actor="office")
    office_key = load_public(home / "office.pub")
    data = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        info = archive.getinfo("outputs/counts.csv")
    # flip one byte inside the stored file, in the manifest, and in the signature
    for offset in (info.header_offset + 40, data.rindex(b"manifest.json") - 60, len(data) - 300):
        changed = bytearray(data)
        changed[offset] ^= 0x01
        path = tmp_path / f"changed-{offset}.zip"
        path.write_bytes(bytes(changed))
        with pytest.raises((IntegrityError, SignatureError)):
            verify_bundle(path, office_key)
    # a bundle with its content replaced and re-zipped, keeping the manifest, fails too
    with zipfile.ZipFile(bundle) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries["outputs/counts.csv"] = entries["outputs/counts.csv"].replace(b"40", b"41")
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    with pytest.raises(IntegrityError, match="checksum"):
        verify_bundle(forged, office_key)
    with pytest.raises(SignatureError):
        verify_bundle(bundle, KeyPair.generate("office").public)
    assert verify_bundle(bundle, office_key)["request"]


def test_one_approval_of_two_releases_nothing_and_votes_stay_blind(
    cohort: Cohort, tmp_path: Path
) -> None:
    _outputs(cohort, ("counts", COUNTS))
    number = _request("counts")
    airlock.submit(number, user="anna", actor="t")
    airlock.review(number, user="carla", actor="t", changes=["counts"], comment="round it")
    # neither the other checker nor the author sees carla's vote yet
    for user in ("dirk", "anna"):
        (item,) = airlock.request_view(number, user=user)["items"]
        assert item["votes"] == []
    (item,) = airlock.request_view(number, user="carla")["items"]
    assert [v["decision"] for v in item["votes"]] == ["changes_requested"]
    with pytest.raises(ProjectError, match="cannot be released"):
        airlock.release(number, tmp_path / "x.zip", actor="office")
    assert not (tmp_path / "x.zip").exists()
    with pytest.raises(ProjectError, match="already"):
        airlock.review(number, user="carla", actor="t", approve=["counts"])
    # the second vote completes the round: both are seen, and one change returns it
    view = airlock.review(number, user="dirk", actor="t", approve=["counts"])
    assert view["state"] == "returned"
    (item,) = airlock.request_view(number, user="anna")["items"]
    assert {v["reviewer"] for v in item["votes"]} == {"carla", "dirk"}
    # the author changes it and submits again: a new round, new votes
    assert airlock.submit(number, user="anna", actor="t")["round"] == 2
    (item,) = airlock.request_view(number, user="dirk")["items"]
    assert item["votes"] == []


def test_the_author_a_member_and_a_non_checker_cannot_review(cohort: Cohort) -> None:
    _outputs(cohort, ("counts", COUNTS))
    number = _request("counts")
    airlock.submit(number, user="anna", actor="t")
    with pytest.raises(AccessError, match="checker"):
        airlock.review(number, user="anna", actor="t", approve=["counts"])
    with pytest.raises(AccessError, match="checker"):
        airlock.review(number, user="bert", actor="t", approve=["counts"])
    # a checker who is somehow in the project (made so behind the services' back)
    checker = Account.objects.get(user__username="erik")
    Membership.objects.create(project=Project.objects.get(code=CODE), account=checker)
    with pytest.raises(AccessError, match="in project"):
        airlock.review(number, user="erik", actor="t", approve=["counts"])
    with pytest.raises(AccessError):
        airlock.request_view(number, user="erik")
    with pytest.raises(ProjectError, match="every item"):
        airlock.review(number, user="carla", actor="t", approve=[])
    with pytest.raises(ProjectError, match="comment"):
        airlock.review(number, user="carla", actor="t", changes=["counts"])


def test_a_rejection_is_final_and_so_is_a_withdrawal(cohort: Cohort) -> None:
    _outputs(cohort, ("counts", COUNTS))
    number = _request("counts")
    airlock.submit(number, user="anna", actor="t")
    with pytest.raises(ProjectError, match="comment"):
        airlock.review(number, user="carla", actor="t", reject=True)
    assert airlock.review(number, user="carla", actor="t", reject=True, comment="no")["state"] == (
        "rejected"
    )
    for attempt in (
        lambda: airlock.submit(number, user="anna", actor="t"),
        lambda: airlock.withdraw(number, user="anna", actor="t"),
        lambda: airlock.review(number, user="dirk", actor="t", approve=["counts"]),
        lambda: airlock.add_to_request(number, ["counts"], user="anna", actor="t"),
    ):
        with pytest.raises((ProjectError, AccessError)):
            attempt()
    other = _request("counts")
    with pytest.raises(AccessError, match="author"):
        airlock.withdraw(other, user="bert", actor="t")
    assert airlock.withdraw(other, user="anna", actor="t")["state"] == "withdrawn"
    with pytest.raises(ProjectError):
        airlock.submit(other, user="anna", actor="t")


def test_an_output_altered_after_it_was_computed_is_refused(cohort: Cohort) -> None:
    _outputs(cohort, ("counts", COUNTS))
    ResearchOutput.objects.filter(name="counts").update(
        content="leergebied,count\nrekenen_wiskunde,4\nspelling,40\n"
    )
    number = _request("counts")
    refused = airlock.submit(number, user="anna", actor="t")["refused"]
    assert any("altered" in r for r in refused["reasons"])
    assert airlock.request_view(number, user="anna")["state"] == "pending"
    # a digest made to match the altered values does not help: the server computes again
    stored = ResearchOutput.objects.get(name="counts")
    ResearchOutput.objects.filter(pk=stored.pk).update(digest=airlock._digest_of(stored))
    refused = airlock.submit(number, user="anna", actor="t")["refused"]
    assert any("other values" in r for r in refused["reasons"])
    assert "research.request_refused" in AuditEvent.objects.values_list("action", flat=True)


def test_one_researcher_cannot_replace_anothers_output(cohort: Cohort) -> None:
    _outputs(cohort, ("counts", COUNTS))
    with pytest.raises(ProjectError, match="another researcher"):
        _outputs(cohort, ("counts", BY_DOMAIN), user="bert")
    assert ResearchOutput.objects.get(name="counts").author.name == "anna"


def test_a_failing_output_cannot_leave(cohort: Cohort) -> None:
    extremes = {"kind": "summary", "columns": ["vaardigheidsscore"], "statistics": ["max"]}
    _outputs(cohort, ("highest", extremes))
    number = _request("highest")
    refused = airlock.submit(number, user="anna", actor="t")["refused"]
    assert any("fails its check" in r for r in refused["reasons"])
    assert airlock.outputs(CODE, user="anna")[0]["content"] is None  # no value kept


def test_a_second_request_that_differences_a_release_is_refused(
    cohort: Cohort, tmp_path: Path
) -> None:
    _outputs(cohort, ("counts", COUNTS), ("by_domain", BY_DOMAIN))
    airlock.release(_approved(cohort, "counts", "by_domain"), tmp_path / "one.zip", actor="o")
    # all results but the highest of each school: five pupils at five schools, whose
    # scores the difference with the first release gives away
    documents = [cohort.spec("all_but_one", where=[["vaardigheidsscore", "<", 165]], **BY_DOMAIN)]
    airlock.compute_outputs(CODE, documents, user="bert", actor="t")
    (made,) = [o for o in airlock.outputs(CODE, user="bert") if o["name"] == "all_but_one"]
    assert made["outcome"] == "fail"
    number = _request("all_but_one", user="bert")
    refused = airlock.submit(number, user="bert", actor="t")
    assert refused["refused"]["message"] == f"request {number} was not submitted"
    assert refused["state"] == "pending"


def test_a_change_of_the_extract_after_approval_returns_the_request(
    cohort: Cohort, tmp_path: Path
) -> None:
    _outputs(cohort, ("counts", COUNTS))
    number = _approved(cohort, "counts")
    # a parent objects late: the pupil leaves every workspace, and the counts change
    school = SCHOOLS[0]
    report = cohort.retract(school, cohort.pupils[school.code][0].pgn)
    assert report.status == "retracted"
    assert report.counts["workspaces_rebuilt"] == 1
    refused = airlock.release(number, tmp_path / "x.zip", actor="office")["refused"]
    assert refused["message"] == f"request {number} was not released"
    view = airlock.request_view(number, user="anna")
    assert view["state"] == "returned"
    assert "counts" in view["note"]
    assert not (tmp_path / "x.zip").exists()
    ledger = Ledger.open(Path(str(tmp_path / "home" / "research" / CODE / airlock.RELEASED)))
    assert ledger.outputs == 0  # nothing stays recorded of what did not leave
    ledger.close()


def test_free_files_pass_the_gate_or_stay_out(cohort: Cohort, tmp_path: Path) -> None:
    from cohortsafe.app.research.services import run_sql

    sql = "SELECT min(pupil), max(record) FROM toetsresultaten"
    ((pupil, record),) = run_sql(CODE, sql, user="anna", actor="t").rows
    number = airlock.new_request(CODE, user="anna", actor="t")
    cases = {
        "list.csv": f"id,score\n{pupil},150\n",
        "records.md": f"the odd one is {record}.",
        "records.txt": f"look at 0x{record:016X}!",
        "pupils.csv": "pupil,score\nx,150\n",
        "tool.exe": "MZ",
        "long.csv": "a\n" + "1\n" * 5_001,
        "note.svg": f"<svg><text>{pupil.upper()}</text></svg>",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        added = airlock.add_to_request(number, user="anna", actor="t", files=[path])
        assert added["refused"]["reasons"], name
        assert added["items"] == []
    fine = tmp_path / "notes.md"
    fine.write_text("# What we found\nScores rose.\n")
    view = airlock.add_to_request(
        number, user="anna", actor="t", files=[fine], context="notes", controls="none needed"
    )
    assert [i["kind"] for i in view["items"]] == ["file"]
    assert airlock.submit(number, user="anna", actor="t")["state"] == "submitted"
    # a checker opens the file to review it (audited); its author never takes it out
    assert airlock.request_file(number, "notes.md", user="carla") == fine.read_bytes()
    with pytest.raises(AccessError):
        airlock.request_file(number, "notes.md", user="anna")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"research.file_view", "research.request_view"} <= actions
    # a file may not take an output's name, nor a name that is no plain file name
    odd = tmp_path / "a b.md"
    odd.write_text("x")
    other = airlock.new_request(CODE, user="anna", actor="t")
    with pytest.raises(ProjectError, match="rename"):
        airlock.add_to_request(other, user="anna", actor="t", files=[odd])


def test_a_researcher_outside_the_project_sees_none_of_its_requests(cohort: Cohort) -> None:
    accounts.add_user("fenna", "researcher", home_role="office", actor="t")
    _outputs(cohort, ("counts", COUNTS))
    number = _request("counts")
    with pytest.raises(AccessError):
        airlock.request_view(number, user="fenna")
    assert airlock.requests(user="fenna") == []
    with pytest.raises(AccessError):
        airlock.compute_outputs(CODE, [cohort.spec("x", **COUNTS)], user="fenna", actor="t")
    with pytest.raises(AccessError):
        airlock.outputs(CODE, user="fenna")
    # checkers see it only once it is submitted
    assert airlock.requests(user="carla") == []
    airlock.submit(number, user="anna", actor="t")
    assert [r["request"] for r in airlock.requests(user="carla")] == [number]


def test_the_whole_airlock_from_the_console(
    cohort: Cohort, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> tuple[int, dict[str, Any]]:
        status = main([*argv, "--json"])
        return status, json.loads(capsys.readouterr().out)

    spec = cohort.spec_file(cohort.spec("counts", **COUNTS))
    assert run("research", "output", CODE, "--user", "anna", "--spec", str(spec))[0] == 0
    status, made = run("research", "request-new", CODE, "--user", "anna")
    number = str(made["request"])
    assert run("research", "request-add", number, "counts", "--user", "anna", "--context", "c",
               "--controls", "k")[0] == 0  # fmt: skip
    assert run("research", "request-submit", number, "--user", "anna")[0] == 0
    for checker in ("carla", "dirk"):
        status, view = run("research", "review", number, "--user", checker, "--approve", "counts")
        assert status == 0, view
    bundle = tmp_path / "out.zip"
    status, done = run("research", "release", number, "--out", str(bundle))
    assert status == 0, done
    status, checked = run(
        "research", "verify", str(bundle), "--office-key", str(home / "office.pub")
    )
    assert status == 0
    assert checked["manifest"]["request"] == number
    bundle.write_bytes(bundle.read_bytes()[:-10])
    status, broken = run(
        "research", "verify", str(bundle), "--office-key", str(home / "office.pub")
    )
    assert status == 1
    assert broken["error"]["kind"] == "integrity"
    # a refused submission is exit 1 with every reason in JSON
    status, made = run("research", "request-new", CODE, "--user", "anna")
    status, refused = run("research", "request-submit", str(made["request"]), "--user", "anna")
    assert status == 1
    assert refused["reasons"] == ["the request holds no output"]
