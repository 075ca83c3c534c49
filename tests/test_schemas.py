"""The entity and audience JSON schemas in ``tap_tiktok_ads/schemas``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from tap_tiktok_ads.streams.entities import to_record
from tap_tiktok_ads.tap import ENTITY_STREAMS

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "tap_tiktok_ads" / "schemas"
STREAMS = {stream.name: stream for stream in ENTITY_STREAMS}
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
    for key in STREAMS[name].primary_keys:
        assert schema["properties"][key]["type"] == "string", key
        assert key in schema["required"], key


@pytest.mark.parametrize("name", STREAMS)
def test_every_other_property_is_nullable(name: str) -> None:
    keys = set(STREAMS[name].primary_keys)
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


CAMPAIGN_ROW = {  # the keys of a real v1.3 record (reference §3), as TikTok sends them
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
