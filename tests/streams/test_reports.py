"""Report streams against the emulator: records, sums, selection, dates, state, windows."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import jsonschema
import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.errors import ConfigError
from tap_tiktok_ads.reports.catalog import METRICS
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, TapRun, run_tap, tap_config

REPORT_PATH = "/report/integrated/get/"
ADDITIVE = ("spend", "impressions", "clicks", "conversion", "video_play_actions", "likes")


def sync(emu: Emulator, streams: dict[str, list[str] | None], **overrides: object) -> TapRun:
    config = tap_config(emu, **overrides)
    return run_tap(config, catalog=catalog_selecting(config, streams), state=None)


def report_calls(emu: Emulator) -> list[dict]:
    return [r for r in emu.requests() if r["path"] == REPORT_PATH and r["code"] == 0]


def totals(records: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict[str, Decimal]]:
    sums: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for record in records:
        key = tuple(record[k] for k in keys)
        for metric in ADDITIVE:
            if metric in record:
                sums[key][metric] += Decimal(str(record[metric] or 0))
    return {k: dict(v) for k, v in sums.items()}


@pytest.fixture(scope="module")
def full_run(emulator: Emulator) -> TapRun:
    names = (
        "ad_performance_daily",
        "ad_group_performance_daily",
        "campaign_performance_daily",
        "advertiser_performance_daily",
        "ad_performance_hourly",
        "ad_performance_lifetime",
        "campaign_audience_age_gender_daily",
        "campaign_audience_country_daily",
        "ad_audience_platform_daily",
    )
    streams: dict[str, list[str] | None] = dict.fromkeys(names)
    # Deleted entities included: an advertiser's total counts every ad that spent.
    return sync(
        emulator, streams, start_date="2026-11-10", end_date="2026-11-14", include_deleted=True
    )


def test_records_are_valid_against_their_schemas(full_run: TapRun) -> None:
    assert len(full_run.records) == 9
    for stream, records in full_run.records.items():
        assert records, stream
        validator = jsonschema.Draft7Validator(
            full_run.schemas[stream], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        for record in records:
            validator.validate(record)


def test_metrics_are_typed_and_money_is_exact(full_run: TapRun) -> None:
    for record in full_run.records["ad_performance_daily"]:
        assert isinstance(record["impressions"], int)
        assert isinstance(record["spend"], Decimal)
        assert record["spend"] == record["spend"].quantize(Decimal("0.01"))
        assert isinstance(record["campaign_name"], str)
        assert len(record["stat_time_day"]) == 10


def test_primary_keys_are_unique(full_run: TapRun) -> None:
    for stream, records in full_run.records.items():
        keys = (
            TapTikTokAds(config={"access_token": "x", "start_date": "2026-01-01"})
            .streams[stream]
            .primary_keys
        )
        assert len({tuple(r[k] for k in keys) for r in records}) == len(records), stream


def test_levels_add_up(full_run: TapRun, emulator: Emulator) -> None:
    ad_to_campaign = {a["ad_id"]: a["campaign_id"] for a in emulator.world.ads}
    ads = full_run.records["ad_performance_daily"]
    by_campaign: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for record in ads:
        key = (ad_to_campaign[record["ad_id"]], record["stat_time_day"])
        for metric in ADDITIVE:
            by_campaign[key][metric] += Decimal(str(record[metric] or 0))
    campaigns = totals(
        full_run.records["campaign_performance_daily"], ("campaign_id", "stat_time_day")
    )
    assert campaigns == {k: dict(v) for k, v in by_campaign.items()}
    advertisers = totals(full_run.records["advertiser_performance_daily"], ("advertiser_id",))
    assert advertisers == totals(ads, ("advertiser_id",))


def test_hours_add_up_to_days(full_run: TapRun) -> None:
    hourly = full_run.records["ad_performance_hourly"]
    assert all("T" in r["stat_time_hour"] and r["stat_time_hour"][-6] in "+-" for r in hourly)
    for record in hourly:
        record["day"] = record["stat_time_hour"][:10]
    assert totals(hourly, ("ad_id", "day")) == totals(
        full_run.records["ad_performance_daily"], ("ad_id", "stat_time_day")
    )


def test_audience_breakdowns_add_up_to_the_total(full_run: TapRun) -> None:
    total = totals(full_run.records["campaign_performance_daily"], ("campaign_id", "stat_time_day"))
    for stream in ("campaign_audience_age_gender_daily", "campaign_audience_country_daily"):
        sums = totals(full_run.records[stream], ("campaign_id", "stat_time_day"))
        for key, values in sums.items():
            for metric in ("spend", "impressions", "clicks"):
                assert values[metric] == total[key][metric], (stream, key, metric)


def test_lifetime_is_one_call_without_dates(full_run: TapRun, emulator: Emulator) -> None:
    lifetime = full_run.records["ad_performance_lifetime"]
    assert {r["ad_id"] for r in lifetime} >= {
        r["ad_id"] for r in full_run.records["ad_performance_daily"]
    }
    assert all("stat_time_day" not in r for r in lifetime)


def test_deselected_metrics_are_not_requested(emulator: Emulator) -> None:
    emulator.clear_requests()
    run = sync(
        emulator,
        {"ad_performance_daily": ["spend", "clicks"]},
        start_date="2026-11-12",
        end_date="2026-11-13",
    )
    calls = report_calls(emulator)
    assert calls
    for call in calls:
        assert call["params"]["metrics"] == ["spend", "clicks"]
        assert call["params"]["dimensions"] == ["ad_id", "stat_time_day"]
    assert set(run.records["ad_performance_daily"][0]) == {
        "advertiser_id",
        "is_top_view",
        "ad_id",
        "stat_time_day",
        "spend",
        "clicks",
    }


def test_default_selection_is_the_catalog_default(emulator: Emulator) -> None:
    emulator.clear_requests()
    sync(emulator, {"campaign_performance_daily": None}, date="2026-11-12")
    requested = set(report_calls(emulator)[0]["params"]["metrics"])
    expected = {
        m.name
        for m in METRICS.values()
        if m.default
        and "campaign" in m.levels
        and "BASIC" in m.report_types
        and "daily" in m.granularities
    }
    assert requested == expected


def test_windows_cover_the_range_exactly(emulator: Emulator) -> None:
    emulator.clear_requests()
    sync(
        emulator,
        {"advertiser_performance_daily": ["spend"]},
        start_date="2026-09-22",
        end_date="2026-11-20",
    )
    for advertiser in emulator.world.advertisers:
        calls = [
            c for c in report_calls(emulator) if c["advertiser_id"] == advertiser["advertiser_id"]
        ]
        windows = sorted({(c["params"]["start_date"], c["params"]["end_date"]) for c in calls})
        assert windows == [("2026-09-22", "2026-10-21"), ("2026-10-22", "2026-11-20")]


def test_second_run_rereads_only_the_attribution_window() -> None:
    with Emulator(seed=8, advertisers=2, today=EMULATOR_TODAY) as emu:
        streams = {"ad_performance_daily": ["spend", "conversion"]}
        config = tap_config(emu, start_date="2026-10-01", attribution_window_days=3)
        catalog = catalog_selecting(config, streams)
        first = run_tap(config, catalog=catalog)
        partitions = first.final_state["bookmarks"]["ad_performance_daily"]["partitions"]
        assert {p["replication_key_value"] for p in partitions} == {"2026-11-20"}

        emu.set_today(EMULATOR_TODAY + timedelta(days=1))
        emu.clear_requests()
        second = run_tap(config, catalog=catalog, state=first.final_state)
        windows = {(c["params"]["start_date"], c["params"]["end_date"]) for c in report_calls(emu)}
        assert windows == {("2026-11-17", "2026-11-21")}
        days = {r["stat_time_day"] for r in second.records["ad_performance_daily"]}
        assert min(days) == "2026-11-17"
        # conversions of recent days were revised by the emulator and are read again
        before = {
            (r["ad_id"], r["stat_time_day"]): r["conversion"]
            for r in first.records["ad_performance_daily"]
        }
        after = {
            (r["ad_id"], r["stat_time_day"]): r["conversion"]
            for r in second.records["ad_performance_daily"]
        }
        revised = [k for k in after if k in before and after[k] != before[k]]
        assert revised


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # The emulator's clock is 23:30 UTC: the 20th in Los Angeles, the 21st in Tokyo.
        (
            {"days_back": 1},
            {
                "America/Los_Angeles": ("2026-11-19", "2026-11-19"),
                "Asia/Tokyo": ("2026-11-20", "2026-11-20"),
            },
        ),
        (
            {"days_back": 0},
            {
                "America/Los_Angeles": ("2026-11-20", "2026-11-20"),
                "Asia/Tokyo": ("2026-11-21", "2026-11-21"),
            },
        ),
        (
            {"date": "2026-11-02"},
            {
                "America/Los_Angeles": ("2026-11-02", "2026-11-02"),
                "Asia/Tokyo": ("2026-11-02", "2026-11-02"),
            },
        ),
        (
            {"start_days_back": 10, "end_days_back": 5},
            {
                "America/Los_Angeles": ("2026-11-10", "2026-11-15"),
                "Asia/Tokyo": ("2026-11-11", "2026-11-16"),
            },
        ),
        (
            {"date_period": "last_7_days"},
            {
                "America/Los_Angeles": ("2026-11-13", "2026-11-19"),
                "Asia/Tokyo": ("2026-11-14", "2026-11-20"),
            },
        ),
        (
            {"date_period": "last_week"},
            {
                "America/Los_Angeles": ("2026-11-09", "2026-11-15"),
                "Asia/Tokyo": ("2026-11-09", "2026-11-15"),
            },
        ),
        (
            {"date_period": "last_week", "week_start_day": "sunday"},
            {
                "America/Los_Angeles": ("2026-11-08", "2026-11-14"),
                "Asia/Tokyo": ("2026-11-08", "2026-11-14"),
            },
        ),
        (
            {"date_period": "this_month"},
            {
                "America/Los_Angeles": ("2026-11-01", "2026-11-20"),
                "Asia/Tokyo": ("2026-11-01", "2026-11-21"),
            },
        ),
    ],
)
def test_date_options_follow_each_advertisers_time_zone(options: dict, expected: dict) -> None:
    now = datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc)
    with Emulator(seed=4, advertisers=2, now=now) as emu:
        zones = {a["advertiser_id"]: a["display_timezone"] for a in emu.world.advertisers}
        assert set(zones.values()) == set(expected)
        config = tap_config(emu, **options)
        run_tap(
            config, catalog=catalog_selecting(config, {"advertiser_performance_daily": ["spend"]})
        )
        seen = {
            zones[c["advertiser_id"]]: (c["params"]["start_date"], c["params"]["end_date"])
            for c in report_calls(emu)
        }
        assert seen == expected


def test_query_too_large_halves_the_window() -> None:
    with Emulator(seed=2, advertisers=1, today=EMULATOR_TODAY, too_large_days=8) as emu:
        config = tap_config(emu, start_date="2026-10-22", end_date="2026-11-20")
        streams = {"ad_performance_daily": ["spend"]}
        split = run_tap(config, catalog=catalog_selecting(config, streams))
        spans = [
            (
                date.fromisoformat(c["params"]["end_date"])
                - date.fromisoformat(c["params"]["start_date"])
            ).days
            + 1
            for c in report_calls(emu)
        ]
        assert max(spans) <= 8
        emu.too_large_days = None
        whole = run_tap(config, catalog=catalog_selecting(config, streams))
        key = lambda r: (r["ad_id"], r["stat_time_day"])  # noqa: E731
        assert sorted(map(key, split.records["ad_performance_daily"])) == sorted(
            map(key, whole.records["ad_performance_daily"])
        )


def test_custom_reports_become_streams(emulator: Emulator) -> None:
    custom = [
        {
            "name": "campaign_by_province",
            "report_type": "AUDIENCE",
            "data_level": "campaign",
            "dimensions": ["province_id"],
            "metrics": ["spend", "impressions", "clicks"],
        }
    ]
    run = sync(emulator, {"campaign_by_province": None}, custom_reports=custom, date="2026-11-12")
    records = run.records["campaign_by_province"]
    assert records
    assert set(records[0]) == {
        "advertiser_id",
        "is_top_view",
        "campaign_id",
        "stat_time_day",
        "province_id",
        "spend",
        "impressions",
        "clicks",
    }


def test_custom_report_mistakes_are_reported_together() -> None:
    custom = [
        {
            "name": "bad_one",
            "report_type": "AUDIENCE",
            "data_level": "ad",
            "dimensions": ["age", "country_code"],
            "time_granularity": "hourly",
        },
        {"name": "ad_performance_daily", "data_level": "ad", "metrics": ["spendd"]},
    ]
    config = {"access_token": "x", "start_date": "2026-01-01", "custom_reports": custom}
    with pytest.raises(ConfigError) as caught:
        TapTikTokAds(config=config).discover_streams()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("custom_reports")
    for needle in (
        "only one audience dimension",
        "no hourly breakdown",
        "already a stream name",
        "'spendd'",
        "did you mean 'spend'",
    ):
        assert needle in message
