"""Entity streams synced over real HTTP from the emulator."""

from __future__ import annotations

import re
from datetime import timedelta

import jsonschema

from tap_tiktok_ads.emulator import Emulator
from tests.conftest import (
    EMULATOR_TODAY,
    ENTITY_STREAMS,
    catalog_selecting,
    run_tap,
    tap_config,
)

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
