"""Date options, time zones, TikTok formats and windows."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from itertools import combinations, pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_tiktok_ads.dates import (
    PERIODS,
    DateSelection,
    epoch_to_rfc3339,
    halve_window,
    incremental_start,
    local_hour_to_rfc3339,
    lookup_timezone,
    resolve_timezone,
    split_windows,
    tiktok_day_to_iso,
    tiktok_utc_to_rfc3339,
    today_in,
)
from tap_tiktok_ads.errors import ConfigError

THURSDAY = date(2026, 11, 19)
MONDAY = date(2026, 11, 16)
SUNDAY = date(2026, 11, 22)
LEAP_DAY = date(2024, 2, 29)
NEW_YEAR = date(2026, 1, 1)
QUARTER_START = date(2026, 4, 1)


def resolve(today: date = THURSDAY, **config: Any) -> tuple[str, str]:
    start, end = DateSelection.from_config(config, today=today).resolve(today)
    return start.isoformat(), end.isoformat()


def error_for(config: dict[str, Any], today: date = THURSDAY) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        DateSelection.from_config(config, today=today)
    return caught.value


# -- named periods ---------------------------------------------------------------------------

PERIOD_CASES = {
    THURSDAY: {
        "today": ("2026-11-19", "2026-11-19"),
        "yesterday": ("2026-11-18", "2026-11-18"),
        "last_7_days": ("2026-11-12", "2026-11-18"),
        "last_14_days": ("2026-11-05", "2026-11-18"),
        "last_30_days": ("2026-10-20", "2026-11-18"),
        "last_90_days": ("2026-08-21", "2026-11-18"),
        "this_week": ("2026-11-16", "2026-11-19"),
        "last_week": ("2026-11-09", "2026-11-15"),
        "this_month": ("2026-11-01", "2026-11-19"),
        "last_month": ("2026-10-01", "2026-10-31"),
        "this_quarter": ("2026-10-01", "2026-11-19"),
        "last_quarter": ("2026-07-01", "2026-09-30"),
        "this_year": ("2026-01-01", "2026-11-19"),
        "last_year": ("2025-01-01", "2025-12-31"),
    },
    LEAP_DAY: {
        "today": ("2024-02-29", "2024-02-29"),
        "yesterday": ("2024-02-28", "2024-02-28"),
        "last_7_days": ("2024-02-22", "2024-02-28"),
        "last_14_days": ("2024-02-15", "2024-02-28"),
        "last_30_days": ("2024-01-30", "2024-02-28"),
        "last_90_days": ("2023-12-01", "2024-02-28"),
        "this_week": ("2024-02-26", "2024-02-29"),
        "last_week": ("2024-02-19", "2024-02-25"),
        "this_month": ("2024-02-01", "2024-02-29"),
        "last_month": ("2024-01-01", "2024-01-31"),
        "this_quarter": ("2024-01-01", "2024-02-29"),
        "last_quarter": ("2023-10-01", "2023-12-31"),
        "this_year": ("2024-01-01", "2024-02-29"),
        "last_year": ("2023-01-01", "2023-12-31"),
    },
    NEW_YEAR: {
        "today": ("2026-01-01", "2026-01-01"),
        "yesterday": ("2025-12-31", "2025-12-31"),
        "last_7_days": ("2025-12-25", "2025-12-31"),
        "last_14_days": ("2025-12-18", "2025-12-31"),
        "last_30_days": ("2025-12-02", "2025-12-31"),
        "last_90_days": ("2025-10-03", "2025-12-31"),
        "this_week": ("2025-12-29", "2026-01-01"),
        "last_week": ("2025-12-22", "2025-12-28"),
        "this_month": ("2026-01-01", "2026-01-01"),
        "last_month": ("2025-12-01", "2025-12-31"),
        "this_quarter": ("2026-01-01", "2026-01-01"),
        "last_quarter": ("2025-10-01", "2025-12-31"),
        "this_year": ("2026-01-01", "2026-01-01"),
        "last_year": ("2025-01-01", "2025-12-31"),
    },
    QUARTER_START: {
        "today": ("2026-04-01", "2026-04-01"),
        "yesterday": ("2026-03-31", "2026-03-31"),
        "last_7_days": ("2026-03-25", "2026-03-31"),
        "last_14_days": ("2026-03-18", "2026-03-31"),
        "last_30_days": ("2026-03-02", "2026-03-31"),
        "last_90_days": ("2026-01-01", "2026-03-31"),
        "this_week": ("2026-03-30", "2026-04-01"),
        "last_week": ("2026-03-23", "2026-03-29"),
        "this_month": ("2026-04-01", "2026-04-01"),
        "last_month": ("2026-03-01", "2026-03-31"),
        "this_quarter": ("2026-04-01", "2026-04-01"),
        "last_quarter": ("2026-01-01", "2026-03-31"),
        "this_year": ("2026-01-01", "2026-04-01"),
        "last_year": ("2025-01-01", "2025-12-31"),
    },
}


def test_every_period_is_covered_for_every_today() -> None:
    assert all(set(cases) == set(PERIODS) for cases in PERIOD_CASES.values())


@pytest.mark.parametrize(
    ("today", "period", "expected"),
    [
        (today, p, expected)
        for today, cases in PERIOD_CASES.items()
        for p, expected in cases.items()
    ],
)
def test_named_periods(today: date, period: str, expected: tuple[str, str]) -> None:
    assert resolve(today, date_period=period) == expected


def test_last_n_days_are_n_full_days_ending_yesterday() -> None:
    for period, days in (("last_7_days", 7), ("last_30_days", 30), ("last_90_days", 90)):
        start, end = (date.fromisoformat(d) for d in resolve(date_period=period))
        assert end == THURSDAY - timedelta(days=1)
        assert (end - start).days + 1 == days


def test_the_day_after_a_leap_day() -> None:
    assert resolve(date(2024, 3, 1), date_period="last_month") == ("2024-02-01", "2024-02-29")
    assert resolve(date(2024, 3, 1), date_period="yesterday") == ("2024-02-29", "2024-02-29")


@pytest.mark.parametrize(
    ("today", "week_start_day", "this_week", "last_week"),
    [
        (MONDAY, "monday", ("2026-11-16", "2026-11-16"), ("2026-11-09", "2026-11-15")),
        (SUNDAY, "monday", ("2026-11-16", "2026-11-22"), ("2026-11-09", "2026-11-15")),
        (MONDAY, "sunday", ("2026-11-15", "2026-11-16"), ("2026-11-08", "2026-11-14")),
        (SUNDAY, "Sunday", ("2026-11-22", "2026-11-22"), ("2026-11-15", "2026-11-21")),
        (THURSDAY, "THURSDAY", ("2026-11-19", "2026-11-19"), ("2026-11-12", "2026-11-18")),
    ],
)
def test_weeks_start_on_week_start_day(
    today: date, week_start_day: str, this_week: tuple[str, str], last_week: tuple[str, str]
) -> None:
    assert resolve(today, date_period="this_week", week_start_day=week_start_day) == this_week
    assert resolve(today, date_period="last_week", week_start_day=week_start_day) == last_week


def test_weeks_start_on_monday_by_default() -> None:
    assert resolve(SUNDAY, date_period="this_week") == ("2026-11-16", "2026-11-22")


# -- the other ways of choosing dates --------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"days_back": 0}, ("2026-11-19", "2026-11-19")),
        ({"days_back": 1}, ("2026-11-18", "2026-11-18")),
        ({"days_back": 7}, ("2026-11-12", "2026-11-12")),
        ({"days_back": "7"}, ("2026-11-12", "2026-11-12")),
        ({"start_days_back": 10, "end_days_back": 5}, ("2026-11-09", "2026-11-14")),
        ({"start_days_back": 3}, ("2026-11-16", "2026-11-19")),
        ({"start_days_back": 3, "end_days_back": None}, ("2026-11-16", "2026-11-19")),
        ({"start_days_back": 4, "end_days_back": 4}, ("2026-11-15", "2026-11-15")),
        ({"date": "2026-02-03"}, ("2026-02-03", "2026-02-03")),
        ({"start_date": "2026-11-01"}, ("2026-11-01", "2026-11-19")),
        ({"start_date": "2026-11-01", "end_date": "2026-11-05"}, ("2026-11-01", "2026-11-05")),
        ({"start_date": "2026-11-01T00:00:00Z"}, ("2026-11-01", "2026-11-19")),
        # The date as written, not shifted to UTC (which would be 2026-10-31).
        ({"start_date": "2026-11-01T05:00:00+09:00"}, ("2026-11-01", "2026-11-19")),
        ({"start_date": date(2026, 11, 2), "end_date": ""}, ("2026-11-02", "2026-11-19")),
    ],
)
def test_fixed_and_relative_days(config: dict[str, Any], expected: tuple[str, str]) -> None:
    assert resolve(**config) == expected


def test_relative_days_follow_the_local_today() -> None:
    selection = DateSelection.from_config({"start_days_back": 10, "end_days_back": 5})
    assert selection.resolve(date(2024, 3, 3)) == (date(2024, 2, 22), date(2024, 2, 27))


def test_days_never_run_past_the_local_today() -> None:
    # Valid where it is already 2026-11-20, but not yet begun where it is still the 19th.
    tomorrow = THURSDAY + timedelta(days=1)
    selection = DateSelection.from_config({"date": "2026-11-20"}, today=tomorrow)
    start, end = selection.resolve(THURSDAY)
    assert end < start
    assert split_windows(start, end, 30) == []
    ranged = DateSelection.from_config(
        {"start_date": "2026-11-18", "end_date": "2026-11-20"}, today=tomorrow
    )
    assert ranged.resolve(THURSDAY) == (date(2026, 11, 18), THURSDAY)


def test_a_selection_cannot_change_after_start_up() -> None:
    selection = DateSelection.from_config({"date_period": "yesterday"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        selection.period = "today"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"date_period": "last_week"}, "last_week (Mon-Sun)"),
        ({"date_period": "this_week", "week_start_day": "sunday"}, "this_week (Sun-Sat)"),
        ({"date_period": "last_30_days"}, "last_30_days"),
        ({"start_date": "2026-11-01"}, "2026-11-01 to today"),
        ({"start_date": "2026-11-01", "end_date": "2026-11-05"}, "2026-11-01 to 2026-11-05"),
        ({"date": "2026-11-01"}, "2026-11-01"),
        ({"days_back": 1}, "yesterday"),
        ({"days_back": 7}, "7 days ago"),
        ({"start_days_back": 10, "end_days_back": 0}, "10 days ago to today"),
    ],
)
def test_describe(config: dict[str, Any], expected: str) -> None:
    assert DateSelection.from_config(config, today=THURSDAY).describe() == expected


# -- conflicts and mistakes ------------------------------------------------------------------

ONE_OF_EACH_WAY: list[dict[str, Any]] = [
    {"start_date": "2026-11-01"},
    {"end_date": "2026-11-05"},
    {"date": "2026-11-01"},
    {"days_back": 2},
    {"start_days_back": 10},
    {"end_days_back": 1},
    {"date_period": "yesterday"},
]
CONFLICTS = [
    (a, b)
    for a, b in combinations(ONE_OF_EACH_WAY, 2)
    if {*a, *b} not in ({"start_date", "end_date"}, {"start_days_back", "end_days_back"})
]


@pytest.mark.parametrize(("first", "second"), CONFLICTS)
def test_conflicts_name_both_settings(first: dict[str, Any], second: dict[str, Any]) -> None:
    error = error_for({**first, **second})
    (first_key,), (second_key,) = first, second
    assert error.setting == second_key
    assert str(error) == (
        f"{second_key}: conflicts with {first_key}; use one way of choosing dates"
    )


def test_start_date_conflicts_with_relative_ways_too() -> None:
    error = error_for({"start_date": "2026-01-01", "date_period": "yesterday"})
    assert str(error) == "date_period: conflicts with start_date; use one way of choosing dates"


def test_unset_values_do_not_count_as_a_way() -> None:
    config: dict[str, Any] = {"start_date": "2026-11-01", "date": None, "date_period": " "}
    assert resolve(**config) == ("2026-11-01", "2026-11-19")


@pytest.mark.parametrize(
    ("config", "setting", "fix"),
    [
        ({"start_date": "2026-11-01", "end_date": "2026-10-01"}, "end_date", "later end_date"),
        ({"start_date": "01/11/2026"}, "start_date", "YYYY-MM-DD"),
        ({"start_date": "20261101"}, "start_date", "YYYY-MM-DD"),
        ({"start_date": "2026-02-30"}, "start_date", "YYYY-MM-DD"),
        ({"start_date": "2026-11-01T25:00:00Z"}, "start_date", "YYYY-MM-DD"),
        ({"start_date": "2026-11-01 and more"}, "start_date", "YYYY-MM-DD"),
        ({"start_date": 20261101}, "start_date", "YYYY-MM-DD"),
        ({"start_date": "2026-11-01", "end_date": "soon"}, "end_date", "YYYY-MM-DD"),
        ({"date": "yesterday"}, "date", "YYYY-MM-DD"),
        ({"date": "2026-11-20"}, "date", "today or an earlier day"),
        ({"start_date": "2026-11-20"}, "start_date", "today or an earlier day"),
        ({"start_date": "2026-11-01", "end_date": "2027-01-01"}, "end_date", "earlier day"),
        ({"days_back": -1}, "days_back", "whole number 0-3650"),
        ({"days_back": 1.5}, "days_back", "whole number"),
        ({"days_back": True}, "days_back", "whole number"),
        ({"days_back": "a week"}, "days_back", "whole number"),
        ({"days_back": 20261101}, "days_back", "whole number 0-3650"),
        ({"start_days_back": -3}, "start_days_back", "whole number"),
        ({"start_days_back": 2, "end_days_back": 5}, "end_days_back", "lower it"),
        ({"start_days_back": 2, "end_days_back": -1}, "end_days_back", "whole number"),
        ({"end_days_back": 5}, "end_days_back", "set start_days_back"),
        ({"end_date": "2026-11-05"}, "end_date", "set start_date"),
        ({"date_period": "fortnight"}, "date_period", "use one of today, yesterday"),
        ({"date_period": 7}, "date_period", "use one of"),
        ({"date_period": "today", "week_start_day": "funday"}, "week_start_day", "monday..sunday"),
        ({"start_date": "2026-11-01", "week_start_day": 1}, "week_start_day", "monday..sunday"),
        ({}, "start_date", "or choose dates with date"),
        ({"start_date": "  "}, "start_date", "is required"),
    ],
)
def test_mistakes_are_one_line_naming_the_setting_and_the_fix(
    config: dict[str, Any], setting: str, fix: str
) -> None:
    error = error_for(config)
    assert error.setting == setting
    assert str(error).startswith(f"{setting}: ")
    assert fix in str(error)
    assert "\n" not in str(error)


def test_future_days_are_refused_against_the_real_clock_by_default() -> None:
    with pytest.raises(ConfigError, match=r"^date: 2999-01-01 is in the future"):
        DateSelection.from_config({"date": "2999-01-01"})
    # Already today east of the date line while still yesterday in UTC: accepted.
    east_today = today_in(timezone(timedelta(hours=14)))
    assert DateSelection.from_config({"date": east_today.isoformat()}).start == east_today


@given(
    st.dictionaries(
        st.sampled_from([k for way in ONE_OF_EACH_WAY for k in way] + ["week_start_day"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=25)),
    )
)
def test_any_value_is_accepted_or_refused_with_a_config_error(config: dict[str, Any]) -> None:
    refused: ConfigError | None = None
    try:
        _first, last = DateSelection.from_config(config, today=THURSDAY).resolve(THURSDAY)
        assert last <= THURSDAY
    except ConfigError as error:
        refused = error
    if refused is not None:
        assert refused.setting in {*config, "start_date"}
        assert "\n" not in str(refused)


# -- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "offset_hours"),
    [
        ("Etc/GMT+8", -8),  # POSIX: the sign is inverted
        ("Asia/Tokyo", 9),
        ("asia/TOKYO", 9),
        ("UTC", 0),
        ("UTC+08:00", 8),
        ("GMT-05:00", -5),
        ("UTC+8", 8),
        ("utc+0800", 8),
        ("UTC+5:30", 5.5),
        ("+05:30", 5.5),
        ("UTC-12:00", -12),
        ("UTC+14:00", 14),
    ],
)
def test_known_time_zone_names(name: str, offset_hours: float) -> None:
    zone, known = lookup_timezone(name)
    assert known
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() == timedelta(hours=offset_hours)
    assert resolve_timezone(name) == zone


@pytest.mark.parametrize(
    "name", [None, "", "  ", "nowhere", "America", "UTC+15:00", "UTC+08:60", "../etc", "x" * 300]
)
def test_unknown_time_zones_fall_back_to_utc_and_say_so(name: str | None) -> None:
    assert lookup_timezone(name) == (timezone.utc, False)
    assert resolve_timezone(name) == timezone.utc


def test_today_is_the_advertisers_not_the_machines() -> None:
    before_midnight = datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc)
    after_midnight = datetime(2026, 11, 21, 0, 1, tzinfo=timezone.utc)
    assert today_in("UTC", before_midnight) == date(2026, 11, 20)
    assert today_in("Asia/Tokyo", before_midnight) == date(2026, 11, 21)
    assert today_in("America/Los_Angeles", before_midnight) == date(2026, 11, 20)
    assert today_in("UTC", after_midnight) == date(2026, 11, 21)
    assert today_in("Asia/Tokyo", after_midnight) == date(2026, 11, 21)
    assert today_in("America/Los_Angeles", after_midnight) == date(2026, 11, 20)


def test_today_turns_at_local_midnight() -> None:
    tokyo = resolve_timezone("Asia/Tokyo")
    assert today_in(tokyo, datetime(2026, 11, 20, 14, 59, tzinfo=timezone.utc)) == date(
        2026, 11, 20
    )
    assert today_in(tokyo, datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)) == date(2026, 11, 21)
    los_angeles_now = datetime(2026, 11, 21, 7, 59, tzinfo=timezone(timedelta(hours=8)))
    assert today_in("America/Los_Angeles", los_angeles_now) == date(2026, 11, 20)


def test_today_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="time zone"):
        today_in("UTC", datetime(2026, 11, 20, 12))
    assert isinstance(today_in("Asia/Tokyo"), date)


# -- TikTok's formats ------------------------------------------------------------------------


def test_account_zones_keep_standard_time_across_spring_forward() -> None:
    # TikTok ad accounts have no daylight saving: a California account is UTC-8 all year.
    zone = resolve_timezone("America/Los_Angeles")
    for hour in ("01", "02", "03", "23"):
        label = f"2026-03-08 {hour}:00:00"
        assert local_hour_to_rfc3339(label, zone) == f"2026-03-08T{hour}:00:00-08:00"
    assert local_hour_to_rfc3339("2026-07-01 12:00:00", zone) == "2026-07-01T12:00:00-08:00"


def test_account_zones_keep_standard_time_across_fall_back() -> None:
    zone = resolve_timezone("America/Los_Angeles")
    assert local_hour_to_rfc3339("2026-11-01 00:00:00", zone) == "2026-11-01T00:00:00-08:00"
    assert local_hour_to_rfc3339("2026-11-01 01:00:00", zone) == "2026-11-01T01:00:00-08:00"
    assert local_hour_to_rfc3339("2026-11-01 02:00:00", "America/Los_Angeles") == (
        "2026-11-01T02:00:00-08:00"
    )


@pytest.mark.parametrize(
    ("name", "january", "july"),
    [
        ("America/Los_Angeles", -8, -8),
        ("Australia/Sydney", 10, 10),  # southern summer is January: still +10
        ("Europe/Dublin", 0, 0),  # tz data calls Irish winter time negative DST
        ("Europe/Berlin", 1, 1),
        ("Etc/GMT+8", -8, -8),
        ("Asia/Tokyo", 9, 9),
    ],
)
def test_region_names_give_their_standard_time_all_year(name: str, january: int, july: int) -> None:
    zone = resolve_timezone(name)
    assert datetime(2026, 1, 15, 12, tzinfo=zone).utcoffset() == timedelta(hours=january)
    assert datetime(2026, 7, 15, 12, tzinfo=zone).utcoffset() == timedelta(hours=july)
    assert datetime(2026, 7, 15, 12, tzinfo=zone).dst() == timedelta(0)


def test_today_in_summer_follows_standard_time() -> None:
    # 07:30 UTC on 1 July: 00:30 by Los Angeles daylight time, but 23:30 on 30 June for TikTok.
    moment = datetime(2026, 7, 1, 7, 30, tzinfo=timezone.utc)
    assert today_in("America/Los_Angeles", moment) == date(2026, 6, 30)
    assert today_in("Etc/GMT+8", moment) == date(2026, 6, 30)
    assert moment.astimezone(resolve_timezone("America/Los_Angeles")).hour == 23


@pytest.mark.parametrize("day", ["2026-03-08", "2026-11-01"])
def test_hours_of_a_dst_day_are_24_distinct_hours(day: str) -> None:
    zone = resolve_timezone("America/Los_Angeles")
    hours = [local_hour_to_rfc3339(f"{day} {hour:02d}:00:00", zone) for hour in range(24)]
    instants = [datetime.fromisoformat(h) for h in hours]
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(instants))
    assert all(h[11:13] == f"{hour:02d}" for hour, h in enumerate(hours))


def test_a_daylight_saving_zone_given_directly_reads_labels_as_first_occurrence() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    assert local_hour_to_rfc3339("2026-03-08 02:00:00", zone) == "2026-03-08T02:00:00-08:00"
    assert local_hour_to_rfc3339("2026-11-01 01:00:00", zone) == "2026-11-01T01:00:00-07:00"


def test_local_hours_in_fixed_offset_zones() -> None:
    assert local_hour_to_rfc3339("2026-03-08 02:00:00", resolve_timezone("Etc/GMT+8")) == (
        "2026-03-08T02:00:00-08:00"
    )
    assert local_hour_to_rfc3339("2026-03-08T23:00:00", resolve_timezone("UTC+05:30")) == (
        "2026-03-08T23:00:00+05:30"
    )


@pytest.mark.parametrize("bad", ["2026-03-08", "2026-03-08 24:00:00", "None", "08/03/2026 01:00"])
def test_malformed_local_hours_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="TikTok local time"):
        local_hour_to_rfc3339(bad, timezone.utc)


def test_tiktok_days() -> None:
    assert tiktok_day_to_iso("2024-02-29 00:00:00") == "2024-02-29"
    assert tiktok_day_to_iso("2024-02-29") == "2024-02-29"
    for bad in ("2023-02-29 00:00:00", "2024-02-29 13:00:00", "", "-"):
        with pytest.raises(ValueError, match="TikTok day"):
            tiktok_day_to_iso(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-30 21:23:52", "2022-03-30T21:23:52+00:00"),
        ("2022-03-30T21:23:52Z", "2022-03-30T21:23:52+00:00"),
        ("2022-03-30T21:23:52+00:00", "2022-03-30T21:23:52+00:00"),
        ("2022-03-31T05:23:52+08:00", "2022-03-30T21:23:52+00:00"),
        (None, None),
        ("", None),
        ("-", None),
        ("not a time", None),
    ],
)
def test_tiktok_utc_times(value: str | None, expected: str | None) -> None:
    assert tiktok_utc_to_rfc3339(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1630335591, "2021-08-30T14:59:51+00:00"),
        ("1630335591", "2021-08-30T14:59:51+00:00"),
        (1630335591.0, "2021-08-30T14:59:51+00:00"),
        ("2021-08-30 14:59:51", "2021-08-30T14:59:51+00:00"),
        (None, None),
        ("", None),
        ("-", None),
        (10**20, None),
    ],
)
def test_epoch_times(value: Any, expected: str | None) -> None:
    assert epoch_to_rfc3339(value) == expected


# -- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bookmark", "attribution_days", "expected"),
    [
        (None, 7, date(2026, 10, 1)),  # first run: the whole selection
        (date(2026, 11, 20), 7, date(2026, 11, 13)),  # re-read a week of revisions
        (date(2026, 11, 20), 0, date(2026, 11, 20)),  # the bookmark day itself is re-read
        (date(2026, 10, 3), 7, date(2026, 10, 1)),  # never before the selection
        (date(2026, 9, 1), 0, date(2026, 10, 1)),  # an old bookmark from a wider selection
    ],
)
def test_incremental_start(bookmark: date | None, attribution_days: int, expected: date) -> None:
    assert incremental_start(date(2026, 10, 1), bookmark, attribution_days) == expected


def test_incremental_start_refuses_a_negative_window() -> None:
    with pytest.raises(ValueError, match="attribution_window_days"):
        incremental_start(date(2026, 10, 1), date(2026, 11, 1), -1)


def test_split_windows_examples() -> None:
    jan_1 = date(2026, 1, 1)
    assert split_windows(jan_1, date(2026, 3, 1), 30) == [
        (jan_1, date(2026, 1, 30)),
        (date(2026, 1, 31), date(2026, 3, 1)),
    ]
    assert split_windows(jan_1, date(2026, 1, 31), 30)[-1] == (date(2026, 1, 31),) * 2
    assert split_windows(jan_1, jan_1, 1) == [(jan_1, jan_1)]
    assert split_windows(jan_1, jan_1 - timedelta(days=1), 30) == []
    with pytest.raises(ValueError, match="max_days"):
        split_windows(jan_1, jan_1, 0)


def days_of(windows: list[tuple[date, date]]) -> list[date]:
    return [s + timedelta(days=i) for s, e in windows for i in range((e - s).days + 1)]


@given(
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(0, 800),
    max_days=st.integers(1, 365),
)
def test_windows_cover_the_range_exactly_once(start: date, days: int, max_days: int) -> None:
    end = start + timedelta(days=days - 1)
    windows = split_windows(start, end, max_days)
    assert days_of(windows) == [start + timedelta(days=i) for i in range(days)]
    assert all(1 <= (e - s).days + 1 <= max_days for s, e in windows)
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in pairwise(windows))
    assert len(windows) == -(-days // max_days)  # as few as possible


@given(
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2030, 12, 31)),
    multiple=st.integers(1, 13),
    max_days=st.sampled_from([1, 30, 365]),
)
def test_multiples_of_the_window_size_split_evenly(
    start: date, multiple: int, max_days: int
) -> None:
    end = start + timedelta(days=multiple * max_days - 1)
    windows = split_windows(start, end, max_days)
    assert len(windows) == multiple
    assert all((e - s).days + 1 == max_days for s, e in windows)
    assert windows[-1][1] == end


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
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(2, 400),
)
def test_halves_cover_the_window_and_shrink(start: date, days: int) -> None:
    end = start + timedelta(days=days - 1)
    halves = halve_window(start, end)
    assert halves is not None
    assert days_of(halves) == days_of([(start, end)])
    assert all((e - s).days + 1 <= (days + 1) // 2 for s, e in halves)
