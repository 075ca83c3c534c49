"""Settings validation: one clear line per mistake, naming the setting."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from singer_sdk.exceptions import ConfigValidationError

from tap_tiktok_ads.client import PRODUCTION_API_URL, SANDBOX_API_URL
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.reports.definitions import custom_reports
from tap_tiktok_ads.settings import CONFIG_SCHEMA, Settings
from tap_tiktok_ads.tap import TapTikTokAds

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


# -- numbers: decimals accepted, bounds from the schema ----------------------------------------


def test_number_settings_accept_decimals_as_config_files_deliver_them() -> None:
    s = settings(
        request_timeout=Decimal("30.5"),
        max_requests_per_second=Decimal("2.5"),
        retry_backoff_seconds=Decimal("0.25"),
    )
    assert (s.request_timeout, s.max_requests_per_second) == (30.5, 2.5)
    assert s.retry_backoff_seconds == 0.25


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("request_timeout", 10**300),
        ("request_timeout", Decimal("1E+400")),
        ("request_timeout", float("nan")),
        ("request_timeout", float("inf")),
        ("max_requests_per_second", 10**400),
        ("retry_backoff_seconds", 61),
        ("retry_backoff_seconds", True),
        ("max_retries", Decimal("2.5")),
        ("max_retries", 21),
        ("max_concurrent_requests", 0),
    ],
)
def test_absurd_numbers_name_their_setting(setting: str, value: Any) -> None:
    assert error_for(**{setting: value}).setting == setting


def test_defaults_and_bounds_come_from_the_schema() -> None:
    """One source of truth: what the schema tells Meltano is what the check enforces."""
    s = settings()
    bounded = {name for name, spec in CONFIG_SCHEMA["properties"].items() if "maximum" in spec}
    assert bounded >= {"page_size", "request_timeout", "max_requests_per_second", "max_retries"}
    for name in bounded:
        spec = CONFIG_SCHEMA["properties"][name]
        assert getattr(s, name) == spec["default"], name
        assert error_for(**{name: spec["maximum"] + 1}).setting == name
        if "minimum" in spec:
            assert error_for(**{name: spec["minimum"] - 1}).setting == name


# -- advertiser_ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ()), ([123, "456"], ("123", "456")), (123, ("123",)), ("7,8", ("7", "8"))],
)
def test_advertiser_ids_accept_null_numbers_and_strings(value: Any, expected: tuple) -> None:
    assert settings(advertiser_ids=value).advertiser_ids == expected


@pytest.mark.parametrize("value", [{"id": "1"}, [True], [1.5], [["1"]], ["١٢٣"]])
def test_other_advertiser_ids_are_one_line(value: Any) -> None:
    assert error_for(advertiser_ids=value).setting == "advertiser_ids"


# -- credentials and headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["qz9x8\nw7v6u5", "qz9x8 w7v6u5", "qz9x8ü\tw7v6u5", "qz9x8\x00w7v6u5"]
)
def test_a_token_that_cannot_be_a_header_is_refused_without_echoing_it(token: str) -> None:
    error = error_for(access_token=token)
    assert error.setting == "access_token"
    assert "qz9x8" not in str(error)
    assert "w7v6u5" not in str(error)


def test_a_secret_with_a_line_break_is_refused_without_echoing_it() -> None:
    error = error_for(secret="app-secret\nvalue")
    assert error.setting == "secret"
    assert "app-secret" not in str(error)


@pytest.mark.parametrize("agent", ["tap ünïcode", "tap\r\nX-Evil: 1", "😀"])
def test_a_user_agent_that_cannot_be_a_header_is_refused(agent: str) -> None:
    assert error_for(user_agent=agent).setting == "user_agent"


def test_a_plain_user_agent_is_kept() -> None:
    assert settings(user_agent="acme-etl/1.0 (+ops@example.com)").user_agent.startswith("acme")


# -- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"start_date": "2015-12-31", "end_date": "2016-01-05"}, "start_date"),
        ({"start_date": None, "date": "1999-05-01"}, "date"),
    ],
)
def test_days_before_tiktok_ads_began_are_refused(overrides: dict, setting: str) -> None:
    error = error_for(**overrides)
    assert error.setting == setting
    assert "2016-01-01" in str(error)


def test_the_first_day_of_the_floor_is_allowed() -> None:
    assert settings(start_date="2016-01-01").dates.start is not None


# -- api_url: checked as requests will read it ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:8080\\@127.0.0.1/open_api/v1.3",  # requests connects to 127.0.0.2
        "https://127.0.0.2\\@business-api.tiktok.com/open_api/v1.3",
        "http://user:pass@127.0.0.1/open_api/v1.3",
        "http://127.0.0.1%2f@127.0.0.2/open_api/v1.3",
        "http://127.0.0.1:8000/open_api/v1.3?x=1",
        "http://127.0.0.1:8000/open_api/v1.3#frag",
        "http://127.0.0.1:99999/open_api/v1.3",
        "http://127.0.0.1:0/open_api/v1.3",
        "http://127.0.0.1:80 80/open_api/v1.3",
        "http://127.0.0.1/open\napi",
        "http:///open_api/v1.3",
        "http://127.0.0.2.example/x",
        12345,
    ],
)
def test_crafted_api_urls_are_refused(url: Any) -> None:
    error = error_for(api_url=url)
    assert error.setting == "api_url"
    assert "pass" not in str(error)


def test_api_url_is_kept_as_requests_will_send_it() -> None:
    assert settings(api_url="HTTPS://Example.COM/open_api/v1.3/").api_url == (
        "https://example.com/open_api/v1.3"
    )


# -- custom report names -------------------------------------------------------------------------


def test_a_custom_report_name_with_a_trailing_newline_is_refused() -> None:
    custom = [{"name": "abc\n", "data_level": "ad"}]
    with pytest.raises(ConfigError) as caught:
        custom_reports(custom, ())
    assert caught.value.setting == "custom_reports"
    assert "[0].name" in str(caught.value)


# -- JSON-schema errors, as singer-sdk reports them ---------------------------------------------


def validation_errors(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        TapTikTokAds(config={**BASE, **config})
    return list(caught.value.errors)


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("secret", 990011223344, "990011223344"),
        ("access_token", ["tok-in-a-list-abcdef"], "tok-in-a-list-abcdef"),
        ("access_token", {"token": "tok-in-an-object"}, "tok-in-an-object"),
    ],
)
def test_schema_errors_never_echo_a_secret(setting: str, value: Any, shown: str) -> None:
    errors = validation_errors({setting: value})
    assert errors
    assert all(shown not in error for error in errors)
    assert errors[0].startswith(f"{setting}: ")


def test_schema_errors_of_ordinary_settings_name_setting_and_value() -> None:
    assert validation_errors({"page_size": 5000}) == [
        "page_size: 5000 is greater than the maximum of 1000"
    ]


def test_non_integer_numbers_pass_the_schema() -> None:
    tap = TapTikTokAds(
        config={
            **BASE,
            "request_timeout": Decimal("30.5"),
            "max_requests_per_second": Decimal("2.5"),
            "retry_backoff_seconds": Decimal("0.5"),
            "advertiser_ids": [123],
        }
    )
    assert tap.settings.request_timeout == 30.5
    assert tap.settings.advertiser_ids == ("123",)


def test_null_advertiser_ids_pass_the_schema_and_mean_all_authorized() -> None:
    tap = TapTikTokAds(config={**BASE, "advertiser_ids": None, "app_id": "1", "secret": "s3cr3t"})
    assert tap.settings.advertiser_ids == ()


# -- environment variables (`--config ENV`) ---------------------------------------------------


def env_tap(monkeypatch: pytest.MonkeyPatch, **variables: str) -> TapTikTokAds:
    for name in list(os.environ):
        if name.startswith("TAP_TIKTOK_ADS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TAP_TIKTOK_ADS_ACCESS_TOKEN", "t0ken-abcdef")
    monkeypatch.setenv("TAP_TIKTOK_ADS_START_DATE", "2026-01-01")
    for name, value in variables.items():
        monkeypatch.setenv(f"TAP_TIKTOK_ADS_{name.upper()}", value)
    return TapTikTokAds(config={}, parse_env_config=True)


def test_numbers_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    tap = env_tap(
        monkeypatch,
        request_timeout="2.5",
        max_requests_per_second=" 2.5 ",
        retry_backoff_seconds="0",
        max_retries="3",
    )
    s = tap.settings
    assert (s.request_timeout, s.max_requests_per_second, s.retry_backoff_seconds) == (
        2.5,
        2.5,
        0.0,
    )
    assert s.max_retries == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [("123", ("123",)), ("1, 2", ("1", "2")), ('["1", 2]', ("1", "2"))],
)
def test_advertiser_ids_from_an_environment_variable(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: tuple
) -> None:
    assert env_tap(monkeypatch, advertiser_ids=text).settings.advertiser_ids == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [("max_retries", "abc"), ("request_timeout", "nan"), ("advertiser_ids", "[1,")],
)
def test_a_malformed_environment_variable_names_its_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        env_tap(monkeypatch, **{name: text})
    assert caught.value.setting == name
    assert f"TAP_TIKTOK_ADS_{name.upper()}" in str(caught.value)


def test_meltano_setting_kinds_match_the_schema() -> None:
    """Meltano casts values by kind: `integer` refuses `30.5` from the environment and `decimal`
    makes Meltano 4.4 fail writing the config file, so fractional settings travel as text."""
    project = yaml.safe_load((Path(__file__).resolve().parent.parent / "meltano.yml").read_text())
    extractor = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-tiktok-ads")
    kinds = {s["name"]: s.get("kind") for s in extractor["settings"]}
    expected = {"number": "string", "integer": "integer", "boolean": "boolean"}
    for name, spec in CONFIG_SCHEMA["properties"].items():
        types = [t for t in spec.get("type", []) if t != "null"]
        if len(types) == 1 and types[0] in expected:
            assert kinds[name] == expected[types[0]], name


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30.5", Decimal("30.5")), (" 2 ", Decimal(2)), ("0.25", Decimal("0.25"))],
)
def test_fractional_settings_given_as_text_are_read_as_numbers(
    text: str, expected: Decimal
) -> None:
    """What Meltano passes for a `string` kind set from an environment variable."""
    tap = TapTikTokAds(
        config={
            "access_token": "tok-abcdef",
            "start_date": "2026-01-01",
            "advertiser_ids": ["1"],
            "request_timeout": text,
            "retry_backoff_seconds": text,
        }
    )
    assert tap.settings.request_timeout == expected
    assert tap.settings.retry_backoff_seconds == expected


def test_text_that_is_not_a_number_is_named() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TapTikTokAds(
            config={
                "access_token": "tok-abcdef",
                "start_date": "2026-01-01",
                "advertiser_ids": ["1"],
                "request_timeout": "soon",
            }
        )
    assert "request_timeout" in str(caught.value.errors)
