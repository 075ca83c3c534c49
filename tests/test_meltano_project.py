"""meltano.yml and config.sample.json stay in step with the tap's settings and catalog."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import structlog
import yaml

from tap_tiktok_ads.reports.catalog import METRICS
from tap_tiktok_ads.reports.definitions import predefined_reports
from tap_tiktok_ads.settings import CONFIG_SCHEMA
from tap_tiktok_ads.tap import TapTikTokAds

ROOT = Path(__file__).resolve().parent.parent


def extractor() -> dict:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    return next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-tiktok-ads")


def test_every_setting_is_declared_with_a_description() -> None:
    settings = {s["name"]: s for s in extractor()["settings"]}
    assert set(settings) == set(CONFIG_SCHEMA["properties"])
    assert all(s.get("description") for s in settings.values())
    secret = {name for name, p in CONFIG_SCHEMA["properties"].items() if p.get("secret")}
    assert {name for name, s in settings.items() if s.get("sensitive")} == secret


# One stream of each kind the select patterns tell apart (a subset keeps Meltano's rules fast).
SELECTION_STREAMS = (
    "advertiser_performance_daily",
    "ad_performance_daily",
    "ad_performance_hourly",
    "campaign_performance_lifetime",
    "advertiser_audience_country_daily",
    "ad_audience_age_gender_daily",
    "ad_audience_language_daily",
    "ad_group_audience_province_daily",
    "ads",
)


@pytest.fixture
def meltano_selection() -> dict[str, set[str]]:
    """The selected properties per stream once Meltano applies meltano.yml's select rules."""
    from meltano.core.plugin.singer.catalog import MetadataExecutor, select_metadata_rules

    config = {"access_token": "x", "advertiser_ids": ["1"], "start_date": "2026-01-01"}
    catalog = TapTikTokAds(config=config).catalog_dict
    catalog["streams"] = [s for s in catalog["streams"] if s["tap_stream_id"] in SELECTION_STREAMS]
    # The same rules `meltano run` applies: everything off, then the project's patterns.
    rules = select_metadata_rules(["!*.*"]) + select_metadata_rules(extractor()["select"])
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        # Meltano adds `visit` with a class decorator its type hints do not show.
        MetadataExecutor(rules).visit(catalog)  # type: ignore[attr-defined]
    finally:
        structlog.reset_defaults()
    return {
        stream["tap_stream_id"]: {
            entry["breadcrumb"][-1]
            for entry in stream["metadata"]
            if entry["breadcrumb"] and entry["metadata"].get("selected")
        }
        for stream in catalog["streams"]
        if any(e["metadata"].get("selected") for e in stream["metadata"] if not e["breadcrumb"])
    }


def test_report_selection_is_the_catalog_default(meltano_selection: dict[str, set[str]]) -> None:
    defaults = {
        report_type: {
            m.name for m in METRICS.values() if m.default and report_type in m.report_types
        }
        for report_type in ("BASIC", "AUDIENCE")
    }
    definitions = {d.name: d for d in predefined_reports()}
    # Hourly and lifetime reports, and the province and language rows of ads and ad groups,
    # stay off in the project.
    assert set(meltano_selection) == {
        "advertiser_performance_daily",
        "ad_performance_daily",
        "advertiser_audience_country_daily",
        "ad_audience_age_gender_daily",
        "ads",
    }
    for name in set(meltano_selection) - {"ads"}:
        definition = definitions[name]
        offered = {m.name for m in definition.available_metrics()}
        keys = {"advertiser_id", *definition.dimensions}  # always sent: inclusion automatic
        expected = (defaults[definition.report_type] & offered) - keys
        assert meltano_selection[name] - keys == expected, name


def test_sample_config_uses_only_real_settings() -> None:
    sample = json.loads((ROOT / "config.sample.json").read_text())
    assert set(sample) <= set(CONFIG_SCHEMA["properties"])
    assert "access_token" in sample
