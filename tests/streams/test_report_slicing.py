"""Report queries TikTok would truncate or refuse, read in pieces: the 20,000-ad cap (re-read
by campaign / ad group) and metric groups (joined on dimensions). Real tap, emulator, HTTP."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.emulator.reports import ReportError
from tap_tiktok_ads.errors import AdsCappedError, TapTikTokAdsError
from tap_tiktok_ads.streams.report_slicing import join_on_dimensions, metric_groups
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, TapRun, run_tap, tap_config

REPORT_PATH = "/report/integrated/get/"
AD_DAILY = "ad_performance_daily"
KEY = ("advertiser_id", "ad_id", "stat_time_day")
METRICS = ["spend", "impressions", "clicks", "conversion", "ad_name"]
WINDOW = {"start_date": "2026-11-10", "end_date": "2026-11-16"}


def world(**sizes: Any) -> Emulator:
    return Emulator(seed=23, advertisers=1, today=EMULATOR_TODAY, **sizes)


def sync(
    emu: Emulator, streams: dict[str, list[str] | None] | None = None, **overrides: Any
) -> TapRun:
    config = tap_config(emu, **{**WINDOW, **overrides})
    catalog = catalog_selecting(config, streams or {AD_DAILY: METRICS})
    return run_tap(config, catalog=catalog)


def keyed(records: list[dict[str, Any]], keys: tuple[str, ...] = KEY) -> dict[tuple, dict]:
    """Records by primary key; fails if a key arrives twice."""
    counts = Counter(tuple(r[k] for k in keys) for r in records)
    doubled = [key for key, n in counts.items() if n > 1]
    assert not doubled, f"rows emitted twice: {doubled[:3]}"
    return {tuple(r[k] for k in keys): r for r in records}


def report_calls(emu: Emulator) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if r["path"] == REPORT_PATH]


def id_filters(call: dict[str, Any]) -> dict[str, list[str]]:
    return {
        f["field_name"]: json.loads(f["filter_value"])
        for f in call["params"].get("filtering") or []
        if f["field_name"] in ("campaign_ids", "adgroup_ids")
    }


def reference_records(sizes: dict[str, int], **overrides: Any) -> dict[tuple, dict]:
    """The same world without the cap: what a complete read holds."""
    with world(**sizes) as emu:
        return keyed(sync(emu, **overrides).records[AD_DAILY])


# -- the 20,000-ad cap ---------------------------------------------------------------------------

CAMPAIGN_SLICES = {"campaigns": 6, "adgroups": 3, "ads": 4}  # 72 ads, 12 per campaign


def test_a_capped_report_is_read_again_by_campaign_and_every_row_arrives_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with world(ad_cap=30, **CAMPAIGN_SLICES) as emu:
        advertiser_id = emu.world.advertisers[0]["advertiser_id"]
        run = sync(emu)
        calls = report_calls(emu)
    assert keyed(run.records[AD_DAILY]) == reference_records(CAMPAIGN_SLICES)
    capped = [c for c in calls if c.get("headers")]
    assert capped, "the emulator never capped: the test proves nothing"
    assert all(not id_filters(c) for c in capped if "campaign_ids" not in id_filters(c))
    assert not any("adgroup_ids" in id_filters(c) for c in calls)
    answered = [
        id_filters(c)["campaign_ids"] for c in calls if id_filters(c) and not c.get("headers")
    ]
    # The campaigns the complete slices cover are disjoint, so no row can come twice.
    flat = [campaign for ids in answered for campaign in ids]
    assert len(flat) == len(set(flat))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    capped_warnings = [w for w in warnings if "newest 20,000 ads" in w]
    assert capped_warnings
    assert all(AD_DAILY in w and advertiser_id in w for w in capped_warnings)
    assert any("2026-11-10..2026-11-16" in w for w in capped_warnings)


ADGROUP_SLICES = {"campaigns": 2, "adgroups": 6, "ads": 4}  # 24 ads per campaign


def test_a_campaign_over_the_cap_is_read_by_ad_group() -> None:
    with world(ad_cap=16, **ADGROUP_SLICES) as emu:
        run = sync(emu)
        calls = report_calls(emu)
    assert keyed(run.records[AD_DAILY]) == reference_records(ADGROUP_SLICES)
    complete = [id_filters(c) for c in calls if not c.get("headers")]
    adgroups = [i for f in complete for i in f.get("adgroup_ids", [])]
    assert adgroups, "no ad group slice was needed: the test proves nothing"
    assert len(adgroups) == len(set(adgroups))


def test_deleted_campaigns_are_sliced_too_when_deleted_entities_are_synced() -> None:
    with world(ad_cap=30, **CAMPAIGN_SLICES) as emu:
        deleted = [
            c["campaign_id"]
            for c in emu.world.campaigns
            if str(c.get("secondary_status", "")).endswith("_DELETE")
        ]
        run = sync(emu, include_deleted=True)
    expected = reference_records(CAMPAIGN_SLICES, include_deleted=True)
    assert keyed(run.records[AD_DAILY]) == expected
    assert deleted, "the world has no deleted campaign: the test proves nothing"


def test_a_cap_seen_on_a_later_page_only_still_gives_every_row_once() -> None:
    with world(**CAMPAIGN_SLICES) as emu:
        answer = emu.reports.query
        pages = Counter[str]()

        def cap_from_page_three(params: dict[str, Any], now: Any) -> Any:
            if "campaign_ids" not in json.dumps(params.get("filtering") or []):
                pages["plain"] += 1
                emu.reports.ad_cap = 30 if pages["plain"] >= 3 else 20_000
            return answer(params, now)

        emu.reports.query = cap_from_page_three  # type: ignore[method-assign]
        run = sync(emu, page_size=20, max_concurrent_requests=1, end_date="2026-11-10")
        calls = report_calls(emu)
    expected = reference_records(CAMPAIGN_SLICES, end_date="2026-11-10")
    assert keyed(run.records[AD_DAILY]) == expected
    first_capped = next(i for i, c in enumerate(calls) if c.get("headers"))
    assert calls[first_capped]["params"]["page"] == "3"


def test_an_ad_group_over_the_cap_fails_the_run_rather_than_losing_rows() -> None:
    with world(ad_cap=3, campaigns=1, adgroups=2, ads=5) as emu:
        config = tap_config(emu, **WINDOW)
        catalog = catalog_selecting(config, {AD_DAILY: METRICS})
        with pytest.raises(TapTikTokAdsError) as caught:
            run_tap(config, catalog=catalog)
    message = str(caught.value)
    assert "ad group" in message
    assert "alone" in message
    assert AD_DAILY in message


def test_uncapped_reports_send_no_slices() -> None:
    with world(**CAMPAIGN_SLICES) as emu:
        sync(emu)
        calls = report_calls(emu)
        listings = [r for r in emu.requests() if r["path"] in ("/campaign/get/", "/adgroup/get/")]
    assert calls
    assert not any(id_filters(c) for c in calls)
    # Only the run's one TopView check of the advertiser, no slice listing.
    assert [(r["path"], r["params"]["page_size"]) for r in listings] == [("/campaign/get/", "1")]


# -- metric groups -------------------------------------------------------------------------------


def test_every_metric_of_ad_performance_daily_syncs_in_groups() -> None:
    with world(campaigns=2, adgroups=2, ads=3) as emu:
        config = tap_config(emu, start_date="2026-11-12", end_date="2026-11-13")
        properties = TapTikTokAds(config=config).streams[AD_DAILY].schema["properties"]
        everything = run_tap(
            config, catalog=catalog_selecting(config, {AD_DAILY: list(properties)})
        )
        calls = report_calls(emu)
        few = run_tap(config, catalog=catalog_selecting(config, {AD_DAILY: METRICS}))
    assert all(c["http_status"] == 200 and c["code"] == 0 for c in calls)
    sizes = Counter(len(c["params"]["metrics"]) for c in calls)
    assert max(sizes) <= 100
    requested = {m for c in calls for m in c["params"]["metrics"]}
    metric_names = set(properties) - {"advertiser_id", "ad_id", "stat_time_day", "is_top_view"}
    assert requested == metric_names
    records = keyed(everything.records[AD_DAILY])
    assert all(set(r) == set(properties) for r in records.values())
    # The join put each group's values on the right row.
    for key, record in keyed(few.records[AD_DAILY]).items():
        assert {m: records[key][m] for m in METRICS} == {m: record[m] for m in METRICS}


def test_every_metric_in_one_request_is_refused_by_the_front_end() -> None:
    """Why groups exist: the emulator's front end, like TikTok's, answers 414 to it."""
    with world(campaigns=1, adgroups=1, ads=1) as emu:
        config = tap_config(emu, date="2026-11-12")
        properties = TapTikTokAds(config=config).streams[AD_DAILY].schema["properties"]
        params = {
            "advertiser_id": emu.world.advertisers[0]["advertiser_id"],
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": json.dumps(["ad_id", "stat_time_day"]),
            "metrics": json.dumps([p for p in properties if p not in KEY]),
            "start_date": "2026-11-12",
            "end_date": "2026-11-12",
        }
        response = requests.get(
            f"{emu.base_url}{REPORT_PATH}",
            params=params,
            headers={"Access-Token": emu.access_token},
            timeout=10,
        )
    assert response.status_code == 414


def drop_rows(emu: Emulator, when: Callable[[dict[str, Any]], bool], ad_id: str) -> None:
    """The emulator leaves ``ad_id``'s rows out of answers whose params match ``when``."""
    answer = emu.reports.query

    def query(params: dict[str, Any], now: Any) -> Any:
        data = answer(params, now)
        if when(params):
            kept = [r for r in data["list"] if r["dimensions"].get("ad_id") != ad_id]
            data["page_info"]["total_number"] -= len(data["list"]) - len(kept)
            data["list"] = kept
        return data

    emu.reports.query = query  # type: ignore[method-assign]


def test_a_row_missing_from_one_group_still_arrives_with_nulls() -> None:
    with world(campaigns=1, adgroups=2, ads=2) as emu:
        ad_id = emu.world.ads[0]["ad_id"]
        drop_rows(emu, lambda params: "clicks" in params.get("metrics", []), ad_id)
        run = sync(emu, max_metrics_per_request=2, start_date="2026-11-12", end_date="2026-11-12")
        calls = report_calls(emu)
    assert len({tuple(c["params"]["metrics"]) for c in calls}) == 3  # 5 metrics in 3 groups
    records = keyed(run.records[AD_DAILY])
    missing = [r for key, r in records.items() if key[1] == ad_id]
    assert missing, "the ad has no row that day: the test proves nothing"
    clicks_group = next(c["params"]["metrics"] for c in calls if "clicks" in c["params"]["metrics"])
    for record in missing:
        assert all(record[m] is None for m in clicks_group)
        assert all(record[m] is not None for m in METRICS if m not in clicks_group)
    others = [r for key, r in records.items() if key[1] != ad_id]
    assert others
    assert all(r["clicks"] is not None for r in others)


def test_one_group_means_one_request_series() -> None:
    with world(campaigns=2, adgroups=2, ads=3) as emu:
        sync(emu)
        calls = report_calls(emu)
    assert calls
    assert all(c["params"]["metrics"] == METRICS for c in calls)
    # One series per pass (TikTok's default and TopView), never one per metric group.
    pages = Counter(
        (c["params"]["start_date"], c["params"]["page"], str(c["params"].get("filtering")))
        for c in calls
    )
    assert set(pages.values()) == {1}


def test_max_metrics_per_request_bounds_are_named() -> None:
    for bad in (0, 101, "ten"):
        config = {"access_token": "x", "start_date": "2026-01-01", "max_metrics_per_request": bad}
        with pytest.raises(TapTikTokAdsError, match="max_metrics_per_request"):
            _ = TapTikTokAds(config=config, validate_config=False).settings


@pytest.mark.parametrize(
    ("count", "size", "lengths"),
    [
        (0, 100, [0]),
        (5, 100, [5]),
        (100, 100, [100]),
        (101, 100, [51, 50]),
        (458, 100, [92] * 4 + [90]),
    ],
)
def test_metric_groups_are_few_and_even(count: int, size: int, lengths: list[int]) -> None:
    names = [f"m{i}" for i in range(count)]
    groups = metric_groups(names, size)
    assert [len(g) for g in groups] == lengths
    assert [n for g in groups for n in g] == names


def test_join_keeps_rows_missing_from_a_group() -> None:
    def row(ad: str, **metrics: str) -> dict[str, Any]:
        return {"dimensions": {"ad_id": ad}, "metrics": metrics}

    series = [
        [row("1", spend="1.00"), row("2", spend="2.00")],
        [row("2", clicks="5"), row("3", clicks="7")],
    ]
    joined = list(join_on_dimensions(series, lambda r: tuple(r["dimensions"].items())))
    assert joined == [
        row("1", spend="1.00"),
        row("2", spend="2.00", clicks="5"),
        row("3", clicks="7"),
    ]


def test_a_window_halved_after_some_pages_emits_no_row_twice() -> None:
    """TikTok refuses page 2 as too large (40067): the halves skip rows already emitted."""
    with world(**CAMPAIGN_SLICES) as emu:
        answer = emu.reports.query
        refused = Counter[str]()

        def too_large_on_page_two(params: dict[str, Any], now: Any) -> Any:
            if params.get("page") == "2" and not refused["done"]:
                refused["done"] += 1
                raise ReportError(40067, "Your query is too large, please reduce the query size")
            return answer(params, now)

        emu.reports.query = too_large_on_page_two  # type: ignore[method-assign]
        run = sync(emu, page_size=20, max_concurrent_requests=1)
    assert refused["done"] == 1
    assert keyed(run.records[AD_DAILY]) == reference_records(CAMPAIGN_SLICES)


def test_the_client_never_hands_out_a_capped_page() -> None:
    with world(ad_cap=5, campaigns=1, adgroups=2, ads=4) as emu:
        client = TikTokClient(access_token=emu.access_token, api_url=emu.base_url)
        params = {
            "advertiser_id": emu.world.advertisers[0]["advertiser_id"],
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": ["ad_id"],
            "metrics": ["spend"],
            "start_date": "2026-11-01",
            "end_date": "2026-11-10",
        }
        with pytest.raises(AdsCappedError, match="top 20k"):
            client.get(REPORT_PATH, params)
        by_campaign = {"data_level": "AUCTION_CAMPAIGN", "dimensions": ["campaign_id"]}
        assert client.get(REPORT_PATH, {**params, **by_campaign})["list"]


def test_a_capped_report_with_no_campaign_listed_fails_the_run() -> None:
    with world(ad_cap=30, **CAMPAIGN_SLICES) as emu:
        # /campaign/get/ lists nothing; the report still covers every ad.
        emu.world.rows("campaigns", emu.world.advertisers[0]["advertiser_id"]).clear()
        config = tap_config(emu, **WINDOW)
        catalog = catalog_selecting(config, {AD_DAILY: METRICS})
        with pytest.raises(TapTikTokAdsError, match=f"{AD_DAILY}.*no campaign listed"):
            run_tap(config, catalog=catalog)
