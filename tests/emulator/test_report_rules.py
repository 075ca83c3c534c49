"""The emulator's report rules, and how they compare with the tap's catalog.

The emulator and the tap each keep their own table of what TikTok's report endpoint accepts.
``test_the_two_tables_differ_only_where_written_down`` lists every difference between them; each
one is either fixed (in whichever table is wrong) or written down in KNOWN_DIFFERENCES with the
reason. A new difference, or a known one that went away, fails the test by name.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tap_tiktok_ads.emulator import report_rules as emulator
from tap_tiktok_ads.emulator.report_rules import (
    DIMENSIONS,
    LEGACY_METRICS,
    METRICS,
    level_of_api_data_level,
)
from tap_tiktok_ads.reports import catalog as tap

DAY7_RETENTION = (
    "TikTok documents the day-7 retention family of in-app events; the tap's catalog does not "
    "offer it yet (adding it changes every report stream's schema: the report catalog's call)"
)
PLAIN_FOCUSED_VIEWS_HOURLY = (
    "TikTok documents 'one ID dimension, optionally with stat_time_day' for the paid focused-view "
    "metrics only; the tap also keeps engaged_view(_15s) out of hourly streams. The tap is the "
    "stricter side, so it never asks for what TikTok refuses"
)
LEGACY = (
    "TikTok's current metric tables no longer list these older website-event names (some are "
    "marked 'deprecated in v1.3' by third-party SDKs); the tap still offers them. Check them "
    "against a live account before relying on them"
)
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    **{(name, "deprecated by TikTok, offered by the tap"): LEGACY for name in LEGACY_METRICS},
    **{
        (name, "only in the emulator"): DAY7_RETENTION
        for name in (
            "day7_retention",
            "cost_per_day7_retention",
            "day7_retention_rate",
            "total_day7_retention",
            "cost_per_total_day7_retention",
            "total_day7_retention_value",
            "value_per_total_day7_retention",
        )
    },
    ("engaged_view", "granularities"): PLAIN_FOCUSED_VIEWS_HOURLY,
    ("engaged_view_15s", "granularities"): PLAIN_FOCUSED_VIEWS_HOURLY,
}


def _metric_differences() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for name in sorted(METRICS.keys() - tap.METRICS.keys()):
        found[name, "only in the emulator"] = METRICS[name].kind
    for name in sorted(tap.METRICS.keys() - METRICS.keys()):
        found[name, "only in the tap"] = tap.METRICS[name].kind
    for name in sorted(LEGACY_METRICS & tap.METRICS.keys()):
        found[name, "deprecated by TikTok, offered by the tap"] = name
    for name in sorted(METRICS.keys() & tap.METRICS.keys()):
        ours, theirs = METRICS[name], tap.METRICS[name]
        for aspect in ("kind", "levels", "report_types", "granularities"):
            if getattr(ours, aspect) != getattr(theirs, aspect):
                found[name, aspect] = f"{getattr(ours, aspect)} != {getattr(theirs, aspect)}"
        parts = (ours.numerator, ours.denominator) if ours.numerator else None
        if parts != tap.RATIO_PARTS.get(name):
            found[name, "ratio parts"] = f"{parts} != {tap.RATIO_PARTS.get(name)}"
    return found


def _dimension_differences() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for name in sorted(DIMENSIONS.keys() ^ tap.DIMENSIONS.keys()):
        found[name, "dimension in one table only"] = name
    for name in sorted(DIMENSIONS.keys() & tap.DIMENSIONS.keys()):
        ours, theirs = DIMENSIONS[name], tap.DIMENSIONS[name]
        for aspect in ("kind", "report_types"):
            if getattr(ours, aspect) != getattr(theirs, aspect):
                found[name, f"dimension {aspect}"] = f"{getattr(ours, aspect)}"
    return found


def _shape_differences() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    if emulator.LEVEL_ID_DIMENSION != tap.LEVEL_ID_DIMENSION:
        found["LEVEL_ID_DIMENSION", "table"] = str(emulator.LEVEL_ID_DIMENSION)
    if emulator.AUDIENCE_PAIRS != tap.AUDIENCE_PAIRS:
        found["AUDIENCE_PAIRS", "table"] = str(emulator.AUDIENCE_PAIRS)
    # Every data_level the tap sends names, to the emulator, the level the tap means.
    for level in tap.LEVELS:
        for service in tap.SERVICE_TYPES:
            api_level = tap.api_data_level(level, service)
            if emulator.API_DATA_LEVELS.get(api_level) != level:
                found[api_level, "data level"] = str(emulator.API_DATA_LEVELS.get(api_level))
    if len(emulator.API_DATA_LEVELS) != len(tap.LEVELS) * len(tap.SERVICE_TYPES):
        found["API_DATA_LEVELS", "table"] = str(sorted(emulator.API_DATA_LEVELS))
    return found


def test_the_two_tables_differ_only_where_written_down() -> None:
    found = {**_metric_differences(), **_dimension_differences(), **_shape_differences()}
    unexplained = {key: found[key] for key in found.keys() - KNOWN_DIFFERENCES.keys()}
    gone = sorted(KNOWN_DIFFERENCES.keys() - found.keys())
    assert not unexplained, f"differences nobody wrote down: {sorted(unexplained.items())}"
    assert not gone, f"known differences that no longer exist (remove them): {gone}"


def test_a_wrong_fact_in_the_tap_would_show_up(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = replace(tap.METRICS["ctr"], report_types=frozenset({"BASIC"}))
    monkeypatch.setitem(tap.METRICS, "ctr", wrong)
    monkeypatch.setitem(tap.RATIO_PARTS, "cpc", ("spend", "impressions"))
    found = _metric_differences()
    assert ("ctr", "report_types") in found
    assert ("cpc", "ratio parts") in found


# -- the emulator's own facts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "numerator", "denominator", "scale"),
    [
        ("ctr", "clicks", "impressions", 100),
        ("cpm", "spend", "impressions", 1000),
        ("frequency", "impressions", "reach", 1),
        ("registration_rate", "registration", "app_install", 100),  # app events: per install
        ("complete_payment_rate", "complete_payment", "clicks", 100),  # web events: per click
        ("value_per_complete_payment", "total_complete_payment_rate", "complete_payment", 1),
        ("value_per_checkout", "total_checkout_value", "total_checkout", 1),  # TikTok's name
        ("cost_total_add_payment_info", "spend", "total_add_payment_info", 1),  # TikTok's name
    ],
)
def test_ratio_formulas(name: str, numerator: str, denominator: str, scale: float) -> None:
    rule = METRICS[name]
    assert rule.kind == "ratio"
    assert (rule.numerator, rule.denominator, rule.scale) == (numerator, denominator, scale)


def test_only_ratios_have_a_formula_and_their_parts_are_additive() -> None:
    for rule in METRICS.values():
        assert (rule.numerator is not None) == (rule.kind == "ratio"), rule.name
        if rule.kind == "ratio":
            parts = [METRICS[rule.numerator or ""], METRICS[rule.denominator or ""]]
            assert all(part.kind in ("count", "money") for part in parts), rule.name
            assert all(rule.report_types <= part.report_types for part in parts), rule.name


@pytest.mark.parametrize(
    ("name", "report_types", "levels", "granularities"),
    [
        ("spend", {"BASIC", "AUDIENCE"}, {"advertiser", "campaign", "ad_group", "ad"}, None),
        ("reach", {"BASIC"}, None, None),  # unique users: not per audience bucket
        ("frequency", {"BASIC"}, None, None),
        ("billed_cost", {"BASIC"}, None, None),
        ("cash_spend", {"BASIC"}, {"advertiser"}, {"daily"}),
        ("paid_engaged_view", None, None, {"daily", "lifetime"}),
        ("registration_rate", {"BASIC"}, None, None),  # out of app installs, refused in AUDIENCE
        ("campaign_name", None, {"campaign", "ad_group", "ad"}, None),
        ("adgroup_id", None, {"ad"}, None),
    ],
)
def test_availability(name: str, report_types: Any, levels: Any, granularities: Any) -> None:
    rule = METRICS[name]
    for expected, actual in (
        (report_types, rule.report_types),
        (levels, rule.levels),
        (granularities, rule.granularities),
    ):
        if expected is not None:
            assert actual == expected, name


def test_audience_breakdowns_answer_with_tiktok_values() -> None:
    assert set(DIMENSIONS["gender"].values) == {"MALE", "FEMALE", "NONE"}
    assert DIMENSIONS["age"].values[-2:] == ("AGE_55_100", "NONE")
    assert DIMENSIONS["stat_time_hour"].report_types == {"BASIC"}
    assert DIMENSIONS["country_code"].report_types == {"BASIC", "AUDIENCE"}


def test_every_api_data_level_and_nothing_else() -> None:
    assert level_of_api_data_level("AUCTION_ADGROUP") == "ad_group"
    assert level_of_api_data_level("RESERVATION_AD") == "ad"
    for wrong in ("AUCTION", "ADGROUP", "AUCTION_ADGROUPS", "BC_ADVERTISER", ""):
        with pytest.raises(ValueError, match="data_level"):
            level_of_api_data_level(wrong)


def test_the_emulator_imports_nothing_from_the_tap() -> None:
    import ast
    from pathlib import Path

    package = Path(emulator.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if module.startswith("tap_tiktok_ads"):
                assert module.startswith("tap_tiktok_ads.emulator"), (path.name, module)
