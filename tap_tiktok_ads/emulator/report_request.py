"""Checking a ``/report/integrated/get/`` request the way TikTok does, into a ``ReportRequest``.

The checks run in TikTok's order (report type, advertiser, level, dimensions, metrics, dates,
paging, filters), so a request with several mistakes is refused for the first one, always the
same. What each report type and level accepts comes from the emulator's own rule table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tap_tiktok_ads.emulator.answers import ApiError
from tap_tiktok_ads.emulator.details import (
    BUYING_TYPES,
    DEFAULT_BUYING_TYPES,
    TOP_VIEW,
    TOP_VIEW_NOT_ALONE,
)
from tap_tiktok_ads.emulator.report_rules import (
    AUDIENCE_HOUR_MESSAGE,
    AUDIENCE_PAIRS,
    DIMENSIONS,
    LEVEL_ID_DIMENSION,
    METRICS,
    SPAN_DAY_MESSAGE,
    SPAN_HOUR_MESSAGE,
    DataLevel,
    Metric,
    level_of_api_data_level,
)
from tap_tiktok_ads.emulator.world import World
from tap_tiktok_ads.emulator.zones import account_zone

# The report engine's name for TikTok's error answer (one class for every endpoint).
ReportError = ApiError

# (deleted too, id filters, buying types)
Selection = tuple[bool, tuple[tuple[str, frozenset[str]], ...], frozenset[str]]
STATUS_FIELDS = {"campaign_status", "adgroup_status", "ad_status"}
ID_FILTER_FIELDS = {"campaign_ids": "campaign_id", "adgroup_ids": "adgroup_id", "ad_ids": "ad_id"}


@dataclass(frozen=True)
class ReportRequest:
    """A request TikTok accepts, in the terms the rows and values need."""

    report_type: str
    advertiser: dict[str, Any]
    level: DataLevel
    dimensions: list[str]
    lifetime: bool
    granularity: str
    metrics: list[Metric]
    # The account's local time of the request and the local days the report covers.
    local_now: datetime
    days: list[date]
    page: int
    page_size: int
    selection: Selection

    @property
    def row_level(self) -> DataLevel:
        """Without an ID dimension the whole account is one entity (AUDIENCE reports allow it)."""
        return self.level if LEVEL_ID_DIMENSION[self.level] in self.dimensions else "advertiser"

    @property
    def buying_types(self) -> frozenset[str]:
        return self.selection[2]


def parse_request(params: dict[str, Any], world: World, now: datetime) -> ReportRequest:
    """The checked request; raises ReportError with TikTok's codes for the first mistake."""
    report_type = params.get("report_type")
    if report_type not in ("BASIC", "AUDIENCE"):
        raise ReportError(40002, f"report_type: invalid value {report_type!r}")
    advertiser = world.advertiser(str(params.get("advertiser_id")))
    if advertiser is None:
        raise ReportError(40001, "No permission to operate advertiser")
    level = _level(params)
    dimensions = _dimensions(params, report_type, level)
    lifetime = params.get("query_lifetime") is True
    if lifetime and report_type != "BASIC":
        raise ReportError(40002, "query_lifetime: only supported by report_type BASIC")
    granularity = _granularity(dimensions)
    metrics = _metrics(params, report_type, level, granularity, dimensions)
    local_now = now.astimezone(account_zone(advertiser))
    days = _days_of(params, dimensions, lifetime, local_now.date(), world.history_days)
    page, page_size = _paging(params)
    return ReportRequest(
        report_type=report_type,
        advertiser=advertiser,
        level=level,
        dimensions=dimensions,
        lifetime=lifetime,
        granularity=granularity,
        metrics=metrics,
        local_now=local_now,
        days=days,
        page=page,
        page_size=page_size,
        selection=_selection(params.get("filtering")),
    )


def _level(params: dict[str, Any]) -> DataLevel:
    try:
        return level_of_api_data_level(str(params.get("data_level")))
    except ValueError:
        raise ReportError(
            40002, f"data_level: invalid value {params.get('data_level')!r}"
        ) from None


def _dimensions(params: dict[str, Any], report_type: str, level: DataLevel) -> list[str]:
    dimensions = params.get("dimensions")
    if not isinstance(dimensions, list) or not dimensions:
        raise ReportError(40002, "Missing required field(s): dimensions")
    for name in dimensions:
        if name not in DIMENSIONS:
            raise ReportError(40002, f"dimensions: invalid dimension {name!r}")
    id_dimension = LEVEL_ID_DIMENSION[level]
    ids = [d for d in dimensions if DIMENSIONS[d].kind == "id"]
    if ids and ids != [id_dimension]:
        raise ReportError(40002, f"dimensions: {ids} does not match data_level")
    audience = [d for d in dimensions if DIMENSIONS[d].kind == "audience"]
    if report_type == "AUDIENCE":
        if "stat_time_hour" in dimensions:
            raise ReportError(40002, AUDIENCE_HOUR_MESSAGE)
        if len(audience) > 1 and frozenset(audience) not in AUDIENCE_PAIRS:
            raise ReportError(
                40002, "Only one audience dimension is allowed, except age and gender"
            )
    elif any("BASIC" not in DIMENSIONS[d].report_types for d in audience):
        raise ReportError(40002, "dimensions: audience dimensions need report_type AUDIENCE")
    if not ids and report_type == "BASIC":
        raise ReportError(40002, "dimensions: BASIC reports need an ID dimension")
    if len(set(dimensions)) != len(dimensions) or len(ids) > 1:
        raise ReportError(40002, "dimensions: each dimension at most once, one ID dimension")
    if {"stat_time_day", "stat_time_hour"} <= set(dimensions):
        raise ReportError(40002, "dimensions: use stat_time_day or stat_time_hour, not both")
    return list(dimensions)


def _granularity(dimensions: list[str]) -> str:
    if "stat_time_hour" in dimensions:
        return "hourly"
    if "stat_time_day" in dimensions:
        return "daily"
    return "lifetime"  # totals over the range or the whole life


def _metrics(
    params: dict[str, Any],
    report_type: str,
    level: DataLevel,
    granularity: str,
    dimensions: list[str],
) -> list[Metric]:
    names = params.get("metrics") or ["spend", "impressions"]
    if not isinstance(names, list):
        raise ReportError(40002, "metrics: must be a JSON array")
    has_id = any(DIMENSIONS[d].kind == "id" for d in dimensions)
    metrics = []
    for name in names:
        metric = METRICS.get(name)
        if metric is None:
            raise ReportError(40002, f"metrics: invalid metric {name!r}")
        if report_type not in metric.report_types or level not in metric.levels:
            raise ReportError(
                40002, f"metrics: {name!r} is not supported for this data_level/report_type"
            )
        if granularity not in metric.granularities:
            raise ReportError(40002, f"metrics: {name!r} is not supported {granularity}")
        if metric.kind == "attribute" and not has_id:
            raise ReportError(40002, f"metrics: {name!r} needs an ID dimension")
        metrics.append(metric)
    return metrics


def _days_of(
    params: dict[str, Any],
    dimensions: list[str],
    lifetime: bool,
    today: date,
    history_days: int,
) -> list[date]:
    """The local days the report covers: the asked range within the account's history."""
    first_day = today - timedelta(days=history_days + 1)
    if lifetime:
        if any(DIMENSIONS[d].kind != "id" for d in dimensions):
            raise ReportError(40002, "query_lifetime only supports ID dimensions")
        return _range(first_day, today)
    try:
        start = date.fromisoformat(str(params["start_date"]))
        end = date.fromisoformat(str(params["end_date"]))
    except (KeyError, ValueError):
        raise ReportError(40002, "Missing required field(s): start_date, end_date") from None
    if end < start:
        raise ReportError(40002, "end_date must be later than start_date")
    span = (end - start).days + 1
    if "stat_time_hour" in dimensions and span > 1:
        raise ReportError(40002, SPAN_HOUR_MESSAGE)
    if "stat_time_day" in dimensions and span > 30:
        raise ReportError(40002, SPAN_DAY_MESSAGE)
    if span > 365:
        raise ReportError(40002, "max time span is 365 days")
    return _range(max(start, first_day), min(end, today))


def _range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _paging(params: dict[str, Any]) -> tuple[int, int]:
    try:
        page = int(params.get("page", 1))
        page_size = int(params.get("page_size", 10))
    except (TypeError, ValueError):
        raise ReportError(40002, "page and page_size must be integers") from None
    if page < 1 or not 1 <= page_size <= 1000:
        raise ReportError(40002, "page_size: must be between 1 and 1000")
    return page, page_size


def _selection(filtering: Any) -> Selection:
    """Deleted entities included? (``<level>_status`` IN STATUS_ALL), ``*_ids`` IN filters and
    the buying types whose delivery the report holds (``buying_type``)."""
    if filtering is None:
        return False, (), frozenset(DEFAULT_BUYING_TYPES)
    if not isinstance(filtering, list) or not all(isinstance(f, dict) for f in filtering):
        raise ReportError(40002, "filtering: must be a JSON array of filter objects")
    include_deleted = False
    id_filters: list[tuple[str, frozenset[str]]] = []
    buying_types = frozenset(DEFAULT_BUYING_TYPES)
    for item in filtering:
        name = item.get("field_name")
        values = _filter_values(item)
        if name in STATUS_FIELDS:
            include_deleted = include_deleted or "STATUS_ALL" in values
        elif name in ID_FILTER_FIELDS:
            id_filters.append((ID_FILTER_FIELDS[name], frozenset(values)))
        elif name == "buying_type":
            buying_types = _buying_types(values)
    return include_deleted, tuple(id_filters), buying_types


def _buying_types(values: list[str]) -> frozenset[str]:
    """TikTok's reports leave TopView delivery out unless ``buying_type`` asks for
    RESERVATION_TOP_VIEW, and then hold TopView rows only. TikTok does not say whether TopView
    may be listed with other values here; like ``buying_types`` of the entity listings, it
    must come alone."""
    unknown = [value for value in values if value not in BUYING_TYPES]
    if unknown or not values:
        raise ReportError(40002, f"filtering: buying_type: invalid value {values!r}")
    if TOP_VIEW in values and len(set(values)) > 1:
        raise ReportError(40002, TOP_VIEW_NOT_ALONE)
    return frozenset(values)


def _filter_values(item: dict[str, Any]) -> list[str]:
    raw = item.get("filter_value")
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise ReportError(
            40002, f"filtering: filter_value of {item.get('field_name')} is not valid JSON"
        ) from None
    if not isinstance(values, list):
        values = [values]
    return [str(v) for v in values]
