"""The tap's settings: JSON schema for singer-sdk, and validation into one typed object.

The schema is the one place each setting's type, default and bounds are written; singer-sdk,
Meltano and ``--about`` read them there, and :func:`bounded_number` checks against them.
Everything that needs a person's judgement (ids that are not numbers, plain http to a remote
host, conflicting date options) is checked in :meth:`Settings.from_config`, which raises
:class:`~tap_tiktok_ads.errors.ConfigError` naming the setting, before any request.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import ValidationError
from requests.exceptions import RequestException
from requests.models import PreparedRequest
from singer_sdk import typing as th
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from tap_tiktok_ads.client import (
    DEFAULT_MAX_RESPONSE_MB,
    DEFAULT_PAGING_RESTARTS,
    PRODUCTION_API_URL,
    SANDBOX_API_URL,
)
from tap_tiktok_ads.dates import PERIODS, WEEK_DAYS, DateSelection
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.sdk_compat import sdk_environment_settings
from tap_tiktok_ads.sharding import Shard, parse_shard

MAX_PAGE_SIZE = 1000
# TikTok advises at most 100 metrics per report query; every metric at once overflows URLs.
METRICS_PER_REQUEST = (1, 100)  # (lowest, highest and default)
# A century: for a TikTok stand-in whose clock is pinned to another day (tests, demos).
MAX_CLOCK_SKEW_HOURS = 876_000
DEFAULT_TIMEOUTS_PER_WINDOW = 5

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
        # One "type" list, not anyOf: singer-sdk appends a bare "null" to an anyOf, which its
        # own environment-variable parsing then trips over. Numbers are ids too (`[123]`).
        th.CustomType(
            {"type": ["array", "string", "integer"], "items": {"type": ["string", "integer"]}}
        ),
        title="Advertiser IDs",
        description=(
            "Advertisers to sync: a list of ids, or one comma-separated string. When omitted, "
            "every advertiser the token is authorized for (needs `app_id` and `secret`)."
        ),
    ),
    th.Property(
        "business_center_ids",
        th.CustomType(
            {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "string"},
                ]
            }
        ),
        title="Business Center IDs",
        description=(
            "Also sync the ad accounts of these Business Centers: a list of ids, one "
            'comma-separated string, or "all" for every Business Center the token can see.'
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
        th.IntegerType(minimum=0, maximum=28),
        default=7,
        description=(
            "Report days before the saved bookmark to read again on each run, because TikTok "
            "revises recent conversions (0-28)."
        ),
    ),
    th.Property(
        "report_window_days",
        th.IntegerType(minimum=1, maximum=30),
        default=30,
        description="Days per daily report request (1-30). Lower it if TikTok answers 40067.",
    ),
    th.Property(
        "max_clock_skew_hours",
        th.IntegerType(minimum=1, maximum=MAX_CLOCK_SKEW_HOURS),
        default=24,
        description=(
            "How far TikTok's clock (the HTTP Date of its answers) may be from this machine's "
            "before the tap distrusts it and takes this machine's 'today' instead "
            f"(1-{MAX_CLOCK_SKEW_HOURS})."
        ),
    ),
    th.Property(
        "service_type",
        th.StringType(allowed_values=["AUCTION", "RESERVATION"]),
        default="AUCTION",
        description="Ad service type of the predefined reports.",
    ),
    th.Property(
        "max_metrics_per_request",
        th.IntegerType(minimum=METRICS_PER_REQUEST[0], maximum=METRICS_PER_REQUEST[1]),
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
        th.NumberType(minimum=0, maximum=60),
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
        th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
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
        th.NumberType(exclusive_minimum=0, maximum=3600),
        default=300,
        description="Seconds to wait for one response (at most 3600).",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType(exclusive_minimum=0, maximum=1000),
        default=10,
        description="Client-side rate limit (TikTok's basic tier allows 10 per second).",
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType(minimum=1, maximum=32),
        default=4,
        description=(
            "Requests in flight at once (1-32): later pages of a listing, the next date windows "
            "and the next advertisers' first pages; the rate limit still applies. 4 keeps "
            "TikTok's basic tier busy at 100-300 ms per request."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=20),
        default=5,
        description="Retries of a transient failure (rate limit, server error, timeout), 0-20.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        description="User-Agent header sent to TikTok.",
    ),
    th.Property(
        "max_response_mb",
        th.IntegerType(minimum=1, maximum=4096),
        default=DEFAULT_MAX_RESPONSE_MB,
        description=(
            "Largest answer accepted, in MB once decompressed (1-4096); a larger one fails the "
            "run. TikTok's largest page (1,000 rows of every metric) is about 20 MB."
        ),
    ),
    th.Property(
        "max_paging_restarts",
        th.IntegerType(minimum=0, maximum=100),
        default=DEFAULT_PAGING_RESTARTS,
        description=(
            "Times a listing that shifts while it is paged is read again from page 1 (0-100)."
        ),
    ),
    th.Property(
        "max_timeouts_per_window",
        th.IntegerType(minimum=1, maximum=50),
        default=DEFAULT_TIMEOUTS_PER_WINDOW,
        description=(
            "Timed-out requests one report date window may make, its halves included, before "
            "the run fails (1-50); each request is sent at most 3 times."
        ),
    ),
).to_dict()


def config_schema() -> dict[str, Any]:
    """A fresh copy: singer-sdk appends its built-in settings to the tap's schema in place."""
    return copy.deepcopy(CONFIG_SCHEMA)


SECRET_SETTINGS = tuple(
    name for name, spec in CONFIG_SCHEMA["properties"].items() if spec.get("secret")
)
# TikTok's ads API began in 2016: a start before that only walks years of empty windows.
EARLIEST_REPORT_DAY = date(2016, 1, 1)


@dataclass(frozen=True)
class Settings:
    """Validated, normalised settings (defaults and bounds come from CONFIG_SCHEMA)."""

    access_token: str
    advertiser_ids: tuple[str, ...]
    api_url: str
    dates: DateSelection
    retry_backoff_seconds: float
    page_size: int
    request_timeout: float
    max_requests_per_second: float
    max_retries: int
    max_concurrent_requests: int
    attribution_window_days: int
    report_window_days: int
    max_metrics_per_request: int
    max_clock_skew_hours: int
    max_response_mb: int
    max_paging_restarts: int
    max_timeouts_per_window: int
    app_id: str | None = None
    business_center_ids: tuple[str, ...] | str = ()  # or "all"
    advertiser_shard: Shard | None = None
    secret: str | None = field(default=None, repr=False)
    include_deleted: bool = False
    skip_unauthorized_advertisers: bool = False
    skip_rejected_reports: bool = False
    service_type: str = "AUCTION"
    user_agent: str = "tap-tiktok-ads"

    def __repr__(self) -> str:  # never show the token or the secret
        return f"Settings(advertiser_ids={self.advertiser_ids!r}, api_url={self.api_url!r})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        token = config.get("access_token")
        if not isinstance(token, str) or not token.strip():
            raise ConfigError("access_token", "is required: set your TikTok access token")
        secret = config.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise ConfigError("secret", "must be a string (the app secret)")
        return cls(
            access_token=_credential(token, "access_token"),
            advertiser_ids=parse_advertiser_ids(config.get("advertiser_ids")),
            api_url=resolve_api_url(config.get("api_url"), bool(config.get("sandbox"))),
            dates=_dates(config),
            app_id=_optional_str(config.get("app_id")),
            business_center_ids=parse_business_center_ids(config.get("business_center_ids")),
            advertiser_shard=parse_shard(config.get("advertiser_shard")),
            secret=_credential(secret, "secret") if secret and secret.strip() else None,
            include_deleted=bool(config.get("include_deleted", False)),
            skip_unauthorized_advertisers=bool(config.get("skip_unauthorized_advertisers")),
            skip_rejected_reports=bool(config.get("skip_rejected_reports")),
            retry_backoff_seconds=float(bounded_number(config, "retry_backoff_seconds")),
            page_size=int(bounded_number(config, "page_size")),
            request_timeout=float(bounded_number(config, "request_timeout")),
            max_requests_per_second=float(bounded_number(config, "max_requests_per_second")),
            max_retries=int(bounded_number(config, "max_retries")),
            max_concurrent_requests=int(bounded_number(config, "max_concurrent_requests")),
            attribution_window_days=int(bounded_number(config, "attribution_window_days")),
            report_window_days=int(bounded_number(config, "report_window_days")),
            max_metrics_per_request=int(bounded_number(config, "max_metrics_per_request")),
            max_clock_skew_hours=int(bounded_number(config, "max_clock_skew_hours")),
            service_type=str(config.get("service_type") or "AUCTION"),
            user_agent=_user_agent(config.get("user_agent")),
            max_response_mb=int(bounded_number(config, "max_response_mb")),
            max_paging_restarts=int(bounded_number(config, "max_paging_restarts")),
            max_timeouts_per_window=int(bounded_number(config, "max_timeouts_per_window")),
        )


def parse_advertiser_ids(value: Any) -> tuple[str, ...]:
    """Accept a list or a comma-separated string of ids; JSON numbers are ids too."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, int) and not isinstance(items, bool):
        items = [items]
    if not isinstance(items, (list, tuple)):
        raise ConfigError("advertiser_ids", "must be a list of ids or a comma-separated string")
    ids: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise ConfigError("advertiser_ids", "each id must be a string of digits")
        text = str(item).strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()):
            raise ConfigError(
                "advertiser_ids",
                f"{text[:40]!r} is not an advertiser id (ids are strings of digits)",
            )
        if text not in ids:
            ids.append(text)
    return tuple(ids)


def parse_business_center_ids(value: Any) -> tuple[str, ...] | str:
    """A list or comma-separated string of ids (strings of digits), or ``"all"``.

    ``["all"]`` means "all" too: Meltano passes array settings only as lists.
    """
    only = value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value
    if isinstance(only, str) and only.strip().lower() == "all":
        return "all"
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError("business_center_ids", 'must be a list of ids, or "all"')
    ids = [str(item).strip() for item in items if str(item).strip()]
    wrong = [text for text in ids if not text.isdigit()]
    if wrong:
        raise ConfigError(
            "business_center_ids",
            f'{wrong[0]!r} is not a Business Center id (ids are strings of digits, or "all")',
        )
    return tuple(dict.fromkeys(ids))


def resolve_api_url(api_url: Any, sandbox: bool) -> str:
    """Default host by ``sandbox``; check the URL as requests will read it.

    The URL is parsed after requests' own preparation, so the host checked is the host
    requests connects to (``http://other:80\\@127.0.0.1/`` reaches ``other``, not loopback).
    Plain http is allowed only to loopback addresses: the token travels in a header.
    """
    if api_url is None or api_url == "":
        return SANDBOX_API_URL if sandbox else PRODUCTION_API_URL
    if not isinstance(api_url, str):
        raise ConfigError(
            "api_url", "must be a string, e.g. https://business-api.tiktok.com/open_api/v1.3"
        )
    text = api_url.strip()
    if any(char.isspace() or not char.isprintable() for char in text):
        raise ConfigError("api_url", "must not contain spaces or control characters")
    if "\\" in text or "@" in text:
        raise ConfigError("api_url", "must not contain user-info ('@') or backslashes")
    try:
        request = PreparedRequest()
        request.prepare_url(text, None)
        parsed = parse_url(request.url or "")
        port = parse_url(text).port  # requests drops a port of 0 instead of refusing it
    except (RequestException, LocationParseError, ValueError):
        raise ConfigError(
            "api_url", "is not a valid http(s) URL (check the host and the port, 1-65535)"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError("api_url", "must be an http(s) URL with a host")
    if parsed.auth or parsed.query is not None or parsed.fragment is not None:
        raise ConfigError("api_url", "must not hold user-info, a query string or a fragment")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError("api_url", "has an invalid port; use 1-65535")
    if parsed.scheme == "http" and not _is_loopback(parsed.host):
        raise ConfigError("api_url", "plain http is only allowed for loopback hosts; use https")
    return parsed.url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _optional_str(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _credential(value: str, name: str) -> str:
    """Tokens and secrets are printable ASCII; anything else is a copy-and-paste accident."""
    text = value.strip()
    if not (text.isascii() and text.isprintable()) or any(char.isspace() for char in text):
        raise ConfigError(
            name,
            "holds characters a TikTok credential never has (spaces, line breaks or "
            "non-ASCII); copy it again",
        )
    return text


def _user_agent(value: Any) -> str:
    default = "tap-tiktok-ads"
    if value is None or value == "":
        return default
    text = str(value).strip()
    if not (text.isascii() and text.isprintable()):
        raise ConfigError("user_agent", "must be printable ASCII on one line (an HTTP header)")
    return text or default


def _dates(config: Mapping[str, Any]) -> DateSelection:
    dates = DateSelection.from_config(config)
    if dates.start is not None and dates.start < EARLIEST_REPORT_DAY:
        raise ConfigError(
            dates.mode,
            f"{dates.start} is before {EARLIEST_REPORT_DAY}, when TikTok's ads API began; "
            "use a later day",
        )
    return dates


def bounded_number(config: Mapping[str, Any], name: str) -> int | float | Decimal:
    """A number setting checked against its schema: default, bounds and integer-ness.

    Config files are read with decimals: ``30.5`` arrives as ``Decimal('30.5')``.
    """
    spec = CONFIG_SCHEMA["properties"][name]
    value = config.get(name)
    if value is None:
        default: int | float = spec["default"]  # every number setting has one
        return default
    integer = "integer" in spec["type"]
    number = _as_number(value)
    if number is None or (integer and number != int(number)):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(name, f"must be {kind} {_bounds_text(spec)}")
    low, high = spec.get("minimum"), spec.get("maximum")
    above = spec.get("exclusiveMinimum")
    if (
        (low is not None and number < low)
        or (above is not None and number <= above)
        or (high is not None and number > high)
    ):
        raise ConfigError(name, f"must be {_bounds_text(spec)}, got {number}")
    return int(number) if integer else number


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _bounds_text(spec: Mapping[str, Any]) -> str:
    high = spec.get("maximum")
    if "exclusiveMinimum" in spec:
        return f"more than {spec['exclusiveMinimum']} and at most {high}"
    return f"from {spec.get('minimum')} to {high}"


# -- validation messages and environment variables -----------------------------------------

_Validator = th.extend_validator_with_defaults(th.DEFAULT_JSONSCHEMA_VALIDATOR)


def config_errors(config: dict[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """JSON-schema errors, one line each naming the setting; secret values are never shown.

    Like singer-sdk's own check, this fills in each setting's schema default.
    """
    return [_describe(error) for error in _Validator(schema).iter_errors(config)]


def numbers_given_as_text(config: Mapping[str, Any]) -> dict[str, Decimal]:
    """Fractional number settings that arrive as text (``"30.5"``), as numbers.

    Meltano cannot hand these settings on as numbers from environment variables: its `decimal`
    kind fails to write the tap's config file (Decimal is not JSON serialisable) and its
    `integer` kind refuses ``30.5``. So meltano.yml and the Hub definition declare them as
    `string`, and ``TAP_TIKTOK_ADS_REQUEST_TIMEOUT=30.5`` arrives as ``"30.5"``. Text that is
    not a finite number is left alone for validation to name.
    """
    found: dict[str, Decimal] = {}
    for name, spec in CONFIG_SCHEMA["properties"].items():
        value = config.get(name)
        if "number" not in spec.get("type", []) or not isinstance(value, str):
            continue
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            continue
        if number.is_finite():
            found[name] = number
    return found


def secret_values(config: Mapping[str, Any]) -> list[str]:
    """Every string held by a secret setting, however it is (mis)typed."""
    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            found.extend({value, value.strip()})
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            found.append(str(value))  # a secret mistyped as a number is still a secret
        elif isinstance(value, Mapping):
            for item in value.values():
                collect(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)

    for name in SECRET_SETTINGS:
        collect(config.get(name))
    return found


def _describe(error: ValidationError) -> str:
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    ).lstrip(".")
    top = error.absolute_path[0] if error.absolute_path else None
    if top in SECRET_SETTINGS:
        problem = _problem_without_value(error)
    else:
        problem = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return f"{path}: {problem}" if path else problem


def _problem_without_value(error: ValidationError) -> str:
    if error.validator == "type":
        expected = error.validator_value
        kinds = expected if isinstance(expected, list) else [expected]
        return f"must be of type {' or '.join(k for k in kinds if k != 'null')} (value not shown)"
    return f"fails the `{error.validator}` rule of the settings schema (value not shown)"


def _is_number_setting(spec: Mapping[str, Any]) -> bool:
    kinds = spec.get("type") or []
    return "number" in kinds or "integer" in kinds


def settings_from_environment(schema: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """``<PREFIX><SETTING>`` environment variables, read by each setting's schema type.

    singer-sdk's reader (used for the rest, and which also loads a ``.env`` file) passes a
    number setting on as text, which validation then refuses (``'2.5' is not of type
    'number'``), crashes on a non-integer for an integer setting, and reads one advertiser id
    as a JSON number. Those settings are read here.
    """
    properties = schema.get("properties", {})
    own = {name for name, spec in properties.items() if _is_number_setting(spec)}
    own.add("advertiser_ids")
    rest = {name: spec for name, spec in properties.items() if name not in own}
    config = sdk_environment_settings({**schema, "properties": rest}, prefix)
    for name in sorted(own & set(properties)):
        variable = prefix + name.upper()
        text = os.environ.get(variable, "").strip()
        if text:
            config[name] = _env_value(name, variable, text, properties[name])
    return config


def _env_value(name: str, variable: str, text: str, spec: Mapping[str, Any]) -> Any:
    if name == "advertiser_ids":
        if not text.startswith("["):
            return text  # one id, or ids separated by commas
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(name, f"{variable} is not a JSON list of ids") from None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ConfigError(name, f"{variable} must be a number")
    if "integer" in spec.get("type", []) and number == int(number):
        return int(number)
    return number
