"""The ``--discover`` text: the same catalog, one line per property and metadata entry."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from singer_sdk import Stream, Tap

from tap_tiktok_ads.catalog_discovered import catalog_dict
from tap_tiktok_ads.catalog_text import catalog_text
from tap_tiktok_ads.tap import TapTikTokAds

CONFIG = {"access_token": "x", "advertiser_ids": ["1"], "start_date": "2026-01-01"}
# Meltano reads discovery's output with asyncio's readline, which refuses longer lines.
ASYNCIO_LINE_LIMIT = 64 * 1024


def test_discovery_text_is_the_catalog() -> None:
    tap = TapTikTokAds(config=CONFIG)
    assert json.loads(tap.catalog_json_text) == tap.catalog_dict


def test_each_property_and_metadata_entry_has_a_line_of_its_own() -> None:
    catalog = TapTikTokAds(config=CONFIG).catalog_dict
    lines = catalog_text(catalog).splitlines()
    stream = next(s for s in catalog["streams"] if s["tap_stream_id"] == "ad_performance_daily")
    for name, schema in stream["schema"]["properties"].items():
        assert f"{json.dumps(name)}: {json.dumps(schema, separators=(',', ':'))}" in {
            line.strip().rstrip(",") for line in lines
        }
    entries = sum(len(s["metadata"]) for s in catalog["streams"])
    assert sum(line.lstrip().startswith('{"breadcrumb"') for line in lines) == entries
    assert max(len(line.encode()) for line in lines) < ASYNCIO_LINE_LIMIT


def test_numbers_stay_numbers_and_empty_parts_stay_valid() -> None:
    catalog = {
        "version": 1,
        "streams": [
            {
                "tap_stream_id": "s",
                "schema": {"type": "object", "properties": {}, "maximum": Decimal("1.5")},
                "metadata": [],
            },
            {"tap_stream_id": "t", "schema": {"properties": {"a": {"type": "string"}}}},
        ],
    }
    expected = {
        "version": 1,
        "streams": [
            {
                "tap_stream_id": "s",
                "schema": {"type": "object", "properties": {}, "maximum": 1.5},
                "metadata": [],
            },
            {"tap_stream_id": "t", "schema": {"properties": {"a": {"type": "string"}}}},
        ],
    }
    assert json.loads(catalog_text(catalog)) == expected
    assert json.loads(catalog_text({"streams": []})) == {"streams": []}


@pytest.mark.parametrize(
    "config",
    [
        CONFIG,
        {  # a custom report, and stream maps: singer-sdk's catalog shows neither differently
            **CONFIG,
            "custom_reports": [
                {
                    "name": "ads_by_country",
                    "report_type": "AUDIENCE",
                    "data_level": "ad",
                    "dimensions": ["ad_id", "country_code", "stat_time_day"],
                    "metrics": ["spend", "clicks", "ctr"],
                }
            ],
            "stream_maps": {"ads": {"ad_name": None}},
        },
    ],
)
def test_the_catalog_is_singer_sdks_to_the_byte(config: dict[str, Any]) -> None:
    tap = TapTikTokAds(config=config)
    ours, sdks = tap.catalog_dict, Tap.catalog_dict.fget(tap)  # type: ignore[attr-defined]
    assert json.dumps(ours) == json.dumps(sdks)  # the same keys in the same order
    # Entries share no dict or list, as singer-sdk's do not.
    spends = [s["schema"]["properties"].get("spend") for s in ours["streams"]]
    first, second = [spend for spend in spends if spend is not None][:2]
    first["type"].append("string")
    first["description"] = "changed"
    assert second == sdks["streams"][spends.index(second)]["schema"]["properties"]["spend"]


def test_schemas_that_are_not_flat_are_converted_whole() -> None:
    class Nested(Stream):
        name = "nested"
        schema: ClassVar[dict[str, Any]] = {
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"], "description": "text", "x-unknown": "dropped"},
                "b": {"type": "object", "properties": {"c": {"type": "integer"}}},
                "d": {"type": "number", "maximum": 10},
                "e": {"type": ["string", "null"], "description": "text", "x-unknown": "dropped"},
            },
        }

        def get_records(self, context: Any) -> Any:
            return iter(())

    class NestedTap(Tap):
        name = "nested-tap"
        config_jsonschema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}

        def discover_streams(self) -> list[Stream]:
            return [Nested(self)]

    tap = NestedTap(config={})
    assert json.dumps(catalog_dict(tap.streams.values())) == json.dumps(tap.catalog_dict)
