"""TikTok's 40067 ("query too large"): the date window is halved first; a query of one day (or
lifetime) is asked again with fewer metrics per request, joined on its dimensions, down to one
metric; only then does the run fail, naming the query. Real tap, emulator, HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import TapTikTokAdsError
from tests.conftest import EMULATOR_TODAY, TapRun, is_default_pass, run_tap, tap_config

REPORT_PATH = "/report/integrated/get/"
HOURLY = "ad_group_performance_hourly"
LIFETIME = "advertiser_performance_lifetime"
METRICS = ["spend", "impressions", "clicks", "conversion", "reach"]


def sync(emu: Emulator, stream: str, **overrides: Any) -> TapRun:
    config = tap_config(emu, date="2026-11-12", **overrides)
    return run_tap(config, catalog=catalog_selecting(config, {stream: METRICS}))


def rows(run: TapRun, stream: str) -> list[dict[str, Any]]:
    return sorted(run.records[stream], key=lambda r: sorted((k, str(v)) for k, v in r.items()))


def metric_lists(emu: Emulator) -> list[list[str]]:
    """Metrics of each report request of TikTok's default pass (not the TopView pass)."""
    return [
        r["params"]["metrics"]
        for r in emu.requests()
        if r["path"] == REPORT_PATH and is_default_pass(r)
    ]


@pytest.mark.parametrize("stream", [HOURLY, LIFETIME])
def test_a_query_too_large_for_one_day_is_read_with_fewer_metrics(stream: str) -> None:
    with Emulator(seed=7, advertisers=1, campaigns=2, today=EMULATOR_TODAY) as emu:
        clean = sync(emu, stream)
        emu.clear_requests()
        emu.fail_next(REPORT_PATH, "40067")
        retried = sync(emu, stream)
        asked = metric_lists(emu)
    assert rows(retried, stream) == rows(clean, stream)
    assert rows(clean, stream)
    assert sorted(asked[0]) == sorted(METRICS)  # refused
    narrower = asked[1:]
    assert narrower
    assert max(len(metrics) for metrics in narrower) < len(METRICS)
    assert {m for metrics in narrower for m in metrics} == set(METRICS)


def test_a_query_too_large_even_with_one_metric_fails_naming_it() -> None:
    with Emulator(seed=7, advertisers=1, campaigns=1, today=EMULATOR_TODAY) as emu:
        emu.fail_next(REPORT_PATH, "40067", times=50)
        with pytest.raises(TapTikTokAdsError) as caught:
            sync(emu, HOURLY)
        asked = metric_lists(emu)
    message = str(caught.value)
    assert HOURLY in message
    assert "2026-11-12" in message
    assert "one metric per request" in message
    # 5 metrics; groups of 2 and 3; of 1, 1, 1 and 2; then 1 each: every first request refused.
    assert [len(metrics) for metrics in asked] == [5, 2, 1, 1]
