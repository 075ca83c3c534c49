"""Metric and dimension catalogs of ``/report/integrated/get/``, as data.

Every metric has a *kind* that fixes its JSON type and how it behaves under aggregation:

- ``count``: integer counts, additive across time, entities and breakdowns (impressions, clicks,
  conversions). ``reach`` is a count too, but of unique users: sums over-count.
- ``money``: amounts in the account currency, additive (spend, purchase value).
- ``ratio``: ``numerator / denominator * scale``, recomputed at each aggregation, never summed
  (ctr, cpc, cpm, frequency, cost per X, X rate, value per X, ROAS).
- ``average``: a non-additive number TikTok derives from data it does not expose, so it has no
  numerator in this catalog (average play time).
- ``attribute``: the entity's own metadata (campaign_name, objective_type, currency).

TikTok sends every value as a string ("20.00", "1.18", "-"); the kind decides the converter.

Sources (TikTok's report documentation for /report/integrated/get/ first, then TikTok's metric
tables as mirrored by the Go SDK bububa/TikTok ``model/report/metrics.go``):

- AUDIENCE reports refuse reach, frequency, secondary-goal, cash/voucher spend, video, social
  and app-install metrics (TikTok's "unsupported in AUDIENCE" list). Metrics of the same
  families that TikTok has not confirmed for AUDIENCE (SKAN, focused views, other social
  clicks, VTA/CTA) are offered in BASIC only: a refused metric fails the whole request
  (40002), a missing one is only absent.
- ``cash_spend`` / ``voucher_spend`` exist only per advertiser and day; focused-view metrics
  only with an ID dimension and at most ``stat_time_day`` (so not hourly).
- A ratio is offered exactly where both its parts are.
- Attribute metrics exist from their own level down.
- App-event rates are "out of app installs", web-event rates "out of clicks" (TikTok's own
  definitions); ``total_complete_payment_rate`` is, despite its name, the payment *value*.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from fnmatch import translate
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
    if service_type not in SERVICE_TYPES:
        raise ValueError(f"unknown service_type {service_type!r}")
    return f"{service_type}_{_API_LEVEL_SUFFIX[level]}"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    json_type: Literal["integer", "number", "string"]
    levels: frozenset[DataLevel]
    report_types: frozenset[str]
    granularities: frozenset[str]
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
    description: str = ""


ALL_LEVELS = frozenset(LEVELS)
FROM_CAMPAIGN: frozenset[DataLevel] = frozenset({"campaign", "ad_group", "ad"})
FROM_AD_GROUP: frozenset[DataLevel] = frozenset({"ad_group", "ad"})
AD_ONLY: frozenset[DataLevel] = frozenset({"ad"})
ADVERTISER_ONLY: frozenset[DataLevel] = frozenset({"advertiser"})
BOTH = frozenset(REPORT_TYPES)
BASIC = frozenset({"BASIC"})
ALL_GRANULARITIES = frozenset(GRANULARITIES)
DAILY = frozenset({"daily"})
NOT_HOURLY = frozenset({"daily", "lifetime"})

# -- availability rules (TikTok's report docs) -----------------------------------------------------

# Refused by AUDIENCE reports (TikTok's docs; the same list as Airbyte's NOT_AUDIENCE_METRICS).
AUDIENCE_REFUSED = (
    "reach",
    "cost_per_1000_reached",
    "frequency",
    "*secondary_goal_*",
    "cash_spend",
    "voucher_spend",
    "video_*",
    "average_video_play*",
    "profile_visits*",
    "likes",
    "comments",
    "shares",
    "follows",
    "clicks_on_music_disc",
    "real_time_app_install*",
    "app_install",
)
# Not confirmed for AUDIENCE; offered in BASIC only (see the module docstring).
AUDIENCE_UNCONFIRMED = (
    "gross_impressions",
    "billed_cost",
    "skan_*",
    "*engaged_view*",
    "engagement*",
    "duet_clicks",
    "stitch_clicks",
    "sound_usage_clicks",
    "anchor_clicks",
    "vta_*",
    "cta_*",
    "cost_per_vta_*",
    "cost_per_cta_*",
    "live_*",
)
ADVERTISER_DAILY_ONLY = frozenset({"cash_spend", "voucher_spend"})
ID_AND_DAY_ONLY = ("*engaged_view*",)  # "one ID dimension (+ stat_time_day)"

# The small selection of the predefined streams (meltano.yml's `select` mirrors it).
DEFAULT_METRICS = frozenset(
    {
        "spend",
        "impressions",
        "clicks",
        "ctr",
        "cpc",
        "cpm",
        "reach",
        "frequency",
        "conversion",
        "cost_per_conversion",
        "conversion_rate",
        "result",
        "cost_per_result",
        "result_rate",
        "video_play_actions",
        "video_watched_2s",
        "video_watched_6s",
        "video_views_p25",
        "video_views_p50",
        "video_views_p75",
        "video_views_p100",
        "average_video_play",
        "likes",
        "comments",
        "shares",
        "follows",
        "profile_visits",
        "currency",
        "campaign_name",
        "adgroup_name",
        "ad_name",
    }
)

# -- metric tables ----------------------------------------------------------------------------

CONVERSION_NOTE = " Not broken down at campaign level (campaigns mix goals): TikTok sends '-'."

# (name, description)
MONEY: tuple[tuple[str, str], ...] = (
    ("spend", "Cost, in the account currency."),
    ("billed_cost", "Cost billed (net of free impressions and compensation)."),
    ("cash_spend", "Cost paid in cash (advertiser level, daily, 16-48 h latency)."),
    ("voucher_spend", "Cost paid by vouchers (advertiser level, daily, 16-48 h latency)."),
)
COUNTS: tuple[tuple[str, str], ...] = (
    ("impressions", "Times ads were on screen."),
    ("gross_impressions", "Impressions including invalid ones."),
    ("clicks", "Clicks on ads."),
    ("reach", "Unique users who saw ads (not additive across days or entities)."),
    ("conversion", "Conversions, by impression time (revised for days)." + CONVERSION_NOTE),
    ("real_time_conversion", "Conversions, by conversion time." + CONVERSION_NOTE),
    ("result", "Results of the optimisation goal, by impression time."),
    ("real_time_result", "Results of the optimisation goal, by conversion time."),
    ("secondary_goal_result", "Results of the secondary goal (null when none is set)."),
    ("skan_result", "SKAdNetwork results (iOS 14+ campaigns)."),
    ("skan_conversion", "SKAdNetwork conversions (iOS 14+ campaigns)."),
    ("video_play_actions", "Video plays (replays excluded)."),
    ("video_watched_2s", "Plays of at least 2 seconds."),
    ("video_watched_6s", "Plays of at least 6 seconds (or to the end)."),
    ("video_views_p25", "Plays to 25% of the video."),
    ("video_views_p50", "Plays to 50% of the video."),
    ("video_views_p75", "Plays to 75% of the video."),
    ("video_views_p100", "Plays to the end of the video."),
    ("engaged_view", "Focused views: 6 s of play or an interaction within 6 s."),
    ("engaged_view_15s", "Focused views: 15 s of play or an interaction within 15 s."),
    ("paid_engaged_view", "Paid 6-second focused views."),
    ("paid_engaged_view_15s", "Paid 15-second focused views."),
    ("paid_engagement_engaged_view", "Paid interactions within 6 seconds."),
    ("paid_engagement_engaged_view_15s", "Paid interactions within 15 seconds."),
    ("engagements", "Engagements: clicks, likes, comments, shares, follows, profile visits."),
    ("clicks_on_music_disc", "Clicks on the music disc."),
    ("duet_clicks", "Clicks on Duet."),
    ("stitch_clicks", "Clicks on Stitch."),
    ("sound_usage_clicks", "Clicks on 'Use this sound'."),
    ("anchor_clicks", "Clicks on anchors."),
    ("follows", "New followers."),
    ("likes", "Likes."),
    ("comments", "Comments."),
    ("shares", "Shares."),
    ("profile_visits", "Visits to the profile page."),
    ("app_install", "App installs, by impression time."),
    ("real_time_app_install", "App installs, by install time."),
    ("total_landing_page_view", "Landing page views."),
    ("total_pageview", "Page views."),
    ("vta_app_install", "App installs attributed to views only."),
    ("vta_conversion", "Conversions attributed to views only."),
    ("vta_registration", "App registrations attributed to views only."),
    ("vta_purchase", "App purchases attributed to views only."),
    ("vta_complete_payment", "Web payments attributed to views only."),
    ("cta_app_install", "App installs attributed to clicks."),
    ("cta_conversion", "Conversions attributed to clicks."),
    ("cta_registration", "App registrations attributed to clicks."),
    ("cta_purchase", "App purchases attributed to clicks."),
    ("live_views", "LIVE views."),
    ("live_unique_views", "Unique LIVE viewers."),
    ("live_effective_views", "LIVE views of at least 10 seconds."),
    ("live_product_clicks", "Product clicks in LIVE."),
)
# (name, numerator, denominator, scale, label); the description adds the formula. Scale 100:
# TikTok sends a percent ("1.18" is 1.18%).
RATIOS: tuple[tuple[str, str, str, float, str], ...] = (
    ("ctr", "clicks", "impressions", 100, "Click-through rate, %"),
    ("cpc", "spend", "clicks", 1, "Cost per click"),
    ("cpm", "spend", "impressions", 1000, "Cost per 1000 impressions"),
    ("cost_per_1000_reached", "spend", "reach", 1000, "Cost per 1000 users reached"),
    ("frequency", "impressions", "reach", 1, "Impressions per user reached"),
    ("cost_per_conversion", "spend", "conversion", 1, "Cost per conversion"),
    ("conversion_rate", "conversion", "clicks", 100, "Conversion rate, %"),
    ("conversion_rate_v2", "conversion", "impressions", 100, "Conversions per impression, %"),
    ("real_time_cost_per_conversion", "spend", "real_time_conversion", 1, "Cost per conversion"),
    ("real_time_conversion_rate", "real_time_conversion", "clicks", 100, "Conversion rate, %"),
    ("real_time_conversion_rate_v2", "real_time_conversion", "impressions", 100, "Rate, %"),
    ("cost_per_result", "spend", "result", 1, "Cost per result"),
    ("result_rate", "result", "impressions", 100, "Result rate, %"),
    ("real_time_cost_per_result", "spend", "real_time_result", 1, "Cost per result"),
    ("real_time_result_rate", "real_time_result", "impressions", 100, "Result rate, %"),
    ("cost_per_secondary_goal_result", "spend", "secondary_goal_result", 1, "Cost per result"),
    ("secondary_goal_result_rate", "secondary_goal_result", "impressions", 100, "Rate, %"),
    ("skan_cost_per_result", "spend", "skan_result", 1, "Cost per SKAN result"),
    ("skan_result_rate", "skan_result", "impressions", 100, "SKAN result rate, %"),
    ("skan_cost_per_conversion", "spend", "skan_conversion", 1, "Cost per SKAN conversion"),
    ("skan_conversion_rate_v2", "skan_conversion", "impressions", 100, "SKAN conversion rate, %"),
    ("engagement_rate", "engagements", "impressions", 100, "Engagement rate, %"),
    ("profile_visits_rate", "profile_visits", "impressions", 100, "Profile visit rate, %"),
    ("cost_per_app_install", "spend", "app_install", 1, "Cost per app install"),
    ("real_time_app_install_cost", "spend", "real_time_app_install", 1, "Cost per app install"),
    ("cost_per_vta_conversion", "spend", "vta_conversion", 1, "Cost per VTA conversion"),
    ("cost_per_vta_registration", "spend", "vta_registration", 1, "Cost per VTA registration"),
    ("cost_per_vta_purchase", "spend", "vta_purchase", 1, "Cost per VTA purchase"),
    ("cost_per_vta_payments_completed", "spend", "vta_complete_payment", 1, "Cost per payment"),
    ("vta_complete_payment_roas", "vta_complete_payment_value", "spend", 1, "VTA payment ROAS"),
    ("cost_per_cta_conversion", "spend", "cta_conversion", 1, "Cost per CTA conversion"),
    ("cost_per_cta_registration", "spend", "cta_registration", 1, "Cost per CTA registration"),
    ("cost_per_cta_purchase", "spend", "cta_purchase", 1, "Cost per CTA purchase"),
    ("total_active_pay_roas", "total_purchase_value", "spend", 1, "App purchase ROAS"),
    ("complete_payment_roas", "total_complete_payment_rate", "spend", 1, "Web payment ROAS"),
    ("onsite_shopping_roas", "total_onsite_shopping_value", "spend", 1, "TikTok Shop ROAS"),
)
EXTRA_MONEY: tuple[tuple[str, str], ...] = (
    ("vta_complete_payment_value", "Value of web payments attributed to views only."),
)
# (name, description): percentages whose denominator TikTok does not expose.
AVERAGES: tuple[tuple[str, str], ...] = (
    ("average_video_play", "Average play time per play, seconds."),
    ("average_video_play_per_user", "Average play time per user, seconds."),
)

# App events (TikTok SDK / MMP), rates out of app installs: (event, label, has a value).
# Each gives E, cost_per_E, E_rate, total_E, cost_per_total_E (+ total_E_value,
# value_per_total_E): E counts unique events by impression time, total_E all of them.
APP_EVENTS: tuple[tuple[str, str, bool], ...] = (
    ("registration", "registration", False),
    ("purchase", "purchase", True),
    ("app_event_add_to_cart", "add-to-cart", True),
    ("checkout", "checkout", True),
    ("view_content", "view-content", True),
    ("next_day_open", "day-2 retention", False),
    ("add_payment_info", "add-payment-info", False),
    ("add_to_wishlist", "add-to-wishlist", True),
    ("launch_app", "app launch", False),
    ("complete_tutorial", "complete-tutorial", True),
    ("create_group", "create-group", True),
    ("join_group", "join-group", True),
    ("create_gamerole", "create-game-role", True),
    ("spend_credits", "spend-credits", True),
    ("achieve_level", "achieve-level", True),
    ("unlock_achievement", "unlock-achievement", True),
    ("sales_lead", "generate-lead", True),
    ("in_app_ad_click", "in-app ad click", True),
    ("in_app_ad_impr", "in-app ad impression", True),
    ("loan_apply", "loan application", False),
    ("loan_credit", "loan approval", False),
    ("loan_disbursement", "loan disbursal", False),
    ("login", "login", False),
    ("ratings", "rating", True),
    ("search", "search", False),
    ("start_trial", "start-trial", False),
    ("subscribe", "subscribe", True),
)
# Web (Pixel), on-TikTok and instant-page events, rates out of clicks: (event, label, value).
# Each gives E, cost_per_E, E_rate (+ total_E_value, value_per_E).
WEB_EVENTS: tuple[tuple[str, str, bool], ...] = (
    ("complete_payment", "complete-payment (web)", True),
    ("page_browse_view", "page-browse (web)", True),
    ("button_click", "button-click (web)", True),
    ("online_consult", "contact (web)", True),
    ("user_registration", "registration (web)", True),
    ("product_details_page_browse", "view-content (web)", True),
    ("web_event_add_to_cart", "add-to-cart (web)", True),
    ("on_web_order", "place-order (web)", True),
    ("form_detail", "form detail page browse", True),
    ("form_button", "form button click", True),
    ("form", "form submission", True),
    ("page_browse_consultation", "consultation page browse", True),
    ("button_click_consultation", "consultation button click", True),
    ("consultation", "consultation", True),
    ("download_detail", "app-download page browse", True),
    ("download_button", "app-download button click", True),
    ("download_start", "download-start (web)", True),
    ("initiate_checkout", "initiate-checkout (web)", True),
    ("add_billing", "add-payment-info (web)", True),
    ("page_event_search", "search (web)", True),
    ("on_web_add_to_wishlist", "add-to-wishlist (web)", True),
    ("on_web_subscribe", "subscribe (web)", True),
    ("onsite_shopping", "purchase on TikTok", True),
    ("onsite_initiate_checkout_count", "initiate-checkout on TikTok", True),
    ("onsite_on_web_detail", "product-page view on TikTok", True),
    ("onsite_add_to_wishlist", "add-to-wishlist on TikTok", True),
    ("onsite_add_billing", "add-payment-info on TikTok", True),
    ("onsite_on_web_cart", "add-to-cart on TikTok", True),
    ("onsite_form", "form submission on TikTok", True),
    ("onsite_download_start", "app-store click on TikTok", False),
    ("ix_page_view_count", "instant page view", False),
    ("ix_button_click_count", "instant page button click", False),
    ("ix_product_click_count", "instant page product click", False),
)
# TikTok's names that break the family patterns.
RENAMED = {
    "cost_per_total_add_payment_info": "cost_total_add_payment_info",
    "value_per_total_checkout": "value_per_checkout",
    "total_complete_payment_value": "total_complete_payment_rate",
    "on_web_add_to_wishlist_rate": "on_web_add_to_wishlist_per_click",
    "on_web_subscribe_rate": "on_web_subscribe_per_click",
}
# Instant-page rates are "out of all events", a denominator TikTok does not expose.
RATES_WITHOUT_DENOMINATOR = frozenset(
    {"ix_page_view_count_rate", "ix_button_click_count_rate", "ix_product_click_count_rate"}
)

# Attribute metrics: (name, levels that have it).
ATTRIBUTES: tuple[tuple[str, frozenset[DataLevel]], ...] = (
    ("advertiser_name", ALL_LEVELS),
    ("currency", ALL_LEVELS),
    ("campaign_name", FROM_CAMPAIGN),
    ("campaign_id", FROM_AD_GROUP),
    ("objective_type", FROM_CAMPAIGN),
    ("split_test", FROM_CAMPAIGN),
    ("campaign_budget", FROM_CAMPAIGN),
    ("campaign_dedicate_type", FROM_CAMPAIGN),
    ("app_promotion_type", FROM_CAMPAIGN),
    ("campaign_automation_type", FROM_CAMPAIGN),
    ("adgroup_name", FROM_AD_GROUP),
    ("adgroup_id", AD_ONLY),
    ("placement_type", FROM_AD_GROUP),
    ("promotion_type", FROM_AD_GROUP),
    ("opt_status", FROM_AD_GROUP),
    ("adgroup_download_url", FROM_AD_GROUP),
    ("profile_image", FROM_AD_GROUP),
    ("dpa_target_audience_type", FROM_AD_GROUP),
    ("budget", FROM_AD_GROUP),
    ("smart_target", FROM_AD_GROUP),
    ("pricing_category", FROM_AD_GROUP),
    ("billing_event", FROM_AD_GROUP),
    ("bid_strategy", FROM_AD_GROUP),
    ("bid", FROM_AD_GROUP),
    ("bid_secondary_goal", FROM_AD_GROUP),
    ("aeo_type", FROM_AD_GROUP),
    ("tt_app_id", FROM_AD_GROUP),
    ("tt_app_name", FROM_AD_GROUP),
    ("mobile_app_id", FROM_AD_GROUP),
    ("is_aco", FROM_AD_GROUP),
    ("ad_name", AD_ONLY),
    ("ad_text", AD_ONLY),
    ("call_to_action", AD_ONLY),
    ("ad_profile_image", AD_ONLY),
    ("ad_url", AD_ONLY),
    ("image_mode", AD_ONLY),
    ("is_smart_creative", AD_ONLY),
)

# -- expansion into Metric objects ------------------------------------------------------------

# Each ratio's (numerator, denominator): a ratio is offered only where both parts are.
RATIO_PARTS: dict[str, tuple[str, str]] = {}


def _matcher(patterns: Iterable[str]) -> Callable[[str], object]:
    """Whether a name matches any of the shell-style ``patterns`` (as ``fnmatchcase``), in one
    regular expression: the table below is built on every start of the tap, and matching each
    metric against each pattern in turn took half of its import time."""
    return re.compile("|".join(translate(pattern) for pattern in patterns)).match


_audience_refused = _matcher(AUDIENCE_REFUSED + AUDIENCE_UNCONFIRMED)
_id_and_day_only = _matcher(ID_AND_DAY_ONLY)


def _metric(name: str, kind: MetricKind, description: str, **fields: Any) -> Metric:
    """A metric with the availability the rules above give its name."""
    audience_refused = bool(_audience_refused(name))
    advertiser_daily = name in ADVERTISER_DAILY_ONLY
    fields.setdefault("levels", ADVERTISER_ONLY if advertiser_daily else ALL_LEVELS)
    fields.setdefault("report_types", BASIC if audience_refused else BOTH)
    if advertiser_daily:
        fields.setdefault("granularities", DAILY)
    elif _id_and_day_only(name):
        fields.setdefault("granularities", NOT_HOURLY)
    fields.setdefault("granularities", ALL_GRANULARITIES)
    return Metric(
        name=RENAMED.get(name, name),
        kind=kind,
        json_type=JSON_TYPE[kind],
        default=RENAMED.get(name, name) in DEFAULT_METRICS,
        description=description,
        **fields,
    )


def _ratio(name: str, numerator: str, denominator: str, scale: float, label: str) -> Metric:
    numerator = RENAMED.get(numerator, numerator)
    denominator = RENAMED.get(denominator, denominator)
    factor = f" * {scale:g}" if scale != 1 else ""
    description = f"{label}: {numerator} / {denominator}{factor}."
    RATIO_PARTS[RENAMED.get(name, name)] = (numerator, denominator)
    return _metric(name, "ratio", description)


def _app_event(event: str, label: str, has_value: bool) -> list[Metric]:
    total = f"total_{event}"
    metrics = [
        _metric(event, "count", f"Unique {label} events in the app, by impression time."),
        _ratio(f"cost_per_{event}", "spend", event, 1, f"Cost per unique {label} event"),
        _ratio(f"{event}_rate", event, "app_install", 100, f"Unique {label} rate, %"),
        _metric(total, "count", f"All {label} events in the app."),
        _ratio(f"cost_per_{total}", "spend", total, 1, f"Cost per {label} event"),
    ]
    if has_value:
        value = f"{total}_value"
        metrics += [
            _metric(value, "money", f"Value of all {label} events in the app."),
            _ratio(f"value_per_{total}", value, total, 1, f"Value per {label} event"),
        ]
    return metrics


def _web_event(event: str, label: str, has_value: bool) -> list[Metric]:
    metrics = [
        _metric(event, "count", f"Number of {label} events."),
        _ratio(f"cost_per_{event}", "spend", event, 1, f"Cost per {label} event"),
    ]
    rate = f"{event}_rate"
    if rate in RATES_WITHOUT_DENOMINATOR:
        metrics.append(_metric(rate, "average", f"Share of {label} events in all events, %."))
    else:
        metrics.append(_ratio(rate, event, "clicks", 100, f"{label.capitalize()} rate, %"))
    if has_value:
        value = f"total_{event}_value"
        metrics += [
            _metric(value, "money", f"Value of {label} events."),
            _ratio(f"value_per_{event}", value, event, 1, f"Value per {label} event"),
        ]
    return metrics


def _attribute(name: str, levels: frozenset[DataLevel]) -> Metric:
    text = f"The entity's {name.replace('_', ' ')} (attribute; needs an ID dimension)."
    return _metric(name, "attribute", text, levels=levels, report_types=BOTH)


def _narrowed_to_parts(metric: Metric, metrics: dict[str, Metric]) -> Metric:
    """A ratio is available only where both its numerator and denominator are."""
    if metric.kind != "ratio":
        return metric
    parts = tuple(metrics[part] for part in RATIO_PARTS[metric.name])
    return replace(
        metric,
        levels=metric.levels.intersection(*(p.levels for p in parts)),
        report_types=metric.report_types.intersection(*(p.report_types for p in parts)),
        granularities=metric.granularities.intersection(*(p.granularities for p in parts)),
    )


def _build_metrics() -> dict[str, Metric]:
    built = [_metric(name, "money", text) for name, text in MONEY]
    built += [_metric(name, "count", text) for name, text in COUNTS]
    built += [_metric(name, "money", text) for name, text in EXTRA_MONEY]
    built += [_ratio(*row) for row in RATIOS]
    built += [_metric(name, "average", text) for name, text in AVERAGES]
    for row in APP_EVENTS:
        built += _app_event(*row)
    for row in WEB_EVENTS:
        built += _web_event(*row)
    built += [_attribute(name, levels) for name, levels in ATTRIBUTES]
    duplicates = [name for name, n in Counter(m.name for m in built).items() if n > 1]
    if duplicates:
        raise ValueError(f"metrics defined twice: {duplicates}")
    metrics = {metric.name: metric for metric in built}
    return {name: _narrowed_to_parts(metric, metrics) for name, metric in metrics.items()}


METRICS: dict[str, Metric] = _build_metrics()

# -- dimensions -------------------------------------------------------------------------------

STRING = {"type": "string"}
AUDIENCE_ONLY = frozenset({"AUDIENCE"})

# (name, description): breakdowns of AUDIENCE reports whose values are TikTok's own ids/labels.
AUDIENCE_ID_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("interest_category", "Interest category id (tier 1)."),
    ("interest_category_tier2", "Interest category id (tier 2)."),
    ("interest_category_tier3", "Interest category id (tier 3)."),
    ("interest_category_tier4", "Interest category id (tier 4)."),
    ("province_id", "Province / region id."),
    ("dma_id", "US Designated Market Area id."),
    ("device_brand_id", "Device brand id."),
    ("hashtag", "Hashtag."),
    ("audience_tags", "Audience tag."),
    ("additional_interests", "Additional interest."),
    ("contextual_tag", "Contextual tag id."),
    ("behavior_id", "Behaviour category id."),
    ("purchase_intention", "Purchase intention category id."),
)
# (name, description): optional breakdowns of BASIC reports; each narrows the allowed metrics.
BASIC_EXTRAS: tuple[tuple[str, str], ...] = (
    ("custom_event_type", "Custom event type."),
    ("event_source_id", "Pixel / app / offline event set id."),
    ("page_id", "Instant page id."),
    ("component_name", "Interactive component name."),
    ("room_id", "LIVE room id."),
    ("post_id", "Post id."),
    ("image_id", "Image id."),
    ("video_material_id", "Video material id."),
    ("minis_id", "TikTok Minis id."),
    ("search_terms", "Search terms users typed (impressions may be '<5')."),
    ("search_keyword", "Search keyword bought."),
    ("match_type", "Search keyword match type."),
    ("skan_postback_sequence", "SKAdNetwork postback sequence."),
)


def _build_dimensions() -> dict[str, Dimension]:
    dimensions = [
        Dimension("advertiser_id", "id", BOTH, STRING, description="Advertiser account id."),
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
        Dimension("age", "audience", AUDIENCE_ONLY, STRING, "Age group."),
        Dimension("gender", "audience", AUDIENCE_ONLY, STRING, "Gender."),
        Dimension("country_code", "audience", BOTH, STRING, "Country, ISO 3166-1."),
        Dimension("platform", "audience", AUDIENCE_ONLY, STRING, "Device platform."),
        Dimension("ac", "audience", AUDIENCE_ONLY, STRING, "Connection type."),
        Dimension("language", "audience", AUDIENCE_ONLY, STRING, "Device language."),
        Dimension("placement", "audience", AUDIENCE_ONLY, STRING, "Placement."),
        Dimension("ad_type", "audience", BOTH, STRING, description="Ad type."),
    ]
    dimensions += [
        Dimension(name, "audience", AUDIENCE_ONLY, STRING, description=text)
        for name, text in AUDIENCE_ID_DIMENSIONS
    ]
    dimensions += [
        Dimension(name, "extra", BASIC, STRING, description=text) for name, text in BASIC_EXTRAS
    ]
    return {dimension.name: dimension for dimension in dimensions}


DIMENSIONS: dict[str, Dimension] = _build_dimensions()
AUDIENCE_PAIRS: frozenset[frozenset[str]] = frozenset({frozenset({"age", "gender"})})

# -- queries and validation -------------------------------------------------------------------


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
    time dimension from ``granularity``. The level's own ID is tolerated; ``stat_time_*`` is
    refused so that a definition cannot contradict its granularity.
    """
    problems = _dimension_problems(report_type, level, dimensions, granularity)
    problems += _metric_problems(report_type, level, metrics, granularity)
    if report_type == "AUDIENCE" and granularity == "hourly":
        problems.append("AUDIENCE reports have no hourly breakdown (daily or lifetime only)")
    return problems


def _dimension_problems(
    report_type: str, level: DataLevel, dimensions: Sequence[str], granularity: str
) -> list[str]:
    problems = [f"dimension {name!r} is listed twice" for name in _repeated(dimensions)]
    problems += [_dimension_problem(report_type, level, name) for name in dict.fromkeys(dimensions)]
    problems = [problem for problem in problems if problem]
    breakdowns = [n for n in dimensions if n in DIMENSIONS and DIMENSIONS[n].kind != "id"]
    audience = [n for n in dict.fromkeys(breakdowns) if DIMENSIONS[n].kind == "audience"]
    if report_type == "AUDIENCE":
        if not audience:
            problems.append("AUDIENCE reports need an audience dimension (e.g. age, country_code)")
        elif len(audience) > 1 and frozenset(audience) not in AUDIENCE_PAIRS:
            problems.append(
                f"only one audience dimension per report (age+gender excepted): {audience}"
            )
    # BASIC lifetime is `query_lifetime`, which takes ID dimensions only. An AUDIENCE "lifetime"
    # report is totals over a date range without a time dimension, which TikTok serves.
    if granularity == "lifetime" and breakdowns and report_type == "BASIC":
        problems.append(f"lifetime reports take no dimensions besides the ID: {breakdowns}")
    return problems


def _dimension_problem(report_type: str, level: DataLevel, name: str) -> str:
    dimension = DIMENSIONS.get(name)
    if dimension is None:
        return f"unknown dimension {name!r}{_suggest(name, DIMENSIONS)}"
    if dimension.kind == "id" and name != LEVEL_ID_DIMENSION[level]:
        return f"dimension {name!r} does not belong to data_level {level!r}"
    if dimension.kind == "time":
        return f"dimension {name!r} follows from time_granularity; remove it"
    if report_type not in dimension.report_types:
        return f"dimension {name!r} is not available in {report_type} reports"
    return ""


def _metric_problems(
    report_type: str, level: DataLevel, metrics: Sequence[str], granularity: str
) -> list[str]:
    problems = [f"metric {name!r} is listed twice" for name in _repeated(metrics)]
    for name in dict.fromkeys(metrics):
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


def _repeated(names: Sequence[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
