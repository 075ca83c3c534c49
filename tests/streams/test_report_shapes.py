"""Report shapes TikTok serves (lifetime AUDIENCE custom reports) and the deprecated
``service_type`` RESERVATION, through the real tap against the emulator."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, run_tap, tap_config

REPORT_PATH = "/report/integrated/get/"
AGE_GENDER_LIFETIME = {
    "name": "advertiser_age_gender_lifetime",
    "report_type": "AUDIENCE",
    "data_level": "advertiser",
    "dimensions": ["age", "gender"],
    "time_granularity": "lifetime",
    "metrics": ["spend", "impressions", "clicks", "ctr"],
}


def test_a_lifetime_audience_custom_report_syncs_and_adds_up_to_the_lifetime() -> None:
    with Emulator(seed=5, advertisers=2, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, custom_reports=[AGE_GENDER_LIFETIME])
        streams: dict[str, list[str] | None] = {
            "advertiser_age_gender_lifetime": None,
            "advertiser_performance_lifetime": ["spend", "impressions", "clicks"],
        }
        run = run_tap(config, catalog=catalog_selecting(config, streams))
        calls = [
            r["params"]
            for r in emu.requests()
            if r["path"] == REPORT_PATH and r["params"]["report_type"] == "AUDIENCE"
        ]
    buckets = run.records["advertiser_age_gender_lifetime"]
    keys = [(r["advertiser_id"], r["is_top_view"], r["age"], r["gender"]) for r in buckets]
    assert len(keys) == len(set(keys))
    assert any(r["age"] == r["gender"] == "NONE" for r in buckets)
    # One lifetime row per advertiser and pass (TikTok's default, TopView): each adds up.
    lifetime = {
        (r["advertiser_id"], r["is_top_view"]): r
        for r in run.records["advertiser_performance_lifetime"]
    }
    assert set(lifetime) == {(r["advertiser_id"], r["is_top_view"]) for r in buckets}
    for key, total in lifetime.items():
        mine = [r for r in buckets if (r["advertiser_id"], r["is_top_view"]) == key]
        for metric in ("spend", "impressions", "clicks"):
            assert sum(Decimal(str(r[metric])) for r in mine) == Decimal(str(total[metric]))
    # AUDIENCE has no query_lifetime: the tap asks for TikTok's longest undated span instead.
    assert calls
    for params in calls:
        assert "query_lifetime" not in params
        assert params["dimensions"] == ["advertiser_id", "age", "gender"]
        span = date.fromisoformat(params["end_date"]) - date.fromisoformat(params["start_date"])
        assert span == timedelta(days=364)
        assert abs(date.fromisoformat(params["end_date"]) - EMULATOR_TODAY) <= timedelta(days=1)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"time_granularity": "hourly"}, "no hourly breakdown"),
        ({"dimensions": ["age", "country_code"]}, "only one audience dimension"),
        ({"metrics": ["reach"]}, "'reach' is not available in AUDIENCE"),
        ({"report_type": "BASIC"}, "lifetime reports take no dimensions besides the ID"),
    ],
)
def test_shapes_tiktok_refuses_are_still_refused(change: dict[str, Any], needle: str) -> None:
    custom = [{**AGE_GENDER_LIFETIME, **change}]
    config = {"access_token": "x", "start_date": "2026-01-01", "custom_reports": custom}
    with pytest.raises(ConfigError, match=needle):
        TapTikTokAds(config=config).discover_streams()


def reservation_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "RESERVATION" in r.getMessage()
    ]


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"service_type": "RESERVATION"}, "the `service_type` setting"),
        (
            {
                "custom_reports": [
                    {"name": "rf_ads", "data_level": "ad", "service_type": "RESERVATION"}
                ]
            },
            "custom report(s) rf_ads",
        ),
    ],
)
def test_service_type_reservation_gets_one_warning_per_run(
    caplog: pytest.LogCaptureFixture, settings: dict[str, Any], needle: str
) -> None:
    with Emulator(seed=6, advertisers=1, today=EMULATOR_TODAY) as emu:
        config = tap_config(emu, date="2026-11-12", **settings)
        stream = "rf_ads" if "custom_reports" in settings else "ad_performance_daily"
        catalog = catalog_selecting(config, {stream: ["spend"]})
        caplog.clear()  # discovery above is a run of its own
        run = run_tap(config, catalog=catalog)
        data_levels = {
            r["params"]["data_level"] for r in emu.requests() if r["path"] == REPORT_PATH
        }
    assert data_levels == {"RESERVATION_AD"}  # still sent as configured
    assert run.records[stream]
    warnings = reservation_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "deprecated" in warnings[0]
    assert needle in warnings[0]
    assert "\n" not in warnings[0]


def test_auction_gets_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = {"access_token": "x", "start_date": "2026-01-01", "service_type": "AUCTION"}
    TapTikTokAds(config=config).discover_streams()
    assert reservation_warnings(caplog) == []
