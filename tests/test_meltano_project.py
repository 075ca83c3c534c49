"""meltano.yml and config.sample.json stay in step with the tap's settings and catalog."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tap_tiktok_ads.reports.catalog import METRICS
from tap_tiktok_ads.settings import CONFIG_SCHEMA

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


def test_report_selection_is_the_catalog_default() -> None:
    select = extractor()["select"]
    performance = {p.split(".", 1)[1] for p in select if p.startswith("*_performance_daily.")}
    audience = {p.split(".", 1)[1] for p in select if p.startswith("*_audience_*_daily.")}
    assert performance == {
        m.name for m in METRICS.values() if m.default and "BASIC" in m.report_types
    }
    assert audience == {
        m.name for m in METRICS.values() if m.default and "AUDIENCE" in m.report_types
    }


def test_sample_config_uses_only_real_settings() -> None:
    sample = json.loads((ROOT / "config.sample.json").read_text())
    assert set(sample) <= set(CONFIG_SCHEMA["properties"])
    assert "access_token" in sample
