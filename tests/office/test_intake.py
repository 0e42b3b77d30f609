"""Office intake: pseudonyms only the office can compute, atomic commits, retractions that stick."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pyarrow as pa
import pytest

from cohortsafe.app.audit.models import AuditEvent
from cohortsafe.app.audit.services import verify
from cohortsafe.app.office import services
from cohortsafe.app.office.models import ReceivedPackage
from cohortsafe.domain import SchoolCode, SchoolYear
from cohortsafe.package import KeyPair
from cohortsafe.pseudonym import load_key
from cohortsafe.synth._numbers import NumberStream
from cohortsafe.vault import TABLES, Vault
from cohortsafe.vault import _vault as vault_module
from tests.office.kit import BSNS, ONDERWIJSNUMMERS, SCHOOL, Office, Pupil, pupils, tables

pytestmark = pytest.mark.django_db


def _vault_state() -> dict[str, list[tuple[object, ...]]]:
    with services.open_vault() as vault:
        state = {
            name: sorted(tuple(r.values()) for r in vault.table(name).to_pylist())
            for name in TABLES
        }
        for meta in ("deliveries", "tombstones", "aliases", "linkage", "retractions"):
            rows = vault.con.execute(
                f"SELECT * EXCLUDE (done_at) FROM {meta}"
                if meta in ("tombstones", "aliases", "retractions")
                else (
                    f"SELECT * EXCLUDE (received_at) FROM {meta}"
                    if meta == "deliveries"
                    else f"SELECT * FROM {meta}"
                )
            ).fetchall()
            state[meta] = sorted(rows, key=repr)
    return state


def _pupil_pseudonyms() -> dict[str, set[str]]:
    with services.open_vault() as vault:
        rows = vault.table("leerlingen").select(["schooljaar", "pupil"]).to_pylist()
    out: dict[str, set[str]] = {}
    for row in rows:
        out.setdefault(row["schooljaar"], set()).add(row["pupil"])
    return out


def _hmac(secret_hex: str, value: str) -> str:
    return hmac.new(secret_hex.encode(), value.encode(), hashlib.sha256).hexdigest()


def _pupil_key(home: Path) -> str:
    (path,) = (home / "keys").glob("pupil-*.key")
    return load_key(path).secret_hex


def test_pseudonyms_are_hmacs_of_the_pgn_and_identical_across_deliveries(
    office: Office, home: Path
) -> None:
    members = pupils(4)
    office.receive(
        office.delivery(members, SchoolYear(2024)), office.delivery(members[:2], SchoolYear(2025))
    )
    expected = {_hmac(_pupil_key(home), p.pgn) for p in members}
    by_year = _pupil_pseudonyms()
    assert by_year["2024-2025"] == expected
    assert by_year["2025-2026"] == {_hmac(_pupil_key(home), p.pgn) for p in members[:2]}
    with services.open_vault() as vault:
        results = vault.table("toetsresultaten")
        school_key = next((home / "keys").glob("school-*.key"))
        assert set(results.column("school").to_pylist()) == {
            _hmac(load_key(school_key).secret_hex, SCHOOL.code)
        }
        assert set(results.column("pupil_key").to_pylist()) == {
            load_key(next((home / "keys").glob("pupil-*.key"))).key_id
        }


def test_linking_identifiers_are_dropped_and_dates_become_months(office: Office) -> None:
    office.receive(office.delivery(pupils(2), special=True))
    with services.open_vault() as vault:
        pupils_table = vault.table("leerlingen")
        assert pupils_table.column_names == [
            "delivery_id",
            "pupil",
            "pupil_key",
            "school",
            "school_key",
            "schooljaar",
            "geboortemaand",
            "geslacht",
            "jaargroep",
        ]
        assert set(pupils_table.column("geboortemaand").to_pylist()) == {"2016-01"}
        assert vault.table("bijzonder").column("maand").to_pylist() == ["2024-09"]


def test_nothing_under_the_office_home_holds_a_delivered_identifier(
    office: Office, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every column of every file, and the raw bytes of every file, uncompressed."""
    monkeypatch.setattr(services, "Vault", lambda root, **kw: Vault(root, compression="none", **kw))
    members = [
        *pupils(5),
        Pupil(ONDERWIJSNUMMERS[0], postcode="9876ZX", number=77, born=dt_date(2017, 12, 24)),
    ]
    reports = office.receive(
        office.delivery(members, SchoolYear(2024), special=True),
        office.delivery(members, SchoolYear(2025), special=True),
    )
    assert [r.status for r in reports] == ["received", "received"]
    assert services.scan_vault(actor="test") == []
    secrets = set()
    for p in members:
        secrets |= {
            p.pgn,
            p.postcode,
            f"{p.postcode[:4]} {p.postcode[4:]}",
            p.born.isoformat(),
            p.born.strftime("%d-%m-%Y"),
            f"|{p.number}|",
        }
    secrets |= {"Zoë", "Meer0"}
    for path in home.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in raw, f"{secret} found in {path.name}"
    for package in ReceivedPackage.objects.all():
        assert not any(s in repr(package.__dict__) for s in secrets)
    for event in AuditEvent.objects.all():
        assert not any(s in repr(event.details) + event.subject for s in secrets)


def dt_date(year: int, month: int, day: int) -> object:
    import datetime as dt

    return dt.date(year, month, day)


def test_a_replayed_package_is_a_no_op(office: Office) -> None:
    package = office.delivery(pupils(3))
    (first,) = office.receive(package)
    before = _vault_state()
    (again,) = office.receive(package)
    assert (first.status, again.status) == ("received", "duplicate")
    assert _vault_state() == before


def test_a_newer_delivery_replaces_the_older(office: Office) -> None:
    old = office.delivery(pupils(4))
    new = office.delivery(pupils(2))
    office.receive(old)
    (report,) = office.receive(new)
    assert report.status == "received"
    assert report.replaced
    assert len(_pupil_pseudonyms()["2024-2025"]) == 2
    (late,) = office.receive(office.made[0])
    assert late.status == "duplicate"
    assert services.status()["deliveries_replaced"] == 1


def test_an_older_delivery_after_a_newer_one_is_superseded(office: Office) -> None:
    old = office.delivery(pupils(4))
    new = office.delivery(pupils(2))
    office.receive(new)
    (report,) = office.receive(old)
    assert report.status == "superseded"
    assert len(_pupil_pseudonyms()["2024-2025"]) == 2


def test_a_retraction_removes_the_pupil_everywhere_and_keeps_them_out(
    office: Office, home: Path
) -> None:
    members = pupils(3)
    office.receive(
        office.delivery(members, SchoolYear(2024), special=True),
        office.delivery(members, SchoolYear(2025)),
    )
    gone = _hmac(_pupil_key(home), members[0].pgn)
    (report,) = office.receive(office.retraction([members[0].pgn]))
    assert report.status == "retracted"
    assert report.counts["rows_removed"] == 2 * (1 + 2 + 1) + 1
    with services.open_vault() as vault:
        for name in TABLES:
            assert gone not in set(vault.table(name).column("pupil").to_pylist())
    (later,) = office.receive(office.delivery(members, SchoolYear(2025)))
    assert later.counts["filtered_retracted_pupils"] == 1
    assert gone not in _pupil_pseudonyms()["2025-2026"]
    assert len(_pupil_pseudonyms()["2025-2026"]) == 2
    assert services.status()["tombstones"] == 1


def test_packages_signed_by_an_unregistered_key_are_refused(office: Office) -> None:
    stranger = KeyPair.generate("stranger")
    (foreign,) = office.receive(office.delivery(pupils(2), signer=stranger))
    (unknown_school,) = office.receive(
        office.delivery(pupils(2), SchoolYear(2024), SchoolCode("99ZZ", "00"))
    )
    assert foreign.status == unknown_school.status == "refused"
    assert "not by the given school key" in foreign.reason
    assert "not registered" in unknown_school.reason
    assert _pupil_pseudonyms() == {}
    assert AuditEvent.objects.filter(action="office.refused").count() == 2


def test_content_the_school_software_got_wrong_is_refused(office: Office) -> None:
    raw = tables(pupils(2), SchoolYear(2024))
    raw["leerlingen"] = raw["leerlingen"].set_column(0, "pgn", pa.array(["123456789", BSNS[1]]))
    raw["toetsresultaten"] = raw["toetsresultaten"].set_column(
        2, "leergebied", pa.array(["geschiedenis"] * raw["toetsresultaten"].num_rows)
    )
    (report,) = office.receive(office.delivery([], raw_tables=raw))
    assert report.status == "refused"
    assert "leerlingen.pgn" in report.reason
    assert "toetsresultaten.leergebied" in report.reason
    assert "123456789" not in report.reason


STEPS = ["files_written", "replaced_rewritten", "linked", "catalog_updated", "before_commit"]


@pytest.mark.parametrize("step", [*STEPS, "after_commit"])
def test_a_crash_at_any_step_leaves_the_vault_as_it_was_and_a_rerun_completes(
    office: Office, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = pupils(4)
    office.receive(office.delivery(members), office.delivery(members, SchoolYear(2025)))
    replacing = office.delivery(members[:3])  # replaces the first, so every step runs
    before = _vault_state()

    def crash(at: str) -> None:
        if at == step:
            raise RuntimeError(f"crash at {at}")

    monkeypatch.setattr(vault_module, "fault_point", crash)
    with pytest.raises(RuntimeError, match="crash"):
        office.receive(replacing)
    after_crash = _vault_state()
    monkeypatch.setattr(vault_module, "fault_point", lambda at: None)
    (rerun,) = office.receive(replacing)
    if step == "after_commit":
        assert after_crash != before  # committed: the package is in, whole
    else:
        assert after_crash == before
    # committed or not, the registry records it once, as received (see test_recovery.py)
    assert rerun.status == "received"
    assert len(_pupil_pseudonyms()["2024-2025"]) == 3
    with services.open_vault() as vault:
        listed = {str(p) for p in vault.files()}
        on_disk = {str(p) for p in (vault.data).rglob("*.parquet") if p.parent.name != "_empty"}
        assert listed == on_disk


def test_a_crash_during_a_retraction_leaves_the_vault_as_it_was(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = pupils(3)
    office.receive(office.delivery(members))
    retraction = office.retraction([members[1].pgn])
    before = _vault_state()

    def crash(at: str) -> None:
        if at == "retraction_rewritten":
            raise RuntimeError("crash")

    monkeypatch.setattr(vault_module, "fault_point", crash)
    with pytest.raises(RuntimeError):
        office.receive(retraction)
    assert _vault_state() == before
    monkeypatch.setattr(vault_module, "fault_point", lambda at: None)
    (report,) = office.receive(retraction)
    assert report.status == "retracted"


def test_an_onderwijsnummer_later_replaced_by_a_bsn_is_linked(office: Office) -> None:
    temporary = Pupil(ONDERWIJSNUMMERS[0], postcode="5555XY", number=3)
    later = Pupil(BSNS[4], postcode="5555XY", number=3)
    office.receive(office.delivery([*pupils(2), temporary], SchoolYear(2023)))
    (report,) = office.receive(office.delivery([*pupils(2), later], SchoolYear(2024)))
    assert report.counts["linked"] == 1
    status = services.status()
    assert (status["linked"], status["unlinked"]) == (1, 0)
    assert status["pupils"] == 3  # the two numbers are one pupil


def test_an_ambiguous_match_stays_unlinked_and_is_counted(office: Office) -> None:
    twins = [
        Pupil(ONDERWIJSNUMMERS[0], postcode="5555XY", number=3),
        Pupil(ONDERWIJSNUMMERS[1], postcode="5555XY", number=3),
    ]
    office.receive(office.delivery(twins, SchoolYear(2023)))
    (report,) = office.receive(
        office.delivery([Pupil(BSNS[4], postcode="5555XY", number=3)], SchoolYear(2024))
    )
    assert report.counts["linked"] == 0
    assert report.counts["ambiguous"] == 2
    assert services.status()["unlinked"] == 2


def test_hashing_every_bsn_without_the_key_finds_no_pseudonym(office: Office) -> None:
    """A sample of 200,000 valid BSNs, hashed the ways an attacker without the key could.

    The full attack (all ~9·10^7 valid BSNs) would fail the same way: every
    pseudonym depends on a 256-bit key the attacker lacks, so matching one needs
    the key, and 2^256 keys cannot be searched; unkeyed or wrongly keyed hashes
    of the right BSN differ from the pseudonym.
    """
    members = pupils(6)
    office.receive(office.delivery(members))
    known = set().union(*_pupil_pseudonyms().values())
    guesses = [f"{n:09d}" for n in NumberStream(seed=99).bsns(200_000)] + [p.pgn for p in members]
    for guess in guesses:
        data = guess.encode()
        assert hashlib.sha256(data).hexdigest() not in known
        assert hmac.new(b"", data, hashlib.sha256).hexdigest() not in known
        assert hmac.new(b"0" * 64, data, hashlib.sha256).hexdigest() not in known


def test_rotating_the_pupil_key_rekeys_without_pgns_and_keeps_pupils_linked(
    office: Office, home: Path
) -> None:
    members = pupils(3)
    office.receive(office.delivery(members))
    old = _pupil_pseudonyms()["2024-2025"]
    done = services.rotate_key("pupil", actor="test")
    new_key = load_key(home / "keys" / f"pupil-{done['new']}.key")
    assert _pupil_pseudonyms()["2024-2025"] == {_hmac(new_key.secret_hex, p) for p in old}
    office.receive(office.delivery(members, SchoolYear(2025)))
    assert _pupil_pseudonyms()["2025-2026"] == _pupil_pseudonyms()["2024-2025"]
    with services.open_vault() as vault:
        assert set(vault.table("leerlingen").column("pupil_key").to_pylist()) == {done["new"]}
    assert AuditEvent.objects.filter(action="office.rotate_key").count() == 1
    assert verify().ok


def test_the_scan_finds_an_identifier_planted_in_the_vault(office: Office, home: Path) -> None:
    office.receive(office.delivery(pupils(2)))
    assert services.scan_vault(actor="test") == []
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"x": [BSNS[0]], "pc": ["1234 AB"], "who": ["Daan"]}),
        home / "vault" / "data" / "stray.parquet",
    )
    found = {(f.column, f.looks_like) for f in services.scan_vault(actor="test")}
    assert found == {("x", "a BSN or onderwijsnummer"), ("pc", "a postcode"), ("who", "a name")}


def test_packages_are_opened_in_worker_processes_in_order(
    office: Office, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers know nothing of Django; the outcome is the same as in one process."""
    from cohortsafe.app import _parallel
    from cohortsafe.app.office import services as office_services

    monkeypatch.setattr(_parallel, "PARALLEL_FROM", 1)
    monkeypatch.setattr(office_services, "CHUNK", 2)
    members = pupils(3)
    stranger = KeyPair.generate("stranger")
    files = [
        office.delivery(members, SchoolYear(2024)),
        office.delivery(members, SchoolYear(2025), signer=stranger),
        office.retraction([members[0].pgn]),
        office.delivery(members, SchoolYear(2025)),
    ]
    reports = office.receive(*files)
    assert [r.status for r in reports] == ["received", "refused", "retracted", "received"]
    assert reports[3].counts["filtered_retracted_pupils"] == 1
    assert _pupil_pseudonyms()["2025-2026"] == {_hmac(_pupil_key(home), p.pgn) for p in members[1:]}
