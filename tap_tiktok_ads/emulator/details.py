"""The long tail of v1.3 entity fields (as TikTok documents them), filled for every generated row.

Values derive from the entity's own id and objective through ``Pick`` (a seeded hash), not the
world's random stream, so adding a field here never shifts the ids, times and budgets of a
seed. Fields that do not apply to an entity are null, as TikTok sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Pick = Callable[[str, Sequence[T]], T]  # (salted key, options) -> one option, deterministic

# TikTok's own bodies carry some ids as JSON numbers although its documentation says string:
# location and interest ids inside lists, ``category_id``, an ad's ``tracking_pixel_id``.
DAYPARTING_OFFICE_HOURS = ("0" * 16 + "1" * 26 + "0" * 6) * 7  # 7 days x 48 half hours
INTEREST_CATEGORIES = ("15010000", "17020000", "19010000", "20030000", "24010000")
LOCATIONS = {"US": "6252001", "JP": "1861060", "DE": "2921044", "AU": "2077456", "GB": "2635167"}


# Without a buying-type filter, TikTok's listings and reports leave TopView out; TopView must
# be asked for alone.
BUYING_TYPES = ("AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW")
DEFAULT_BUYING_TYPES = ("AUCTION", "RESERVATION_RF")
TOP_VIEW = "RESERVATION_TOP_VIEW"
TOP_VIEW_NOT_ALONE = (
    "The value 'RESERVATION_TOP_VIEW' cannot be combined with other enum values for this parameter"
)


def buying_type(campaign: dict[str, Any]) -> str:
    """The campaign's buying type, derived like TikTok's ``buying_types`` filter sees it."""
    if campaign.get("rf_campaign_type") == "TOPVIEW":
        return "RESERVATION_TOP_VIEW"
    if campaign.get("objective_type") == "RF_REACH":
        return "RESERVATION_RF"
    return "AUCTION"


def campaign_details(campaign: dict[str, Any], pick: Pick[Any]) -> dict[str, Any]:
    objective = campaign["objective_type"]
    app = objective == "APP_PROMOTION"
    web = objective == "WEB_CONVERSIONS"
    key = campaign["campaign_id"]
    return {
        "campaign_system_origin": None,  # only on Promote campaigns
        "virtual_objective_type": "SALES" if web else None,
        "sales_destination": "WEBSITE" if web else None,
        "app_promotion_type": "APP_INSTALL" if app else None,
        "app_id": app_id(key, pick) if app else None,
        "campaign_product_source": None,
        "catalog_enabled": False,
        "is_advanced_dedicated_campaign": False,
        "disable_skan_campaign": False if app else None,
        "bid_align_type": "SAN" if app else None,
        "postback_window_mode": "POSTBACK_WINDOW_MODE1" if app else None,
        "bid_type": "BID_TYPE_NO_BID",
        "optimization_goal": None,  # set on the ad groups unless budget optimisation is on
        "campaign_app_profile_page_state": "UNSET" if app else None,
        "rf_campaign_type": None,
        "rta_id": None,
        "rta_bid_enabled": False,
        "rta_product_selection_enabled": False,
        "po_number": None,
        "split_test_variable": None,
    }


def adgroup_details(
    adgroup: dict[str, Any], campaign: dict[str, Any], country: str, pick: Pick[Any]
) -> dict[str, Any]:
    key = adgroup["adgroup_id"]
    app = campaign["objective_type"] == "APP_PROMOTION"
    convert = adgroup["optimization_goal"] == "CONVERT"
    return {
        "is_smart_performance_campaign": campaign["is_smart_performance_campaign"],
        "campaign_system_origin": None,
        **_promotion(key, app, convert, campaign, pick),
        **_bidding(adgroup),
        **_targeting(key, country, pick),
        **_inventory(key, pick),
        **_attribution(convert),
        "catalog_id": None,
        "catalog_authorized_bc_id": None,
        "product_set_id": None,
        "store_id": None,
        "store_authorized_bc_id": None,
        "identity_id": None,
        "identity_type": None,
        "creative_material_mode": pick(f"{key}|mode", ("CUSTOM", "CUSTOM", "SMART_CREATIVE")),
        "statistic_type": None,
        "cpv_video_duration": None,
        "next_day_retention": None,
        "is_hfss": False,
        "is_lhf_compliance": None,
        "skip_learning_phase": False,
        "adgroup_app_profile_page_state": "UNSET" if app else None,
        "feed_type": None,
        "split_test_group_id": None,
        "split_test_status": None,
        **_messaging_and_funnel(convert),
        **_reservation(key, campaign, pick),
        "category_id": 0,  # legacy fields real v1.3 bodies still carry
        "keywords": None,
        "conversion_window": None,
    }


def _messaging_and_funnel(convert: bool) -> dict[str, Any]:
    return {
        "shopping_ads_type": None,
        "product_source": None,
        "promotion_target_type": None,
        "messaging_app_type": None,
        "messaging_app_account_id": None,
        "message_event_set_id": None,
        "phone_region_code": None,
        "phone_region_calling_code": None,
        "phone_number": None,
        "app_config": None,
        "custom_conversion_id": None,
        "deep_funnel_optimization_status": "OFF" if convert else None,
        "deep_funnel_event_source": None,
        "deep_funnel_event_source_id": None,
        "deep_funnel_optimization_event": None,
        "identity_authorized_bc_id": None,
    }


def _reservation(key: str, campaign: dict[str, Any], pick: Pick[Any]) -> dict[str, Any]:
    """Reach & Frequency and TopView ad group fields: bought impressions, not bids."""
    rf_type = campaign.get("rf_campaign_type")
    if campaign["objective_type"] != "RF_REACH":
        return {
            "rf_purchased_type": None,
            "purchased_impression": None,
            "purchased_reach": None,
            "rf_estimated_cpr": None,
            "rf_estimated_frequency": None,
            "predict_impression": None,
            "topview_reach_range": None,
            "pre_discount_cpm": None,
            "cpm": None,
            "discount_type": None,
            "discount_amount": None,
            "discount_percentage": None,
            "pre_discount_budget": None,
        }
    impressions = pick(f"{key}|impressions", (2_000_000, 5_000_000, 12_000_000))
    reach = impressions // 3
    return {
        "billing_event": "CPM",
        "rf_purchased_type": "FIXED_BUDGET",
        "purchased_impression": impressions,
        "purchased_reach": reach,
        "rf_estimated_cpr": 9.5,
        "rf_estimated_frequency": 3.0,
        "predict_impression": impressions,
        "topview_reach_range": [reach, reach * 2] if rf_type == "TOPVIEW" else None,
        "pre_discount_cpm": 7.5,
        "cpm": 6.0,
        "discount_type": "PERCENTAGE",
        "discount_amount": None,
        "discount_percentage": 20.0,
        "pre_discount_budget": round(impressions / 1000 * 7.5, 2),
    }


def _promotion(
    key: str, app: bool, convert: bool, campaign: dict[str, Any], pick: Pick[Any]
) -> dict[str, Any]:
    platform = pick(f"{key}|platform", ("APP_ANDROID", "APP_IOS"))
    return {
        "promotion_type": platform if app else "WEBSITE",
        "promotion_website_type": None if app else "UNSET",
        "app_id": campaign["app_id"],
        "app_type": platform if app else None,
        "app_download_url": f"https://play.example.com/app/{campaign['app_id']}" if app else None,
        "pixel_id": f"7{int(key) % 10**18:018d}" if convert else None,
        "optimization_event": "SHOPPING" if convert else ("ACTIVE" if app else None),
        "secondary_optimization_event": None,
    }


def _bidding(adgroup: dict[str, Any]) -> dict[str, Any]:
    return {
        "deep_cpa_bid": None,
        "roas_bid": None,
        "deep_bid_type": None,
        "vbo_window": None,
        "bid_display_mode": "CPMV",
        "scheduled_budget": 0.0,
        "schedule_infos": None,
        "delivery_mode": None,
        "frequency": None,
        "frequency_schedule": None,
        "dayparting": DAYPARTING_OFFICE_HOURS if adgroup["budget"] < 50 else None,
    }


def _targeting(key: str, country: str, pick: Pick[Any]) -> dict[str, Any]:
    return {
        "audience_type": None,
        "audience_rule": None,
        "auto_targeting_enabled": False,
        "smart_audience_enabled": False,
        "smart_interest_behavior_enabled": False,
        "location_ids": [int(LOCATIONS.get(country, "6252001"))],
        "zipcode_ids": [],
        "spending_power": "ALL",
        "household_income": [],
        "interest_category_ids": [int(pick(f"{key}|interest", INTEREST_CATEGORIES))],
        "interest_keyword_ids": [],
        "purchase_intention_keyword_ids": [],
        "actions": [],
        "included_custom_actions": [],
        "excluded_custom_actions": [],
        "shopping_ads_retargeting_type": None,
        "network_types": [],
        "device_model_ids": [],
        "carrier_ids": [],
        "isp_ids": [],
        "device_price_ranges": [],
        "min_android_version": None,
        "min_ios_version": None,
        "ios14_targeting": "UNSET",
        "ios14_quota_type": None,
        "shopping_ads_retargeting_actions_days": None,
        "shopping_ads_retargeting_custom_audience_relation": None,
        "exclude_age_under_eighteen": True,
        "saved_audience_id": None,
        "automated_keywords_enabled": None,
        "search_keywords": None,
        "targeting_expansion": {"expansion_enabled": False, "expansion_types": []},
    }


def _inventory(key: str, pick: Pick[Any]) -> dict[str, Any]:
    return {
        "tiktok_subplacements": ["IN_FEED"],
        "search_result_enabled": pick(f"{key}|search", (False, True)),
        "share_disabled": False,
        "inventory_filter_enabled": False,
        "contextual_tag_ids": [],
        "category_exclusion_ids": [],
        "brand_safety_type": "NO_BRAND_SAFETY",
        "brand_safety_partner": None,
        "vertical_sensitivity_id": None,
        "blocked_pangle_app_ids": [],
        "included_pangle_audience_package_ids": [],
        "excluded_pangle_audience_package_ids": [],
    }


def _attribution(convert: bool) -> dict[str, Any]:
    return {
        "click_attribution_window": "SEVEN_DAYS" if convert else None,
        "view_attribution_window": "ONE_DAY" if convert else None,
        "engaged_view_attribution_window": None,
        "attribution_event_count": "EVERY" if convert else None,
    }


def ad_details(ad: dict[str, Any], adgroup: dict[str, Any], pick: Pick[Any]) -> dict[str, Any]:
    key = ad["ad_id"]
    web = adgroup["promotion_type"] == "WEBSITE"
    return {
        "vast_moat_enabled": False,
        "promotional_music_disabled": False,
        "branded_content_disabled": False,
        "creative_type": None,
        "ad_texts": None,
        "call_to_action_id": None,
        "card_id": None,
        "music_id": None,
        "tiktok_item_id": None,
        "carousel_image_index": None,
        "identity_authorized_bc_id": None,
        "app_name": None if web else ad["display_name"],
        "profile_image_url": f"https://p16.example.com/avatar/{int(key) % 1000}.jpeg",
        "avatar_icon_web_uri": f"ad-site-i18n-sg/{int(key) % 10**12}",
        "landing_page_urls": None,
        "utm_params": [{"key": "utm_source", "value": "tiktok"}] if web else None,
        "deeplink_utm_params": None,
        "page_id": None,
        "cpp_url": None,
        "deeplink": None,
        "deeplink_type": "NORMAL",
        **_ad_destination(),
        "tracking_pixel_id": int(adgroup["pixel_id"]) if adgroup["pixel_id"] else None,
        "tracking_app_id": adgroup["app_id"],
        "tracking_offline_event_set_ids": [],
        **_ad_tracking(),
        "item_duet_status": pick(f"{key}|duet", ("ENABLE", "DISABLE")),
        "item_stitch_status": pick(f"{key}|stitch", ("ENABLE", "DISABLE")),
        "dark_post_status": "ON",
        "disclaimer_type": None,
        "disclaimer_text": None,
        "disclaimer_clickable_texts": None,
        "aigc_disclosure_type": "NOT_AIGC",
        "auto_message_id": None,
        "catalog_id": None,
        "product_set_id": None,
        "product_specific_type": None,
        "item_group_ids": None,
        "sku_ids": None,
        "showcase_products": None,
        "shopping_ads_video_package_id": None,
        "optimization_event": adgroup["optimization_event"],
        "campaign_system_origin": None,
        "tiktok_page_category": None,
        "page_image_index": None,
        "instant_product_page_used": False,
        "end_card_cta": None,
        "auto_disclaimer_types": None,
        "product_display_field_list": None,
        "vehicle_ids": None,
        "schedule_id": str(int(key) // 7) if adgroup["rf_purchased_type"] else None,
        "tracking_message_event_set_id": None,
    }


def _ad_destination() -> dict[str, Any]:
    return {
        "deeplink_format_type": None,
        "fallback_type": None,
        "shopping_ads_fallback_type": None,
        "shopping_ads_deeplink_type": None,
        "dynamic_destination": None,
        "dynamic_format": None,
        "vertical_video_strategy": None,
        "phone_region_code": None,
        "phone_region_calling_code": None,
        "phone_number": None,
    }


def _ad_tracking() -> dict[str, Any]:
    return {
        "impression_tracking_url": None,
        "click_tracking_url": None,
        "video_view_tracking_url": None,
        "playable_url": None,
        "viewability_postbid_partner": None,
        "viewability_vast_url": None,
        "brand_safety_postbid_partner": None,
        "brand_safety_vast_url": None,
    }


def app_id(key: str, pick: Pick[Any]) -> str:
    return str(pick(f"{key}|app", range(10**9, 2 * 10**9)))
