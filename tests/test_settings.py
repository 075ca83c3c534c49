"""Settings validation: one clear line per mistake, naming the setting."""

from __future__ import annotations

from typing import Any

import pytest

from tap_tiktok_ads.client import PRODUCTION_API_URL, SANDBOX_API_URL
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.settings import Settings

BASE: dict[str, Any] = {"access_token": "t0ken", "start_date": "2026-01-01"}


def settings(**overrides: Any) -> Settings:
    return Settings.from_config({**BASE, **overrides})


def error_for(**overrides: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        settings(**overrides)
    assert "\n" not in str(caught.value)
    return caught.value


def test_defaults() -> None:
    s = settings()
    assert s.api_url == PRODUCTION_API_URL
    assert s.page_size == 1000
    assert s.attribution_window_days == 7
    assert s.advertiser_ids == ()


def test_advertiser_ids_accept_a_list_or_a_comma_separated_string() -> None:
    assert settings(advertiser_ids=["1", "2"]).advertiser_ids == ("1", "2")
    assert settings(advertiser_ids=" 1, 2 ,,2").advertiser_ids == ("1", "2")


def test_non_numeric_advertiser_id_is_rejected() -> None:
    assert error_for(advertiser_ids=["123", "abc"]).setting == "advertiser_ids"


def test_sandbox_switches_the_host() -> None:
    assert settings(sandbox=True).api_url == SANDBOX_API_URL


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765/open_api/v1.3", "http://localhost:1/x", "http://[::1]:9/x"]
)
def test_plain_http_is_allowed_for_loopback(url: str) -> None:
    assert settings(api_url=url).api_url == url


@pytest.mark.parametrize("url", ["http://example.com/open_api/v1.3", "ftp://host/x", "nonsense"])
def test_other_urls_are_refused(url: str) -> None:
    assert error_for(api_url=url).setting == "api_url"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("page_size", 0),
        ("page_size", 1001),
        ("page_size", "big"),
        ("attribution_window_days", 29),
        ("report_window_days", 31),
        ("request_timeout", 0),
        ("max_requests_per_second", -1),
    ],
)
def test_out_of_range_values_name_their_setting(setting: str, value: Any) -> None:
    assert error_for(**{setting: value}).setting == setting


def test_access_token_is_required() -> None:
    with pytest.raises(ConfigError, match=r"^access_token"):
        Settings.from_config({"start_date": "2026-01-01"})


def test_a_date_option_is_required() -> None:
    with pytest.raises(ConfigError, match=r"^start_date"):
        Settings.from_config({"access_token": "x"})


def test_repr_hides_secrets() -> None:
    s = settings(secret="s3cr3t-value")
    assert "t0ken" not in repr(s)
    assert "s3cr3t-value" not in repr(s)
