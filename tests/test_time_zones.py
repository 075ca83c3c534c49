"""Report days and hours follow the ad account's fixed UTC offset, never daylight saving time.

TikTok ad accounts keep one offset all year (Ads Manager does not support daylight saving);
the emulator follows that rule with its own table of account clocks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.emulator.zones import account_zone
from tests.conftest import is_default_pass, run_tap, tap_config
from tests.emulator.helpers import advertiser, report_rows

# 07:30 UTC on 1 July is 00:30 on 1 July by Los Angeles daylight time, 23:30 on 30 June in UTC-8.
SUMMER_NOW = datetime(2026, 7, 1, 7, 30, tzinfo=timezone.utc)


def report_windows(emu: Emulator) -> set[tuple[str, str]]:
    return {
        (r["params"]["start_date"], r["params"]["end_date"])
        for r in emu.requests()
        if r["path"] == "/report/integrated/get/" and r["code"] == 0 and is_default_pass(r)
    }


def test_the_emulators_los_angeles_account_is_utc_minus_8_in_summer() -> None:
    with Emulator(seed=3, advertisers=1, now=SUMMER_NOW) as emu:
        info = emu.world.advertisers[0]
        assert (info["timezone"], info["display_timezone"]) == ("Etc/GMT+8", "America/Los_Angeles")
        rows = report_rows(
            emu,
            advertiser_id=advertiser(emu),
            report_type="BASIC",
            data_level="AUCTION_ADVERTISER",
            dimensions=["advertiser_id", "stat_time_day"],
            metrics=["spend"],
            start_date="2026-06-29",
            end_date="2026-07-01",
        )
        assert max(r["dimensions"]["stat_time_day"][:10] for r in rows) == "2026-06-30"


def test_the_tap_asks_for_the_accounts_today_not_the_daylight_saving_one() -> None:
    with Emulator(seed=3, advertisers=1, now=SUMMER_NOW) as emu:
        config = tap_config(emu, days_back=0)
        run = run_tap(
            config, catalog=catalog_selecting(config, {"advertiser_performance_daily": ["spend"]})
        )
        assert report_windows(emu) == {("2026-06-30", "2026-06-30")}
        days = {r["stat_time_day"] for r in run.records["advertiser_performance_daily"]}
        assert days == {"2026-06-30"}


def test_hours_across_spring_forward_are_24_a_day_in_one_offset() -> None:
    with Emulator(seed=3, advertisers=1, now=datetime(2026, 3, 20, 12, tzinfo=timezone.utc)) as emu:
        config = tap_config(emu, start_date="2026-03-07", end_date="2026-03-09")
        streams = {"advertiser_performance_hourly": ["spend", "impressions"]}
        run = run_tap(config, catalog=catalog_selecting(config, streams))
        hours = sorted(
            datetime.fromisoformat(r["stat_time_hour"])
            for r in run.records["advertiser_performance_hourly"]
            if not r["is_top_view"]  # the TopView pass has its own row per hour
        )
        assert {h.utcoffset() for h in hours} == {timedelta(hours=-8)}
        assert len(hours) == 72 == len(set(hours))
        assert all(b - a == timedelta(hours=1) for a, b in pairwise(hours))
        assert {h.date() for h in hours} == {date(2026, 3, d) for d in (7, 8, 9)}


@pytest.mark.parametrize(
    ("now", "daylight_saving_zone", "standard_today"),
    [
        # 23:30 in Berlin by standard time (UTC+1), 00:30 on the 2nd by summer time.
        (datetime(2026, 7, 1, 22, 30, tzinfo=timezone.utc), "Europe/Berlin", "2026-07-01"),
        # 23:30 in Sydney by standard time (UTC+10), 00:30 on the 16th by summer time.
        (datetime(2026, 1, 15, 13, 30, tzinfo=timezone.utc), "Australia/Sydney", "2026-01-15"),
    ],
)
def test_every_account_kind_agrees_with_the_emulator_on_today(
    now: datetime, daylight_saving_zone: str, standard_today: str
) -> None:
    with Emulator(seed=3, advertisers=6, campaigns=1, adgroups=1, ads=1, now=now) as emu:
        config = tap_config(emu, days_back=0)
        streams = {"advertiser_performance_daily": ["spend"]}
        run_tap(config, catalog=catalog_selecting(config, streams))
        asked = {
            r["params"]["advertiser_id"]: r["params"]["start_date"]
            for r in emu.requests()
            if r["path"] == "/report/integrated/get/"
        }
        for account in emu.world.advertisers:
            emulator_today = now.astimezone(account_zone(account)).date().isoformat()
            assert asked[account["advertiser_id"]] == emulator_today
            if account["display_timezone"] == daylight_saving_zone:
                assert emulator_today == standard_today
