"""TopView in reports: TikTok leaves RESERVATION_TOP_VIEW delivery out of every report unless
the report's filtering asks for ``buying_type`` RESERVATION_TOP_VIEW. The tap reads a TopView
pass for advertisers that have TopView campaigns; no row is lost, none doubled, sums agree.
Real tap, emulator, HTTP."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from tap_tiktok_ads.catalog_selection import catalog_selecting
from tap_tiktok_ads.client import TikTokClient
from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.streams.report_slicing import list_adgroups, list_campaigns
from tap_tiktok_ads.tap import TapTikTokAds
from tests.conftest import EMULATOR_TODAY, TapRun, run_tap, tap_config

REPORT_PATH = "/report/integrated/get/"
TOP_VIEW = "RESERVATION_TOP_VIEW"
WINDOW = {"start_date": "2026-11-10", "end_date": "2026-11-16"}
AD_DAILY = "ad_performance_daily"
CAMPAIGN_DAILY = "campaign_performance_daily"
ADVERTISER_DAILY = "advertiser_performance_daily"
ADVERTISER_LIFETIME = "advertiser_performance_lifetime"
SPEND = ["spend", "impressions"]


def world(**sizes: Any) -> Emulator:
    return Emulator(seed=31, today=EMULATOR_TODAY, **{"advertisers": 2, **sizes})


def sync(emu: Emulator, streams: dict[str, list[str] | None], **overrides: Any) -> TapRun:
    config = tap_config(emu, **{**WINDOW, **overrides})
    return run_tap(config, catalog=catalog_selecting(config, streams))


def top_view_campaigns(emu: Emulator) -> set[str]:
    return {c["campaign_id"] for c in emu.world.campaigns if emu.world.buying_type(c) == TOP_VIEW}


def keyed(run: TapRun, stream: str) -> dict[tuple, dict[str, Any]]:
    """Records by the stream's primary key; fails if a key arrives twice."""
    keys = TapTikTokAds(config={"access_token": "x", "start_date": "2026-01-01"})
    key = keys.streams[stream].primary_keys
    counts = Counter(tuple(r[k] for k in key) for r in run.records[stream])
    assert not [k for k, n in counts.items() if n > 1], f"{stream}: keys emitted twice"
    return {tuple(r[k] for k in key): r for r in run.records[stream]}


def top_view_filtered(call: dict[str, Any]) -> bool:
    return any(
        f["field_name"] == "buying_type" and json.loads(f["filter_value"]) == [TOP_VIEW]
        for f in call["params"].get("filtering") or []
    )


def top_view_checks(emu: Emulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.requests()
        if r["path"] == "/campaign/get/"
        and r["params"].get("page_size") == "1"
        and r["params"]["filtering"].get("buying_types") == [TOP_VIEW]
    ]


def without_top_view(emu: Emulator, advertiser_id: str) -> None:
    """The advertiser's TopView campaign, ad group and ad are gone from the world."""
    w = emu.world
    gone = {c["campaign_id"] for c in w.rows("campaigns", advertiser_id)} & top_view_campaigns(emu)
    assert gone
    w.campaigns = [c for c in w.campaigns if c["campaign_id"] not in gone]
    w.adgroups = [g for g in w.adgroups if g["campaign_id"] not in gone]
    w.ads = [a for a in w.ads if a["campaign_id"] not in gone]
    w.index()


def test_topview_delivery_arrives_once_at_every_level_and_the_levels_add_up() -> None:
    streams: dict[str, list[str] | None] = {AD_DAILY: SPEND, CAMPAIGN_DAILY: SPEND}
    streams[ADVERTISER_DAILY] = SPEND
    with world(campaigns=2, adgroups=1, ads=2) as emu:
        run = sync(emu, streams, include_deleted=True)
        top_view = top_view_campaigns(emu)
        top_view_ads = {a["ad_id"] for a in emu.world.ads if a["campaign_id"] in top_view}
    campaigns = keyed(run, CAMPAIGN_DAILY)
    ads = keyed(run, AD_DAILY)
    advertisers = keyed(run, ADVERTISER_DAILY)
    # Every TopView campaign and ad delivered, and each says so; no other row claims TopView.
    assert {r["campaign_id"] for r in campaigns.values() if r["is_top_view"]} == top_view
    assert all(r["is_top_view"] == (r["campaign_id"] in top_view) for r in campaigns.values())
    assert {r["ad_id"] for r in ads.values() if r["is_top_view"]} == top_view_ads
    assert all(r["is_top_view"] == (r["ad_id"] in top_view_ads) for r in ads.values())
    # An advertiser-level row per pass: each is the sum of its campaigns, together the whole.
    by_pass: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in campaigns.values():
        by_pass[r["advertiser_id"], r["stat_time_day"], r["is_top_view"]] += Decimal(r["spend"])
    assert {k: Decimal(r["spend"]) for k, r in advertisers.items()} == {
        k: v for k, v in by_pass.items() if v or k in advertisers
    }
    assert any(r["is_top_view"] for r in advertisers.values())
    ad_total = sum(Decimal(r["spend"]) for r in ads.values())
    assert ad_total == sum(Decimal(r["spend"]) for r in advertisers.values()) > 0


def test_only_advertisers_with_topview_get_a_topview_pass_asked_once_per_run() -> None:
    streams: dict[str, list[str] | None] = {
        AD_DAILY: SPEND,
        CAMPAIGN_DAILY: SPEND,
        ADVERTISER_LIFETIME: SPEND,
    }
    with world(campaigns=1, adgroups=1, ads=1) as emu:
        with_top_view, plain = (a["advertiser_id"] for a in emu.world.advertisers)
        without_top_view(emu, plain)
        run = sync(emu, streams)
        checks = top_view_checks(emu)
        passes = [r for r in emu.requests() if r["path"] == REPORT_PATH and top_view_filtered(r)]
    # One page-size-1 listing per advertiser for the whole run, shared by the three streams.
    assert sorted(r["params"]["advertiser_id"] for r in checks) == sorted([with_top_view, plain])
    assert {r["params"]["advertiser_id"] for r in passes} == {with_top_view}
    data_levels = {r["params"]["data_level"] for r in passes}
    assert data_levels == {"AUCTION_AD", "AUCTION_CAMPAIGN", "AUCTION_ADVERTISER"}
    for stream in streams:
        top_rows = [r for r in run.records[stream] if r["is_top_view"]]
        assert top_rows, f"{stream}: no TopView row"
        assert {r["advertiser_id"] for r in top_rows} == {with_top_view}


def test_the_bookmark_moves_only_after_both_passes_of_a_window() -> None:
    with world(campaigns=1, adgroups=1, ads=1) as emu:
        # The same days as a relative range: fixed dates leave no bookmark to check.
        config = tap_config(
            emu,
            start_days_back=(EMULATOR_TODAY - date.fromisoformat(WINDOW["start_date"])).days,
            end_days_back=(EMULATOR_TODAY - date.fromisoformat(WINDOW["end_date"])).days,
            report_window_days=1,
        )
        run = run_tap(config, catalog=catalog_selecting(config, {CAMPAIGN_DAILY: SPEND}))
    claimed: dict[str, str] = {}  # advertiser -> the last day STATE claimed so far
    top_view_rows = 0
    for message in run.messages:
        if message["type"] == "STATE":
            stream_state = message["value"].get("bookmarks", {}).get(CAMPAIGN_DAILY, {})
            for partition in stream_state.get("partitions", []):
                value = partition.get("replication_key_value")
                if value:
                    claimed[partition["context"]["advertiser_id"]] = str(value)[:10]
        elif message["type"] == "RECORD" and message["record"]["is_top_view"]:
            record = message["record"]
            top_view_rows += 1
            last = claimed.get(record["advertiser_id"], "")
            assert last < record["stat_time_day"], "a TopView row came after its day's STATE"
    assert top_view_rows
    assert set(claimed.values()) == {WINDOW["end_date"]}


def test_a_capped_report_is_sliced_by_the_campaigns_of_its_own_pass() -> None:
    sizes = {"advertisers": 1, "campaigns": 6, "adgroups": 3, "ads": 4}  # 72 auction ads
    streams: dict[str, list[str] | None] = {AD_DAILY: SPEND}
    with world(**sizes) as reference:
        complete = keyed(sync(reference, streams), AD_DAILY)
    with world(ad_cap=30, **sizes) as emu:
        capped = keyed(sync(emu, streams), AD_DAILY)
        top_view = top_view_campaigns(emu)
        slices = [
            json.loads(f["filter_value"])
            for r in emu.requests()
            if r["path"] == REPORT_PATH
            for f in r["params"].get("filtering") or []
            if f["field_name"] == "campaign_ids"
        ]
        listings = [
            r["params"]["filtering"].get("buying_types")
            for r in emu.requests()
            if r["path"] == "/campaign/get/" and r["params"].get("page_size") != "1"
        ]
    assert capped == complete
    assert any(r["is_top_view"] for r in capped.values())
    assert slices, "the default pass was not capped: the test proves nothing"
    assert not top_view & {campaign for batch in slices for campaign in batch}
    assert [TOP_VIEW] not in listings  # the default pass does not list what it cannot hold


def test_slice_listings_follow_the_pass() -> None:
    with world(advertisers=1, campaigns=3, adgroups=2, ads=1) as emu:
        advertiser_id = emu.world.advertisers[0]["advertiser_id"]
        client = TikTokClient(access_token=emu.access_token, api_url=emu.base_url)
        listed = {
            top_view: list_campaigns(
                client, advertiser_id, include_deleted=True, page_size=50, top_view=top_view
            )
            for top_view in (False, True)
        }
        campaign = listed[True][0]
        adgroups = list_adgroups(
            client, advertiser_id, campaign, include_deleted=True, page_size=500
        )
        adgroup_listing = [r for r in emu.requests() if r["path"] == "/adgroup/get/"]
        top_view = top_view_campaigns(emu)
        every = {c["campaign_id"] for c in emu.world.campaigns}
    assert {campaign_id for campaign_id, _ in listed[True]} == top_view
    assert {campaign_id for campaign_id, _ in listed[False]} == every - top_view
    assert {kind for _, kind in listed[True]} == {TOP_VIEW}
    assert [kind for _, kind in adgroups] == [TOP_VIEW]
    assert adgroup_listing[0]["params"]["filtering"]["buying_types"] == [TOP_VIEW]
    assert int(adgroup_listing[0]["params"]["page_size"]) <= 100
