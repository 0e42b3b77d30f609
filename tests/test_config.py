"""Settings: parsed safely, and each one documented in docs/settings.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohortsafe.config import SETTINGS, MonthDay, load
from cohortsafe.errors import ConfigurationError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented_with_its_default(setting: object) -> None:
    text = DOCS.read_text()
    row = next((ln for ln in text.splitlines() if ln.startswith(f"| `{setting.env}` |")), None)  # type: ignore[attr-defined]
    assert row is not None, f"{setting.env} is not in docs/settings.md"  # type: ignore[attr-defined]
    assert setting.help in row  # type: ignore[attr-defined]
    if setting.default:  # type: ignore[attr-defined]
        assert f"`{setting.default}`" in row  # type: ignore[attr-defined]


def test_defaults_need_nothing_running() -> None:
    config = load({})
    assert config.database_url is None
    assert config.objection_deadline == MonthDay(3, 7)
    assert config.delivery_domains == ("rekenen_wiskunde", "begrijpend_lezen", "spelling")


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("COHORTSAFE_OBJECTION_DEADLINE", "31-02"),
        ("COHORTSAFE_DELIVERY_DOMAINS", "rekenen_wiskunde,gym"),
        ("COHORTSAFE_DEBUG", "maybe"),
    ],
)
def test_bad_values_are_refused_clearly(env: str, value: str) -> None:
    with pytest.raises(ConfigurationError):
        load({env: value})


def test_overrides_by_name() -> None:
    assert load({}, home=Path("/x")).home == Path("/x")
    with pytest.raises(ConfigurationError):
        load({}, colour="blue")


@pytest.mark.parametrize(
    "value",
    ["technisch_lezen", "rekenen_wiskunde,woordenschat", "spelling,gym", "", " , "],
)
def test_delivery_domains_can_never_be_extended(value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load({"COHORTSAFE_DELIVERY_DOMAINS": value})
    assert "rekenen_wiskunde, begrijpend_lezen, spelling" in str(refused.value)


@pytest.mark.parametrize(
    "value",
    ["spelling", "begrijpend_lezen, rekenen_wiskunde", "spelling,spelling,rekenen_wiskunde"],
)
def test_delivery_domains_may_be_narrowed(value: str) -> None:
    from cohortsafe.domain import NCO_DOMAINS

    domains = load({"COHORTSAFE_DELIVERY_DOMAINS": value}).delivery_domains
    assert set(domains) == {part.strip() for part in value.split(",")}
    assert set(domains) <= set(NCO_DOMAINS)
