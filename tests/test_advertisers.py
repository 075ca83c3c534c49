"""The run's advertisers: one object, resolved once, on first use, before any record."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import TapTikTokAdsError
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, run_tap, tap_config

DAILY = "advertiser_performance_daily"
CAMPAIGN_DAILY = "campaign_performance_daily"
INFO_PATH = "/advertiser/info/"


def test_discovery_and_a_state_check_make_no_request(emulator: Emulator) -> None:
    config = tap_config(emulator)
    state = {
        "bookmarks": {
            DAILY: {"partitions": [{"context": {"advertiser_id": "1"}, "replication_key": "x"}]}
        }
    }
    emulator.clear_requests()
    tap = TapTikTokAds(config=config, state=state)
    assert tap.catalog_dict["streams"]
    assert emulator.requests() == []


def test_every_stream_of_a_run_shares_one_resolution(emulator: Emulator) -> None:
    config = tap_config(emulator)
    catalog = catalog_selecting(config, {DAILY: ["spend"], CAMPAIGN_DAILY: ["spend"]})
    emulator.clear_requests()
    run = run_tap(config, catalog=catalog)
    assert {r["advertiser_id"] for r in run.records[DAILY]} == {
        a["advertiser_id"] for a in emulator.world.advertisers
    }
    assert run.records[CAMPAIGN_DAILY]
    assert [r["path"] for r in emulator.requests()].count(INFO_PATH) == 1


def test_a_bad_token_fails_before_any_message_of_a_stream() -> None:
    with Emulator(seed=5, advertisers=1, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, access_token="wrong-token")
        catalog = catalog_selecting(tap_config(emu), {"campaigns": None})
        out = io.StringIO()
        tap = TapTikTokAds(config=config, catalog=catalog)
        with contextlib.redirect_stdout(out), pytest.raises(TapTikTokAdsError, match="token"):
            tap.sync_and_write_last_state()
        assert out.getvalue() == ""
        paths: list[Any] = [r["path"] for r in emu.requests()]
        assert paths == [INFO_PATH]
