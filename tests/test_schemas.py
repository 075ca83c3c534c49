"""The entity and audience JSON schemas in ``tap_tiktok_ads/schemas``."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_tiktok_ads.streams.entities import to_record
from tap_tiktok_ads.streams.shaping import RecordShaper
from tap_tiktok_ads.tap import ENTITY_STREAMS

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "tap_tiktok_ads" / "schemas"
STREAMS = {stream.name: stream for stream in ENTITY_STREAMS}
# Each stream class declares its primary keys as a class attribute (the SDK's is a property).
PRIMARY_KEYS: dict[str, list[str]] = {
    name: list(inspect.getattr_static(stream, "primary_keys")) for name, stream in STREAMS.items()
}
ENTITIES = ("campaigns", "ad_groups", "ads")
# Names that look like ids but are not: a pixel's flag "external ids are used for matching".
NOT_IDS = frozenset({"automatic_advanced_matching_fields.external_id"})
# Streams whose TikTok rows carry no time at all (/bc/get/ has none).
TIMELESS = frozenset({"business_centers"})
# jsonschema checks "date-time" only with an optional package; this checker needs none.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True  # type errors are the type keyword's job
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return "T" in value and moment.tzinfo is not None


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


def types(prop: dict[str, Any]) -> list[str]:
    kind = prop.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def walk(properties: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property, nested objects and array items included, with a dotted path."""
    for name, prop in properties.items():
        yield f"{path}{name}", prop
        if "object" in types(prop):
            yield from walk(prop.get("properties", {}), f"{path}{name}.")
        items = prop.get("items", {})
        if "object" in types(items):
            yield from walk(items.get("properties", {}), f"{path}{name}[].")


def test_every_schema_file_belongs_to_a_stream() -> None:
    assert {p.stem for p in SCHEMA_DIR.glob("*.json")} == set(STREAMS)


@pytest.mark.parametrize("name", STREAMS)
def test_schema_is_valid_draft7(name: str) -> None:
    Draft7Validator.check_schema(load(name))


@pytest.mark.parametrize("name", STREAMS)
def test_primary_keys_are_required_strings(name: str) -> None:
    schema = load(name)
    for key in PRIMARY_KEYS[name]:
        assert schema["properties"][key]["type"] == "string", key
        assert key in schema["required"], key


@pytest.mark.parametrize("name", STREAMS)
def test_every_other_property_is_nullable(name: str) -> None:
    keys = set(PRIMARY_KEYS[name])
    for prop_name, prop in load(name)["properties"].items():
        if prop_name not in keys:
            assert "null" in types(prop), prop_name


@pytest.mark.parametrize("name", STREAMS)
def test_ids_are_strings(name: str) -> None:
    for path, prop in walk(load(name)["properties"]):
        if path in NOT_IDS:
            assert types(prop) == ["boolean", "null"], path
        elif path.endswith("_id"):
            assert "string" in types(prop), path
            assert set(types(prop)) <= {"string", "null"}, path
        elif path.endswith("_ids"):
            assert "array" in types(prop), path
            assert types(prop["items"]) == ["string"], path


@pytest.mark.parametrize("name", STREAMS)
def test_times_are_date_times(name: str) -> None:
    times = [
        (path, prop) for path, prop in walk(load(name)["properties"]) if path.endswith("_time")
    ]
    assert bool(times) != (name in TIMELESS)
    for path, prop in times:
        assert prop.get("format") == "date-time", path


@pytest.mark.parametrize("name", STREAMS)
def test_arrays_have_items_and_nested_objects_stay_open(name: str) -> None:
    for path, prop in walk(load(name)["properties"]):
        if "array" in types(prop):
            assert "items" in prop, path
        for obj in (prop, prop.get("items", {})):
            if "object" in types(obj):
                assert obj.get("additionalProperties", True) is not False, path


@pytest.mark.parametrize("name", ENTITIES)
def test_entities_carry_the_tap_fields(name: str) -> None:
    properties = load(name)["properties"]
    assert properties["is_deleted"]["type"] == ["boolean", "null"]
    assert properties["advertiser_id"]["type"] == "string"


def test_audience_details_are_flattened_with_their_history() -> None:
    properties = load("custom_audience_details")["properties"]
    assert set(load("custom_audiences")["properties"]) <= set(properties)
    history = properties["audience_history"]["items"]["properties"]
    assert set(history) == {"action", "action_detail", "editor", "msg", "opt_time"}


CAMPAIGN_ROW = {  # the keys of a real v1.3 record, as TikTok sends them
    "advertiser_id": "7000000000000000001",
    "campaign_id": "1700000000000000001",
    "campaign_name": "Website Traffic",
    "campaign_type": "REGULAR_CAMPAIGN",
    "objective": "LANDING_PAGE",
    "objective_type": "TRAFFIC",
    "budget": 50.0,
    "budget_mode": "BUDGET_MODE_DAY",
    "roas_bid": 0.0,
    "deep_bid_type": None,
    "is_smart_performance_campaign": False,
    "is_new_structure": True,
    "secondary_status": "CAMPAIGN_STATUS_DELETE",
    "operation_status": "DISABLE",
    "create_time": "2022-03-30 21:23:52",
    "modify_time": "2022-03-31 08:00:00",
}
AD_ROW = {
    "advertiser_id": "7000000000000000001",
    "campaign_id": "1700000000000000001",
    "adgroup_id": "1710000000000000001",
    "ad_id": "1714125051115569",
    "ad_name": "Spring",
    "create_time": "2022-03-30 21:23:52",
    "ad_texts": None,
    "image_ids": ["v0201/abc"],
    "landing_page_urls": None,
    "utm_params": [{"key": "utm_source", "value": "tiktok"}],
    "disclaimer_text": {"text": "Terms apply"},
    "showcase_products": [{"item_group_id": "1", "store_id": "2", "catalog_id": "3"}],
    "page_id": "7001",
    "is_aco": False,
}


@pytest.mark.parametrize(("name", "row"), [("campaigns", CAMPAIGN_ROW), ("ads", AD_ROW)])
def test_tiktok_rows_become_valid_records(name: str, row: dict[str, Any]) -> None:
    record = to_record(row, row["advertiser_id"])
    validator = Draft7Validator(load(name), format_checker=FORMATS)
    assert [error.message for error in validator.iter_errors(record)] == []


def test_schema_refuses_tiktoks_raw_time_format() -> None:
    """The format check above can fail: TikTok's own "YYYY-MM-DD HH:MM:SS" is not RFC 3339."""
    validator = Draft7Validator(load("campaigns"), format_checker=FORMATS)
    assert not validator.is_valid(CAMPAIGN_ROW)


# Writable fields of TikTok's SDK models (python_sdk/docs: CampaignCreateBody; AdgroupCreateBody and
# AdgroupUpdateBody; AdcreateCreatives and AdupdateCreatives), which /<entity>/get/ returns too.
# Left out: request-only parameters (request_id, internal_channel, plugin_partner).
SDK_FIELDS = {
    "campaigns": """
        advertiser_id app_id app_promotion_type bid_type budget budget_mode budget_optimize_on
        campaign_app_profile_page_state campaign_name campaign_product_source campaign_type
        catalog_enabled deep_bid_type disable_skan_campaign is_advanced_dedicated_campaign
        is_search_campaign objective_type operation_status optimization_goal po_number
        postback_window_mode rf_campaign_type roas_bid rta_bid_enabled rta_id
        rta_product_selection_enabled sales_destination special_industries virtual_objective_type
    """,
    "ad_groups": """
        actions adgroup_app_profile_page_state adgroup_id adgroup_name advertiser_id age_groups
        app_config app_id attribution_event_count audience_ids audience_rule audience_type
        auto_targeting_enabled automated_keywords_enabled bid_display_mode bid_price bid_type
        billing_event blocked_pangle_app_ids brand_safety_partner brand_safety_type budget
        budget_mode campaign_id carrier_ids catalog_authorized_bc_id catalog_id
        category_exclusion_ids click_attribution_window comment_disabled contextual_tag_ids
        conversion_bid_price creative_material_mode custom_conversion_id dayparting deep_bid_type
        deep_cpa_bid deep_funnel_event_source deep_funnel_event_source_id
        deep_funnel_optimization_event deep_funnel_optimization_status device_model_ids
        device_price_ranges engaged_view_attribution_window exclude_age_under_eighteen
        excluded_audience_ids excluded_custom_actions excluded_pangle_audience_package_ids
        frequency frequency_schedule gender household_income identity_authorized_bc_id
        identity_id identity_type included_custom_actions included_pangle_audience_package_ids
        interest_category_ids interest_keyword_ids ios14_targeting is_hfss is_lhf_compliance
        isp_ids languages location_ids message_event_set_id messaging_app_account_id
        messaging_app_type min_android_version min_ios_version network_types next_day_retention
        operating_systems operation_status optimization_event optimization_goal pacing
        phone_number phone_region_calling_code phone_region_code pixel_id placement_type
        placements product_source promotion_target_type promotion_type promotion_website_type
        purchase_intention_keyword_ids roas_bid saved_audience_id schedule_end_time
        schedule_start_time schedule_type search_keywords search_result_enabled
        secondary_optimization_event share_disabled shopping_ads_retargeting_actions_days
        shopping_ads_retargeting_custom_audience_relation shopping_ads_retargeting_type
        shopping_ads_type skip_learning_phase smart_audience_enabled
        smart_interest_behavior_enabled spending_power statistic_type store_authorized_bc_id
        store_id targeting_expansion tiktok_subplacements vbo_window vertical_sensitivity_id
        video_download_disabled view_attribution_window zipcode_ids
    """,
    "ads": """
        ad_format ad_id ad_name ad_text ad_texts aigc_disclosure_type app_name
        auto_disclaimer_types auto_message_id avatar_icon_web_uri brand_safety_postbid_partner
        brand_safety_vast_url call_to_action call_to_action_id card_id carousel_image_index
        catalog_id click_tracking_url cpp_url creative_authorized creative_type dark_post_status
        deeplink deeplink_format_type deeplink_type deeplink_utm_params
        disclaimer_clickable_texts disclaimer_text disclaimer_type display_name
        dynamic_destination dynamic_format end_card_cta fallback_type identity_authorized_bc_id
        identity_id identity_type image_ids impression_tracking_url instant_product_page_used
        item_duet_status item_group_ids item_stitch_status landing_page_url music_id
        operation_status page_id page_image_index phone_number phone_region_calling_code
        phone_region_code playable_url product_display_field_list product_set_id
        product_specific_type promotional_music_disabled schedule_id shopping_ads_deeplink_type
        shopping_ads_fallback_type shopping_ads_video_package_id showcase_products sku_ids
        tiktok_item_id tiktok_page_category tracking_app_id tracking_message_event_set_id
        tracking_offline_event_set_ids tracking_pixel_id utm_params vast_moat_enabled vehicle_ids
        vertical_video_strategy video_id video_view_tracking_url viewability_postbid_partner
        viewability_vast_url
    """,
}


@pytest.mark.parametrize("name", SDK_FIELDS)
def test_entity_schemas_hold_every_field_of_tiktoks_sdk(name: str) -> None:
    missing = set(SDK_FIELDS[name].split()) - set(load(name)["properties"])
    assert not missing, sorted(missing)


@pytest.mark.parametrize("name", ENTITIES)
def test_entities_say_their_buying_type(name: str) -> None:
    assert load(name)["properties"]["buying_type"]["type"] == ["string", "null"]
    assert "buying_type" in STREAMS[name].derived_properties  # never asked of TikTok


AD_GROUP_ROW = {  # keys and value types of a real v1.3 ad group body, as TikTok sends them
    "advertiser_id": 7002238017842757633,
    "campaign_id": 1728545382536225,
    "adgroup_id": 1728545385226289,
    "adgroup_name": "AdGroupVadim",
    "create_time": "2022-03-28 12:09:07",
    "modify_time": "2022-03-31 08:13:30",
    "skip_learning_phase": 0,
    "category_id": 0,
    "keywords": None,
    "conversion_window": None,
    "location_ids": [6252001],
    "interest_category_ids": [15],
    "audience_ids": [],
    "age_groups": ["AGE_25_34", "AGE_35_44"],
    "placements": None,
    "schedule_infos": None,
    "actions": [{"action_scene": "VIDEO_RELATED", "action_category_ids": [24], "action_period": 7}],
    "bid_price": 0,
    "budget": 20,
    "pixel_id": None,
}


class Collect(logging.Handler):
    """Keeps the messages of one logger."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def shaper_for(name: str) -> tuple[RecordShaper, list[str]]:
    """The stream's record shaper, and the list its warnings go to."""
    collect = Collect()
    logger = logging.getLogger(f"test_schemas.{name}.{id(collect)}")
    logger.addHandler(collect)
    return RecordShaper(name, load(name), logger), collect.messages


def shaped(name: str, row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``row`` as the stream emits it, and what the shaper warned about."""
    shaper, warnings = shaper_for(name)
    return shaper(to_record(row, str(row["advertiser_id"]))), warnings


def test_a_real_ad_group_body_is_kept_whole_with_string_ids() -> None:
    record, warnings = shaped("ad_groups", AD_GROUP_ROW)
    assert warnings == []
    assert set(AD_GROUP_ROW) <= set(record)
    assert record["location_ids"] == ["6252001"]
    assert record["interest_category_ids"] == ["15"]
    assert record["actions"][0]["action_category_ids"] == ["24"]
    assert (record["adgroup_id"], record["category_id"]) == ("1728545385226289", "0")
    assert record["bid_price"] == 0  # numbers stay numbers where the schema says number
    # skip_learning_phase arrives as 0 for a boolean: singer-sdk's conformance, next in line
    # for every entity record, turns it into false.
    conformed = conform_record_data_types(
        "ad_groups", record, load("ad_groups"), TypeConformanceLevel.RECURSIVE, logging.getLogger()
    )
    assert conformed["skip_learning_phase"] is False
    validator = Draft7Validator(load("ad_groups"), format_checker=FORMATS)
    assert [e.message for e in validator.iter_errors(conformed)] == []


def test_unknown_fields_are_dropped_and_named_once() -> None:
    rows = [{**AD_GROUP_ROW, "brand_new_setting": n, "another_one": None} for n in range(3)]
    shaper, seen = shaper_for("ad_groups")
    records = [shaper(to_record(row, "7")) for row in rows]
    assert all("brand_new_setting" not in r and "another_one" not in r for r in records)
    assert len(seen) == 2
    assert any("brand_new_setting" in m for m in seen)
    assert any("another_one" in m for m in seen)
