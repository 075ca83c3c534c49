"""``/report/integrated/get/``: TikTok's rules and metrics that add up at every level."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from tap_tiktok_ads.emulator import Emulator
from tap_tiktok_ads.emulator.zones import account_zone
from tests.conftest import EMULATOR_TODAY
from tests.emulator.helpers import REPORT, advertiser, call, report_rows

ADDITIVE = ["spend", "impressions", "clicks", "conversion", "total_purchase_value"]
EVERYTHING = [{"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=17, advertisers=2, today=EMULATOR_TODAY) as emulator:
        yield emulator


def local_today(emu: Emulator, index: int = 0) -> datetime:
    return emu.now.astimezone(account_zone(emu.world.advertisers[index]))


def totals(rows: list[dict[str, Any]], names: list[str] = ADDITIVE) -> dict[str, Decimal]:
    summed: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        for name in names:
            summed[name] += Decimal(row["metrics"][name])
    return {name: summed[name] for name in names}


def by(rows: list[dict[str, Any]], dimension: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["dimensions"][dimension], []).append(row)
    return grouped


def query(emu: Emulator, level: str, dimensions: list[str], **params: Any) -> list[dict]:
    return report_rows(
        emu,
        advertiser_id=params.pop("advertiser_id", advertiser(emu)),
        report_type=params.pop("report_type", "BASIC"),
        data_level=f"AUCTION_{level}",
        dimensions=dimensions,
        metrics=params.pop("metrics", ADDITIVE),
        **params,
    )


def test_hours_add_up_to_days_and_days_to_the_range(emu: Emulator) -> None:
    day = "2026-11-12"
    daily = query(emu, "AD", ["ad_id", "stat_time_day"], start_date=day, end_date=day)
    hourly = query(emu, "AD", ["ad_id", "stat_time_hour"], start_date=day, end_date=day)
    assert daily
    hours = by(hourly, "ad_id")
    for row in daily:
        assert row["dimensions"]["stat_time_day"] == f"{day} 00:00:00"
        ad_hours = hours[row["dimensions"]["ad_id"]]
        assert len(ad_hours) == 24
        assert totals(ad_hours) == totals([row])
    start, end = "2026-10-25", "2026-11-20"
    days = query(emu, "AD", ["ad_id", "stat_time_day"], start_date=start, end_date=end)
    whole = query(emu, "AD", ["ad_id"], start_date=start, end_date=end)
    per_ad = by(days, "ad_id")
    for row in whole:
        assert totals(per_ad.get(row["dimensions"]["ad_id"], [])) == totals([row])


def test_lifetime_is_the_sum_of_every_day(emu: Emulator) -> None:
    lifetime = query(emu, "CAMPAIGN", ["campaign_id"], query_lifetime=True)
    first = date(2026, 9, 1)
    days: list[dict] = []
    for offset in range(0, 90, 30):
        start = first + timedelta(days=offset)
        end = start + timedelta(days=29)
        days += query(
            emu,
            "CAMPAIGN",
            ["campaign_id", "stat_time_day"],
            start_date=str(start),
            end_date=str(end),
        )
    per_campaign = by(days, "campaign_id")
    assert lifetime
    for row in lifetime:
        assert totals(per_campaign.get(row["dimensions"]["campaign_id"], [])) == totals([row])


@pytest.mark.parametrize("index", [0, 1])
def test_ads_add_up_to_ad_groups_campaigns_and_the_account(emu: Emulator, index: int) -> None:
    window = {"start_date": "2026-11-01", "end_date": "2026-11-20", "filtering": EVERYTHING}
    account = advertiser(emu, index)
    levels = {
        "AD": "ad_id",
        "ADGROUP": "adgroup_id",
        "CAMPAIGN": "campaign_id",
        "ADVERTISER": "advertiser_id",
    }
    rows = {
        level: query(emu, level, [key, "stat_time_day"], advertiser_id=account, **window)
        for level, key in levels.items()
    }
    ads = {a["ad_id"]: a for a in emu.world.ads}
    for level, key in list(levels.items())[1:]:
        for parent_id, parent_rows in by(rows[level], key).items():
            children = [r for r in rows["AD"] if ads[r["dimensions"]["ad_id"]][key] == parent_id]
            assert totals(children) == totals(parent_rows), (level, parent_id)


def test_deleted_entities_need_the_status_filter(emu: Emulator) -> None:
    deleted = {a["ad_id"] for a in emu.world.ads if emu.world.is_deleted(a)}
    params = {"query_lifetime": True, "metrics": ["impressions"]}
    default = {r["dimensions"]["ad_id"] for r in query(emu, "AD", ["ad_id"], **params)}
    every = {
        r["dimensions"]["ad_id"]
        for r in query(emu, "AD", ["ad_id"], filtering=EVERYTHING, **params)
    }
    own_deleted = {
        a for a in deleted if emu.world.by_id["ads"][a]["advertiser_id"] == advertiser(emu)
    }
    assert own_deleted
    assert not default & own_deleted
    assert every == default | own_deleted


@pytest.mark.parametrize("breakdown", [["age", "gender"], ["country_code"], ["platform"]])
def test_audience_breakdowns_add_up_to_the_total(emu: Emulator, breakdown: list[str]) -> None:
    window = {"start_date": "2026-11-10", "end_date": "2026-11-16"}
    basic = query(emu, "AD", ["ad_id", "stat_time_day"], **window)
    split = query(
        emu, "AD", ["ad_id", "stat_time_day", *breakdown], report_type="AUDIENCE", **window
    )
    parts: dict[tuple[str, str], list[dict]] = {}
    for row in split:
        key = (row["dimensions"]["ad_id"], row["dimensions"]["stat_time_day"])
        parts.setdefault(key, []).append(row)
    assert len(parts) == len(basic)
    for row in basic:
        key = (row["dimensions"]["ad_id"], row["dimensions"]["stat_time_day"])
        assert totals(parts[key]) == totals([row])
        assert len({tuple(r["dimensions"][d] for d in breakdown) for r in parts[key]}) == len(
            parts[key]
        )


def test_ratios_are_recomputed_from_summed_parts(emu: Emulator) -> None:
    rows = query(
        emu,
        "CAMPAIGN",
        ["campaign_id"],
        start_date="2026-11-01",
        end_date="2026-11-19",
        metrics=["spend", "impressions", "clicks", "ctr", "cpc", "cpm"],
    )
    for row in rows:
        m = row["metrics"]
        spend, impressions, clicks = Decimal(m["spend"]), int(m["impressions"]), int(m["clicks"])
        assert m["spend"] == f"{spend:.3f}"  # TikTok writes money with three decimals
        if impressions:
            assert Decimal(m["ctr"]) == round(Decimal(clicks * 100) / impressions, 2)
            assert Decimal(m["cpm"]) == round(spend * 1000 / impressions, 3)
        if clicks:
            assert abs(Decimal(m["cpc"]) - spend / clicks) <= Decimal("0.0005")
            assert m["cpc"] == f"{Decimal(m['cpc']):.3f}"


def test_metric_strings_attributes_and_nulls(emu: Emulator) -> None:
    rows = query(
        emu,
        "AD",
        ["ad_id", "stat_time_day"],
        start_date="2026-11-15",
        end_date="2026-11-15",
        metrics=["spend", "impressions", "secondary_goal_result", "campaign_name", "currency"],
    )
    ads = emu.world.by_id["ads"]
    for row in rows:
        metrics = row["metrics"]
        assert metrics["impressions"].isdigit()
        assert metrics["spend"].count(".") == 1
        assert len(metrics["spend"].split(".")[1]) == 3  # TikTok: "3920.000"
        assert metrics["secondary_goal_result"] in (None, "-")
        assert metrics["campaign_name"] == ads[row["dimensions"]["ad_id"]]["campaign_name"]
        assert metrics["currency"] == emu.world.advertisers[0]["currency"]


def test_no_data_after_now_or_before_creation(emu: Emulator) -> None:
    for index in (0, 1):
        local = local_today(emu, index)
        today = local.date().isoformat()
        hourly = query(
            emu,
            "AD",
            ["ad_id", "stat_time_hour"],
            advertiser_id=advertiser(emu, index),
            start_date=today,
            end_date=today,
        )
        hours = {row["dimensions"]["stat_time_hour"][11:13] for row in hourly}
        assert hours == {f"{h:02d}" for h in range(local.hour + 1)}
        future = query(
            emu,
            "ADVERTISER",
            ["advertiser_id", "stat_time_day"],
            advertiser_id=advertiser(emu, index),
            start_date=today,
            end_date=(local.date() + timedelta(days=5)).isoformat(),
        )
        assert [r["dimensions"]["stat_time_day"][:10] for r in future] == [today]
    first_ad = min(emu.world.rows("ads", advertiser(emu)), key=lambda a: a["create_time"])
    created = datetime.strptime(first_ad["create_time"], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=timezone.utc
    )
    local_created = created.astimezone(account_zone(emu.world.advertisers[0])).date()
    early = query(
        emu,
        "AD",
        ["ad_id", "stat_time_day"],
        start_date=str(local_created - timedelta(days=20)),
        end_date=str(local_created),
        filtering=[
            {
                "field_name": "ad_ids",
                "filter_type": "IN",
                "filter_value": f'["{first_ad["ad_id"]}"]',
            }
        ],
    )
    assert {r["dimensions"]["ad_id"] for r in early} <= {first_ad["ad_id"]}
    assert all(r["dimensions"]["stat_time_day"][:10] >= str(local_created) for r in early)


def test_conversions_grow_for_recent_days_only() -> None:
    with Emulator(seed=6, advertisers=1, today=EMULATOR_TODAY) as emu:
        params = {
            "start_date": "2026-11-01",
            "end_date": "2026-11-18",
            "metrics": ["conversion", "impressions", "spend"],
        }
        before = by(
            query(emu, "ADVERTISER", ["advertiser_id", "stat_time_day"], **params), "stat_time_day"
        )
        emu.set_now(emu.now + timedelta(days=7))
        after = by(
            query(emu, "ADVERTISER", ["advertiser_id", "stat_time_day"], **params), "stat_time_day"
        )
        for day, rows in before.items():
            old, new = rows[0]["metrics"], after[day][0]["metrics"]
            assert (old["impressions"], old["spend"]) == (new["impressions"], new["spend"])
            if day < "2026-11-12":
                assert old["conversion"] == new["conversion"]
        revised = [
            d
            for d in before
            if int(after[d][0]["metrics"]["conversion"])
            > int(before[d][0]["metrics"]["conversion"])
        ]
        assert revised
        assert min(revised) >= "2026-11-12"


def test_too_large_days_answers_40067() -> None:
    with Emulator(seed=1, advertisers=1, today=EMULATOR_TODAY, too_large_days=7) as emu:
        base: dict[str, Any] = {
            "advertiser_id": advertiser(emu),
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": ["ad_id", "stat_time_day"],
        }
        large = call(emu, REPORT, start_date="2026-11-01", end_date="2026-11-08", **base)
        assert (large["code"], large["data"]) == (40067, {})
        assert "Your query is too large" in large["message"]
        assert (
            call(emu, REPORT, start_date="2026-11-01", end_date="2026-11-07", **base)["code"] == 0
        )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"metrics": ["spend", "no_such_metric"]}, "no_such_metric"),
        (
            {
                "dimensions": ["advertiser_id", "stat_time_hour"],
                "data_level": "AUCTION_ADVERTISER",
                "metrics": ["cash_spend"],
                "end_date": "2026-11-01",
            },
            "cash_spend",
        ),
        ({"page_size": 1001}, "page_size"),
        ({"dimensions": ["ad_id"], "start_date": "2025-01-01", "end_date": "2026-11-01"}, "365"),
        (
            {"report_type": "AUDIENCE", "dimensions": ["ad_id", "age"], "query_lifetime": True},
            "query_lifetime",
        ),
        ({"dimensions": ["ad_id", "stat_time_day"], "query_lifetime": True}, "query_lifetime"),
        ({"report_type": "AUDIENCE", "dimensions": ["age"], "metrics": ["ad_name"]}, "ad_name"),
        ({"filtering": {"ad_status": "STATUS_ALL"}}, "filtering"),
        ({"dimensions": ["campaign_id", "stat_time_day"]}, "dimensions"),
    ],
)
def test_refusals_name_the_problem(emu: Emulator, params: dict, message: str) -> None:
    request = {
        "advertiser_id": advertiser(emu),
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": ["ad_id", "stat_time_day"],
        "start_date": "2026-11-01",
        "end_date": "2026-11-10",
        **params,
    }
    answer = call(emu, REPORT, **request)
    assert answer["code"] == 40002
    assert message in answer["message"]


def test_audience_reports_without_an_id_cover_the_account(emu: Emulator) -> None:
    window = {"start_date": "2026-11-10", "end_date": "2026-11-10", "filtering": EVERYTHING}
    genders = query(emu, "AD", ["gender"], report_type="AUDIENCE", **window)
    account = query(emu, "ADVERTISER", ["advertiser_id"], **window)
    assert {r["dimensions"]["gender"] for r in genders} == {"MALE", "FEMALE", "NONE"}
    assert totals(genders) == totals(account)


def test_a_large_report_pages_through_every_row_once() -> None:
    with Emulator(
        seed=3, advertisers=1, campaigns=10, adgroups=10, ads=20, today=EMULATOR_TODAY
    ) as emu:
        params = {
            "advertiser_id": advertiser(emu),
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": ["ad_id", "stat_time_day"],
            "metrics": ["spend", "impressions", "clicks", "ctr", "cpc", "cpm", "conversion"],
            "start_date": "2026-10-20",
            "end_date": "2026-11-18",
        }
        rows = report_rows(emu, **params)
        assert len(rows) > 35_000
        keys = {(r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"]) for r in rows}
        assert len(keys) == len(rows)  # no row repeated across the pages
