"""Metric and dimension catalogs of ``/report/integrated/get/``, as data.

Every metric has a *kind* that fixes its JSON type and how it behaves under aggregation:

- ``count``: integer counts, additive across time, entities and breakdowns (impressions, clicks);
- ``money``: amounts in the account currency, additive (spend, purchase value);
- ``ratio``: ``numerator / denominator * scale``, recomputed at each aggregation (ctr, cpc);
- ``average``: a non-additive number TikTok computes from data it does not expose
  (average play time);
- ``attribute``: the entity's own metadata (campaign_name, objective_type, currency).

Which report types, data levels and granularities accept a metric comes from the reference
(`tiktok-business-api-v1.3.md` §5): AUDIENCE reports refuse reach, frequency, video and social
metrics; ``cash_spend`` / ``voucher_spend`` exist only per advertiser and day; attribute metrics
exist from their own level down.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

DataLevel = Literal["advertiser", "campaign", "ad_group", "ad"]
LEVELS: tuple[DataLevel, ...] = ("advertiser", "campaign", "ad_group", "ad")
LEVEL_ID_DIMENSION: dict[DataLevel, str] = {
    "advertiser": "advertiser_id",
    "campaign": "campaign_id",
    "ad_group": "adgroup_id",
    "ad": "ad_id",
}
REPORT_TYPES = ("BASIC", "AUDIENCE")
GRANULARITIES = ("daily", "hourly", "lifetime")
SERVICE_TYPES = ("AUCTION", "RESERVATION")
_API_LEVEL_SUFFIX: dict[DataLevel, str] = {
    "advertiser": "ADVERTISER",
    "campaign": "CAMPAIGN",
    "ad_group": "ADGROUP",
    "ad": "AD",
}

MetricKind = Literal["count", "money", "ratio", "average", "attribute"]
JSON_TYPE: dict[str, Literal["integer", "number", "string"]] = {
    "count": "integer",
    "money": "number",
    "ratio": "number",
    "average": "number",
    "attribute": "string",
}


def api_data_level(level: DataLevel, service_type: str = "AUCTION") -> str:
    """``("ad_group", "AUCTION")`` -> ``"AUCTION_ADGROUP"``."""
    return f"{service_type}_{_API_LEVEL_SUFFIX[level]}"


def level_of_api_data_level(api_level: str) -> DataLevel:
    suffix = api_level.split("_", 1)[-1]
    for level, level_suffix in _API_LEVEL_SUFFIX.items():
        if level_suffix == suffix:
            return level
    raise ValueError(f"unknown data_level {api_level!r}")


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    json_type: Literal["integer", "number", "string"]
    levels: frozenset[DataLevel]
    report_types: frozenset[str]
    granularities: frozenset[str]
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    decimals: int = 0
    default: bool = False
    description: str = ""

    @property
    def additive(self) -> bool:
        return self.kind in ("count", "money")


@dataclass(frozen=True)
class Dimension:
    name: str
    kind: Literal["id", "time", "audience", "extra"]
    report_types: frozenset[str]
    json_schema: dict[str, Any]
    values: tuple[str, ...] = ()
    description: str = ""


# -- metric tables ---------------------------------------------------------------------------

ALL_LEVELS = frozenset(LEVELS)
FROM_CAMPAIGN = frozenset({"campaign", "ad_group", "ad"})
FROM_AD_GROUP = frozenset({"ad_group", "ad"})
AD_ONLY = frozenset({"ad"})
ADVERTISER_ONLY = frozenset({"advertiser"})
BOTH = frozenset(REPORT_TYPES)
BASIC = frozenset({"BASIC"})
ALL_GRANULARITIES = frozenset(GRANULARITIES)
DAILY = frozenset({"daily"})

# name: (description, default selection, also in AUDIENCE reports)
COUNTS: dict[str, tuple[str, bool, bool]] = {
    "impressions": ("Times ads were shown.", True, True),
    "gross_impressions": ("Impressions including invalid ones.", False, False),
    "clicks": ("Clicks on ads.", True, True),
    "reach": ("Unique users who saw ads.", True, False),
    "conversion": ("Conversions (by impression time; revised for days).", True, True),
    "real_time_conversion": ("Conversions by conversion time.", False, True),
    "result": ("Results of the optimisation goal.", True, True),
    "real_time_result": ("Results by conversion time.", False, True),
    "secondary_goal_result": ("Results of the secondary goal.", False, False),
    "skan_result": ("SKAdNetwork results.", False, False),
    "skan_conversion": ("SKAdNetwork conversions.", False, False),
    "video_play_actions": ("Video plays.", True, False),
    "video_watched_2s": ("Plays of at least 2 seconds.", True, False),
    "video_watched_6s": ("Plays of at least 6 seconds.", True, False),
    "video_views_p25": ("Plays to 25%.", True, False),
    "video_views_p50": ("Plays to 50%.", True, False),
    "video_views_p75": ("Plays to 75%.", True, False),
    "video_views_p100": ("Plays to the end.", True, False),
    "engaged_view": ("6-second focused views.", False, False),
    "engaged_view_15s": ("15-second focused views.", False, False),
    "paid_engaged_view": ("Paid focused views.", False, False),
    "engagements": ("Engagements (clicks, likes, comments, shares, follows...).", False, False),
    "clicks_on_music_disc": ("Clicks on the music disc.", False, False),
    "duet_clicks": ("Clicks on Duet.", False, False),
    "stitch_clicks": ("Clicks on Stitch.", False, False),
    "sound_usage_clicks": ("Clicks on 'use this sound'.", False, False),
    "anchor_clicks": ("Clicks on anchors.", False, False),
    "follows": ("New followers.", True, False),
    "likes": ("Likes.", True, False),
    "comments": ("Comments.", True, False),
    "shares": ("Shares.", True, False),
    "profile_visits": ("Profile visits.", True, False),
    "app_install": ("App installs (attributed).", False, False),
    "real_time_app_install": ("App installs by install time.", False, False),
    "registration": ("App registrations.", False, True),
    "purchase": ("App purchases.", False, True),
    "total_app_event_add_to_cart": ("App add-to-cart events.", False, True),
    "complete_payment": ("Web completed payments.", False, True),
    "total_landing_page_view": ("Landing page views.", False, True),
    "total_pageview": ("Page views.", False, True),
    "onsite_shopping": ("On-TikTok purchases.", False, True),
    "sales_lead": ("Leads.", False, True),
    "vta_conversion": ("View-through conversions.", False, False),
    "cta_conversion": ("Click-through conversions.", False, False),
    "vta_purchase": ("View-through purchases.", False, False),
    "cta_purchase": ("Click-through purchases.", False, False),
    "vta_app_install": ("View-through installs.", False, False),
    "cta_app_install": ("Click-through installs.", False, False),
}

# name: (description, default, audience, levels, granularities)
MONEY: dict[str, tuple[str, bool, bool, frozenset[DataLevel], frozenset[str]]] = {
    "spend": ("Cost.", True, True, ALL_LEVELS, ALL_GRANULARITIES),
    "billed_cost": (
        "Cost billed (excludes free impressions).",
        False,
        False,
        ALL_LEVELS,
        ALL_GRANULARITIES,
    ),
    "cash_spend": ("Cost paid in cash (advertiser, daily).", False, False, ADVERTISER_ONLY, DAILY),
    "voucher_spend": (
        "Cost paid by vouchers (advertiser, daily).",
        False,
        False,
        ADVERTISER_ONLY,
        DAILY,
    ),
    "total_purchase_value": ("Value of app purchases.", False, True, ALL_LEVELS, ALL_GRANULARITIES),
    "total_onsite_shopping_value": (
        "Value of on-TikTok purchases.",
        False,
        True,
        ALL_LEVELS,
        ALL_GRANULARITIES,
    ),
}

# name: (numerator, denominator, scale, decimals, description, default, audience)
RATIOS: dict[str, tuple[str, str, float, int, str, bool, bool]] = {
    "ctr": ("clicks", "impressions", 100, 2, "Click-through rate, percent.", True, True),
    "cpc": ("spend", "clicks", 1, 2, "Cost per click.", True, True),
    "cpm": ("spend", "impressions", 1000, 2, "Cost per 1000 impressions.", True, True),
    "cost_per_1000_reached": ("spend", "reach", 1000, 2, "Cost per 1000 reached.", False, False),
    "frequency": ("impressions", "reach", 1, 2, "Impressions per reached user.", True, False),
    "cost_per_conversion": ("spend", "conversion", 1, 2, "Cost per conversion.", True, True),
    "conversion_rate": (
        "conversion",
        "clicks",
        100,
        2,
        "Conversions per click, percent.",
        True,
        True,
    ),
    "conversion_rate_v2": (
        "conversion",
        "impressions",
        100,
        2,
        "Conversions per impression, percent.",
        False,
        True,
    ),
    "real_time_cost_per_conversion": (
        "spend",
        "real_time_conversion",
        1,
        2,
        "Cost per real-time conversion.",
        False,
        True,
    ),
    "real_time_conversion_rate": (
        "real_time_conversion",
        "clicks",
        100,
        2,
        "Real-time conversions per click, percent.",
        False,
        True,
    ),
    "real_time_conversion_rate_v2": (
        "real_time_conversion",
        "impressions",
        100,
        2,
        "Real-time conversions per impression, percent.",
        False,
        True,
    ),
    "cost_per_result": ("spend", "result", 1, 2, "Cost per result.", True, True),
    "result_rate": (
        "result",
        "impressions",
        100,
        2,
        "Results per impression, percent.",
        True,
        True,
    ),
    "real_time_cost_per_result": (
        "spend",
        "real_time_result",
        1,
        2,
        "Cost per real-time result.",
        False,
        True,
    ),
    "real_time_result_rate": (
        "real_time_result",
        "impressions",
        100,
        2,
        "Real-time results per impression, percent.",
        False,
        True,
    ),
    "cost_per_secondary_goal_result": (
        "spend",
        "secondary_goal_result",
        1,
        2,
        "Cost per secondary-goal result.",
        False,
        False,
    ),
    "secondary_goal_result_rate": (
        "secondary_goal_result",
        "impressions",
        100,
        2,
        "Secondary-goal results per impression, percent.",
        False,
        False,
    ),
    "skan_cost_per_result": ("spend", "skan_result", 1, 2, "Cost per SKAN result.", False, False),
    "skan_result_rate": (
        "skan_result",
        "impressions",
        100,
        2,
        "SKAN results per impression.",
        False,
        False,
    ),
    "skan_cost_per_conversion": (
        "spend",
        "skan_conversion",
        1,
        2,
        "Cost per SKAN conversion.",
        False,
        False,
    ),
    "skan_conversion_rate_v2": (
        "skan_conversion",
        "impressions",
        100,
        2,
        "SKAN conversions per impression, percent.",
        False,
        False,
    ),
    "engagement_rate": (
        "engagements",
        "impressions",
        100,
        2,
        "Engagements per impression.",
        False,
        False,
    ),
    "profile_visits_rate": (
        "profile_visits",
        "impressions",
        100,
        2,
        "Profile visits per impression, percent.",
        False,
        False,
    ),
    "cost_per_app_install": ("spend", "app_install", 1, 2, "Cost per install.", False, False),
    "real_time_app_install_cost": (
        "spend",
        "real_time_app_install",
        1,
        2,
        "Cost per real-time install.",
        False,
        False,
    ),
    "cost_per_registration": ("spend", "registration", 1, 2, "Cost per registration.", False, True),
    "registration_rate": (
        "registration",
        "clicks",
        100,
        2,
        "Registrations per click.",
        False,
        True,
    ),
    "cost_per_purchase": ("spend", "purchase", 1, 2, "Cost per purchase.", False, True),
    "purchase_rate": ("purchase", "clicks", 100, 2, "Purchases per click, percent.", False, True),
    "cost_per_total_app_event_add_to_cart": (
        "spend",
        "total_app_event_add_to_cart",
        1,
        2,
        "Cost per app add-to-cart.",
        False,
        True,
    ),
    "cost_per_complete_payment": (
        "spend",
        "complete_payment",
        1,
        2,
        "Cost per completed payment.",
        False,
        True,
    ),
    "total_complete_payment_rate": (
        "complete_payment",
        "clicks",
        100,
        2,
        "Completed payments per click, percent.",
        False,
        True,
    ),
    "cost_per_sales_lead": ("spend", "sales_lead", 1, 2, "Cost per lead.", False, True),
    "cost_per_total_sales_lead": ("spend", "sales_lead", 1, 2, "Cost per lead (all).", False, True),
    "cost_per_vta_conversion": (
        "spend",
        "vta_conversion",
        1,
        2,
        "Cost per view-through conversion.",
        False,
        False,
    ),
    "cost_per_cta_conversion": (
        "spend",
        "cta_conversion",
        1,
        2,
        "Cost per click-through conversion.",
        False,
        False,
    ),
}

# name: (description, default)
AVERAGES: dict[str, tuple[str, bool]] = {
    "average_video_play": ("Average play time per play, seconds.", True),
    "average_video_play_per_user": ("Average play time per user, seconds.", False),
    "value_per_complete_payment": ("Average value of a completed payment.", False),
}

# name: (lowest level that has it, default)
ATTRIBUTES: dict[str, tuple[frozenset[DataLevel], bool]] = {
    "advertiser_name": (ALL_LEVELS, False),
    "currency": (ALL_LEVELS, True),
    "campaign_name": (FROM_CAMPAIGN, True),
    "campaign_id": (FROM_AD_GROUP, False),
    "objective_type": (FROM_CAMPAIGN, False),
    "split_test": (FROM_CAMPAIGN, False),
    "campaign_budget": (FROM_CAMPAIGN, False),
    "campaign_dedicate_type": (FROM_CAMPAIGN, False),
    "app_promotion_type": (FROM_CAMPAIGN, False),
    "campaign_automation_type": (FROM_CAMPAIGN, False),
    "adgroup_name": (FROM_AD_GROUP, True),
    "adgroup_id": (AD_ONLY, False),
    "placement_type": (FROM_AD_GROUP, False),
    "promotion_type": (FROM_AD_GROUP, False),
    "opt_status": (FROM_AD_GROUP, False),
    "adgroup_download_url": (FROM_AD_GROUP, False),
    "profile_image": (FROM_AD_GROUP, False),
    "dpa_target_audience_type": (FROM_AD_GROUP, False),
    "budget": (FROM_AD_GROUP, False),
    "smart_target": (FROM_AD_GROUP, False),
    "pricing_category": (FROM_AD_GROUP, False),
    "billing_event": (FROM_AD_GROUP, False),
    "bid_strategy": (FROM_AD_GROUP, False),
    "bid": (FROM_AD_GROUP, False),
    "bid_secondary_goal": (FROM_AD_GROUP, False),
    "aeo_type": (FROM_AD_GROUP, False),
    "tt_app_id": (FROM_AD_GROUP, False),
    "tt_app_name": (FROM_AD_GROUP, False),
    "mobile_app_id": (FROM_AD_GROUP, False),
    "is_aco": (FROM_AD_GROUP, False),
    "ad_name": (AD_ONLY, True),
    "ad_text": (AD_ONLY, False),
    "call_to_action": (AD_ONLY, False),
    "ad_profile_image": (AD_ONLY, False),
    "ad_url": (AD_ONLY, False),
    "image_mode": (AD_ONLY, False),
    "is_smart_creative": (AD_ONLY, False),
}


def _build_metrics() -> dict[str, Metric]:
    metrics: dict[str, Metric] = {}

    def add(name: str, kind: MetricKind, **fields: Any) -> None:
        fields.setdefault("levels", ALL_LEVELS)
        fields.setdefault("granularities", ALL_GRANULARITIES)
        metrics[name] = Metric(name=name, kind=kind, json_type=JSON_TYPE[kind], **fields)

    for name, (money_text, default, audience, levels, granularities) in MONEY.items():
        add(
            name,
            "money",
            report_types=BOTH if audience else BASIC,
            decimals=2,
            default=default,
            description=money_text,
            levels=levels,
            granularities=granularities,
        )
    for name, (text, default, audience) in COUNTS.items():
        add(
            name,
            "count",
            report_types=BOTH if audience else BASIC,
            default=default,
            description=text,
        )
    for name, (num, den, scale, decimals, text, default, audience) in RATIOS.items():
        add(
            name,
            "ratio",
            report_types=BOTH if audience else BASIC,
            numerator=num,
            denominator=den,
            scale=scale,
            decimals=decimals,
            default=default,
            description=text,
        )
    for name, (text, default) in AVERAGES.items():
        add(name, "average", report_types=BASIC, decimals=2, default=default, description=text)
    for name, (levels, default) in ATTRIBUTES.items():
        add(
            name,
            "attribute",
            report_types=BOTH,
            levels=levels,
            default=default,
            description=f"Attribute of the entity: {name.replace('_', ' ')}.",
        )
    return metrics


METRICS: dict[str, Metric] = _build_metrics()

# -- dimensions ------------------------------------------------------------------------------

AGES = ("AGE_13_17", "AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100")
GENDERS = ("MALE", "FEMALE", "NONE")
COUNTRIES = ("US", "GB", "DE", "FR", "JP", "BR", "ID", "MX", "CA", "AU", "ES", "IT")
PLATFORMS = ("ANDROID", "IPHONE", "IPAD", "PC", "UNKNOWN")
STRING = {"type": "string"}
AUDIENCE_ONLY = frozenset({"AUDIENCE"})


def _build_dimensions() -> dict[str, Dimension]:
    dimensions = [
        Dimension("advertiser_id", "id", BOTH, STRING, description="Advertiser id."),
        Dimension("campaign_id", "id", BOTH, STRING, description="Campaign id."),
        Dimension("adgroup_id", "id", BOTH, STRING, description="Ad group id."),
        Dimension("ad_id", "id", BOTH, STRING, description="Ad id."),
        Dimension(
            "stat_time_day",
            "time",
            BOTH,
            {"type": "string", "format": "date"},
            description="Report day in the advertiser's time zone.",
        ),
        Dimension(
            "stat_time_hour",
            "time",
            BASIC,
            {"type": "string", "format": "date-time"},
            description="Report hour, with the advertiser's UTC offset.",
        ),
        Dimension("age", "audience", AUDIENCE_ONLY, STRING, (*AGES, "NONE"), "Age group."),
        Dimension("gender", "audience", AUDIENCE_ONLY, STRING, GENDERS, "Gender."),
        Dimension("country_code", "audience", BOTH, STRING, COUNTRIES, "Country, ISO 3166-1."),
        Dimension("platform", "audience", AUDIENCE_ONLY, STRING, PLATFORMS, "Device platform."),
        Dimension(
            "ac",
            "audience",
            AUDIENCE_ONLY,
            STRING,
            ("WIFI", "2G", "3G", "4G", "5G"),
            "Connection type.",
        ),
        Dimension(
            "language",
            "audience",
            AUDIENCE_ONLY,
            STRING,
            ("en", "es", "de", "fr", "ja", "pt"),
            "Language.",
        ),
        Dimension(
            "placement",
            "audience",
            AUDIENCE_ONLY,
            STRING,
            ("PLACEMENT_TIKTOK", "PLACEMENT_PANGLE", "PLACEMENT_GLOBAL_APP_BUNDLE"),
            "Placement.",
        ),
        Dimension("ad_type", "audience", BOTH, STRING, description="Ad type."),
    ]
    dimensions += [
        Dimension(name, "audience", AUDIENCE_ONLY, STRING)
        for name in (
            "interest_category",
            "interest_category_tier2",
            "interest_category_tier3",
            "interest_category_tier4",
            "province_id",
            "dma_id",
            "device_brand_id",
            "hashtag",
            "audience_tags",
            "additional_interests",
            "contextual_tag",
            "behavior_id",
            "purchase_intention",
        )
    ]
    dimensions += [
        Dimension(name, "extra", BASIC, STRING)
        for name in (
            "custom_event_type",
            "event_source_id",
            "page_id",
            "component_name",
            "room_id",
            "post_id",
            "image_id",
            "video_material_id",
            "minis_id",
            "search_terms",
            "search_keyword",
            "match_type",
            "skan_postback_sequence",
        )
    ]
    return {dimension.name: dimension for dimension in dimensions}


DIMENSIONS: dict[str, Dimension] = _build_dimensions()
AUDIENCE_PAIRS: frozenset[frozenset[str]] = frozenset({frozenset({"age", "gender"})})


def metrics_for(report_type: str, level: DataLevel, granularity: str) -> list[Metric]:
    """Metrics TikTok accepts for that report type, level and granularity, in catalog order."""
    return [
        metric
        for metric in METRICS.values()
        if report_type in metric.report_types
        and level in metric.levels
        and granularity in metric.granularities
    ]


def validate_report_definition(
    report_type: str,
    level: DataLevel,
    dimensions: Sequence[str],
    metrics: Sequence[str],
    granularity: str,
) -> list[str]:
    """Every mistake in a report definition, one readable line each; [] when valid.

    ``dimensions`` are the breakdowns only: the ID dimension follows from ``level`` and the
    time dimension from ``granularity``.
    """
    problems = _dimension_problems(report_type, level, dimensions, granularity)
    problems += _metric_problems(report_type, level, metrics, granularity)
    if report_type == "AUDIENCE" and granularity != "daily":
        problems.append(f"AUDIENCE reports are daily only, not {granularity}")
    return problems


def _dimension_problems(
    report_type: str, level: DataLevel, dimensions: Sequence[str], granularity: str
) -> list[str]:
    problems: list[str] = []
    for name in dimensions:
        dimension = DIMENSIONS.get(name)
        if dimension is None:
            problems.append(f"unknown dimension {name!r}{_suggest(name, DIMENSIONS)}")
        elif dimension.kind == "id" and name != LEVEL_ID_DIMENSION[level]:
            problems.append(f"dimension {name!r} does not belong to data_level {level!r}")
        elif dimension.kind == "time":
            problems.append(f"dimension {name!r} follows from time_granularity; remove it")
        elif report_type not in dimension.report_types:
            problems.append(f"dimension {name!r} is not available in {report_type} reports")
    audience = [n for n in dimensions if n in DIMENSIONS and DIMENSIONS[n].kind == "audience"]
    if report_type == "AUDIENCE":
        if not audience:
            problems.append("AUDIENCE reports need an audience dimension (e.g. age, country_code)")
        elif len(audience) > 1 and frozenset(audience) not in AUDIENCE_PAIRS:
            problems.append(
                f"only one audience dimension per report (age+gender excepted): {audience}"
            )
    if granularity == "lifetime" and any(n in DIMENSIONS for n in dimensions):
        problems.append("lifetime reports take no dimensions besides the ID")
    return problems


def _metric_problems(
    report_type: str, level: DataLevel, metrics: Iterable[str], granularity: str
) -> list[str]:
    problems: list[str] = []
    for name in metrics:
        metric = METRICS.get(name)
        if metric is None:
            problems.append(f"unknown metric {name!r}{_suggest(name, METRICS)}")
        elif report_type not in metric.report_types:
            problems.append(f"metric {name!r} is not available in {report_type} reports")
        elif level not in metric.levels:
            problems.append(f"metric {name!r} is not available at data_level {level!r}")
        elif granularity not in metric.granularities:
            problems.append(f"metric {name!r} is not available for {granularity} reports")
    return problems


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
