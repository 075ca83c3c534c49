"""Turn report rows into flat, typed records, and build the matching JSON schema.

Converters are chosen once per stream (not per value) because a report sync handles hundreds
of thousands of rows: the tap skips singer-sdk's generic type conformance and relies on these.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from tap_tiktok_ads.dates import day_part, local_hour_to_rfc3339
from tap_tiktok_ads.placeholders import MISSING
from tap_tiktok_ads.reports.catalog import DIMENSIONS, Metric
from tap_tiktok_ads.reports.definitions import ReportDefinition

Converter = Callable[[Any], Any]
# Targets store integer metrics as 64-bit integers and number metrics as doubles (or read the
# JSON as doubles): a value beyond those ranges is written as null, with a warning, rather than
# as a JSON number that overflows (1e309 reads as infinity, or fails the target's load).
MAX_INTEGER = 2**63 - 1
MAX_NUMBER = Decimal(sys.float_info.max)

log = logging.getLogger("tap_tiktok_ads.records")


def to_integer(value: Any) -> int | None:
    """``"5830"`` -> 5830; ``"-"``, ``""``, null and anything not a whole number -> None."""
    if type(value) is str:
        try:
            number = int(value)  # the common case, by far; at most 4,300 digits
        except ValueError:
            pass
        else:
            if -MAX_INTEGER <= number <= MAX_INTEGER:
                return number
            _warn_out_of_range(value)
            return None
    elif type(value) is int:
        if -MAX_INTEGER <= value <= MAX_INTEGER:
            return value
        _warn_out_of_range(value)
        return None
    decimal = to_number(value)
    if decimal is None or decimal != decimal.to_integral_value():
        return None
    # Checked before int(): "1e2000000" is a small Decimal but a two-million-digit int.
    if not -MAX_INTEGER <= decimal <= MAX_INTEGER:
        _warn_out_of_range(value)
        return None
    return int(decimal)


def to_number(value: Any) -> Decimal | None:
    """Decimal keeps money exact (``"20.000"`` stays 20.000, never 19.999999)."""
    if value in MISSING or isinstance(value, (bool, list, dict)):
        return None
    text = value if type(value) is str else str(value)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        try:
            number = Decimal(text.replace(",", ""))  # "1,234"
        except (InvalidOperation, ValueError):
            return None
    if not number.is_finite():
        return None
    if (
        number.adjusted() < 308 or number.copy_abs() <= MAX_NUMBER
    ):  # the first test is the cheap one
        return number
    _warn_out_of_range(value)
    return None


def _warn_out_of_range(value: Any) -> None:
    text = str(value)
    shown = text if len(text) <= 40 else f"{text[:37]}..."
    log.warning("A metric value %s is out of range for its column; it is written as null", shown)


def to_string(value: Any) -> str | None:
    return None if value in MISSING else str(value)


CONVERTERS: dict[str, Converter] = {
    "integer": to_integer,
    "number": to_number,
    "string": to_string,
}


def metric_schema(metric: Metric) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [metric.json_type, "null"]}
    if metric.description:
        schema["description"] = metric.description
    return schema


def build_schema(definition: ReportDefinition) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "advertiser_id": {"type": "string", "description": "Advertiser account id."}
    }
    for name in definition.dimensions:
        properties[name] = dict(DIMENSIONS[name].json_schema)
    for metric in definition.available_metrics():
        properties.setdefault(metric.name, metric_schema(metric))
    return {"type": "object", "properties": properties, "additionalProperties": False}


class RecordBuilder:
    """Flattens ``{"dimensions": {...}, "metrics": {...}}`` rows of one request shape."""

    def __init__(
        self, definition: ReportDefinition, metrics: list[Metric], timezone: tzinfo
    ) -> None:
        self.timezone = timezone
        self.dimensions: list[tuple[str, Converter]] = [
            (name, self._dimension_converter(name)) for name in definition.dimensions
        ]
        self.metrics: list[tuple[str, Converter]] = [
            (metric.name, CONVERTERS[metric.json_type])
            for metric in metrics
            if metric.name not in definition.dimensions
        ]

    def _dimension_converter(self, name: str) -> Converter:
        if name == "stat_time_day":
            return day_part
        if name == "stat_time_hour":
            return lambda value: local_hour_to_rfc3339(str(value), self.timezone)
        return to_string

    def build(self, row: dict[str, Any], advertiser_id: str) -> dict[str, Any]:
        dimensions = row.get("dimensions") or {}
        metrics = row.get("metrics") or {}
        record = {name: convert(dimensions.get(name)) for name, convert in self.dimensions}
        record.update({name: convert(metrics.get(name)) for name, convert in self.metrics})
        record["advertiser_id"] = advertiser_id  # always the partition's, even if TikTok omits it
        return record
