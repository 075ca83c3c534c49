"""Discovery and --about show the creative, pixel, Business Center and breakdown streams."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tap_tiktok_ads.tap import TapTikTokAds

CONFIG = {"access_token": "discovery-only", "advertiser_ids": ["1"], "start_date": "2026-01-01"}


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict]:
    entries = TapTikTokAds(config=CONFIG).catalog_dict["streams"]
    return {entry["tap_stream_id"]: entry for entry in entries}


def stream_metadata(entry: dict) -> dict:
    return next(m["metadata"] for m in entry["metadata"] if not m["breadcrumb"])


@pytest.mark.parametrize(
    ("stream", "keys", "replication_key"),
    [
        ("creative_videos", ["advertiser_id", "video_id"], "modify_time"),
        ("creative_images", ["advertiser_id", "image_id"], "modify_time"),
        ("pixels", ["advertiser_id", "pixel_id"], None),
        ("business_centers", ["bc_id"], None),
    ],
)
def test_new_streams_are_discovered(
    catalog: dict[str, dict], stream: str, keys: list[str], replication_key: str | None
) -> None:
    entry = catalog[stream]
    metadata = stream_metadata(entry)
    assert metadata["table-key-properties"] == keys
    assert metadata.get("valid-replication-keys") == (
        [replication_key] if replication_key else None
    )
    assert entry.get("replication_key") == replication_key
    assert set(keys) <= set(entry["schema"]["properties"])


@pytest.mark.parametrize("level", ["advertiser", "campaign", "ad_group", "ad"])
@pytest.mark.parametrize(
    ("breakdown", "dimension"), [("province", "province_id"), ("language", "language")]
)
def test_breakdown_streams_are_discovered(
    catalog: dict[str, dict], level: str, breakdown: str, dimension: str
) -> None:
    entry = catalog[f"{level}_audience_{breakdown}_daily"]
    keys = stream_metadata(entry)["table-key-properties"]
    assert keys[-2:] == [dimension, "is_top_view"]
    assert "stat_time_day" in keys
    assert entry["schema"]["properties"][dimension]["type"] in (
        "string",
        ["string"],
        ["string", "null"],
    )


def test_about_lists_the_business_center_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_ads", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    about = json.loads(result.stdout)
    setting = about["settings"]["properties"]["business_center_ids"]
    assert "all" in setting["description"]
