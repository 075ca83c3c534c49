"""Province and language audience reports at the four levels, over HTTP from the emulator."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import jsonschema
import pytest

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.emulator.regions import province_ids
from tests.conftest import TapRun, run_tap, tap_config

LEVEL_KEYS = {
    "advertiser": "advertiser_id",
    "campaign": "campaign_id",
    "ad_group": "adgroup_id",
    "ad": "ad_id",
}
BREAKDOWNS = {"province": "province_id", "language": "language"}


def spend_by(records: list[dict], keys: tuple[str, ...]) -> dict[tuple, Decimal]:
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for record in records:
        sums[tuple(record[k] for k in keys)] += Decimal(str(record["spend"] or 0))
    return dict(sums)


@pytest.fixture(scope="module")
def run(emulator: Emulator) -> TapRun:
    names = [f"{level}_audience_{b}_daily" for level in LEVEL_KEYS for b in BREAKDOWNS]
    names += [f"{level}_performance_daily" for level in LEVEL_KEYS]
    config = tap_config(emulator, start_date="2026-11-12", end_date="2026-11-14")
    return run_tap(config, catalog=catalog_selecting(config, dict.fromkeys(names)))


@pytest.mark.parametrize("level", LEVEL_KEYS)
@pytest.mark.parametrize("breakdown", BREAKDOWNS)
def test_breakdown_rows_are_valid_and_add_up_to_the_level(
    run: TapRun, level: str, breakdown: str
) -> None:
    stream = f"{level}_audience_{breakdown}_daily"
    records = run.records[stream]
    assert records, stream
    validator = jsonschema.Draft7Validator(
        run.schemas[stream], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    dimension = BREAKDOWNS[breakdown]
    for record in records:
        validator.validate(record)
        assert isinstance(record[dimension], str)
        assert record[dimension]
    id_key = LEVEL_KEYS[level]
    # Advertiser rows come once per pass: TikTok's default (no TopView) and the TopView pass.
    keys = dict.fromkeys(["advertiser_id", id_key, "stat_time_day", dimension, "is_top_view"])
    unique = {tuple(r[k] for k in keys) for r in records}
    assert len(unique) == len(records)
    per_day = (id_key, "stat_time_day", "is_top_view")
    total = spend_by(run.records[f"{level}_performance_daily"], per_day)
    for key, spend in spend_by(records, per_day).items():
        assert spend == total[key], (stream, key)


def test_provinces_are_location_ids_of_the_home_country(run: TapRun, emulator: Emulator) -> None:
    countries = {a["advertiser_id"]: a["country"] for a in emulator.world.advertisers}
    for record in run.records["campaign_audience_province_daily"]:
        assert record["province_id"] in province_ids(countries[record["advertiser_id"]])
    assert {r["province_id"] for r in run.records["advertiser_audience_province_daily"]} - {"0"}
