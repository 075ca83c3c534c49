"""Date options, time zones, TikTok formats and windows."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_tiktok_ads.dates import (
    DateSelection,
    epoch_to_rfc3339,
    halve_window,
    incremental_start,
    local_hour_to_rfc3339,
    period_range,
    resolve_timezone,
    split_windows,
    tiktok_utc_to_rfc3339,
    today_in,
)
from tap_tiktok_ads.errors import ConfigError

THURSDAY = date(2026, 11, 19)


def resolve(today: date = THURSDAY, **config: Any) -> tuple[str, str]:
    start, end = DateSelection.from_config(config).resolve(today)
    return start.isoformat(), end.isoformat()


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("today", ("2026-11-19", "2026-11-19")),
        ("yesterday", ("2026-11-18", "2026-11-18")),
        ("last_7_days", ("2026-11-12", "2026-11-18")),
        ("last_14_days", ("2026-11-05", "2026-11-18")),
        ("last_30_days", ("2026-10-20", "2026-11-18")),
        ("last_90_days", ("2026-08-21", "2026-11-18")),
        ("this_week", ("2026-11-16", "2026-11-19")),
        ("last_week", ("2026-11-09", "2026-11-15")),
        ("this_month", ("2026-11-01", "2026-11-19")),
        ("last_month", ("2026-10-01", "2026-10-31")),
        ("this_quarter", ("2026-10-01", "2026-11-19")),
        ("last_quarter", ("2026-07-01", "2026-09-30")),
        ("this_year", ("2026-01-01", "2026-11-19")),
        ("last_year", ("2025-01-01", "2025-12-31")),
    ],
)
def test_named_periods(period: str, expected: tuple[str, str]) -> None:
    assert resolve(date_period=period) == expected


def test_week_start_day_moves_weeks() -> None:
    assert resolve(date_period="last_week", week_start_day="sunday") == ("2026-11-08", "2026-11-14")
    assert resolve(date_period="this_week", week_start_day="Thursday") == (
        "2026-11-19",
        "2026-11-19",
    )


@pytest.mark.parametrize(
    ("today", "period", "expected"),
    [
        (date(2026, 1, 1), "last_month", ("2025-12-01", "2025-12-31")),
        (date(2026, 1, 1), "last_quarter", ("2025-10-01", "2025-12-31")),
        (date(2024, 3, 1), "last_month", ("2024-02-01", "2024-02-29")),
        (date(2026, 11, 16), "last_week", ("2026-11-09", "2026-11-15")),
        (date(2026, 11, 16), "this_week", ("2026-11-16", "2026-11-16")),
    ],
)
def test_period_boundaries(today: date, period: str, expected: tuple[str, str]) -> None:
    start, end = period_range(period, today)
    assert (start.isoformat(), end.isoformat()) == expected


def test_single_days_and_relative_ranges() -> None:
    assert resolve(days_back=0) == ("2026-11-19", "2026-11-19")
    assert resolve(days_back=1) == ("2026-11-18", "2026-11-18")
    assert resolve(days_back=7) == ("2026-11-12", "2026-11-12")
    assert resolve(start_days_back=10, end_days_back=5) == ("2026-11-09", "2026-11-14")
    assert resolve(start_days_back=3) == ("2026-11-16", "2026-11-19")
    assert resolve(date="2026-02-03") == ("2026-02-03", "2026-02-03")
    assert resolve(start_date="2026-11-01") == ("2026-11-01", "2026-11-19")
    assert resolve(start_date="2026-11-01T00:00:00Z", end_date="2026-11-05") == (
        "2026-11-01",
        "2026-11-05",
    )


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({"start_date": "2026-11-01", "date_period": "last_week"}, "date_period"),
        ({"date": "2026-11-01", "days_back": 2}, "days_back"),
        ({"start_date": "2026-11-01", "end_date": "2026-10-01"}, "end_date"),
        ({"start_date": "01/11/2026"}, "start_date"),
        ({"days_back": -1}, "days_back"),
        ({"start_days_back": 2, "end_days_back": 5}, "end_days_back"),
        ({"end_days_back": 5}, "end_days_back"),
        ({"date_period": "fortnight"}, "date_period"),
        ({"date_period": "today", "week_start_day": "funday"}, "week_start_day"),
        ({}, "start_date"),
    ],
)
def test_mistakes_name_the_setting_in_one_line(config: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DateSelection.from_config(config)
    assert caught.value.setting == setting
    assert str(caught.value).startswith(f"{setting}: ")
    assert "\n" not in str(caught.value)


def test_conflicts_name_both_settings() -> None:
    with pytest.raises(ConfigError) as caught:
        DateSelection.from_config({"start_date": "2026-11-01", "date_period": "yesterday"})
    assert "date_period" in str(caught.value)
    assert "start_date" in str(caught.value)


def test_today_differs_across_time_zones_near_midnight_utc() -> None:
    before = datetime(2026, 11, 20, 14, 59, tzinfo=timezone.utc)
    after = datetime(2026, 11, 20, 15, 1, tzinfo=timezone.utc)
    assert today_in("Asia/Tokyo", before) == date(2026, 11, 20)
    assert today_in("Asia/Tokyo", after) == date(2026, 11, 21)
    late = datetime(2026, 11, 21, 0, 30, tzinfo=timezone.utc)
    assert today_in("America/Los_Angeles", late) == date(2026, 11, 20)
    assert today_in("UTC", late) == date(2026, 11, 21)


@pytest.mark.parametrize(
    ("name", "offset_hours"),
    [("Etc/GMT+8", -8), ("UTC+08:00", 8), ("GMT-05:00", -5), ("UTC+5:30", 5.5), ("nowhere", 0)],
)
def test_time_zone_names(name: str, offset_hours: float) -> None:
    zone = resolve_timezone(name)
    offset = datetime(2026, 1, 1, tzinfo=zone).utcoffset()
    assert offset == timedelta(hours=offset_hours)


def test_local_hours_carry_the_offset_across_dst() -> None:
    zone = resolve_timezone("America/Los_Angeles")
    assert local_hour_to_rfc3339("2026-03-08 01:00:00", zone) == "2026-03-08T01:00:00-08:00"
    assert local_hour_to_rfc3339("2026-03-08 03:00:00", zone) == "2026-03-08T03:00:00-07:00"
    assert local_hour_to_rfc3339("2026-11-01 01:00:00", zone) == "2026-11-01T01:00:00-07:00"
    assert local_hour_to_rfc3339("2026-11-01 02:00:00", zone) == "2026-11-01T02:00:00-08:00"


def test_tiktok_times() -> None:
    assert tiktok_utc_to_rfc3339("2022-03-30 21:23:52") == "2022-03-30T21:23:52+00:00"
    assert tiktok_utc_to_rfc3339("2022-03-30T21:23:52Z") == "2022-03-30T21:23:52+00:00"
    assert tiktok_utc_to_rfc3339("-") is None
    assert tiktok_utc_to_rfc3339(None) is None
    assert epoch_to_rfc3339(1630335591) == "2021-08-30T14:59:51+00:00"
    assert epoch_to_rfc3339("1630335591") == "2021-08-30T14:59:51+00:00"


def test_incremental_start() -> None:
    first = date(2026, 10, 1)
    assert incremental_start(first, None, 7) == first
    assert incremental_start(first, date(2026, 11, 20), 7) == date(2026, 11, 13)
    assert incremental_start(first, date(2026, 10, 3), 7) == first
    assert incremental_start(first, date(2026, 11, 20), 0) == date(2026, 11, 20)


def test_halve_window() -> None:
    assert halve_window(date(2026, 1, 1), date(2026, 1, 30)) == [
        (date(2026, 1, 1), date(2026, 1, 15)),
        (date(2026, 1, 16), date(2026, 1, 30)),
    ]
    assert halve_window(date(2026, 1, 1), date(2026, 1, 2)) == [
        (date(2026, 1, 1), date(2026, 1, 1)),
        (date(2026, 1, 2), date(2026, 1, 2)),
    ]
    assert halve_window(date(2026, 1, 1), date(2026, 1, 1)) is None


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    days=st.one_of(st.integers(0, 400), st.sampled_from([30, 60, 90, 360])),
    size=st.integers(1, 30),
)
def test_windows_cover_the_range_exactly_once(start: date, days: int, size: int) -> None:
    end = start + timedelta(days=days - 1)
    windows = split_windows(start, end, size)
    covered = [w[0] + timedelta(days=i) for w in windows for i in range((w[1] - w[0]).days + 1)]
    assert covered == [start + timedelta(days=i) for i in range(days)]
    assert all(1 <= (w[1] - w[0]).days + 1 <= size for w in windows)
    if days % size == 0:
        assert len(windows) == days // size
