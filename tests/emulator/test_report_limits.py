"""The emulator's report limits, as TikTok has them: the 20,000-ad cap (newest ads only, with
the ``X-Tt-Ads-Throttle`` header), HTTP 414 for overlong request lines, and undated AUDIENCE
totals (the "lifetime" audience report) with their ``NONE`` buckets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.emulator.__main__ import parser
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import REPORT, advertiser, report_rows

HEADER = "X-Tt-Ads-Throttle"
CAP = 10


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # 2 campaigns x 2 ad groups x 4 ads = 16 ads, more than CAP.
    with Emulator(
        seed=31, advertisers=1, campaigns=2, adgroups=2, ads=4, today=EMULATOR_TODAY, ad_cap=CAP
    ) as emulator:
        yield emulator


def get(emu: Emulator, **params: Any) -> requests.Response:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return requests.get(
        f"{emu.base_url}{REPORT}",
        params=encoded,
        headers={"Access-Token": emu.access_token},
        timeout=10,
    )


def ad_query(emu: Emulator, level: str = "AD", **params: Any) -> dict[str, Any]:
    id_dimension = {"AD": "ad_id", "CAMPAIGN": "campaign_id"}[level]
    return {
        "advertiser_id": advertiser(emu),
        "report_type": "BASIC",
        "data_level": f"AUCTION_{level}",
        "dimensions": [id_dimension],
        "metrics": ["spend", "impressions"],
        "start_date": "2026-10-01",
        "end_date": "2026-11-20",
        "filtering": [
            {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
        ],
        "page_size": "1000",
        **params,
    }


def ads_with_rows(emu: Emulator) -> list[dict[str, Any]]:
    """The emulator's ads that have a row in ``ad_query``, read from a twin without the cap."""
    world = emu.world
    twin = Emulator(
        seed=world.seed,
        advertisers=1,
        campaigns=world.campaigns_per_advertiser,
        adgroups=world.adgroups_per_campaign,
        ads=world.ads_per_adgroup,
        today=EMULATOR_TODAY,
    )
    with twin:
        query = {k: v for k, v in ad_query(twin).items() if k != "page_size"}
        ids = {row["dimensions"]["ad_id"] for row in report_rows(twin, **query)}
    return [ad for ad in emu.world.ads if ad["ad_id"] in ids]


def test_an_ad_report_over_the_cap_answers_for_the_newest_ads_and_says_so(emu: Emulator) -> None:
    everything = ads_with_rows(emu)
    assert len(everything) >= CAP, "too few ads to reach the cap: the test proves nothing"
    response = get(emu, **ad_query(emu))
    assert response.status_code == 200
    assert "only return the top 20k" in response.headers[HEADER]
    data = response.json()["data"]
    newest = sorted(everything, key=lambda ad: (ad["create_time"], ad["ad_id"]))[-CAP:]
    assert {row["dimensions"]["ad_id"] for row in data["list"]} == {ad["ad_id"] for ad in newest}
    assert data["page_info"]["total_number"] == len(data["list"])


def test_every_page_of_a_capped_report_carries_the_header(emu: Emulator) -> None:
    first = get(emu, **ad_query(emu, page_size="3"))
    pages = first.json()["data"]["page_info"]["total_page"]
    assert pages > 1
    for page in range(1, pages + 1):
        assert HEADER in get(emu, **ad_query(emu, page_size="3", page=str(page))).headers


def test_narrower_or_higher_level_queries_are_not_capped(emu: Emulator) -> None:
    campaign = emu.world.campaigns[0]["campaign_id"]
    narrowed = ad_query(emu)
    narrowed["filtering"].append(
        {"field_name": "campaign_ids", "filter_type": "IN", "filter_value": json.dumps([campaign])}
    )
    response = get(emu, **narrowed)
    assert HEADER not in response.headers
    assert response.json()["data"]["list"]
    assert HEADER not in get(emu, **ad_query(emu, level="CAMPAIGN")).headers


def test_the_cap_counts_equal_as_over() -> None:
    with Emulator(
        seed=31, advertisers=1, campaigns=1, adgroups=1, ads=3, today=EMULATOR_TODAY, ad_cap=100
    ) as emu:
        count = len(ads_with_rows(emu))
        emu.configure({"ad_cap": count})
        assert HEADER in get(emu, **ad_query(emu)).headers
        emu.configure({"ad_cap": count + 1})
        assert HEADER not in get(emu, **ad_query(emu)).headers


def test_request_lines_over_8_kb_get_414(emu: Emulator) -> None:
    # '"spend",' is 14 characters once URL-encoded.
    long = get(emu, **ad_query(emu, metrics=["spend"] * 640))  # about 9 KB
    assert long.status_code == 414
    assert emu.requests()[-1]["http_status"] == 414
    assert get(emu, **ad_query(emu, metrics=["spend"] * 500)).status_code == 200  # about 7 KB


def test_undated_audience_totals_have_none_buckets_and_add_up(emu: Emulator) -> None:
    """A "lifetime" audience report is AUDIENCE without a time dimension over up to 365 days."""
    common = {
        "advertiser_id": advertiser(emu),
        "data_level": "AUCTION_ADVERTISER",
        "metrics": ["spend", "impressions"],
        "filtering": [
            {"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}
        ],
    }
    buckets = report_rows(
        emu,
        report_type="AUDIENCE",
        dimensions=["advertiser_id", "age", "gender"],
        start_date="2025-11-21",
        end_date="2026-11-20",
        **common,
    )
    lifetime = report_rows(
        emu, report_type="BASIC", dimensions=["advertiser_id"], query_lifetime=True, **common
    )
    assert {"NONE"} <= {row["dimensions"]["age"] for row in buckets}
    assert any(row["dimensions"]["age"] == row["dimensions"]["gender"] == "NONE" for row in buckets)
    for metric in ("spend", "impressions"):
        total = sum(float(row["metrics"][metric]) for row in buckets)
        assert total == pytest.approx(float(lifetime[0]["metrics"][metric]))


def test_audience_reports_still_refuse_query_lifetime_and_hours(emu: Emulator) -> None:
    base = {
        "advertiser_id": advertiser(emu),
        "report_type": "AUDIENCE",
        "data_level": "AUCTION_ADVERTISER",
        "metrics": ["spend"],
    }
    lifetime = get(emu, **base, dimensions=["advertiser_id", "age"], query_lifetime="true")
    assert lifetime.json()["code"] == 40002
    hourly = get(
        emu,
        **base,
        dimensions=["advertiser_id", "age", "stat_time_hour"],
        start_date="2026-11-19",
        end_date="2026-11-19",
    )
    assert hourly.json()["code"] == 40002


def test_the_cap_is_a_command_line_option() -> None:
    assert parser().parse_args([]).ad_cap == 20_000
    assert parser().parse_args(["--ad-cap", "250"]).ad_cap == 250
    with pytest.raises(SystemExit):
        parser().parse_args(["--ad-cap", "0"])
