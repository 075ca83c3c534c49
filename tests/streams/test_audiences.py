"""Custom audience streams against the emulator."""

from __future__ import annotations

import jsonschema

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tests.conftest import EMULATOR_TODAY, TapRun, run_tap, tap_config


def validate(run: TapRun, stream: str) -> None:
    validator = jsonschema.Draft7Validator(
        run.schemas[stream], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    for record in run.records[stream]:
        validator.validate(record)


def test_both_streams_sync_across_several_pages() -> None:
    with Emulator(seed=9, advertisers=2, audiences=7, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, page_size=3)
        catalog = catalog_selecting(
            config, {"custom_audiences": None, "custom_audience_details": None}
        )
        run = run_tap(config, catalog=catalog)
        world_ids = {a["audience_id"] for a in emu.world.audiences}
        assert {r["audience_id"] for r in run.records["custom_audiences"]} == world_ids
        assert {r["audience_id"] for r in run.records["custom_audience_details"]} == world_ids
        validate(run, "custom_audiences")
        validate(run, "custom_audience_details")

        list_calls = [r for r in emu.requests() if r["path"] == "/dmp/custom_audience/list/"]
        get_calls = [r for r in emu.requests() if r["path"] == "/dmp/custom_audience/get/"]
        assert len(list_calls) == 2 * 3  # 7 audiences in pages of 3, per advertiser
        assert len(get_calls) == len(list_calls)  # one batched details call per page
        assert all(len(c["params"]["custom_audience_ids"]) <= 3 for c in get_calls)


def test_page_size_is_capped_at_100(emulator: Emulator) -> None:
    emulator.clear_requests()
    config = tap_config(emulator)  # page_size 1000
    run_tap(config, catalog=catalog_selecting(config, {"custom_audiences": None}))
    calls = [r for r in emulator.requests() if r["path"] == "/dmp/custom_audience/list/"]
    assert calls
    assert all(c["params"]["page_size"] == "100" for c in calls)


def test_details_alone_still_work_and_keep_history(emulator: Emulator) -> None:
    config = tap_config(emulator)
    run = run_tap(config, catalog=catalog_selecting(config, {"custom_audience_details": None}))
    assert "custom_audiences" not in run.records
    records = run.records["custom_audience_details"]
    assert records
    assert all(isinstance(r["audience_history"], list) for r in records)
    assert any(r["audience_history"] for r in records)
    assert all(r["audience_type"] for r in records)
    lookalikes = [r for r in records if r["audience_type"] == "Lookalike Audience"]
    assert lookalikes
    assert all(isinstance(r["lookalike_spec"], dict) for r in lookalikes)
