"""A pseudonym key file swapped for another valid key is noticed before it pseudonymises."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortsafe.app.office import services
from cohortsafe.app.office.models import KeyRecord
from cohortsafe.errors import ConfigurationError
from cohortsafe.pseudonym import load_key, new_key
from tests.office.kit import Office, pupils

pytestmark = pytest.mark.django_db


def _swap(home: Path, purpose: str) -> None:
    """Replace the key file by another valid key under the same id, as an operator might."""
    held = KeyRecord.objects.get(purpose=purpose)
    path = home / "keys" / held.file_name
    old = load_key(path)
    other = new_key(purpose, key_id=old.key_id)
    text = path.read_text().replace(old.secret_hex, other.secret_hex)
    path.write_text(text)
    path.chmod(0o600)


def test_the_fingerprint_is_recorded_at_creation(office: Office, home: Path) -> None:
    for held in KeyRecord.objects.all():
        assert held.fingerprint == load_key(home / "keys" / held.file_name).fingerprint
        assert len(held.fingerprint) == 64


@pytest.mark.parametrize("purpose", ["pupil", "school", "link"])
def test_a_swapped_key_file_stops_intake_and_stores_nothing(
    office: Office, home: Path, purpose: str
) -> None:
    first = office.delivery(pupils(4))
    assert office.receive(first)[0].status == "received"
    before = services.status()
    _swap(home, purpose)
    with pytest.raises(ConfigurationError, match="not the key made"):
        office.receive(office.delivery(pupils(6)))
    assert services.status() == before


def test_a_rotated_key_is_recorded_and_checked_too(office: Office, home: Path) -> None:
    services.rotate_key("pupil", actor="test")
    newest = KeyRecord.objects.filter(purpose="pupil").order_by("-position").first()
    assert newest is not None
    assert newest.fingerprint == load_key(home / "keys" / newest.file_name).fingerprint
    services.pseudonyms()  # both keys of the chain load
    path = home / "keys" / newest.file_name
    key = load_key(path)
    path.write_text(path.read_text().replace(key.secret_hex, new_key("pupil").secret_hex))
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not the key made"):
        services.pseudonyms()


def test_a_home_from_before_fingerprints_records_them_on_first_use(
    office: Office, home: Path
) -> None:
    KeyRecord.objects.update(fingerprint="")
    services.pseudonyms()
    assert all(k.fingerprint for k in KeyRecord.objects.all())
    _swap(home, "pupil")
    with pytest.raises(ConfigurationError, match="not the key made"):
        services.pseudonyms()


def test_a_missing_office_key_is_not_answered_with_office_init(office: Office, home: Path) -> None:
    (home / "office.key").unlink()
    with pytest.raises(ConfigurationError, match=r"restore office\.key") as caught:
        office.receive(office.delivery(pupils(2)))
    assert "office init" not in str(caught.value)
