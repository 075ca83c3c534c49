"""The metric and dimension catalogs, and report validation."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from tap_tiktok_ads.reports.catalog import (
    DIMENSIONS,
    JSON_TYPE,
    LEVEL_ID_DIMENSION,
    LEVELS,
    METRICS,
    RATIO_PARTS,
    api_data_level,
    metrics_for,
    validate_report_definition,
)
from tap_tiktok_ads.reports.definitions import predefined_reports
from tap_tiktok_ads.reports.records import build_schema, to_integer, to_number, to_string

REFERENCE = Path("/work/shared/reference/tiktok-business-api-v1.3.md")
# Named in §5 but deliberately not metrics: the record always carries advertiser_id and the
# level's id, and `timezone` only exists for multi-advertiser requests (`advertiser_ids`, a
# request parameter the section mentions too).
NOT_METRICS = {"advertiser_id", "ad_id", "timezone", "advertiser_ids"}
# §5 "Unsupported in AUDIENCE", as a fallback when the reference is not on this machine.
NOT_IN_AUDIENCE = (
    "reach",
    "cost_per_1000_reached",
    "frequency",
    "secondary_goal_*",
    "cash_spend",
    "voucher_spend",
    "video_*",
    "average_video_play*",
    "profile_visits",
    "likes",
    "comments",
    "shares",
    "follows",
    "clicks_on_music_disc",
    "real_time_app_install*",
    "app_install",
)


def reference_section(start: str, end: str) -> str:
    if not REFERENCE.exists():
        pytest.skip("reference document not available")
    text = REFERENCE.read_text()
    return text[text.index(start) : text.index(end)]


def names_in(text: str) -> set[str]:
    return set(re.findall(r"`([a-z][a-z0-9_]*\*?)`", text))


def audience_refusals() -> tuple[str, ...]:
    if not REFERENCE.exists():
        return NOT_IN_AUDIENCE
    line = next(
        line for line in REFERENCE.read_text().splitlines() if "Unsupported in AUDIENCE" in line
    )
    return tuple(sorted(names_in(line.split(":", 1)[1])))


# -- the catalog's own consistency ------------------------------------------------------------


def test_every_metric_is_well_formed() -> None:
    assert len(METRICS) >= 100
    for metric in METRICS.values():
        assert metric.json_type == JSON_TYPE[metric.kind], metric.name
        assert metric.levels, metric.name
        assert metric.report_types, metric.name
        assert metric.report_types <= {"BASIC", "AUDIENCE"}, metric.name
        assert metric.granularities, metric.name
        assert metric.granularities <= {"daily", "hourly", "lifetime"}, metric.name


def test_ratios_are_built_from_additive_metrics_available_wherever_the_ratio_is() -> None:
    ratios = [m for m in METRICS.values() if m.kind == "ratio"]
    assert len(ratios) > 50
    for ratio in ratios:
        parts = [METRICS[name] for name in RATIO_PARTS[ratio.name]]
        for part in parts:
            assert part.additive, (ratio.name, part.name)
            assert ratio.levels <= part.levels, (ratio.name, part.name)
            assert ratio.report_types <= part.report_types, (ratio.name, part.name)
            assert ratio.granularities <= part.granularities, (ratio.name, part.name)


def test_only_ratios_have_parts() -> None:
    for metric in METRICS.values():
        assert (metric.name in RATIO_PARTS) == (metric.kind == "ratio"), metric.name


@pytest.mark.parametrize(
    ("name", "numerator", "denominator"),
    [
        ("ctr", "clicks", "impressions"),
        ("cpm", "spend", "impressions"),
        ("frequency", "impressions", "reach"),
        ("registration_rate", "registration", "app_install"),  # app events: per install
        ("complete_payment_rate", "complete_payment", "clicks"),  # web events: per click
        ("value_per_complete_payment", "total_complete_payment_rate", "complete_payment"),
        ("cost_total_add_payment_info", "spend", "total_add_payment_info"),  # TikTok's name
    ],
)
def test_ratio_parts(name: str, numerator: str, denominator: str) -> None:
    assert RATIO_PARTS[name] == (numerator, denominator)


def test_misleading_tiktok_names_keep_their_real_kind() -> None:
    assert METRICS["total_complete_payment_rate"].kind == "money"  # the payment *value*
    assert METRICS["reach"].kind == "count"
    assert METRICS["average_video_play"].kind == "average"


def test_default_selection_is_a_small_core_valid_everywhere() -> None:
    defaults = [m for m in METRICS.values() if m.default]
    assert 25 <= len(defaults) <= 35
    assert {"spend", "impressions", "clicks", "ctr", "conversion", "currency"} <= {
        m.name for m in defaults
    }
    for level in LEVELS:
        allowed = {m.name for m in metrics_for("BASIC", level, "daily")}
        own_defaults = {m.name for m in defaults if level in m.levels}
        assert own_defaults <= allowed, level
    assert {m.name for m in defaults if "ad" in m.levels} >= {
        "campaign_name",
        "adgroup_name",
        "ad_name",
    }


# -- agreement with the reference (§5) --------------------------------------------------------


def test_every_metric_the_reference_names_is_in_the_catalog() -> None:
    section = reference_section("### Metrics", "## 6.")
    named = names_in(section) - NOT_METRICS
    assert len(named) > 100
    missing = [
        name for name in sorted(named) if not any(fnmatchcase(metric, name) for metric in METRICS)
    ]
    assert missing == []


def test_every_dimension_the_reference_names_is_in_the_catalog() -> None:
    section = reference_section("### Dimensions", "### Metrics")
    lists = [line for line in section.splitlines() if line.startswith(("**", "- Optional"))]
    named = names_in("\n".join(lists)) - {"ad_id_v2"}  # Upgraded Smart+ ids: not supported
    assert named - set(DIMENSIONS) == set()


@pytest.mark.parametrize("pattern", audience_refusals())
def test_audience_reports_refuse_what_tiktok_refuses(pattern: str) -> None:
    matching = [m for name, m in METRICS.items() if fnmatchcase(name, pattern)]
    assert matching, pattern
    for metric in matching:
        assert "AUDIENCE" not in metric.report_types, metric.name
        assert metric.name not in {m.name for m in metrics_for("AUDIENCE", "ad", "daily")}


def test_audience_reports_keep_the_core() -> None:
    audience = {m.name for m in metrics_for("AUDIENCE", "ad_group", "daily")}
    assert {"spend", "impressions", "clicks", "ctr", "conversion", "purchase"} <= audience


def test_cash_and_voucher_spend_are_advertiser_daily_only() -> None:
    for name in ("cash_spend", "voucher_spend"):
        assert METRICS[name].levels == {"advertiser"}
        assert METRICS[name].granularities == {"daily"}
    assert "cash_spend" in {m.name for m in metrics_for("BASIC", "advertiser", "daily")}
    assert "cash_spend" not in {m.name for m in metrics_for("BASIC", "advertiser", "hourly")}
    assert "cash_spend" not in {m.name for m in metrics_for("BASIC", "ad", "daily")}


def test_focused_views_need_an_id_and_at_most_a_day() -> None:
    hourly = {m.name for m in metrics_for("BASIC", "ad", "hourly")}
    daily = {m.name for m in metrics_for("BASIC", "ad", "daily")}
    assert "engaged_view" in daily
    assert "engaged_view" not in hourly
    assert "paid_engagement_engaged_view_15s" not in hourly


def test_attributes_exist_from_their_level_down() -> None:
    assert "campaign_name" not in {m.name for m in metrics_for("BASIC", "advertiser", "daily")}
    assert "campaign_name" in {m.name for m in metrics_for("BASIC", "campaign", "lifetime")}
    assert "ad_name" not in {m.name for m in metrics_for("BASIC", "ad_group", "daily")}
    assert "ad_name" in {m.name for m in metrics_for("AUDIENCE", "ad", "daily")}


def test_metrics_for_keeps_catalog_order() -> None:
    names = [m.name for m in metrics_for("BASIC", "ad", "daily")]
    catalog_order = [name for name in METRICS if name in set(names)]
    assert names == catalog_order


def test_dimensions_are_well_formed() -> None:
    for level, name in LEVEL_ID_DIMENSION.items():
        assert DIMENSIONS[name].kind == "id", level
    assert DIMENSIONS["stat_time_day"].json_schema == {"type": "string", "format": "date"}
    assert DIMENSIONS["stat_time_hour"].json_schema["format"] == "date-time"
    assert "AUDIENCE" not in DIMENSIONS["stat_time_hour"].report_types
    for dimension in DIMENSIONS.values():
        assert dimension.report_types, dimension.name
        assert dimension.json_schema["type"] == "string", dimension.name


# -- data levels ------------------------------------------------------------------------------


def test_api_data_levels_are_tiktoks() -> None:
    assert api_data_level("ad_group") == "AUCTION_ADGROUP"
    assert api_data_level("ad", "RESERVATION") == "RESERVATION_AD"


def test_unknown_service_types_are_refused() -> None:
    with pytest.raises(ValueError, match="service_type"):
        api_data_level("ad", "BC")


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("BASIC", "ad", [], ["spend", "ctr"], "hourly"),
        ("BASIC", "ad", ["ad_id"], ["spend"], "lifetime"),  # the level's own id is tolerated
        ("BASIC", "ad", ["country_code"], ["spend"], "daily"),
        ("BASIC", "ad", ["search_terms"], ["impressions"], "daily"),
        ("BASIC", "advertiser", [], ["cash_spend", "voucher_spend"], "daily"),
        ("AUDIENCE", "campaign", ["age", "gender"], ["spend", "campaign_name"], "daily"),
        ("AUDIENCE", "advertiser", ["platform"], ["purchase", "cost_per_purchase"], "daily"),
        # TikTok serves AUDIENCE totals without a time dimension ("NONE"/"NONE" buckets too).
        ("AUDIENCE", "advertiser", ["age", "gender"], ["spend", "impressions"], "lifetime"),
        ("AUDIENCE", "ad", ["country_code"], ["spend", "ad_name"], "lifetime"),
    ],
)
def test_valid_definitions_have_no_problems(args: tuple) -> None:
    assert validate_report_definition(*args) == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("BASIC", "ad", [], ["spnd"], "daily"), "unknown metric 'spnd' (did you mean 'spend'?)"),
        (("BASIC", "ad", ["agee"], [], "daily"), "unknown dimension 'agee' (did you mean 'age'?)"),
        (
            ("AUDIENCE", "ad", ["age"], ["reach"], "daily"),
            "metric 'reach' is not available in AUDIENCE",
        ),
        (
            ("BASIC", "campaign", [], ["ad_name"], "daily"),
            "metric 'ad_name' is not available at data_level 'campaign'",
        ),
        (
            ("BASIC", "advertiser", [], ["cash_spend"], "hourly"),
            "metric 'cash_spend' is not available for hourly",
        ),
        (("AUDIENCE", "ad", ["age"], [], "hourly"), "AUDIENCE reports have no hourly breakdown"),
        (("AUDIENCE", "ad", [], [], "lifetime"), "AUDIENCE reports need an audience dimension"),
        (
            ("AUDIENCE", "ad", ["age", "platform"], [], "lifetime"),
            "only one audience dimension per report (age+gender excepted)",
        ),
        (("AUDIENCE", "ad", ["age"], ["reach"], "lifetime"), "metric 'reach' is not available"),
        (
            ("AUDIENCE", "ad", ["age", "country_code"], [], "daily"),
            "only one audience dimension per report (age+gender excepted): ['age', 'country_code']",
        ),
        (("BASIC", "ad", ["age"], [], "daily"), "dimension 'age' is not available in BASIC"),
        (
            ("AUDIENCE", "ad", ["age", "room_id"], [], "daily"),
            "dimension 'room_id' is not available in AUDIENCE",
        ),
        (
            ("BASIC", "campaign", ["ad_id"], [], "daily"),
            "dimension 'ad_id' does not belong to data_level 'campaign'",
        ),
        (
            ("BASIC", "ad", ["stat_time_day"], [], "daily"),
            "dimension 'stat_time_day' follows from time_granularity",
        ),
        (("AUDIENCE", "ad", [], [], "daily"), "AUDIENCE reports need an audience dimension"),
        (
            ("BASIC", "ad", ["country_code"], [], "lifetime"),
            "lifetime reports take no dimensions besides the ID: ['country_code']",
        ),
        (("BASIC", "ad", [], ["spend", "spend"], "daily"), "metric 'spend' is listed twice"),
    ],
)
def test_each_mistake_is_named(args: tuple, needle: str) -> None:
    problems = validate_report_definition(*args)
    assert any(needle in problem for problem in problems), problems


def test_every_mistake_is_reported_once() -> None:
    problems = validate_report_definition(
        "AUDIENCE", "campaign", ["ad_id", "age"], ["reach", "nope", "ad_name"], "hourly"
    )
    assert len(problems) == 5, problems


def test_every_allowed_metric_validates() -> None:
    for report_type, breakdowns in (("BASIC", []), ("AUDIENCE", ["country_code"])):
        for level in LEVELS:
            for granularity in ("daily", "hourly", "lifetime"):
                if report_type == "AUDIENCE" and granularity == "hourly":
                    continue
                names = [m.name for m in metrics_for(report_type, level, granularity)]
                args = (report_type, level, breakdowns, names, granularity)
                assert validate_report_definition(*args) == [], args


# -- predefined streams and records -----------------------------------------------------------


def test_predefined_streams() -> None:
    names = {r.name for r in predefined_reports()}
    assert len(names) == 32  # 4 levels x (3 performance granularities + 5 audience breakdowns)
    assert "ad_performance_daily" in names
    for level in ("advertiser", "campaign", "ad_group", "ad"):
        assert f"{level}_audience_province_daily" in names
        assert f"{level}_audience_language_daily" in names
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
