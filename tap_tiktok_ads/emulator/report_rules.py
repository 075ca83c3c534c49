"""What ``/report/integrated/get/`` accepts, per report type and data level: the emulator's table.

Written from TikTok's own documentation of the synchronous report (the metric tables of the
Marketing API, as mirrored field by field in the Go SDK ``bububa/tiktok-business``
``model/report/metrics.go``, and the report parameter rules). It deliberately shares nothing
with the tap's metric catalog: a test compares the two and names every difference, so a wrong
fact in either shows up instead of passing silently.

Each metric has a *kind*, which is how the emulator generates it: ``count`` (integers, additive),
``money`` (account currency, additive, kept in cents), ``ratio`` (``numerator / denominator *
scale``, recomputed for every row), ``average`` (a non-additive number whose parts TikTok does
not expose) and ``attribute`` (the entity's own metadata, which needs an ID dimension).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DataLevel = Literal["advertiser", "campaign", "ad_group", "ad"]
Kind = Literal["count", "money", "ratio", "average", "attribute"]


def names(text: str) -> tuple[str, ...]:
    """Space-separated names, as TikTok's tables list them."""
    return tuple(text.split())


# -- data levels ------------------------------------------------------------------------------

# RESERVATION_* are deprecated by TikTok but still accepted.
_LEVEL_SUFFIXES: tuple[tuple[str, DataLevel], ...] = (
    ("ADVERTISER", "advertiser"),
    ("CAMPAIGN", "campaign"),
    ("ADGROUP", "ad_group"),
    ("AD", "ad"),
)
API_DATA_LEVELS: dict[str, DataLevel] = {
    f"{service}_{suffix}": level
    for service in ("AUCTION", "RESERVATION")
    for suffix, level in _LEVEL_SUFFIXES
}
LEVEL_ID_DIMENSION: dict[DataLevel, str] = {
    "advertiser": "advertiser_id",
    "campaign": "campaign_id",
    "ad_group": "adgroup_id",
    "ad": "ad_id",
}


def level_of_api_data_level(api_level: str) -> DataLevel:
    """``"AUCTION_ADGROUP"`` -> ``"ad_group"``; ValueError for anything TikTok refuses."""
    try:
        return API_DATA_LEVELS[api_level]
    except KeyError:
        raise ValueError(f"unknown data_level {api_level!r}") from None


# -- TikTok's 40002 messages ------------------------------------------------------------------

# Quoted from TikTok's answers (the span limits and the AUDIENCE hour conflict).
SPAN_DAY_MESSAGE = "max time span is 30 days when use stat_time_day"
SPAN_HOUR_MESSAGE = "max time span is 1 day when use stat_time_hour"
AUDIENCE_HOUR_MESSAGE = (
    "Conflict occurs. The input params including metrics and dimensions have no relation."
)

# -- dimensions -------------------------------------------------------------------------------

BOTH = frozenset({"BASIC", "AUDIENCE"})
BASIC_ONLY = frozenset({"BASIC"})
AUDIENCE_ONLY = frozenset({"AUDIENCE"})


@dataclass(frozen=True)
class DimensionRule:
    name: str
    kind: Literal["id", "time", "audience", "extra"]
    report_types: frozenset[str]
    # The values the emulator's accounts deliver in; empty: generated ``<NAME>_1..3``.
    values: tuple[str, ...] = ()


# Audience breakdowns and the values TikTok answers with (age, gender: TikTok's own enums).
AUDIENCE_VALUES: dict[str, tuple[str, ...]] = {
    "age": ("AGE_13_17", "AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_100", "NONE"),
    "gender": ("MALE", "FEMALE", "NONE"),
    "platform": ("ANDROID", "IPHONE", "IPAD", "PC", "UNKNOWN"),
    "ac": ("WIFI", "2G", "3G", "4G", "5G", "UNKNOWN"),
    "language": ("en", "es", "de", "fr", "ja", "pt"),
    "placement": ("PLACEMENT_TIKTOK", "PLACEMENT_PANGLE", "PLACEMENT_GLOBAL_APP_BUNDLE"),
}
AUDIENCE_ID_BREAKDOWNS = names(
    "interest_category interest_category_tier2 interest_category_tier3 interest_category_tier4 "
    "province_id dma_id device_brand_id hashtag audience_tags additional_interests "
    "contextual_tag behavior_id purchase_intention"
)
# BASIC's optional breakdowns; each narrows the metrics TikTok answers.
BASIC_BREAKDOWNS = names(
    "custom_event_type event_source_id page_id component_name room_id post_id image_id "
    "video_material_id minis_id search_terms search_keyword match_type skan_postback_sequence"
)
COUNTRIES = ("US", "GB", "DE", "FR", "JP", "BR", "ID", "MX", "CA", "AU", "ES", "IT")


def _dimensions() -> dict[str, DimensionRule]:
    rules = [DimensionRule(name, "id", BOTH) for name in LEVEL_ID_DIMENSION.values()]
    rules += [
        DimensionRule("stat_time_day", "time", BOTH),
        DimensionRule("stat_time_hour", "time", BASIC_ONLY),
        DimensionRule("country_code", "audience", BOTH, COUNTRIES),
        DimensionRule("ad_type", "audience", BOTH),
    ]
    rules += [
        DimensionRule(name, "audience", AUDIENCE_ONLY, values)
        for name, values in AUDIENCE_VALUES.items()
    ]
    rules += [DimensionRule(name, "audience", AUDIENCE_ONLY) for name in AUDIENCE_ID_BREAKDOWNS]
    rules += [DimensionRule(name, "extra", BASIC_ONLY) for name in BASIC_BREAKDOWNS]
    return {rule.name: rule for rule in rules}


DIMENSIONS: dict[str, DimensionRule] = _dimensions()
# One audience breakdown per AUDIENCE report, except age with gender.
AUDIENCE_PAIRS: frozenset[frozenset[str]] = frozenset({frozenset({"age", "gender"})})

# -- metrics ----------------------------------------------------------------------------------

ALL_LEVELS: frozenset[DataLevel] = frozenset(LEVEL_ID_DIMENSION)
ALL_GRANULARITIES = frozenset({"daily", "hourly", "lifetime"})


# Decimals TikTok writes per kind of metric: counts as whole numbers ("4486"), money with three
# ("3920.000"), rates, percentages and averages with two ("1.25"); kinds not listed: two.
DECIMALS = {"count": 0, "attribute": 0, "money": 3}


@dataclass(frozen=True)
class MetricRule:
    name: str
    kind: Kind
    levels: frozenset[DataLevel] = ALL_LEVELS
    report_types: frozenset[str] = BOTH
    granularities: frozenset[str] = ALL_GRANULARITIES
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    decimals: int = 2


# Core delivery. cash/voucher spend: advertiser level and per day only (no hours, no lifetime).
CORE_MONEY = "spend billed_cost cash_spend voucher_spend"
CORE_COUNTS = (
    "impressions gross_impressions clicks reach conversion real_time_conversion result "
    "real_time_result secondary_goal_result skan_result skan_conversion"
)
VIDEO_COUNTS = (
    "video_play_actions video_watched_2s video_watched_6s video_views_p25 video_views_p50 "
    "video_views_p75 video_views_p100 engaged_view engaged_view_15s paid_engaged_view "
    "paid_engaged_view_15s paid_engagement_engaged_view paid_engagement_engaged_view_15s"
)
SOCIAL_COUNTS = (
    "engagements clicks_on_music_disc duet_clicks stitch_clicks sound_usage_clicks anchor_clicks "
    "follows likes comments shares profile_visits"
)
OTHER_COUNTS = (
    "app_install real_time_app_install total_landing_page_view total_pageview "
    "vta_app_install vta_conversion vta_registration vta_purchase vta_complete_payment "
    "cta_app_install cta_conversion cta_registration cta_purchase "
    "live_views live_unique_views live_effective_views live_product_clicks"
)
OTHER_MONEY = "vta_complete_payment_value"
# Play time (seconds) and instant-page rates "out of all events": parts TikTok keeps to itself.
AVERAGES = (
    "average_video_play average_video_play_per_user "
    "ix_page_view_count_rate ix_button_click_count_rate ix_product_click_count_rate"
)
# name: "numerator / denominator [* scale]". Rates and ctr are percents ("1.18" is 1.18 %).
FORMULAS = {
    "ctr": "clicks / impressions * 100",
    "cpc": "spend / clicks",
    "cpm": "spend / impressions * 1000",
    "cost_per_1000_reached": "spend / reach * 1000",
    "frequency": "impressions / reach",
    "cost_per_conversion": "spend / conversion",
    "conversion_rate": "conversion / clicks * 100",
    "conversion_rate_v2": "conversion / impressions * 100",
    "real_time_cost_per_conversion": "spend / real_time_conversion",
    "real_time_conversion_rate": "real_time_conversion / clicks * 100",
    "real_time_conversion_rate_v2": "real_time_conversion / impressions * 100",
    "cost_per_result": "spend / result",
    "result_rate": "result / impressions * 100",
    "real_time_cost_per_result": "spend / real_time_result",
    "real_time_result_rate": "real_time_result / impressions * 100",
    "cost_per_secondary_goal_result": "spend / secondary_goal_result",
    "secondary_goal_result_rate": "secondary_goal_result / impressions * 100",
    "skan_cost_per_result": "spend / skan_result",
    "skan_result_rate": "skan_result / impressions * 100",
    "skan_cost_per_conversion": "spend / skan_conversion",
    "skan_conversion_rate_v2": "skan_conversion / impressions * 100",
    "engagement_rate": "engagements / impressions * 100",
    "profile_visits_rate": "profile_visits / impressions * 100",
    "cost_per_app_install": "spend / app_install",
    "real_time_app_install_cost": "spend / real_time_app_install",
    "cost_per_vta_conversion": "spend / vta_conversion",
    "cost_per_vta_registration": "spend / vta_registration",
    "cost_per_vta_purchase": "spend / vta_purchase",
    "cost_per_vta_payments_completed": "spend / vta_complete_payment",
    "vta_complete_payment_roas": "vta_complete_payment_value / spend",
    "cost_per_cta_conversion": "spend / cta_conversion",
    "cost_per_cta_registration": "spend / cta_registration",
    "cost_per_cta_purchase": "spend / cta_purchase",
    "total_active_pay_roas": "total_purchase_value / spend",
    # TikTok's "total_complete_payment_rate" is the web payment *value*, not a rate.
    "complete_payment_roas": "total_complete_payment_rate / spend",
    "onsite_shopping_roas": "total_onsite_shopping_value / spend",
}

# In-app events (TikTok SDK / MMP). Each event E has E (unique, by impression time), cost_per_E,
# E_rate (out of app installs), total_E and cost_per_total_E; those with a value also have
# total_E_value and value_per_total_E.
APP_EVENTS_WITH_VALUE = names(
    "purchase app_event_add_to_cart checkout view_content add_to_wishlist complete_tutorial "
    "create_group join_group create_gamerole spend_credits achieve_level unlock_achievement "
    "sales_lead in_app_ad_click in_app_ad_impr ratings subscribe day7_retention"
)
APP_EVENTS_WITHOUT_VALUE = names(
    "registration next_day_open add_payment_info launch_app loan_apply loan_credit "
    "loan_disbursement login search start_trial"
)
# Website (Pixel), TikTok Shop and instant-page events. Each event E has E, cost_per_E and E_rate
# (out of clicks); those with a value also total_E_value and value_per_E.
WEB_EVENTS_WITH_VALUE = names(
    "complete_payment button_click online_consult user_registration web_event_add_to_cart "
    "on_web_order form download_start initiate_checkout add_billing page_event_search "
    "on_web_add_to_wishlist on_web_subscribe onsite_shopping onsite_initiate_checkout_count "
    "onsite_on_web_detail onsite_add_to_wishlist onsite_add_billing onsite_on_web_cart onsite_form"
)
WEB_EVENTS_WITHOUT_VALUE = names(
    "onsite_download_start ix_page_view_count ix_button_click_count ix_product_click_count"
)
# Older website-event names (lead-generation and consultation funnels) that TikTok's current
# metric tables no longer list; third-party SDKs mark some "deprecated in v1.3". The emulator
# answers them because the tap still offers them; whether TikTok still does is unconfirmed.
LEGACY_WEB_EVENTS = names(
    "page_browse_view product_details_page_browse form_detail form_button "
    "page_browse_consultation button_click_consultation consultation download_detail "
    "download_button"
)
# TikTok's spellings that break the family patterns above: pattern name -> TikTok's name.
IRREGULAR_NAMES = {
    "cost_per_total_add_payment_info": "cost_total_add_payment_info",
    "value_per_total_checkout": "value_per_checkout",
    "total_complete_payment_value": "total_complete_payment_rate",
    "on_web_add_to_wishlist_rate": "on_web_add_to_wishlist_per_click",
    "on_web_subscribe_rate": "on_web_subscribe_per_click",
}
# Averages among the event rates (see AVERAGES): no formula.
RATES_WITHOUT_PARTS = frozenset(names(AVERAGES))

# Entity metadata: (levels it exists at, names). Each exists from its own level down.
FROM_ADVERTISER = ALL_LEVELS
FROM_CAMPAIGN: frozenset[DataLevel] = frozenset({"campaign", "ad_group", "ad"})
FROM_AD_GROUP: frozenset[DataLevel] = frozenset({"ad_group", "ad"})
AD_ONLY: frozenset[DataLevel] = frozenset({"ad"})
ATTRIBUTES: tuple[tuple[frozenset[DataLevel], str], ...] = (
    (FROM_ADVERTISER, "advertiser_name currency"),
    (
        FROM_CAMPAIGN,
        "campaign_name objective_type split_test campaign_budget campaign_dedicate_type "
        "app_promotion_type campaign_automation_type",
    ),
    (FROM_AD_GROUP, "campaign_id"),
    (
        FROM_AD_GROUP,
        "adgroup_name placement_type promotion_type opt_status adgroup_download_url "
        "profile_image dpa_target_audience_type budget smart_target pricing_category "
        "billing_event bid_strategy bid bid_secondary_goal aeo_type tt_app_id tt_app_name "
        "mobile_app_id is_aco",
    ),
    (AD_ONLY, "adgroup_id"),
    (
        AD_ONLY,
        "ad_name ad_text call_to_action ad_profile_image ad_url image_mode is_smart_creative",
    ),
)

# -- availability -----------------------------------------------------------------------------

# Refused by AUDIENCE reports: reach and frequency (unique users), secondary goals, cash and
# voucher spend, video plays, social interactions and app installs.
AUDIENCE_REFUSED = frozenset(
    names(
        "reach cost_per_1000_reached frequency secondary_goal_result "
        "cost_per_secondary_goal_result secondary_goal_result_rate cash_spend voucher_spend "
        "video_play_actions video_watched_2s video_watched_6s video_views_p25 video_views_p50 "
        "video_views_p75 video_views_p100 average_video_play average_video_play_per_user "
        "profile_visits profile_visits_rate likes comments shares follows clicks_on_music_disc "
        "real_time_app_install real_time_app_install_cost app_install"
    )
)
# Documented for BASIC only (billed_cost: "synchronous basic reports only"), or not documented
# for AUDIENCE at all (SKAN, focused views, other interactions, view/click attribution, LIVE):
# the emulator refuses them there, as TikTok refuses what a report type does not support.
BASIC_ONLY_METRICS = frozenset(
    names(
        "billed_cost gross_impressions skan_result skan_conversion skan_cost_per_result "
        "skan_result_rate skan_cost_per_conversion skan_conversion_rate_v2 engaged_view "
        "engaged_view_15s paid_engaged_view paid_engaged_view_15s paid_engagement_engaged_view "
        "paid_engagement_engaged_view_15s engagements engagement_rate duet_clicks stitch_clicks "
        "sound_usage_clicks anchor_clicks live_views live_unique_views live_effective_views "
        "live_product_clicks"
    )
)
ATTRIBUTION_PREFIXES = ("vta_", "cta_", "cost_per_vta_", "cost_per_cta_")
# Advertiser level, one day at a time.
ADVERTISER_DAILY = frozenset({"cash_spend", "voucher_spend"})
# Paid focused views need "one ID dimension, optionally with stat_time_day": never hourly.
NOT_HOURLY = frozenset(
    names(
        "paid_engaged_view paid_engaged_view_15s paid_engagement_engaged_view "
        "paid_engagement_engaged_view_15s"
    )
)


def _report_types(name: str) -> frozenset[str]:
    refused = name in AUDIENCE_REFUSED or name in BASIC_ONLY_METRICS
    return BASIC_ONLY if refused or name.startswith(ATTRIBUTION_PREFIXES) else BOTH


def _rule(
    name: str, kind: Kind, formula: str = "", levels: frozenset[DataLevel] = ALL_LEVELS
) -> MetricRule:
    name = IRREGULAR_NAMES.get(name, name)
    granularities = ALL_GRANULARITIES
    if name in ADVERTISER_DAILY:
        levels, granularities = frozenset({"advertiser"}), frozenset({"daily"})
    elif name in NOT_HOURLY:
        granularities = frozenset({"daily", "lifetime"})
    numerator = denominator = None
    scale = 1.0
    if formula:
        parts = formula.replace("*", "/").split("/")
        numerator, denominator = (IRREGULAR_NAMES.get(p.strip(), p.strip()) for p in parts[:2])
        scale = float(parts[2]) if len(parts) > 2 else 1.0
    return MetricRule(
        name,
        kind,
        levels=levels,
        report_types=BOTH if kind == "attribute" else _report_types(name),
        granularities=granularities,
        numerator=numerator,
        denominator=denominator,
        scale=scale,
        decimals=DECIMALS.get(kind, 2),
    )


def _app_event(event: str, has_value: bool) -> list[MetricRule]:
    total = f"total_{event}"
    rules = [
        _rule(event, "count"),
        _rule(f"cost_per_{event}", "ratio", f"spend / {event}"),
        _rule(f"{event}_rate", "ratio", f"{event} / app_install * 100"),
        _rule(total, "count"),
        _rule(f"cost_per_{total}", "ratio", f"spend / {total}"),
    ]
    if has_value:
        rules.append(_rule(f"{total}_value", "money"))
        rules.append(_rule(f"value_per_{total}", "ratio", f"{total}_value / {total}"))
    return rules


def _web_event(event: str, has_value: bool) -> list[MetricRule]:
    rate = f"{event}_rate"
    rules = [
        _rule(event, "count"),
        _rule(f"cost_per_{event}", "ratio", f"spend / {event}"),
        _rule(rate, "average")
        if rate in RATES_WITHOUT_PARTS
        else _rule(rate, "ratio", f"{event} / clicks * 100"),
    ]
    if has_value:
        rules.append(_rule(f"total_{event}_value", "money"))
        rules.append(_rule(f"value_per_{event}", "ratio", f"total_{event}_value / {event}"))
    return rules


def _where_parts_are(rule: MetricRule, rules: dict[str, MetricRule]) -> MetricRule:
    """TikTok computes a ratio from its parts: it answers it only where both parts exist."""
    if rule.numerator is None or rule.denominator is None:
        return rule
    parts = (rules[rule.numerator], rules[rule.denominator])
    return MetricRule(
        rule.name,
        rule.kind,
        levels=rule.levels.intersection(*(p.levels for p in parts)),
        report_types=rule.report_types.intersection(*(p.report_types for p in parts)),
        granularities=rule.granularities.intersection(*(p.granularities for p in parts)),
        numerator=rule.numerator,
        denominator=rule.denominator,
        scale=rule.scale,
        # An amount of money per something (cpc, cost_per_conversion) is written like money.
        decimals=DECIMALS["money"] if parts[0].kind == "money" else rule.decimals,
    )


def _metrics() -> dict[str, MetricRule]:
    rules = [_rule(name, "money") for name in names(f"{CORE_MONEY} {OTHER_MONEY}")]
    counts = f"{CORE_COUNTS} {VIDEO_COUNTS} {SOCIAL_COUNTS} {OTHER_COUNTS}"
    rules += [_rule(name, "count") for name in names(counts)]
    rules += [_rule(name, "average") for name in names(AVERAGES) if name.startswith("average")]
    rules += [_rule(name, "ratio", formula) for name, formula in FORMULAS.items()]
    for event in APP_EVENTS_WITH_VALUE + APP_EVENTS_WITHOUT_VALUE:
        rules += _app_event(event, event in APP_EVENTS_WITH_VALUE)
    for event in WEB_EVENTS_WITH_VALUE + LEGACY_WEB_EVENTS + WEB_EVENTS_WITHOUT_VALUE:
        rules += _web_event(event, event not in WEB_EVENTS_WITHOUT_VALUE)
    for levels, text in ATTRIBUTES:
        rules += [_rule(name, "attribute", levels=levels) for name in names(text)]
    by_name = {rule.name: rule for rule in rules}
    if len(by_name) != len(rules):
        raise ValueError("a metric is defined twice")
    return {name: _where_parts_are(rule, by_name) for name, rule in by_name.items()}


METRICS: dict[str, MetricRule] = _metrics()
LEGACY_METRICS = frozenset(
    rule.name for event in LEGACY_WEB_EVENTS for rule in _web_event(event, has_value=True)
)
# The tap-facing name the engine uses for a metric's rule.
Metric = MetricRule
