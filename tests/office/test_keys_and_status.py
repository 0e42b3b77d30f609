"""Key roles at the office, replacing a school's key, and intake lines that agree with status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cohortsafe.app.office import services
from cohortsafe.domain import SchoolCode
from cohortsafe.errors import ConfigurationError
from cohortsafe.package import KeyPair, PublicKey, load_public, write_key_pair
from tests.office.kit import SCHOOL, Office, pupils

pytestmark = pytest.mark.django_db


def _roleless_copy(pub: Path, out: Path) -> Path:
    """The key as an earlier version wrote it: no role field."""
    document = json.loads(pub.read_text())
    document.pop("role")
    out.write_text(json.dumps(document))
    assert load_public(out).role is None
    return out


def test_school_add_refuses_an_office_key(office: Office, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="office's own key"):
        services.add_school("34CD00", office.office_pub, actor="test")
    copy = _roleless_copy(office.office_pub, tmp_path / "copy.pub")
    with pytest.raises(ConfigurationError, match="office's own key"):
        services.add_school("34CD00", copy, actor="test")
    other = KeyPair.generate("other", role="office")
    write_key_pair(other, tmp_path / "other")
    with pytest.raises(ConfigurationError, match="is an office key"):
        services.add_school("34CD00", tmp_path / "other" / "other.pub", actor="test")


def test_replacing_a_school_key_needs_replace_and_names_both(
    office: Office, tmp_path: Path
) -> None:
    old = office.school_key.public.fingerprint
    same = services.add_school(SCHOOL.code, tmp_path / "school" / "school.pub", actor="test")
    assert same.outcome == "unchanged"
    assert "nothing changed" in same.describe()
    new = KeyPair.generate("school", role="school")
    write_key_pair(new, tmp_path / "new")
    with pytest.raises(services.OfficeError, match="--replace"):
        services.add_school(SCHOOL.code, tmp_path / "new" / "school.pub", actor="test")
    done = services.add_school(
        SCHOOL.code, tmp_path / "new" / "school.pub", actor="test", replace=True
    )
    assert (done.outcome, done.old_fingerprint, done.fingerprint) == (
        "replaced",
        old,
        new.public.fingerprint,
    )
    assert old[:16] in done.describe()
    assert new.public.fingerprint[:16] in done.describe()


def test_an_unregistered_school_is_named_with_the_fix(office: Office) -> None:
    (report,) = office.receive(office.delivery(pupils(2), school=SchoolCode("34CD", "00")))
    assert report.status == "refused"
    assert "school 34CD00 is not registered" in report.reason
    assert "cohortsafe office school-add 34CD00 --key school.pub" in report.reason


def _per_school(state: dict[str, object]) -> int:
    per_school = state["deliveries_per_school"]
    assert isinstance(per_school, dict)
    return sum(sum(periods.values()) for periods in per_school.values())


def test_two_deliveries_in_one_receive_agree_with_status(office: Office) -> None:
    first, second = office.delivery(pupils(3)), office.delivery(pupils(2))
    older, newer = office.receive(first, second)
    assert older.status == "superseded"
    assert "replacing" not in older.describe()
    assert (newer.status, newer.replaced) == ("received", "")
    state = services.status()
    assert state["deliveries_current"] == _per_school(state) == 1


def test_a_superseded_delivery_hands_what_it_replaced_to_the_newer_one(office: Office) -> None:
    (held,) = office.receive(office.delivery(pupils(3)))
    older, newer = office.receive(office.delivery(pupils(2)), office.delivery(pupils(4)))
    assert older.status == "superseded"
    assert "replacing" not in older.describe()
    assert (newer.status, newer.replaced) == ("received", held.package_id)
    state = services.status()
    assert state["deliveries_current"] == _per_school(state) == 1
    assert state["deliveries_replaced"] == 1
    assert state["pupils"] == 4


def test_deliveries_across_two_receives_agree_with_status(office: Office) -> None:
    (first,) = office.receive(office.delivery(pupils(3)))
    (second,) = office.receive(office.delivery(pupils(2)))
    assert second.status == "received"
    assert f"replacing delivery {first.package_id[:8]}" in second.describe()
    state = services.status()
    assert state["deliveries_current"] == _per_school(state) == 1


def test_a_key_file_keeps_its_role() -> None:
    pair = KeyPair.generate("x", role="office")
    assert KeyPair.from_json(pair.to_json()).role == "office"
    assert PublicKey.from_json(pair.public.to_json()).role == "office"
    with pytest.raises(ConfigurationError):
        KeyPair.generate("x", role="parent")
