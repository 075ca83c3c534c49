"""Parallel page fetching and partition prefetch change nothing in the output."""

from __future__ import annotations

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tests.conftest import EMULATOR_TODAY, TapRun, run_tap, tap_config

STREAMS: dict[str, list[str] | None] = {
    "campaigns": None,
    "ads": None,
    "ad_performance_daily": None,
    "campaign_audience_country_daily": None,
}


def records_in_order(run: TapRun) -> list[tuple[str, dict]]:
    return [(m["stream"], m["record"]) for m in run.messages if m["type"] == "RECORD"]


def test_concurrent_and_sequential_runs_emit_the_same_records() -> None:
    with Emulator(seed=12, advertisers=3, today=EMULATOR_TODAY, latency_ms=5) as emu:
        runs = {}
        for workers in (1, 8):
            config = tap_config(
                emu, start_date="2026-10-20", page_size=25, max_concurrent_requests=workers
            )
            runs[workers] = run_tap(config, catalog=catalog_selecting(config, STREAMS))
    sequential, concurrent = records_in_order(runs[1]), records_in_order(runs[8])
    assert len(sequential) > 1000
    assert concurrent == sequential
    assert runs[8].final_state == runs[1].final_state
