"""``/report/integrated/get/`` for the emulator: TikTok's rules and consistent metrics.

Three steps, one module each: ``report_request`` checks the request like TikTok,
``report_rows`` decides which rows exist (entities, days, hours, audience buckets, TopView,
the ad cap) and ``report_values`` generates and formats their numbers. Every level sums its
ads, so hourly rows add up to the day, days to lifetime, ads to their ad group, campaign and
advertiser, and audience buckets to the total.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tap_tiktok_ads.emulator.answers import page_info
from tap_tiktok_ads.emulator.report_request import ReportError, ReportRequest, parse_request
from tap_tiktok_ads.emulator.report_rows import (
    AD_CAP,
    ADS_THROTTLE_HEADER,
    ADS_THROTTLE_MESSAGE,
    ReportRows,
    RowKey,
    buckets_of,
)
from tap_tiktok_ads.emulator.report_rules import DIMENSIONS
from tap_tiktok_ads.emulator.report_values import ReportValues
from tap_tiktok_ads.emulator.world import World

__all__ = [
    "ADS_THROTTLE_HEADER",
    "ADS_THROTTLE_MESSAGE",
    "AD_CAP",
    "ReportAnswer",
    "ReportEngine",
    "ReportError",
]


class ReportAnswer(dict[str, Any]):
    """``data`` of a report page, plus the HTTP headers TikTok sends with it."""

    def __init__(self, data: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(data)
        self.headers = headers


class ReportEngine:
    def __init__(self, world: World, seed: int, ad_cap: int = AD_CAP) -> None:
        self.world = world
        self.seed = seed
        # An ad-level query covering this many ads or more answers for the newest ones only.
        self.ad_cap = ad_cap
        self.rows = ReportRows(world, seed)
        self.values = ReportValues(world, seed, self.rows.delivers)

    def query(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        """``data`` of ``/report/integrated/get/``; raises ReportError with TikTok's codes.

        Rows are ordered by entity id, then time, then breakdown value (the catalog's order).
        """
        request = parse_request(params, self.world, now)
        keys, capped = self.rows.row_keys(request, self.ad_cap)
        page, page_size = request.page, request.page_size
        rows = [self._row(key, request) for key in keys[(page - 1) * page_size : page * page_size]]
        data = {"list": rows, "page_info": page_info(page, page_size, len(keys))}
        return ReportAnswer(data, {ADS_THROTTLE_HEADER: ADS_THROTTLE_MESSAGE} if capped else {})

    def _row(self, key: RowKey, request: ReportRequest) -> dict[str, Any]:
        entity, days, hour, bucket = key
        ads = self.rows.ads_of(entity, request.row_level, request.buying_types)
        advertiser = self.world.by_id["advertisers"][entity["advertiser_id"]]
        combos = tuple(buckets_of(request.dimensions, advertiser))
        total = self.values.totals(ads, days, hour, combos, bucket, request.local_now)
        labels = combos[bucket] if bucket is not None else None
        return {
            "dimensions": _row_dimensions(entity, request.dimensions, days, hour, labels),
            "metrics": self.values.metrics(request.metrics, entity, total),
        }


def _row_dimensions(
    entity: dict[str, Any],
    dimensions: list[str],
    days: tuple[Any, ...],
    hour: int | None,
    bucket: tuple[str, ...] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    breakdowns = iter(bucket or ())
    for name in dimensions:
        if name == "stat_time_day":
            out[name] = f"{days[0].isoformat()} 00:00:00"
        elif name == "stat_time_hour":
            out[name] = f"{days[0].isoformat()} {hour:02d}:00:00"
        elif DIMENSIONS[name].kind == "id":
            out[name] = entity[name]
        else:
            out[name] = next(breakdowns)
    return out
