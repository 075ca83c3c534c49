"""The input catalog's unselected streams, reduced: the tap sees the same run either way."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from singer_sdk.singerlib import Catalog

from tap_tiktok_ads.catalog_input import without_unselected_detail
from tap_tiktok_ads.tap import PARENT_STREAMS, TapTikTokAds

CONFIG = {"access_token": "x", "advertiser_ids": ["1"], "start_date": "2026-01-01"}


def discovered(selected: set[str], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The discovered catalog with only ``selected`` streams selected, as Meltano gives it."""
    catalog = TapTikTokAds(config=config or CONFIG).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in selected
    return catalog


def entry_of(catalog: dict[str, Any], stream: str) -> dict[str, Any]:
    return next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)


def test_an_unselected_report_keeps_its_identity_keys_and_root_metadata() -> None:
    catalog = discovered({"ads"})
    reduced = entry_of(without_unselected_detail(catalog, keep=()), "ad_performance_daily")
    whole = entry_of(catalog, "ad_performance_daily")
    keys = {"advertiser_id", "ad_id", "stat_time_day", "is_top_view"}
    assert set(whole["key_properties"]) == keys
    assert set(reduced["schema"]["properties"]) == keys
    day = reduced["schema"]["properties"]["stat_time_day"]
    assert day == whole["schema"]["properties"]["stat_time_day"]
    assert {tuple(item["breadcrumb"]) for item in reduced["metadata"]} == {
        (),
        *(("properties", name) for name in keys),
    }
    assert {k: v for k, v in reduced.items() if k not in ("schema", "metadata")} == {
        k: v for k, v in whole.items() if k not in ("schema", "metadata")
    }
    assert len(whole["schema"]["properties"]) > 100  # what the reduction is for


def test_selected_kept_and_unjudgeable_entries_stay_whole() -> None:
    catalog = discovered({"ad_performance_daily"})
    campaigns = entry_of(catalog, "campaigns")
    campaigns["metadata"] = [i for i in campaigns["metadata"] if i["breadcrumb"]]  # no root
    ads = entry_of(catalog, "ads")
    ads["metadata"].append({"breadcrumb": "properties", "metadata": {}})  # not a list
    reduced = without_unselected_detail(catalog, keep={"ad_groups"})
    for stream in ("ad_groups", "campaigns", "ads"):
        assert entry_of(reduced, stream) is entry_of(catalog, stream), stream
    report, whole = (
        entry_of(reduced, "ad_performance_daily"),
        entry_of(catalog, "ad_performance_daily"),
    )
    assert {k: v for k, v in report.items() if k != "schema"} == {  # only deselected schema goes
        k: v for k, v in whole.items() if k != "schema"
    }
    assert entry_of(reduced, "pixels") != entry_of(catalog, "pixels")


def test_a_selected_report_keeps_its_metadata_and_the_schema_of_its_selected_properties() -> None:
    catalog = discovered({"ad_performance_daily"})
    whole = entry_of(catalog, "ad_performance_daily")
    metadata = {tuple(i["breadcrumb"]): i["metadata"] for i in whole["metadata"]}
    metadata[("properties", "reach")]["selected"] = False
    metadata[("properties", "billed_cost")]["selected"] = True
    metadata[("properties", "ad_id")]["selected"] = False  # a key: included automatically
    pruned = entry_of(without_unselected_detail(catalog, keep=()), "ad_performance_daily")
    assert pruned["metadata"] == whole["metadata"]
    kept = [
        name
        for name in whole["schema"]["properties"]
        if metadata[("properties", name)].get("selected") is not False
        or metadata[("properties", name)].get("inclusion") == "automatic"
    ]
    assert list(pruned["schema"]["properties"]) == kept
    assert {"ad_id", "billed_cost", "spend"} <= set(kept)
    assert "reach" not in kept
    assert len(kept) < len(whole["schema"]["properties"]) / 4  # what the pruning is for


def test_a_stream_selected_by_default_is_a_selected_stream() -> None:
    catalog = discovered(set())
    root = next(i for i in entry_of(catalog, "ads")["metadata"] if not i["breadcrumb"])
    del root["metadata"]["selected"]
    root["metadata"]["selected-by-default"] = True
    assert entry_of(without_unselected_detail(catalog, keep=()), "ads") is entry_of(catalog, "ads")


def test_the_given_catalog_is_left_unchanged() -> None:
    catalog = discovered({"ads"})
    before = copy.deepcopy(catalog)
    without_unselected_detail(catalog, keep=())
    assert catalog == before


def test_the_tap_knows_its_parent_streams() -> None:
    assert {"custom_audiences"} == PARENT_STREAMS


def streams_as_the_sdk_sees_them(config: dict[str, Any], catalog: Any) -> dict[str, Any]:
    """What a sync reads of each stream: selection, keys, replication and stream maps (or the
    error the tap's creation raised)."""
    try:
        tap = TapTikTokAds(config=config, catalog=catalog)
    except Exception as error:  # a stream map singer-sdk refuses: the same with either catalog
        return {"error": repr(error)}
    seen = {}
    for name, stream in tap.streams.items():
        maps = [(m.stream_alias, m.transformed_schema) for m in tap.mapper.stream_maps[name]]
        seen[name] = {
            "selected": stream.selected,
            "has_selected_descendents": stream.has_selected_descendents,
            "primary_keys": list(stream.primary_keys or []),
            "replication_key": stream.replication_key,
            "replication_method": stream.replication_method,
            "timestamp_key": stream.is_timestamp_replication_key,
            "maps": maps,
        }
        if stream.selected or stream.has_selected_descendents:
            seen[name]["mask"] = dict(stream.mask)
            # What the schema is used for: the types of the properties a record keeps.
            schema = stream.effective_schema
            seen[name]["schema"] = {
                **schema,
                "properties": {
                    key: value
                    for key, value in schema["properties"].items()
                    if stream.mask.get(("properties", key), True)
                },
            }
    return seen


@pytest.mark.parametrize(
    "selected",
    [
        {"ad_performance_daily"},
        {"ads", "campaign_performance_hourly"},
        {"custom_audience_details"},  # a child whose parent is not selected
        set(),
    ],
)
@pytest.mark.parametrize(
    "stream_maps",
    [
        {},
        {"pixels": None, "campaigns": {"__alias__": "campaign_list"}},
        {"ads": {"ad_name": None}},  # refused by singer-sdk unless ads are selected
    ],
)
def test_the_sdk_sees_the_same_streams_with_the_reduced_catalog(
    selected: set[str], stream_maps: dict[str, Any]
) -> None:
    config = {**CONFIG, "stream_maps": stream_maps}
    catalog = discovered(selected, config)
    # A Catalog object is taken as it is: the tap reduces only the dicts it is given.
    whole = streams_as_the_sdk_sees_them(config, Catalog.from_dict(copy.deepcopy(catalog)))
    reduced = streams_as_the_sdk_sees_them(config, catalog)
    assert reduced == whole
    if "error" not in reduced:
        assert {name for name, seen in reduced.items() if seen["selected"]} == selected
