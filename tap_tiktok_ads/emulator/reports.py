"""``/report/integrated/get/`` for the emulator: TikTok's rules and consistent metrics.

Additive metrics are generated per (ad, local day) from a hash, so they are deterministic and
need no storage; hours and audience buckets split the day's integers exactly, and every higher
level sums its ads. So hourly rows add up to the day, days to lifetime, ads to their ad group,
campaign and advertiser, and audience buckets to the total. Money is kept in cents until the
string goes out. Conversion-like metrics of the last days grow as the clock moves (TikTok
revises them), which is what the tap's attribution window is for.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tap_tiktok_ads.emulator.world import World, parse_time
from tap_tiktok_ads.reports.catalog import (
    AUDIENCE_PAIRS,
    DIMENSIONS,
    LEVEL_ID_DIMENSION,
    METRICS,
    DataLevel,
    Metric,
    level_of_api_data_level,
)


class ReportError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


class ReportEngine:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self._days: OrderedDict[tuple[str, date, date], DayValues] = OrderedDict()
        self._queries: OrderedDict[tuple[Any, ...], list[tuple[Any, ...]]] = OrderedDict()
        self._created: dict[str, date] = {}

    # -- request handling -----------------------------------------------------------------

    def query(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        report_type = params.get("report_type")
        if report_type not in ("BASIC", "AUDIENCE"):
            raise ReportError(40002, f"report_type: invalid value {report_type!r}")
        advertiser = self.world.advertiser(str(params.get("advertiser_id")))
        if advertiser is None:
            raise ReportError(40001, "No permission to operate advertiser")
        level = self._level(params)
        dimensions = self._dimensions(params, report_type, level)
        metrics = self._metrics(params, report_type, level)
        lifetime = bool(params.get("query_lifetime"))
        zone = ZoneInfo(advertiser["timezone"])
        local_now = now.astimezone(zone)
        days = self._days_of(params, dimensions, lifetime, local_now.date())
        page, page_size = self._paging(params)
        include_deleted = self._include_deleted(params)
        key = (
            advertiser["advertiser_id"],
            level,
            tuple(dimensions),
            days[0] if days else None,
            days[-1] if days else None,
            include_deleted,
            local_now.replace(minute=0, second=0, microsecond=0),
        )
        keys = self._row_keys(key, advertiser, level, dimensions, days, include_deleted, local_now)
        total = len(keys)
        chunk = keys[(page - 1) * page_size : page * page_size]
        rows = [self._row(k, level, dimensions, metrics, local_now) for k in chunk]
        return {
            "list": rows,
            "page_info": {
                "page": page,
                "page_size": page_size,
                "total_number": total,
                "total_page": (total + page_size - 1) // page_size,
            },
        }

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
                raise ReportError(
                    40002,
                    "Conflict occurs. The input params including metrics and dimensions have "
                    "no relation.",
                )
            if len(audience) > 1 and frozenset(audience) not in AUDIENCE_PAIRS:
                raise ReportError(
                    40002, "Only one audience dimension is allowed, except age and gender"
                )
        elif any("BASIC" not in DIMENSIONS[d].report_types for d in audience):
            raise ReportError(40002, "dimensions: audience dimensions need report_type AUDIENCE")
        if not ids:
            raise ReportError(40002, "dimensions: an ID dimension is required by the emulator")
        return list(dimensions)

    def _metrics(self, params: dict[str, Any], report_type: str, level: DataLevel) -> list[Metric]:
        names = params.get("metrics") or ["spend", "impressions"]
        if not isinstance(names, list):
            raise ReportError(40002, "metrics: must be a list")
        metrics = []
        for name in names:
            metric = METRICS.get(name)
            if metric is None:
                raise ReportError(40002, f"metrics: invalid metric {name!r}")
            if report_type not in metric.report_types or level not in metric.levels:
                raise ReportError(
                    40002, f"metrics: {name!r} is not supported for this data_level/report_type"
                )
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
            raise ReportError(40002, "max time span is 1 day when use stat_time_hour")
        if "stat_time_day" in dimensions and span > 30:
            raise ReportError(40002, "max time span is 30 days when use stat_time_day")
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

    @staticmethod
    def _include_deleted(params: dict[str, Any]) -> bool:
        return any(
            isinstance(item, dict)
            and item.get("field_name") in STATUS_FIELDS
            and "STATUS_ALL" in str(item.get("filter_value"))
            for item in params.get("filtering") or []
        )

    # -- rows -----------------------------------------------------------------------------

    def _entities(
        self, advertiser: dict[str, Any], level: DataLevel, include_deleted: bool
    ) -> list[dict[str, Any]]:
        if level == "advertiser":
            return [advertiser]
        rows = self.world.rows(LEVEL_TABLE[level], advertiser["advertiser_id"])
        return [r for r in rows if include_deleted or not self.world.is_deleted(r)]

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
        include_deleted: bool,
        local_now: datetime,
    ) -> list[tuple[Any, ...]]:
        cached = self._queries.get(cache_key)
        if cached is not None:
            return cached
        keys: list[tuple[Any, ...]] = []
        has_time = any(DIMENSIONS[d].kind == "time" for d in dimensions)
        buckets = self._buckets(dimensions, advertiser)
        for entity in sorted(
            self._entities(advertiser, level, include_deleted),
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
        self._queries[cache_key] = keys
        while len(self._queries) > 32:
            self._queries.popitem(last=False)
        return keys

    @staticmethod
    def _hours(day: date | None, local_now: datetime) -> list[int]:
        last = local_now.hour if day == local_now.date() else 23
        return list(range(last + 1))

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
        return values or tuple(f"{name.upper()}_{i}" for i in range(1, 4))

    def _delivered(self, ads: list[dict[str, Any]], days: Iterable[date], today: date) -> bool:
        # Every hour and every audience bucket of a delivering day gets impressions (the
        # smallest share of the smallest day is still >= 1), so the day decides.
        return any(self._delivers(ad, day, today) for ad in ads for day in days)

    def _delivers(self, ad: dict[str, Any], day: date, today: date) -> bool:
        created = self._created.get(ad["ad_id"])
        if created is None:
            created = self._created[ad["ad_id"]] = parse_time(ad["create_time"]).date()
        return created <= day <= today and crc(self.seed, ad["ad_id"], day) % 11 != 0

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
            self._buckets(dimensions, self.world.advertiser(entity["advertiser_id"]) or {})
        )
        sums: dict[str, int] = {}
        simple = len(ads) == 1 and len(days) == 1 and hour is None and bucket is None
        if simple and days[0] != local_now.date():
            # One ad, one full day: the day's own values, no splitting or summing.
            total = self._ad_day(ads[0], days[0], local_now).get
        else:

            def total(name: str) -> int:
                if name not in sums:
                    sums[name] = sum(
                        self._ad_value(ad, day, name, hour, combos, bucket, local_now)
                        for ad in ads
                        for day in days
                    )
                return sums[name]

        labels = combos[bucket] if bucket is not None else None
        out_dimensions = self._row_dimensions(entity, level, dimensions, days, hour, labels)
        out_metrics = {m.name: self._format(m, total, entity, level) for m in metrics}
        return {"dimensions": out_dimensions, "metrics": out_metrics}

    def _row_dimensions(
        self,
        entity: dict[str, Any],
        level: DataLevel,
        dimensions: list[str],
        days: tuple[date, ...],
        hour: int | None,
        bucket: tuple[str, ...] | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        breakdowns = iter(bucket or ())
        for name in dimensions:
            kind = DIMENSIONS[name].kind
            if kind == "id":
                out[name] = entity[name]
            elif name == "stat_time_day":
                out[name] = f"{days[0].isoformat()} 00:00:00"
            elif name == "stat_time_hour":
                out[name] = f"{days[0].isoformat()} {hour:02d}:00:00"
            else:
                out[name] = next(breakdowns)
        return out

    def _format(self, metric: Metric, total: Any, entity: dict[str, Any], level: str) -> Any:
        kind = metric.kind
        if kind == "count":
            return str(total(metric.name))
        if kind == "money":
            return f"{total(metric.name) / 100:.2f}"
        if "secondary_goal" in metric.name:
            return None  # TikTok answers null when no secondary goal is set
        if kind == "ratio":
            assert metric.numerator
            assert metric.denominator
            denominator = total(metric.denominator)
            if denominator == 0:
                return "0.00"
            numerator = total(metric.numerator)
            divisor = 100 if METRICS[metric.numerator].kind == "money" else 1
            numerator_value = numerator / divisor
            return f"{numerator_value / denominator * metric.scale:.{metric.decimals}f}"
        if metric.kind == "average":
            impressions = total("impressions")
            if impressions == 0:
                return "-"
            return f"{1 + mix(impressions, len(metric.name)) % 900 / 100:.2f}"
        return self._attribute(metric.name, entity, level)

    def _attribute(self, name: str, entity: dict[str, Any], level: str) -> Any:
        advertiser = self.world.advertiser(entity["advertiser_id"]) or {}
        if name == "currency":
            return advertiser.get("currency")
        if name == "advertiser_name":
            return advertiser.get("name")
        if name in entity:
            return entity[name]
        if name == "tt_app_id":
            return 0  # TikTok answers a bare 0 here (reference §5)
        if name.startswith("campaign_") and "campaign_id" in entity:
            campaign = self.world.by_id["campaigns"].get(entity["campaign_id"], {})
            key = name if name in campaign else name.removeprefix("campaign_")
            return campaign.get(key, "-")
        return "-"

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
        if name == "total_purchase_value":
            return self.get("purchase") * (1500 + self.base % 4000)
        return self.get("onsite_shopping") * (1200 + self.base % 3000)


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


def _range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
