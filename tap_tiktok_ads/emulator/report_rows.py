"""Which rows a report holds: its entities, their ads, and the days, hours and audience buckets
in which those ads delivered.

A row is keyed ``(entity, days, hour, bucket)``: the entity of the row level (an advertiser,
campaign, ad group or ad), the local days it sums, the hour of an hourly report and the index
of its audience bucket. A row exists only if one of its ads delivered in it. Like TikTok,
reports leave TopView delivery out unless ``filtering`` asks for ``buying_type``
RESERVATION_TOP_VIEW (alone), and then hold TopView rows only; an advertiser's rows of both
kinds add up to all its ads. An ad-level report covering ``AD_CAP`` ads or more answers for the
newest ``AD_CAP`` only, and says so in a header.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from tap_tiktok_ads.emulator.regions import province_ids
from tap_tiktok_ads.emulator.report_request import ReportRequest, Selection
from tap_tiktok_ads.emulator.report_rules import DIMENSIONS, LEVEL_ID_DIMENSION, DataLevel
from tap_tiktok_ads.emulator.report_values import crc
from tap_tiktok_ads.emulator.world import World, parse_time
from tap_tiktok_ads.emulator.zones import account_zone

# TikTok's own words in the header of a report it cut to the newest ads.
ADS_THROTTLE_HEADER = "X-Tt-Ads-Throttle"
ADS_THROTTLE_MESSAGE = (
    "Number of ad ids is equal or more than 20k, only return the top 20k id's results, "
    "sorting by create time desc order."
)
AD_CAP = 20_000
LEVEL_TABLE = {
    "advertiser": "advertisers",
    "campaign": "campaigns",
    "ad_group": "adgroups",
    "ad": "ads",
}
DELIVERY_CACHE_SIZE = 2_000_000
QUERY_CACHE_SIZE = 32

# (entity, local days, hour or None, audience bucket index or None)
RowKey = tuple[dict[str, Any], tuple[date, ...], int | None, int | None]


class ReportRows:
    """The row keys of a report (cached per query) and which ads delivered on which days."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self._queries: OrderedDict[tuple[Any, ...], tuple[list[RowKey], bool]] = OrderedDict()
        self._created: dict[str, date] = {}
        self._delivery: dict[tuple[str, date], bool] = {}

    def row_keys(self, request: ReportRequest, ad_cap: int) -> tuple[list[RowKey], bool]:
        """The request's row keys in TikTok's order (entity id, then time, then breakdown
        value), and whether they were cut to the newest ``ad_cap`` ads."""
        days, local_now = request.days, request.local_now
        cache_key = (
            request.advertiser["advertiser_id"],
            request.row_level,
            tuple(request.dimensions),
            days[0] if days else None,
            days[-1] if days else None,
            request.selection,
            local_now.replace(minute=0, second=0, microsecond=0),
            ad_cap,
        )
        cached = self._queries.get(cache_key)
        if cached is not None:
            return cached
        keys = self._enumerate(request)
        answer = _newest_ads_only(keys, ad_cap) if request.row_level == "ad" else (keys, False)
        self._queries[cache_key] = answer
        while len(self._queries) > QUERY_CACHE_SIZE:
            self._queries.popitem(last=False)
        return answer

    def _enumerate(self, request: ReportRequest) -> list[RowKey]:
        level, dimensions, days = request.row_level, request.dimensions, request.days
        local_now = request.local_now
        keys: list[RowKey] = []
        has_time = any(DIMENSIONS[d].kind == "time" for d in dimensions)
        buckets = buckets_of(dimensions, request.advertiser)
        for entity in sorted(
            self._entities(request.advertiser, level, request.selection),
            key=lambda row: row[LEVEL_ID_DIMENSION[level]],
        ):
            ads = self.ads_of(entity, level, request.buying_types)
            if not has_time and not buckets:
                keys.append((entity, tuple(days), None, None))
                continue
            for day in days if has_time else [None]:
                span = [day] if day else days
                hours = _hours(day, local_now) if "stat_time_hour" in dimensions else [None]
                for hour in hours:
                    if not self._delivered(ads, span, local_now.date()):
                        continue
                    for bucket in range(len(buckets)) if buckets else [None]:
                        keys.append((entity, tuple(span), hour, bucket))
        return keys

    def _entities(
        self, advertiser: dict[str, Any], level: DataLevel, selection: Selection
    ) -> list[dict[str, Any]]:
        if level == "advertiser":
            return [advertiser]
        include_deleted, id_filters, buying_types = selection
        rows = self.world.rows(LEVEL_TABLE[level], advertiser["advertiser_id"])
        return [
            row
            for row in rows
            if (include_deleted or not self.world.is_deleted(row))
            and self.world.buying_type(row) in buying_types
            and all(row.get(key) in wanted for key, wanted in id_filters)
        ]

    def ads_of(
        self, entity: dict[str, Any], level: DataLevel, buying_types: frozenset[str]
    ) -> list[dict[str, Any]]:
        """The ads a row sums; an advertiser's only those of the buying types asked for (an
        entity below it has one buying type, checked in ``_entities``)."""
        if level == "ad":
            return [entity]
        key = LEVEL_ID_DIMENSION[level]
        ads = self.world.ads_under(key, entity[key])
        if level == "advertiser":
            return [ad for ad in ads if self.world.buying_type(ad) in buying_types]
        return ads

    def _delivered(self, ads: list[dict[str, Any]], days: Iterable[date], today: date) -> bool:
        # Every hour and every audience bucket of a delivering day gets impressions (the
        # smallest share of the smallest day is still >= 1), so the day decides.
        return any(self.delivers(ad, day, today) for ad in ads for day in days)

    def delivers(self, ad: dict[str, Any], day: date, today: date) -> bool:
        """Whether the ad ran on that local day: from its local creation day, most days."""
        created = self._created.get(ad["ad_id"])
        if created is None:
            zone = account_zone(self.world.by_id["advertisers"][ad["advertiser_id"]])
            created = parse_time(ad["create_time"]).astimezone(zone).date()
            self._created[ad["ad_id"]] = created
        if not created <= day <= today:
            return False
        key = (ad["ad_id"], day)
        runs = self._delivery.get(key)
        if runs is None:
            if len(self._delivery) > DELIVERY_CACHE_SIZE:
                self._delivery.clear()
            runs = self._delivery[key] = crc(self.seed, ad["ad_id"], day.toordinal()) % 11 != 0
        return runs


def _newest_ads_only(keys: list[RowKey], ad_cap: int) -> tuple[list[RowKey], bool]:
    """TikTok's cap: from ``ad_cap`` ads on, only the newest ``ad_cap`` ads' rows."""
    ads = {key[0]["ad_id"]: key[0] for key in keys}
    if len(ads) < ad_cap:
        return keys, False
    newest = sorted(ads.values(), key=lambda ad: (ad["create_time"], ad["ad_id"]))
    kept = {ad["ad_id"] for ad in newest[-ad_cap:]}
    return [key for key in keys if key[0]["ad_id"] in kept], True


def _hours(day: date | None, local_now: datetime) -> list[int]:
    last = local_now.hour if day == local_now.date() else 23
    return list(range(last + 1))


def buckets_of(dimensions: list[str], advertiser: dict[str, Any]) -> list[tuple[str, ...]]:
    """The audience buckets of a report: every combination of its breakdowns' values."""
    audience = [d for d in dimensions if DIMENSIONS[d].kind in ("audience", "extra")]
    if not audience:
        return []
    choices = [_values(name, advertiser) for name in audience]
    combos: list[tuple[str, ...]] = [()]
    for values in choices:
        combos = [(*combo, value) for combo in combos for value in values]
    return combos


def _values(name: str, advertiser: dict[str, Any]) -> tuple[str, ...]:
    values = DIMENSIONS[name].values
    if name == "country_code":  # an account delivers in a few countries, its own first
        home = advertiser["country"]
        return (home, *[c for c in values if c != home][:2])
    if name == "province_id":  # the regions of the account's home country
        return province_ids(advertiser["country"])
    return values or tuple(f"{name.upper()}_{i}" for i in range(1, 4))
