"""The ``--discover`` text: the same catalog, one line per property and metadata entry."""

from __future__ import annotations

import json
from decimal import Decimal

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
