"""The numbers of the emulator's reports: generated per (ad, local day), split and formatted.

Additive metrics come from a hash of the seed, the ad and the day, so they are deterministic
and need no storage; hours and audience buckets split the day's integers exactly, and a row of
several ads, days, hours or buckets sums those parts. Money is kept in cents until the string
goes out. Conversion-like metrics of the last days grow as the clock moves (TikTok revises
them), which is what the tap's attribution window is for.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from tap_tiktok_ads.emulator.report_rules import METRICS, Metric
from tap_tiktok_ads.emulator.world import World

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

# How one metric turns a row's ``total(metric)`` (and its entity) into TikTok's value.
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


# -- hashing and splitting --------------------------------------------------------------------


def crc(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def mix(a: int, b: int) -> int:
    """A cheap, deterministic 32-bit hash of two integers (unlike hash(), stable per process)."""
    x = (a * 0x9E3779B1 + b * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    return x ^ (x >> 12)


def split(total: int, weights: Sequence[int]) -> list[int]:
    """Split an integer in proportion to weights, exactly (largest remainder)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    for index in range(total - sum(shares)):
        shares[index % len(shares)] += 1
    return shares


# -- generation rules -------------------------------------------------------------------------


def _matures(name: str) -> bool:
    return any(word in name for word in MATURING) and "value" not in name


def _count_rule(name: str) -> tuple[str, int, int, int]:
    """(parent metric, lowest share, share range, metric salt) of a generated count."""
    parent, low, high = SHARES.get(name, ("", 0, 0))
    if not parent:
        parent = "clicks" if _matures(name) else "impressions"
        low, high = (20, 150) if parent == "clicks" else (1, 20)
    return parent, low, high - low + 1, zlib.crc32(name.encode())


def _value_count(name: str) -> str:
    """The count a value metric prices: total_purchase_value -> purchase."""
    base = name.removesuffix("_value").removesuffix("_rate")
    for candidate in (base.removeprefix("total_"), base, f"total_{base}"):
        if METRICS.get(candidate) is not None and METRICS[candidate].kind == "count":
            return candidate
    return "conversion"


COUNT_RULES = {name: _count_rule(name) for name, m in METRICS.items() if m.kind == "count"}
MATURING_METRICS = frozenset(name for name in METRICS if _matures(name))
MONEY_METRICS = frozenset(name for name, m in METRICS.items() if m.kind == "money")
VALUE_COUNTS = {name: _value_count(name) for name in MONEY_METRICS}


# -- one ad, one day --------------------------------------------------------------------------


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


# -- a row's values ---------------------------------------------------------------------------


class ReportValues:
    """Per-ad-per-day values (cached), their sums over a row, and each metric's formatting."""

    def __init__(
        self, world: World, seed: int, delivers: Callable[[dict[str, Any], date, date], bool]
    ) -> None:
        self.world = world
        self.seed = seed
        # Whether an ad ran on a local day (as of a local today): the rows decide that.
        self.delivers = delivers
        self._days: OrderedDict[tuple[str, date, date], DayValues] = OrderedDict()
        self._formatters: dict[str, Formatter] = {}

    def metrics(
        self,
        metrics: list[Metric],
        entity: dict[str, Any],
        total: Callable[[str], int],
    ) -> dict[str, Any]:
        """TikTok's ``metrics`` object of a row whose additive totals ``total`` gives."""
        return {m.name: self._formatter(m)(total, entity) for m in metrics}

    def totals(
        self,
        ads: list[dict[str, Any]],
        days: tuple[date, ...],
        hour: int | None,
        combos: tuple[tuple[str, ...], ...],
        bucket: int | None,
        local_now: datetime,
    ) -> Callable[[str], int]:
        """``total(metric)`` of a row: its ads, days, hour and audience bucket."""
        simple = len(ads) == 1 and len(days) == 1 and hour is None and bucket is None
        if simple and days[0] != local_now.date():
            # One ad, one full day: the day's own values, no splitting or summing.
            return self.ad_day(ads[0], days[0], local_now).get
        return self._summer(ads, days, hour, combos, bucket, local_now)

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
        values = self.ad_day(ad, day, local_now)
        if not values.delivers:
            return 0
        # A partial today counts the hours up to the current one, like TikTok's live data.
        last_hour = local_now.hour if day == local_now.date() else 23
        return values.share(name, hour, last_hour, combos, bucket)

    def ad_day(self, ad: dict[str, Any], day: date, local_now: datetime) -> DayValues:
        """Additive values of one ad on one full local day, as of ``local_now``."""
        today = local_now.date()
        key = (ad["ad_id"], day, today)
        cached = self._days.get(key)
        if cached is None:
            delivers = self.delivers(ad, day, today)
            cached = DayValues(self.seed, ad["ad_id"], day, today, delivers)
            self._days[key] = cached
            if len(self._days) > SPLIT_CACHE_SIZE:
                self._days.popitem(last=False)
        return cached

    # -- formatting -----------------------------------------------------------------------

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
            return 0  # TikTok answers a bare number 0 here, not a string
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


def money(minor_units: int, decimals: int) -> str:
    """Cents to TikTok's string, exactly: 2000 -> "20.000" (three decimals)."""
    if decimals >= 2:
        return f"{minor_units // 100}.{minor_units % 100:02d}{'0' * (decimals - 2)}"
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
