"""``/report/integrated/get/`` for the emulator: TikTok's rules and consistent metrics.

Additive metrics are generated per (ad, local day) from a hash, so they are deterministic and
need no storage; hours and audience buckets split the day's integers exactly, and every higher
level sums its ads. So hourly rows add up to the day, days to lifetime, ads to their ad group,
campaign and advertiser, and audience buckets to the total. Money is kept in cents until the
string goes out. Conversion-like metrics of the last days grow as the clock moves (TikTok
revises them), which is what the tap's attribution window is for.
"""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from tap_tiktok_ads.emulator.answers import ApiError, page_info
from tap_tiktok_ads.emulator.regions import province_ids
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
from tap_tiktok_ads.emulator.world import World, parse_time
from tap_tiktok_ads.emulator.zones import account_zone

# The report engine's name for TikTok's error answer (one class for every endpoint).
ReportError = ApiError


MATURING = (
    "conversion",
    "result",
    "purchase",
    "payment",
    "registration",
    "install",
    "shopping",
    "lead",
    "add_to_cart",
)
MATURITY_DAYS = 7
STATUS_FIELDS = {"campaign_status", "adgroup_status", "ad_status"}
LEVEL_TABLE = {
    "advertiser": "advertisers",
    "campaign": "campaigns",
    "ad_group": "adgroups",
    "ad": "ads",
}
# Parent metric and the range of its share, in thousandths, for generated counts.
SHARES: dict[str, tuple[str, int, int]] = {
    "gross_impressions": ("impressions", 1000, 1080),
    "clicks": ("impressions", 8, 30),
    "reach": ("impressions", 650, 900),
    "video_play_actions": ("impressions", 300, 600),
    "video_watched_2s": ("video_play_actions", 500, 800),
    "video_watched_6s": ("video_watched_2s", 400, 700),
    "video_views_p25": ("video_play_actions", 400, 600),
    "video_views_p50": ("video_views_p25", 500, 800),
    "video_views_p75": ("video_views_p50", 500, 800),
    "video_views_p100": ("video_views_p75", 400, 800),
    "engaged_view": ("video_watched_6s", 300, 600),
    "engaged_view_15s": ("engaged_view", 300, 600),
    "paid_engaged_view": ("engaged_view", 800, 1000),
    "total_landing_page_view": ("clicks", 500, 900),
    "total_pageview": ("clicks", 800, 1500),
}
SPLIT_CACHE_SIZE = 200_000
DELIVERY_CACHE_SIZE = 2_000_000


def crc(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def split(total: int, weights: Sequence[int]) -> list[int]:
    """Split an integer in proportion to weights, exactly (largest remainder)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    for index in range(total - sum(shares)):
        shares[index % len(shares)] += 1
    return shares


# TikTok's own words in the header of a report it cut to the newest ads.
ADS_THROTTLE_HEADER = "X-Tt-Ads-Throttle"
ADS_THROTTLE_MESSAGE = (
    "Number of ad ids is equal or more than 20k, only return the top 20k id's results, "
    "sorting by create time desc order."
)
AD_CAP = 20_000


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
        self._days: OrderedDict[tuple[str, date, date], DayValues] = OrderedDict()
        self._queries: OrderedDict[tuple[Any, ...], tuple[list[tuple[Any, ...]], bool]] = (
            OrderedDict()
        )
        self._created: dict[str, date] = {}
        self._formatters: dict[str, Formatter] = {}
        self._combo_cache: dict[tuple[Any, ...], tuple[tuple[str, ...], ...]] = {}
        self._delivery: dict[tuple[str, date], bool] = {}

    # -- request handling -----------------------------------------------------------------

    def query(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        """``data`` of ``/report/integrated/get/``; raises ReportError with TikTok's codes.

        Rows are ordered by entity id, then time, then breakdown value (the catalog's order).
        """
        report_type = params.get("report_type")
        if report_type not in ("BASIC", "AUDIENCE"):
            raise ReportError(40002, f"report_type: invalid value {report_type!r}")
        advertiser = self.world.advertiser(str(params.get("advertiser_id")))
        if advertiser is None:
            raise ReportError(40001, "No permission to operate advertiser")
        level = self._level(params)
        dimensions = self._dimensions(params, report_type, level)
        lifetime = params.get("query_lifetime") is True
        if lifetime and report_type != "BASIC":
            raise ReportError(40002, "query_lifetime: only supported by report_type BASIC")
        granularity = _granularity(dimensions, lifetime)
        metrics = self._metrics(params, report_type, level, granularity, dimensions)
        local_now = now.astimezone(account_zone(advertiser))
        days = self._days_of(params, dimensions, lifetime, local_now.date())
        page, page_size = self._paging(params)
        selection = _selection(params.get("filtering"))
        # Without an ID dimension the whole account is one entity (AUDIENCE reports allow it).
        row_level = level if LEVEL_ID_DIMENSION[level] in dimensions else "advertiser"
        key = (
            advertiser["advertiser_id"],
            row_level,
            tuple(dimensions),
            days[0] if days else None,
            days[-1] if days else None,
            selection,
            local_now.replace(minute=0, second=0, microsecond=0),
        )
        keys, capped = self._row_keys(
            key, advertiser, row_level, dimensions, days, selection, local_now
        )
        chunk = keys[(page - 1) * page_size : page * page_size]
        rows = [self._row(k, row_level, dimensions, metrics, local_now) for k in chunk]
        data = {"list": rows, "page_info": page_info(page, page_size, len(keys))}
        return ReportAnswer(data, {ADS_THROTTLE_HEADER: ADS_THROTTLE_MESSAGE} if capped else {})

    def _level(self, params: dict[str, Any]) -> DataLevel:
        try:
            return level_of_api_data_level(str(params.get("data_level")))
        except ValueError:
            raise ReportError(
                40002, f"data_level: invalid value {params.get('data_level')!r}"
            ) from None

    def _dimensions(self, params: dict[str, Any], report_type: str, level: DataLevel) -> list[str]:
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

    def _metrics(
        self,
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
        self, params: dict[str, Any], dimensions: list[str], lifetime: bool, today: date
    ) -> list[date]:
        first_day = today - timedelta(days=self.world.history_days + 1)
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

    @staticmethod
    def _paging(params: dict[str, Any]) -> tuple[int, int]:
        try:
            page = int(params.get("page", 1))
            page_size = int(params.get("page_size", 10))
        except (TypeError, ValueError):
            raise ReportError(40002, "page and page_size must be integers") from None
        if page < 1 or not 1 <= page_size <= 1000:
            raise ReportError(40002, "page_size: must be between 1 and 1000")
        return page, page_size

    # -- rows -----------------------------------------------------------------------------

    def _entities(
        self, advertiser: dict[str, Any], level: DataLevel, selection: Selection
    ) -> list[dict[str, Any]]:
        if level == "advertiser":
            return [advertiser]
        include_deleted, id_filters = selection
        rows = self.world.rows(LEVEL_TABLE[level], advertiser["advertiser_id"])
        return [
            row
            for row in rows
            if (include_deleted or not self.world.is_deleted(row))
            and all(row.get(key) in wanted for key, wanted in id_filters)
        ]

    def _ads_of(self, entity: dict[str, Any], level: DataLevel) -> list[dict[str, Any]]:
        if level == "ad":
            return [entity]
        key = LEVEL_ID_DIMENSION[level]
        return self.world.ads_under(key, entity[key])

    def _row_keys(
        self,
        cache_key: tuple[Any, ...],
        advertiser: dict[str, Any],
        level: DataLevel,
        dimensions: list[str],
        days: list[date],
        selection: Selection,
        local_now: datetime,
    ) -> tuple[list[tuple[Any, ...]], bool]:
        """The query's row keys, and whether they were cut to the newest ``ad_cap`` ads."""
        cache_key = (*cache_key, self.ad_cap)
        cached = self._queries.get(cache_key)
        if cached is not None:
            return cached
        keys: list[tuple[Any, ...]] = []
        has_time = any(DIMENSIONS[d].kind == "time" for d in dimensions)
        buckets = self._buckets(dimensions, advertiser)
        for entity in sorted(
            self._entities(advertiser, level, selection),
            key=lambda row: row[LEVEL_ID_DIMENSION[level]],
        ):
            ads = self._ads_of(entity, level)
            if not has_time and not buckets:
                keys.append((entity, tuple(days), None, None))
                continue
            for day in days if has_time else [None]:
                span = [day] if day else days
                hours = self._hours(day, local_now) if "stat_time_hour" in dimensions else [None]
                for hour in hours:
                    if not self._delivered(ads, span, local_now.date()):
                        continue
                    for bucket in range(len(buckets)) if buckets else [None]:
                        keys.append((entity, tuple(span), hour, bucket))
        answer = self._newest_ads_only(keys) if level == "ad" else (keys, False)
        self._queries[cache_key] = answer
        while len(self._queries) > 32:
            self._queries.popitem(last=False)
        return answer

    def _newest_ads_only(self, keys: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], bool]:
        """TikTok's cap: from ``ad_cap`` ads on, only the newest ``ad_cap`` ads' rows."""
        ads = {key[0]["ad_id"]: key[0] for key in keys}
        if len(ads) < self.ad_cap:
            return keys, False
        newest = sorted(ads.values(), key=lambda ad: (ad["create_time"], ad["ad_id"]))
        kept = {ad["ad_id"] for ad in newest[-self.ad_cap :]}
        return [key for key in keys if key[0]["ad_id"] in kept], True

    @staticmethod
    def _hours(day: date | None, local_now: datetime) -> list[int]:
        last = local_now.hour if day == local_now.date() else 23
        return list(range(last + 1))

    def _combos(self, dimensions: list[str], advertiser_id: str) -> tuple[tuple[str, ...], ...]:
        key = (tuple(dimensions), advertiser_id)
        combos = self._combo_cache.get(key)
        if combos is None:
            advertiser = self.world.by_id["advertisers"][advertiser_id]
            combos = self._combo_cache[key] = tuple(self._buckets(dimensions, advertiser))
        return combos

    def _buckets(self, dimensions: list[str], advertiser: dict[str, Any]) -> list[tuple[str, ...]]:
        audience = [d for d in dimensions if DIMENSIONS[d].kind in ("audience", "extra")]
        if not audience:
            return []
        choices = [self._values(name, advertiser) for name in audience]
        combos: list[tuple[str, ...]] = [()]
        for values in choices:
            combos = [(*combo, value) for combo in combos for value in values]
        return combos

    @staticmethod
    def _values(name: str, advertiser: dict[str, Any]) -> tuple[str, ...]:
        values = DIMENSIONS[name].values
        if name == "country_code":  # an account delivers in a few countries, its own first
            home = advertiser["country"]
            return (home, *[c for c in values if c != home][:2])
        if name == "province_id":  # the regions of the account's home country
            return province_ids(advertiser["country"])
        return values or tuple(f"{name.upper()}_{i}" for i in range(1, 4))

    def _delivered(self, ads: list[dict[str, Any]], days: Iterable[date], today: date) -> bool:
        # Every hour and every audience bucket of a delivering day gets impressions (the
        # smallest share of the smallest day is still >= 1), so the day decides.
        return any(self._delivers(ad, day, today) for ad in ads for day in days)

    def _delivers(self, ad: dict[str, Any], day: date, today: date) -> bool:
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

    def _row(
        self,
        key: tuple[Any, ...],
        level: DataLevel,
        dimensions: list[str],
        metrics: list[Metric],
        local_now: datetime,
    ) -> dict[str, Any]:
        entity, days, hour, bucket = key
        ads = self._ads_of(entity, level)
        combos = tuple(
            self._buckets(dimensions, self.world.by_id["advertisers"][entity["advertiser_id"]])
        )
        simple = len(ads) == 1 and len(days) == 1 and hour is None and bucket is None
        if simple and days[0] != local_now.date():
            # One ad, one full day: the day's own values, no splitting or summing.
            total = self._ad_day(ads[0], days[0], local_now).get
        else:
            total = self._summer(ads, days, hour, combos, bucket, local_now)
        labels = combos[bucket] if bucket is not None else None
        out_dimensions = self._row_dimensions(entity, dimensions, days, hour, labels)
        out_metrics = {m.name: self._formatter(m)(total, entity) for m in metrics}
        return {"dimensions": out_dimensions, "metrics": out_metrics}

    def _summer(
        self,
        ads: list[dict[str, Any]],
        days: tuple[date, ...],
        hour: int | None,
        combos: tuple[tuple[str, ...], ...],
        bucket: int | None,
        local_now: datetime,
    ) -> Callable[[str], int]:
        """A memoised ``total(metric)`` over the row's ads, days, hour and bucket."""
        sums: dict[str, int] = {}

        def total(name: str) -> int:
            if name not in sums:
                sums[name] = sum(
                    self._ad_value(ad, day, name, hour, combos, bucket, local_now)
                    for ad in ads
                    for day in days
                )
            return sums[name]

        return total

    @staticmethod
    def _row_dimensions(
        entity: dict[str, Any],
        dimensions: list[str],
        days: tuple[date, ...],
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

    def _formatter(self, metric: Metric) -> Formatter:
        formatter = self._formatters.get(metric.name)
        if formatter is None:
            formatter = self._formatters[metric.name] = self._make_formatter(metric)
        return formatter

    def _make_formatter(self, metric: Metric) -> Formatter:
        """How one metric turns the row's totals (and entity) into TikTok's string."""
        name, decimals = metric.name, metric.decimals
        if "secondary_goal" in name:
            return lambda total, entity: None  # TikTok answers null without a secondary goal
        if metric.kind == "count":
            return lambda total, entity: str(total(name))
        if metric.kind == "money":
            return lambda total, entity: money(total(name), decimals)
        if metric.kind == "ratio":
            return _ratio_formatter(metric)
        if metric.kind == "average":
            return lambda total, entity: _average(total("impressions"), name, decimals)
        return lambda total, entity: self._attribute(name, entity)

    def _attribute(self, name: str, entity: dict[str, Any]) -> Any:
        """An attribute metric from the row's entity or its parents (``-`` if none has it)."""
        if name == "tt_app_id":
            return 0  # TikTok answers a bare 0 here (reference §5)
        field = ATTRIBUTE_FIELDS.get(name, name)
        for row in self._lineage(entity):
            if field in row:
                value = row[field]
                return "-" if value is None else value
        return "-"

    def _lineage(self, entity: dict[str, Any]) -> list[dict[str, Any]]:
        by_id = self.world.by_id
        parents = [
            by_id[table].get(entity.get(key, ""), {})
            for table, key in (("adgroups", "adgroup_id"), ("campaigns", "campaign_id"))
        ]
        return [entity, *parents, by_id["advertisers"][entity["advertiser_id"]]]

    # -- generated values -----------------------------------------------------------------

    def _ad_value(
        self,
        ad: dict[str, Any],
        day: date,
        name: str,
        hour: int | None,
        combos: tuple[tuple[str, ...], ...],
        bucket: int | None,
        local_now: datetime,
    ) -> int:
        values = self._ad_day(ad, day, local_now)
        if not values.delivers:
            return 0
        # A partial today counts the hours up to the current one, like TikTok's live data.
        last_hour = local_now.hour if day == local_now.date() else 23
        return values.share(name, hour, last_hour, combos, bucket)

    def _ad_day(self, ad: dict[str, Any], day: date, local_now: datetime) -> DayValues:
        """Additive values of one ad on one full local day, as of ``local_now``."""
        today = local_now.date()
        key = (ad["ad_id"], day, today)
        cached = self._days.get(key)
        if cached is None:
            delivers = self._delivers(ad, day, today)
            cached = DayValues(self.seed, ad["ad_id"], day, today, delivers)
            self._days[key] = cached
            if len(self._days) > SPLIT_CACHE_SIZE:
                self._days.popitem(last=False)
        return cached


class DayValues:
    """One ad's additive metrics for one day, generated on first use."""

    def __init__(self, seed: int, ad_id: str, day: date, today: date, delivers: bool) -> None:
        self.seed = seed
        self.ad_id = ad_id
        self.day = day
        self.age = (today - day).days
        self.base = crc(seed, ad_id, day)
        self.ad_salt = zlib.crc32(ad_id.encode())
        self.values: dict[str, int] = {"impressions": 400 + self.base % 6000} if delivers else {}
        self.delivers = delivers
        self._hours: list[int] | None = None
        self._buckets: dict[tuple[tuple[str, ...], ...], list[int]] = {}
        self._shares: dict[tuple[Any, ...], int] = {}

    def share(
        self,
        name: str,
        hour: int | None,
        last_hour: int,
        combos: tuple[tuple[str, ...], ...],
        bucket: int | None,
    ) -> int:
        """The part of the day's ``name`` in one hour (or hours 0..last_hour) and bucket."""
        key = (name, hour, last_hour, combos, bucket)
        cached = self._shares.get(key)
        if cached is not None:
            return cached
        value = self.get(name)
        if value and (hour is not None or last_hour < 23):
            per_hour = split(value, self._hour_weights())
            value = per_hour[hour] if hour is not None else sum(per_hour[: last_hour + 1])
        if value and bucket is not None:
            value = split(value, self._bucket_weights(combos))[bucket]
        self._shares[key] = value
        return value

    def _hour_weights(self) -> list[int]:
        if self._hours is None:
            self._hours = [1 + crc(self.seed, self.ad_id, self.day, h) % 9 for h in range(24)]
        return self._hours

    def _bucket_weights(self, combos: tuple[tuple[str, ...], ...]) -> list[int]:
        weights = self._buckets.get(combos)
        if weights is None:
            weights = [1 + crc(self.seed, self.ad_id, self.day, c) % 13 for c in combos]
            self._buckets[combos] = weights
        return weights

    def get(self, name: str, default: int = 0) -> int:
        if not self.delivers:
            return default
        value = self.values.get(name)
        if value is None:
            value = self.values[name] = self._generate(name)
        return value

    def _generate(self, name: str) -> int:
        rule = COUNT_RULES.get(name)
        if rule is not None:
            parent, low, span, salt = rule
            value = self.get(parent) * (low + mix(salt, self.base) % span) // 1000
        elif name in MONEY_METRICS:
            value = self._money(name)
        else:
            return 0
        if self.age < MATURITY_DAYS and name in MATURING_METRICS:
            value = value * (self.age + 1) // MATURITY_DAYS  # still being attributed
        return value

    def _money(self, name: str) -> int:
        """Cents."""
        spend = self.get("clicks") * (15 + mix(self.ad_salt, 7) % 120)
        spend += self.base % 97
        if name == "spend":
            return spend
        if name == "billed_cost":
            return spend - spend // 50
        if name == "cash_spend":
            return spend - spend // 10
        if name == "voucher_spend":
            return spend // 10
        # A value metric: its event count times a per-ad, per-day price (so it revises too).
        return self.get(VALUE_COUNTS[name]) * (
            500 + mix(self.base, zlib.crc32(name.encode())) % 5000
        )


def _matures(name: str) -> bool:
    return any(word in name for word in MATURING) and "value" not in name


def mix(a: int, b: int) -> int:
    """A cheap, deterministic 32-bit hash of two integers (unlike hash(), stable per process)."""
    x = (a * 0x9E3779B1 + b * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    return x ^ (x >> 12)


def _count_rule(name: str) -> tuple[str, int, int, int]:
    """(parent metric, lowest share, share range, metric salt) of a generated count."""
    parent, low, high = SHARES.get(name, ("", 0, 0))
    if not parent:
        parent = "clicks" if _matures(name) else "impressions"
        low, high = (20, 150) if parent == "clicks" else (1, 20)
    return parent, low, high - low + 1, zlib.crc32(name.encode())


COUNT_RULES = {name: _count_rule(name) for name, m in METRICS.items() if m.kind == "count"}
MATURING_METRICS = frozenset(name for name in METRICS if _matures(name))
MONEY_METRICS = frozenset(name for name, m in METRICS.items() if m.kind == "money")


def _value_count(name: str) -> str:
    """The count a value metric prices: total_purchase_value -> purchase."""
    base = name.removesuffix("_value").removesuffix("_rate")
    for candidate in (base.removeprefix("total_"), base, f"total_{base}"):
        if METRICS.get(candidate) is not None and METRICS[candidate].kind == "count":
            return candidate
    return "conversion"


VALUE_COUNTS = {name: _value_count(name) for name in MONEY_METRICS}


Selection = tuple[bool, tuple[tuple[str, frozenset[str]], ...]]  # (deleted too, id filters)
ID_FILTER_FIELDS = {"campaign_ids": "campaign_id", "adgroup_ids": "adgroup_id", "ad_ids": "ad_id"}


def _granularity(dimensions: list[str], lifetime: bool) -> str:
    if "stat_time_hour" in dimensions:
        return "hourly"
    if "stat_time_day" in dimensions:
        return "daily"
    return "lifetime"  # totals over the range or the whole life


def _selection(filtering: Any) -> Selection:
    """Deleted entities included? (``<level>_status`` IN STATUS_ALL) and ``*_ids`` IN filters."""
    if filtering is None:
        return False, ()
    if not isinstance(filtering, list) or not all(isinstance(f, dict) for f in filtering):
        raise ReportError(40002, "filtering: must be a JSON array of filter objects")
    include_deleted = False
    id_filters: list[tuple[str, frozenset[str]]] = []
    for item in filtering:
        name = item.get("field_name")
        values = _filter_values(item)
        if name in STATUS_FIELDS:
            include_deleted = include_deleted or "STATUS_ALL" in values
        elif name in ID_FILTER_FIELDS:
            id_filters.append((ID_FILTER_FIELDS[name], frozenset(values)))
    return include_deleted, tuple(id_filters)


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


Formatter = Callable[[Callable[[str], int], dict[str, Any]], Any]
# Attribute metrics whose entity field has another name.
ATTRIBUTE_FIELDS = {
    "advertiser_name": "name",
    "campaign_budget": "budget",
    "opt_status": "operation_status",
    "bid": "bid_price",
    "adgroup_download_url": "app_download_url",
    "mobile_app_id": "app_id",
    "ad_url": "landing_page_url",
    "ad_profile_image": "profile_image_url",
    "profile_image": "profile_image_url",
    "pricing_category": "billing_event",
    "is_smart_creative": "is_aco",
    "split_test": "split_test_variable",
}


def money(minor_units: int, decimals: int) -> str:
    """Cents to TikTok's string, exactly: 2000 -> "20.00"."""
    if decimals == 2:
        return f"{minor_units // 100}.{minor_units % 100:02d}"
    return f"{minor_units / 100:.{decimals}f}"


def _ratio_formatter(metric: Metric) -> Formatter:
    numerator, denominator = metric.numerator or "", metric.denominator or ""
    # Money is kept in cents: undo that on whichever side holds money (ROAS has it on both).
    cents = {name: 100 if METRICS[name].kind == "money" else 1 for name in (numerator, denominator)}
    scale, decimals = metric.scale * cents[denominator] / cents[numerator], metric.decimals
    zero = f"{0:.{decimals}f}"

    def formatted(total: Callable[[str], int], entity: dict[str, Any]) -> str:
        below = total(denominator)
        if below == 0:
            return zero  # TikTok shows 0 rather than dividing by zero
        return f"{total(numerator) / below * scale:.{decimals}f}"

    return formatted


def _average(impressions: int, name: str, decimals: int) -> str:
    """A plausible non-additive value (e.g. seconds played); ``-`` without delivery."""
    if impressions == 0:
        return "-"
    return f"{1 + mix(impressions, len(name)) % 900 / 100:.{decimals}f}"


def _range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
