"""The metric and dimension catalogs, and report validation."""

from __future__ import annotations

import pytest

from tap_tiktok_ads.reports.catalog import (
    DIMENSIONS,
    JSON_TYPE,
    LEVELS,
    METRICS,
    api_data_level,
    level_of_api_data_level,
    metrics_for,
    validate_report_definition,
)
from tap_tiktok_ads.reports.definitions import predefined_reports
from tap_tiktok_ads.reports.records import build_schema, to_integer, to_number, to_string

NOT_IN_AUDIENCE = (
    "reach",
    "frequency",
    "cost_per_1000_reached",
    "cash_spend",
    "voucher_spend",
    "video_play_actions",
    "average_video_play",
    "likes",
    "comments",
    "shares",
    "follows",
    "profile_visits",
    "app_install",
    "real_time_app_install",
    "secondary_goal_result",
    "clicks_on_music_disc",
)


def test_every_metric_is_well_formed() -> None:
    assert len(METRICS) >= 100
    for metric in METRICS.values():
        assert metric.json_type == JSON_TYPE[metric.kind]
        assert metric.levels
        assert metric.report_types
        assert metric.granularities
        if metric.kind == "ratio":
            assert METRICS[metric.numerator].additive, metric.name
            assert METRICS[metric.denominator].additive, metric.name


@pytest.mark.parametrize("name", NOT_IN_AUDIENCE)
def test_audience_reports_refuse_what_tiktok_refuses(name: str) -> None:
    assert "AUDIENCE" not in METRICS[name].report_types


def test_cash_and_voucher_spend_are_advertiser_daily_only() -> None:
    for name in ("cash_spend", "voucher_spend"):
        assert METRICS[name].levels == {"advertiser"}
        assert METRICS[name].granularities == {"daily"}
    assert "cash_spend" in {m.name for m in metrics_for("BASIC", "advertiser", "daily")}
    assert "cash_spend" not in {m.name for m in metrics_for("BASIC", "ad", "daily")}


def test_attributes_exist_from_their_level_down() -> None:
    assert "campaign_name" not in {m.name for m in metrics_for("BASIC", "advertiser", "daily")}
    assert "campaign_name" in {m.name for m in metrics_for("BASIC", "ad", "daily")}
    assert "ad_name" not in {m.name for m in metrics_for("BASIC", "ad_group", "daily")}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("service", ["AUCTION", "RESERVATION"])
def test_api_data_level_round_trips(level: str, service: str) -> None:
    assert level_of_api_data_level(api_data_level(level, service)) == level  # type: ignore[arg-type]


def test_valid_definitions_have_no_problems() -> None:
    assert validate_report_definition("BASIC", "ad", [], ["spend", "ctr"], "hourly") == []
    assert (
        validate_report_definition("AUDIENCE", "campaign", ["age", "gender"], ["spend"], "daily")
        == []
    )
    assert validate_report_definition("BASIC", "ad", ["country_code"], ["spend"], "daily") == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("BASIC", "ad", [], ["spnd"], "daily"), "unknown metric 'spnd' (did you mean 'spend'?)"),
        (("BASIC", "ad", ["agee"], [], "daily"), "unknown dimension 'agee'"),
        (
            ("AUDIENCE", "ad", ["age"], ["reach"], "daily"),
            "metric 'reach' is not available in AUDIENCE",
        ),
        (
            ("BASIC", "campaign", [], ["ad_name"], "daily"),
            "metric 'ad_name' is not available at data_level 'campaign'",
        ),
        (("BASIC", "ad", [], ["cash_spend"], "daily"), "'cash_spend'"),
        (("AUDIENCE", "ad", ["age"], [], "hourly"), "AUDIENCE reports are daily only"),
        (("AUDIENCE", "ad", ["age", "country_code"], [], "daily"), "only one audience dimension"),
        (("BASIC", "ad", ["age"], [], "daily"), "dimension 'age' is not available in BASIC"),
        (("BASIC", "campaign", ["ad_id"], [], "daily"), "does not belong to data_level"),
        (("BASIC", "ad", ["stat_time_day"], [], "daily"), "follows from time_granularity"),
        (("AUDIENCE", "ad", [], [], "daily"), "need an audience dimension"),
        (("BASIC", "ad", ["country_code"], [], "lifetime"), "lifetime reports take no dimensions"),
    ],
)
def test_each_mistake_is_named(args: tuple, needle: str) -> None:
    problems = validate_report_definition(*args)
    assert any(needle in problem for problem in problems), problems


def test_predefined_streams() -> None:
    names = {r.name for r in predefined_reports()}
    assert len(names) == 24
    assert "ad_performance_daily" in names
    assert "advertiser_performance_lifetime" in names
    assert "ad_group_audience_age_gender_daily" in names
    for report in predefined_reports():
        problems = validate_report_definition(
            report.report_type,
            report.level,
            report.breakdowns,
            [m.name for m in report.available_metrics()],
            report.granularity,
        )
        assert problems == [], report.name


def test_generated_schema_types_and_keys() -> None:
    report = next(r for r in predefined_reports() if r.name == "ad_group_audience_country_daily")
    schema = build_schema(report)
    assert report.primary_keys == ["advertiser_id", "adgroup_id", "stat_time_day", "country_code"]
    assert schema["properties"]["stat_time_day"] == DIMENSIONS["stat_time_day"].json_schema
    assert schema["properties"]["impressions"]["type"] == ["integer", "null"]
    assert schema["properties"]["spend"]["type"] == ["number", "null"]
    assert schema["properties"]["adgroup_name"]["type"] == ["string", "null"]
    assert "reach" not in schema["properties"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5830", 5830),
        ("-", None),
        ("", None),
        (None, None),
        (12, 12),
        ("3.0", 3),
        ("3.5", None),
        ("n/a", None),
    ],
)
def test_integer_conversion(value: object, expected: object) -> None:
    assert to_integer(value) == expected


def test_number_conversion_is_exact() -> None:
    assert str(to_number("20.000")) == "20.000"
    assert str(to_number("0.1")) == "0.1"
    assert to_number("-") is None
    assert to_number("NaN") is None
    assert to_number(True) is None
    assert to_string(0) == "0"
    assert to_string("-") is None
