"""Report definitions: the predefined report streams and the user's custom reports, as data.

A definition says what to ask ``/report/integrated/get/`` for; the stream class, the JSON
schema and the request parameters are all derived from it, so no report has code of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.reports.catalog import (
    DIMENSIONS,
    GRANULARITIES,
    LEVEL_ID_DIMENSION,
    LEVELS,
    REPORT_TYPES,
    SERVICE_TYPES,
    DataLevel,
    Metric,
    metrics_for,
    validate_report_definition,
)

TIME_DIMENSION = {"daily": "stat_time_day", "hourly": "stat_time_hour", "lifetime": None}
# Largest date span TikTok accepts per request, by granularity (its report documentation).
MAX_WINDOW_DAYS = {"daily": 30, "hourly": 1}
# Longest span TikTok accepts without a time dimension. AUDIENCE reports have no
# `query_lifetime`, so a lifetime AUDIENCE report covers this many days up to today.
UNDATED_SPAN_DAYS = 365
DEPRECATED_SERVICE_TYPE = "RESERVATION"
AUDIENCE_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "age_gender": ("age", "gender"),
    "country": ("country_code",),
    "platform": ("platform",),
    "province": ("province_id",),
    "language": ("language",),
}
STREAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ReportDefinition:
    """One report stream: report type, data level, granularity, breakdowns and metrics."""

    name: str
    report_type: str
    level: DataLevel
    granularity: str
    breakdowns: tuple[str, ...] = ()
    metrics: tuple[str, ...] | None = None  # None: every metric the catalog allows
    service_type: str | None = None  # None: the `service_type` setting

    @property
    def id_dimension(self) -> str:
        return LEVEL_ID_DIMENSION[self.level]

    @property
    def time_dimension(self) -> str | None:
        return TIME_DIMENSION[self.granularity]

    @property
    def dimensions(self) -> tuple[str, ...]:
        time = (self.time_dimension,) if self.time_dimension else ()
        return (self.id_dimension, *time, *self.breakdowns)

    @property
    def primary_keys(self) -> list[str]:
        keys = ["advertiser_id", *self.dimensions]
        return list(dict.fromkeys(keys))  # the advertiser level's id is advertiser_id itself

    @property
    def is_lifetime(self) -> bool:
        return self.granularity == "lifetime"

    @property
    def queries_lifetime(self) -> bool:
        """True when TikTok is asked for ``query_lifetime`` (BASIC only) instead of dates."""
        return self.is_lifetime and self.report_type == "BASIC"

    def available_metrics(self) -> list[Metric]:
        """The metrics this stream offers, in catalog order."""
        allowed = metrics_for(self.report_type, self.level, self.granularity)
        if self.metrics is None:
            return allowed
        wanted = set(self.metrics)
        return [metric for metric in allowed if metric.name in wanted]


def predefined_reports() -> list[ReportDefinition]:
    """Performance (BASIC) at every level and granularity; audience breakdowns, daily."""
    reports = [
        ReportDefinition(f"{level}_performance_{granularity}", "BASIC", level, granularity)
        for level in LEVELS
        for granularity in GRANULARITIES
    ]
    reports += [
        ReportDefinition(f"{level}_audience_{breakdown}_daily", "AUDIENCE", level, "daily", dims)
        for level in LEVELS
        for breakdown, dims in AUDIENCE_BREAKDOWNS.items()
    ]
    return reports


def deprecated_service_type_warning(
    definitions: Sequence[ReportDefinition], default_service_type: str
) -> str | None:
    """One line naming where the deprecated ``service_type`` RESERVATION is used, if anywhere."""
    if default_service_type == DEPRECATED_SERVICE_TYPE:
        where = "the `service_type` setting"
    else:
        names = [d.name for d in definitions if d.service_type == DEPRECATED_SERVICE_TYPE]
        if not names:
            return None
        where = f"custom report(s) {', '.join(names)}"
    return (
        f"service_type {DEPRECATED_SERVICE_TYPE} ({where}) is deprecated by TikTok for reports "
        "and may be refused or incomplete; it is still sent as configured (AUCTION is current)"
    )


def custom_reports(items: Any, taken_names: Sequence[str]) -> list[ReportDefinition]:
    """Parse and validate the ``custom_reports`` setting; one ConfigError lists every mistake."""
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        raise ConfigError("custom_reports", "must be a list of report objects")
    taken = set(taken_names)
    reports: list[ReportDefinition] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        where = f"[{index}]"
        try:
            report = parse_custom_report(item, where)
        except ConfigError as error:
            problems.append(str(error))
            continue
        if report.name in taken:
            problems.append(f"{where}.name: {report.name!r} is already a stream name")
        taken.add(report.name)
        problems += [
            f"{where}: {problem}"
            for problem in validate_report_definition(
                report.report_type,
                report.level,
                report.breakdowns,
                report.metrics or (),
                report.granularity,
            )
        ]
        reports.append(report)
    if problems:
        raise ConfigError("custom_reports", "; ".join(problems))
    return reports


def parse_custom_report(item: Any, where: str) -> ReportDefinition:
    if not isinstance(item, Mapping):
        raise ConfigError(where, "must be an object with name, report_type, data_level, ...")
    name = str(item.get("name") or "")
    if not STREAM_NAME.fullmatch(name):  # match() lets "abc\n" through ($ before a newline)
        raise ConfigError(
            f"{where}.name", "must be lowercase letters, digits and _ (starting with a letter)"
        )
    report_type = _choice(item, "report_type", REPORT_TYPES, where, default="BASIC")
    level = _choice(item, "data_level", LEVELS, where)
    granularity = _choice(item, "time_granularity", GRANULARITIES, where, default="daily")
    service_type = item.get("service_type")
    if service_type is not None:
        service_type = _choice(item, "service_type", SERVICE_TYPES, where)
    return ReportDefinition(
        name=name,
        report_type=report_type,
        level=cast(DataLevel, level),
        granularity=granularity,
        breakdowns=_breakdowns(item.get("dimensions"), where),
        metrics=_string_list(item.get("metrics"), f"{where}.metrics"),
        service_type=service_type,
    )


def _breakdowns(value: Any, where: str) -> tuple[str, ...]:
    """Extra dimensions; the ID and time dimensions follow from data_level and granularity."""
    names = _string_list(value, f"{where}.dimensions") or ()
    implied = set(LEVEL_ID_DIMENSION.values()) | {"stat_time_day", "stat_time_hour"}
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ConfigError(f"{where}.dimensions", f"unknown dimension(s): {', '.join(unknown)}")
    return tuple(name for name in names if name not in implied)


def _string_list(value: Any, setting: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(setting, "must be a list of names")
    return tuple(dict.fromkeys(value))


def _choice(
    item: Mapping[str, Any],
    key: str,
    choices: Sequence[str],
    where: str,
    default: str | None = None,
) -> str:
    value = item.get(key, default)
    if value is None:
        raise ConfigError(f"{where}.{key}", f"is required: one of {', '.join(choices)}")
    text = str(value)
    normalised = text.lower() if key in ("data_level", "time_granularity") else text.upper()
    if normalised not in choices:
        raise ConfigError(f"{where}.{key}", f"{text!r} is not one of {', '.join(choices)}")
    return normalised
