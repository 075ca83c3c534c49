"""The tap's settings: JSON schema for singer-sdk, and validation into one typed object.

JSON schema catches types; everything that needs a person's judgement (ids that are not numbers,
plain http to a remote host, conflicting date options) is checked in :meth:`Settings.from_config`,
which raises :class:`~tap_tiktok_ads.errors.ConfigError` naming the setting, before any request.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from singer_sdk import typing as th

from tap_tiktok_ads.client import PRODUCTION_API_URL, SANDBOX_API_URL
from tap_tiktok_ads.dates import PERIODS, WEEK_DAYS, DateSelection
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.sharding import Shard, parse_shard

MAX_PAGE_SIZE = 1000
# TikTok advises at most 100 metrics per report query; every metric at once overflows URLs.
METRICS_PER_REQUEST = (1, 100)  # (lowest, highest and default)

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "access_token",
        th.StringType(nullable=False),
        required=True,
        secret=True,
        title="Access token",
        description="Long-lived TikTok Business API access token (see `tap-tiktok-ads-auth`).",
    ),
    th.Property(
        "advertiser_ids",
        th.CustomType(
            {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "string"},
                ]
            }
        ),
        title="Advertiser IDs",
        description=(
            "Advertisers to sync: a list of ids, or one comma-separated string. When omitted, "
            "every advertiser the token is authorized for (needs `app_id` and `secret`)."
        ),
    ),
    th.Property(
        "advertiser_shard",
        th.StringType,
        title="Advertiser shard",
        description=(
            'Sync only shard "i/N" (1-based) of the advertisers, for N parallel runs each with '
            "its own state; an advertiser's shard is a stable hash of its id."
        ),
    ),
    th.Property("app_id", th.StringType, title="App ID", description="TikTok developer app id."),
    th.Property(
        "secret",
        th.StringType,
        secret=True,
        title="App secret",
        description="TikTok developer app secret; used only to list authorized advertisers.",
    ),
    th.Property(
        "start_date",
        th.DateType,
        title="Start date",
        description=(
            "First report day (YYYY-MM-DD, the advertiser's local day). Required unless another "
            "date option (`date`, `days_back`, `start_days_back`, `date_period`) is used."
        ),
    ),
    th.Property(
        "end_date",
        th.DateType,
        title="End date",
        description="Last report day, inclusive. Default: today in each advertiser's time zone.",
    ),
    th.Property("date", th.DateType, description="Sync reports for this single day only."),
    th.Property(
        "days_back",
        th.IntegerType,
        description="Sync reports for the single day N days back (0 = today, 1 = yesterday).",
    ),
    th.Property(
        "start_days_back",
        th.IntegerType,
        description="Relative range: first day, N days back (with `end_days_back`, default 0).",
    ),
    th.Property(
        "end_days_back",
        th.IntegerType,
        description="Relative range: last day, M days back (M <= `start_days_back`).",
    ),
    th.Property(
        "date_period",
        th.StringType(allowed_values=list(PERIODS)),
        description="A named period, computed in each advertiser's time zone.",
    ),
    th.Property(
        "week_start_day",
        th.StringType(allowed_values=list(WEEK_DAYS)),
        default="monday",
        description="First day of the week for `this_week` / `last_week`.",
    ),
    th.Property(
        "attribution_window_days",
        th.IntegerType,
        default=7,
        description=(
            "Report days before the saved bookmark to read again on each run, because TikTok "
            "revises recent conversions (0-28)."
        ),
    ),
    th.Property(
        "report_window_days",
        th.IntegerType,
        default=30,
        description="Days per daily report request (1-30). Lower it if TikTok answers 40067.",
    ),
    th.Property(
        "service_type",
        th.StringType(allowed_values=["AUCTION", "RESERVATION"]),
        default="AUCTION",
        description="Ad service type of the predefined reports.",
    ),
    th.Property(
        "max_metrics_per_request",
        th.IntegerType,
        default=METRICS_PER_REQUEST[1],
        description=(
            f"Metrics per report request ({METRICS_PER_REQUEST[0]}-{METRICS_PER_REQUEST[1]}); "
            "larger selections are read in groups and joined on the report's dimensions."
        ),
    ),
    th.Property(
        "custom_reports",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType, required=True, description="Stream name."),
                th.Property("report_type", th.StringType(allowed_values=["BASIC", "AUDIENCE"])),
                th.Property(
                    "data_level",
                    th.StringType(allowed_values=["advertiser", "campaign", "ad_group", "ad"]),
                    required=True,
                ),
                th.Property(
                    "dimensions",
                    th.ArrayType(th.StringType),
                    description="Breakdown dimensions (ID and time follow from level/granularity).",
                ),
                th.Property(
                    "metrics",
                    th.ArrayType(th.StringType),
                    description="Metrics to offer; default every metric valid for the report.",
                ),
                th.Property(
                    "time_granularity",
                    th.StringType(allowed_values=["daily", "hourly", "lifetime"]),
                ),
                th.Property(
                    "service_type", th.StringType(allowed_values=["AUCTION", "RESERVATION"])
                ),
            )
        ),
        description="Extra report streams, each {name, report_type, data_level, dimensions, "
        "metrics, time_granularity, service_type}.",
    ),
    th.Property(
        "skip_unauthorized_advertisers",
        th.BooleanType,
        default=False,
        description=(
            "Skip, with a warning, advertisers the token cannot read (TikTok 40001/40300) "
            "instead of failing the run."
        ),
    ),
    th.Property(
        "skip_rejected_reports",
        th.BooleanType,
        default=False,
        description=(
            "Skip, with a warning, a report stream TikTok refuses with code 40002 (for example "
            "a metric it does not offer at that level) instead of failing the run."
        ),
    ),
    th.Property(
        "retry_backoff_seconds",
        th.NumberType,
        default=1,
        description="First wait before a retry; it doubles on each try, up to 60 seconds.",
    ),
    th.Property(
        "include_deleted",
        th.BooleanType,
        default=False,
        description="Also sync deleted campaigns, ad groups and ads, and their report rows.",
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=MAX_PAGE_SIZE,
        description="Rows per page (1-1000; custom audience lists are capped at 100).",
    ),
    th.Property(
        "api_url",
        th.StringType,
        description=(
            "Base URL up to and including `/open_api/v1.3`. Default: the production host "
            "(or the sandbox host when `sandbox` is true). Plain http only for loopback hosts."
        ),
    ),
    th.Property(
        "sandbox",
        th.BooleanType,
        default=False,
        description="Use TikTok's sandbox host.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=300,
        description="Seconds to wait for one response.",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType,
        default=10,
        description="Client-side rate limit (TikTok's basic tier allows 10 per second).",
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType,
        default=4,
        description=(
            "Pages of one listing fetched in parallel (1-32); the rate limit still applies. "
            "4 keeps TikTok's basic tier busy at 100-300 ms per request."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=5,
        description="Retries of a transient failure (rate limit, server error, timeout).",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        description="User-Agent header sent to TikTok.",
    ),
).to_dict()


def config_schema() -> dict[str, Any]:
    """A fresh copy: singer-sdk appends its built-in settings to the tap's schema in place."""
    return copy.deepcopy(CONFIG_SCHEMA)


@dataclass(frozen=True)
class Settings:
    """Validated, normalised settings."""

    access_token: str
    advertiser_ids: tuple[str, ...]
    api_url: str
    dates: DateSelection
    app_id: str | None = None
    advertiser_shard: Shard | None = None
    secret: str | None = field(default=None, repr=False)
    include_deleted: bool = False
    skip_unauthorized_advertisers: bool = False
    skip_rejected_reports: bool = False
    retry_backoff_seconds: float = 1.0
    page_size: int = MAX_PAGE_SIZE
    request_timeout: float = 300.0
    max_requests_per_second: float = 10.0
    max_retries: int = 5
    max_concurrent_requests: int = 4
    attribution_window_days: int = 7
    report_window_days: int = 30
    max_metrics_per_request: int = METRICS_PER_REQUEST[1]
    service_type: str = "AUCTION"
    user_agent: str = "tap-tiktok-ads"

    def __repr__(self) -> str:  # never show the token or the secret
        return f"Settings(advertiser_ids={self.advertiser_ids!r}, api_url={self.api_url!r})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        token = config.get("access_token")
        if not isinstance(token, str) or not token.strip():
            raise ConfigError("access_token", "is required: set your TikTok access token")
        return cls(
            access_token=token.strip(),
            advertiser_ids=parse_advertiser_ids(config.get("advertiser_ids")),
            api_url=resolve_api_url(config.get("api_url"), bool(config.get("sandbox"))),
            dates=DateSelection.from_config(config),
            app_id=_optional_str(config.get("app_id")),
            advertiser_shard=parse_shard(config.get("advertiser_shard")),
            secret=_optional_str(config.get("secret")),
            include_deleted=bool(config.get("include_deleted", False)),
            skip_unauthorized_advertisers=bool(config.get("skip_unauthorized_advertisers")),
            skip_rejected_reports=bool(config.get("skip_rejected_reports")),
            retry_backoff_seconds=_positive_number(
                config, "retry_backoff_seconds", 1.0, allow_zero=True
            ),
            page_size=_int_in_range(config, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE),
            request_timeout=_positive_number(config, "request_timeout", 300.0),
            max_requests_per_second=_positive_number(config, "max_requests_per_second", 10.0),
            max_retries=_int_in_range(config, "max_retries", 5, 0, 20),
            max_concurrent_requests=_int_in_range(config, "max_concurrent_requests", 4, 1, 32),
            attribution_window_days=_int_in_range(config, "attribution_window_days", 7, 0, 28),
            report_window_days=_int_in_range(config, "report_window_days", 30, 1, 30),
            max_metrics_per_request=_int_in_range(
                config, "max_metrics_per_request", METRICS_PER_REQUEST[1], *METRICS_PER_REQUEST
            ),
            service_type=str(config.get("service_type") or "AUCTION"),
            user_agent=str(config.get("user_agent") or "tap-tiktok-ads"),
        )


def parse_advertiser_ids(value: Any) -> tuple[str, ...]:
    """Accept a list or a comma-separated string; every id must be a string of digits."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError("advertiser_ids", "must be a list of ids or a comma-separated string")
    ids: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if not text.isdigit():
            raise ConfigError(
                "advertiser_ids", f"{text!r} is not an advertiser id (ids are strings of digits)"
            )
        if text not in ids:
            ids.append(text)
    return tuple(ids)


def resolve_api_url(api_url: Any, sandbox: bool) -> str:
    """Default host by ``sandbox``; refuse plain http except to loopback addresses."""
    if not api_url:
        return SANDBOX_API_URL if sandbox else PRODUCTION_API_URL
    url = str(api_url).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError("api_url", f"{url!r} is not an http(s) URL")
    if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        raise ConfigError("api_url", "plain http is only allowed for loopback hosts; use https")
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _optional_str(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _int_in_range(config: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, f"must be a whole number from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(name, f"must be from {low} to {high}, got {value}")
    return value


def _positive_number(
    config: Mapping[str, Any], name: str, default: float, *, allow_zero: bool = False
) -> float:
    value = config.get(name, default)
    if value is None:
        return default
    low_ok = isinstance(value, (int, float)) and (value > 0 or (allow_zero and value == 0))
    if isinstance(value, bool) or not low_ok:
        kind = "a number, 0 or more" if allow_zero else "a positive number"
        raise ConfigError(name, f"must be {kind}, got {value!r}")
    return float(value)
