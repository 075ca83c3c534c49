"""Entity streams synced over real HTTP from the emulator."""

from __future__ import annotations

import re
from datetime import timedelta

import jsonschema
import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tests.conftest import EMULATOR_TODAY, ENTITY_STREAMS, run_tap, tap_config

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def world_rows(emu: Emulator, kind: str) -> list[dict]:
    return [dict(row) for row in getattr(emu.world, kind)]


def sync_entities(emu: Emulator, state: dict | None = None, **overrides: object):
    config = tap_config(emu, **overrides)
    catalog = catalog_selecting(config, dict.fromkeys(ENTITY_STREAMS))
    return run_tap(config, state=state, catalog=catalog)


def test_every_entity_stream_emits_schema_valid_records(emulator: Emulator) -> None:
    run = sync_entities(emulator)
    for stream in ENTITY_STREAMS:
        records = run.records[stream]
        assert records, f"{stream} emitted nothing"
        validator = jsonschema.Draft7Validator(
            run.schemas[stream], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        for record in records:
            validator.validate(record)
            assert isinstance(record["advertiser_id"], str)


def test_times_are_rfc3339_and_ids_strings(emulator: Emulator) -> None:
    run = sync_entities(emulator)
    for stream, id_field in (("campaigns", "campaign_id"), ("ads", "ad_id")):
        for record in run.records[stream]:
            assert isinstance(record[id_field], str)
            assert RFC3339.match(record["create_time"]), record["create_time"]
            assert RFC3339.match(record["modify_time"]), record["modify_time"]
    for record in run.records["advertisers"]:
        assert RFC3339.match(record["create_time"])


def test_counts_match_the_emulator_and_deleted_rows_are_hidden(emulator: Emulator) -> None:
    run = sync_entities(emulator)
    for stream, kind, id_field in (
        ("campaigns", "campaigns", "campaign_id"),
        ("ad_groups", "adgroups", "adgroup_id"),
        ("ads", "ads", "ad_id"),
    ):
        live = {
            row[id_field]
            for row in world_rows(emulator, kind)
            if not str(row.get("secondary_status", "")).endswith("_DELETE")
        }
        assert {r[id_field] for r in run.records[stream]} == live
        assert not any(r["is_deleted"] for r in run.records[stream])


def test_include_deleted_brings_deleted_rows_marked(emulator: Emulator) -> None:
    run = sync_entities(emulator, include_deleted=True)
    deleted_in_world = {
        row["ad_id"]
        for row in world_rows(emulator, "ads")
        if str(row.get("secondary_status", "")).endswith("_DELETE")
    }
    assert deleted_in_world, "the emulator world should hold deleted ads"
    emitted_deleted = {r["ad_id"] for r in run.records["ads"] if r["is_deleted"]}
    assert emitted_deleted == deleted_in_world


def test_smart_plus_ads_without_modify_time_are_kept(emulator: Emulator) -> None:
    no_modify = {row["ad_id"] for row in world_rows(emulator, "ads") if "modify_time" not in row}
    assert no_modify, "the emulator world should hold Smart+ ads without modify_time"
    run = sync_entities(emulator, include_deleted=True)
    by_id = {r["ad_id"]: r for r in run.records["ads"]}
    for ad_id in no_modify:
        assert by_id[ad_id]["modify_time"] == by_id[ad_id]["create_time"]


def test_small_pages_are_all_read(emulator: Emulator) -> None:
    emulator.clear_requests()
    run = sync_entities(emulator, page_size=2)
    campaign_calls = [r for r in emulator.requests() if r["path"] == "/campaign/get/"]
    assert len(campaign_calls) > len(emulator.world.advertisers)  # several pages each
    full = sync_entities(emulator)
    assert sorted(r["campaign_id"] for r in run.records["campaigns"]) == sorted(
        r["campaign_id"] for r in full.records["campaigns"]
    )


def test_second_sync_emits_only_what_changed() -> None:
    with Emulator(seed=5, advertisers=2, today=EMULATOR_TODAY) as emu:
        first = sync_entities(emu)
        assert first.records["campaigns"]
        assert first.records["ads"]

        emu.set_now(emu.now + timedelta(hours=3))
        touched_campaigns = set(emu.touch("campaign", count=1))
        touched_ads = set(emu.touch("ad", count=2))
        emu.clear_requests()

        second = sync_entities(emu, state=first.final_state)
        # Bookmarks are inclusive, so the newest rows of the first run may come again; nothing
        # older than them may.
        assert touched_campaigns <= {r["campaign_id"] for r in second.records["campaigns"]}
        assert touched_ads <= {r["ad_id"] for r in second.records["ads"]}
        assert len(second.records["campaigns"]) < len(first.records["campaigns"])
        assert len(second.records["ads"]) < len(first.records["ads"])
        ad_calls = [r for r in emu.requests() if r["path"] == "/ad/get/"]
        assert all("modified_after" in r["params"].get("filtering", {}) for r in ad_calls)
        campaign_calls = [r for r in emu.requests() if r["path"] == "/campaign/get/"]
        assert not any("modified_after" in r["params"].get("filtering", {}) for r in campaign_calls)


def test_state_is_partitioned_per_advertiser(emulator: Emulator) -> None:
    run = sync_entities(emulator)
    partitions = run.final_state["bookmarks"]["campaigns"]["partitions"]
    assert {p["context"]["advertiser_id"] for p in partitions} == {
        a["advertiser_id"] for a in world_rows(emulator, "advertisers")
    }
    assert all(p["replication_key"] == "modify_time" for p in partitions)


def test_only_selected_fields_are_requested(emulator: Emulator) -> None:
    config = tap_config(emulator)
    catalog = catalog_selecting(config, {"campaigns": ["campaign_name", "budget"]})
    emulator.clear_requests()
    run = run_tap(config, catalog=catalog)
    calls = [r for r in emulator.requests() if r["path"] == "/campaign/get/"]
    assert calls
    for call in calls:
        assert set(call["params"]["fields"]) == {
            "campaign_id",
            "advertiser_id",
            "create_time",
            "modify_time",
            "secondary_status",
            "campaign_name",
            "budget",
        }
    assert set(run.records) == {"campaigns"}
    assert all("objective_type" not in r for r in run.records["campaigns"])
    assert all(
        set(r) <= {"advertiser_id", "campaign_id", "modify_time", "campaign_name", "budget"}
        for r in run.records["campaigns"]
    )


def test_all_authorized_advertisers_in_process(emulator: Emulator) -> None:
    config = tap_config(emulator, app_id=emulator.app_id, secret=emulator.secret)
    del config["advertiser_ids"]
    run = run_tap(config, catalog=catalog_selecting(config, {"advertisers": None}))
    assert {r["advertiser_id"] for r in run.records["advertisers"]} == {
        a["advertiser_id"] for a in world_rows(emulator, "advertisers")
    }


def test_numeric_ids_become_strings() -> None:
    from tap_tiktok_ads.streams.entities import to_record

    record = to_record({"ad_id": "1", "page_id": 7123, "create_time": "2026-01-01 00:00:00"}, "9")
    assert record["page_id"] == "7123"
    assert record["advertiser_id"] == "9"


# -- buying types: TopView and Reach & Frequency -------------------------------------------------

ENTITY_TABLES = (
    ("campaigns", "campaigns", "campaign_id", "/campaign/get/"),
    ("ad_groups", "adgroups", "adgroup_id", "/adgroup/get/"),
    ("ads", "ads", "ad_id", "/ad/get/"),
)
TOP_VIEW = "RESERVATION_TOP_VIEW"


def test_every_buying_type_arrives_once_and_says_which_it_is(emulator: Emulator) -> None:
    run = sync_entities(emulator)
    world = emulator.world
    for stream, kind, id_field, _ in ENTITY_TABLES:
        records = run.records[stream]
        ids = [r[id_field] for r in records]
        assert len(ids) == len(set(ids)), f"{stream}: a row arrived twice"
        expected = {
            row[id_field]: world.buying_type(row)
            for row in getattr(world, kind)
            if not world.is_deleted(row)
        }
        assert {r[id_field]: r["buying_type"] for r in records} == expected
        assert set(expected.values()) == {"AUCTION", "RESERVATION_RF", TOP_VIEW}


def test_one_listing_per_buying_type_and_advertiser(emulator: Emulator) -> None:
    """Each listing fits one page here: three requests per advertiser and endpoint, no more."""
    emulator.clear_requests()
    sync_entities(emulator, include_deleted=True)
    advertisers = {a["advertiser_id"] for a in emulator.world.advertisers}
    for _, _, _, path in ENTITY_TABLES:
        calls = [r["params"] for r in emulator.requests() if r["path"] == path]
        asked = sorted(
            (params["advertiser_id"], tuple(params["filtering"]["buying_types"]))
            for params in calls
        )
        assert asked == sorted(
            (advertiser_id, (kind,))
            for advertiser_id in advertisers
            for kind in ("AUCTION", "RESERVATION_RF", TOP_VIEW)
        )
        for params in calls:  # include_deleted shares the filtering object
            assert params["filtering"]["primary_status"] == "STATUS_ALL"
            if params["filtering"]["buying_types"] == [TOP_VIEW]:
                assert int(params["page_size"]) <= 100


def test_incremental_runs_keep_top_view_and_per_advertiser_bookmarks() -> None:
    with Emulator(seed=6, advertisers=2, today=EMULATOR_TODAY) as emu:
        first = sync_entities(emu)
        emu.set_now(emu.now + timedelta(hours=5))
        touched = {
            stream: set(emu.touch(kind.rstrip("s"), count=1, buying_type=TOP_VIEW))
            for stream, kind, _, _ in ENTITY_TABLES
        }
        second = sync_entities(emu, state=first.final_state)
        moved = emu.now.strftime("%Y-%m-%dT%H:%M:%S")
        for stream, _, id_field, _ in ENTITY_TABLES:
            records = second.records[stream]
            assert touched[stream] <= {r[id_field] for r in records}, stream
            assert all(
                r["buying_type"] == TOP_VIEW for r in records if r[id_field] in touched[stream]
            )
            partitions = second.final_state["bookmarks"][stream]["partitions"]
            assert len(partitions) == 2
            for partition in partitions:
                assert str(partition["replication_key_value"]).startswith(moved), stream


# -- every field TikTok sends --------------------------------------------------------------------

DERIVED = {"is_deleted", "buying_type"}


def test_full_bodies_arrive_whole_with_ids_in_lists_as_strings(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    run = sync_entities(emulator, include_deleted=True)
    world = emulator.world
    for stream, kind, id_field, _ in ENTITY_TABLES:
        sent = {row[id_field]: row for row in getattr(world, kind)}
        for record in run.records[stream]:
            row = sent[record[id_field]]
            assert set(record) - DERIVED == set(row) | {"modify_time"}, stream
    groups = run.records["ad_groups"]
    sent_as_numbers = [row for row in world.adgroups if isinstance(row["location_ids"][0], int)]
    assert sent_as_numbers, "the emulator should send location ids as numbers, like TikTok"
    for record in groups:
        for name in ("location_ids", "interest_category_ids"):
            assert record[name], name
            assert all(isinstance(v, str) for v in record[name]), name
        assert record["category_id"] == "0"
    pixels = [r["tracking_pixel_id"] for r in run.records["ads"] if r["tracking_pixel_id"]]
    assert pixels
    assert all(isinstance(p, str) and p.isdigit() for p in pixels)
    dropped = [r for r in caplog.records if "schema" in r.getMessage() and r.levelno >= 30]
    assert not dropped, dropped[0].getMessage()


def test_unknown_fields_are_left_out_with_one_warning_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Emulator(seed=8, advertisers=2, today=EMULATOR_TODAY) as emu:
        for row in emu.world.adgroups:  # before any request: the emulator caches answers
            row["brand_new_setting"] = "ON"
            row["targeting_expansion"] = {"expansion_enabled": True, "expansion_scope": "WIDE"}
        run = sync_entities(emu)
    records = run.records["ad_groups"]
    assert len(records) > 2
    assert all("brand_new_setting" not in r for r in records)
    # Nested objects stay open in the schemas: a new key inside one is kept as it came.
    assert all(r["targeting_expansion"]["expansion_scope"] == "WIDE" for r in records)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= 30]
    named = [m for m in messages if "brand_new_setting" in m]
    assert len(named) == 1, named
    assert "ad_groups" in named[0]
    assert not [m for m in messages if "expansion_scope" in m]
    assert not [m for m in messages if "not found in catalog schema" in m]
